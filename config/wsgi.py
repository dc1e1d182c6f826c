"""
The web application, as gunicorn serves it and as runserver loads it (WSGI_APPLICATION).

With DEBUG off it refuses to start on the development signing key: sessions, CSRF tokens
and password-reset links signed with a key published in the repository protect nothing.
Management commands, which sign nothing, and the tests still run without a key.

On PostgreSQL its connections carry the statement timeout (DATABASE_STATEMENT_TIMEOUT):
a query that runs longer is cancelled and the visitor gets the 503 page, instead of the
worker waiting until gunicorn kills it. Management commands (migrate, generate_demo,
backups, load_seed) do not load this module and run without the limit.

Once loaded, it sets what it has loaded aside from Python's garbage collector (heap.py).
"""

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

from config import heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

if not settings.DEBUG and settings.SECRET_KEY.startswith(settings.DEVELOPMENT_SECRET_KEY_PREFIX):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set, or is a development key, and DJANGO_DEBUG is off: "
        "the site will not start with a key anyone can read. Make a key with\n"
        "    python3 -c 'import secrets; print(secrets.token_urlsafe(50))'\n"
        "and set it as DJANGO_SECRET_KEY, the same for every process and every restart "
        "(changing it logs everyone out). For development, set DJANGO_DEBUG=1 instead."
    )

database = settings.DATABASES["default"]
if database["ENGINE"] == "django.db.backends.postgresql":
    # Connections are opened from this dictionary when a request first needs one.
    database["OPTIONS"]["options"] = " ".join(
        [
            database["OPTIONS"].get("options", ""),
            f"-c statement_timeout={settings.DATABASE_STATEMENT_TIMEOUT}",
        ]
    ).strip()

application = get_wsgi_application()

# Out of the garbage collector's way: all this worker has loaded, kept until it ends.
heap.freeze()

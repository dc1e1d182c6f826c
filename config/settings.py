"""
Settings for the cooperation tracker, read from the environment.

DJANGO_SECRET_KEY       signing key; the default is for development only: with
                        DEBUG off the web application (gunicorn, runserver) refuses
                        to start with it, and `check --deploy` rejects it. Make one
                        with python3 -c 'import secrets; print(secrets.token_urlsafe(50))'
DJANGO_DEBUG            "1" for Django's debug pages; off by default
DJANGO_ALLOWED_HOSTS    comma-separated host names (default: localhost names)
DJANGO_CSRF_TRUSTED_ORIGINS  comma-separated origins, such as https://example.org
DATABASE_URL            e.g. postgres://user@host:5432/name; SQLite file db.sqlite3
                        in the project folder when unset. SQLite runs in WAL mode
                        (db.sqlite3-wal and -shm files beside it), and a save waits
                        up to 20 s for another editor's save instead of failing
DJANGO_DB_CONNECT_TIMEOUT  seconds PostgreSQL is given to accept a connection (default 5;
                        libpq waits at least 2)
DJANGO_DB_STATEMENT_TIMEOUT  milliseconds a PostgreSQL statement of a web request may run
                        before the database cancels it (default 10000); management
                        commands (migrate, generate_demo, backups) run without a limit.
                        A request whose database is unreachable, too slow or locked gets
                        the 503 page with Retry-After
DJANGO_FACET_TIME_LIMIT_MS  milliseconds all facet counts of one list page may take
                        together (default 100); a facet not counted in time lists its
                        values without numbers
DJANGO_SECURE           "0" turns off HTTPS redirect, secure cookies and HSTS;
                        on by default when DEBUG is off. Leave it on behind a proxy
                        that terminates TLS; "0" only to serve plain HTTP with no
                        proxy (a private network), or every request is redirected
                        to an https:// address nothing serves
DJANGO_HSTS_SECONDS     Strict-Transport-Security max-age while DJANGO_SECURE is on
                        (default 31536000, one year)
DJANGO_TRUSTED_PROXY_COUNT  number of reverse proxies in front of the application
                        (default 0: none). Only above 0 are X-Forwarded-Proto (whether
                        the visitor came over HTTPS) and X-Forwarded-For (the client's
                        address, cooperation.logins.client_address, for the login
                        limits and anything else that counts per client) believed.
DJANGO_PUBLIC_URL       the site's address as the public reaches it, such as
                        https://tracker.example.org: the absolute record addresses in
                        the full exports that `manage.py dump_exports` writes (default
                        http://localhost:8000). Exports served by the site take the
                        request's own address
DJANGO_EXPORTS_DIR      the folder `manage.py dump_exports` writes the full exports to
                        and /exports/<file> serves them from (default: exports/ in the
                        project folder)
DJANGO_IATI_REPORTING_ORG_REF   the IATI organisation identifier of whoever runs the
                        tracker, named as the secondary reporter of every activity in the
                        IATI XML export (default XI-EXAMPLE-TRACKER, a placeholder)
DJANGO_IATI_REPORTING_ORG_TYPE  its IATI OrganisationType code (default 90, other)
DJANGO_IATI_REPORTING_ORG_NAME  its name (default "Cooperation tracker")
DJANGO_API_THROTTLE_RATE  requests a client address may make to the API and to the lists'
                        .json twins, as number/period (second, minute, hour or day;
                        default 120/minute), counted per gunicorn worker
DJANGO_CACHE_URL        where the site keeps what its pages work out (totals, facet
                        counts, filter forms: cooperation/cached.py) and the API throttle
                        counts: file:///var/cache/cooperation, a folder every gunicorn
                        worker of the machine shares, or redis://host:6379/0 (with the
                        redis package installed). Unset, each worker keeps its own in
                        memory: it works the same out again, shows a change up to a
                        minute late, and the throttle counts per worker
DJANGO_LOG_LEVEL        level of the log, written to stderr one JSON object a line
                        (default INFO)
"""

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_list(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_flag(name, default):
    return os.environ.get(name, "1" if default else "0").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


# config/wsgi.py refuses to serve with DEBUG off and a key that starts with this prefix.
DEVELOPMENT_SECRET_KEY_PREFIX = "django-insecure-"
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY",
    f"{DEVELOPMENT_SECRET_KEY_PREFIX}development-only-never-use-this-key-in-production",
)
DEBUG = env_flag("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT", "0"))

INSTALLED_APPS = [
    "config.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "reversion",
    "axes",
    "csp",
    "import_export",
    "cooperation",
]

MIDDLEWARE = [
    # Before SecurityMiddleware and the host check: load balancers probe by address, over HTTP.
    "config.middleware.RequestIdMiddleware",
    "config.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RefuseNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several editors behind several gunicorn workers write to one file. WAL lets readers
    # and one writer work at once (NORMAL is the synchronous level SQLite advises with
    # WAL). A writer waits up to `timeout` seconds for the lock instead of failing with
    # "database is locked"; IMMEDIATE takes that lock when a transaction begins, because
    # SQLite cannot wait for a transaction that read first and then wants to write: it
    # fails at once. Options given in DATABASE_URL win. CONN_MAX_AGE keeps a worker's
    # connection between requests, so the PRAGMAs run once per connection, not per request.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        **DATABASES["default"].get("OPTIONS", {}),
    }
DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DJANGO_DB_CONNECT_TIMEOUT", "5"))
# config/wsgi.py gives it to the web application's connections only.
DATABASE_STATEMENT_TIMEOUT = int(os.environ.get("DJANGO_DB_STATEMENT_TIMEOUT", "10000"))
# cooperation/facets.py: the time all facet counts of a list page may take together.
FACET_TIME_LIMIT_MS = int(os.environ.get("DJANGO_FACET_TIME_LIMIT_MS", "100"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The public() rules are many small index probes that PostgreSQL may cost as one big
    # query and then spend seconds compiling with JIT; they never gain from it. On SSDs a
    # random read costs about what a sequential one does (PostgreSQL assumes 4 times as
    # much): with 1.1 it reads a linked record's rows by index instead of hashing a table.
    # A database that accepts connections but never answers would otherwise hold a worker
    # for ever.
    DATABASES["default"]["OPTIONS"] = {
        "options": "-c jit=off -c random_page_cost=1.1",
        "connect_timeout": DATABASE_CONNECT_TIMEOUT,
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

SECURE = env_flag("DJANGO_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = SECURE
# Any client can send X-Forwarded-Proto; only a proxy of ours may be believed.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000")) if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0

# Public pages run no inline script or style: everything comes from this site's files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Django's admin sets styles inline (a <style> on some change lists, and its widgets) and
# draws icons from data: URLs; its scripts are still only its own files.
# config.middleware.ContentSecurityPolicyMiddleware gives it this policy.
ADMIN_CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        **CONTENT_SECURITY_POLICY["DIRECTIVES"],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
    }
}
# No page needs any of these browser features; an injected frame or script gets none.
PERMISSIONS_POLICY = {
    feature: []
    for feature in [
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    ]
}

# Imports in the admin (django-import-export, cooperation/imports.py) run in one
# transaction, rolled back whole when any row fails.
IMPORT_EXPORT_USE_TRANSACTIONS = True

# Failed logins (django-axes; cooperation/logins.py explains the two limits). An
# (account, address) pair is refused after AXES_FAILURE_LIMIT failures, an address
# after LOGIN_FAILURE_LIMIT_PER_ADDRESS failures for any accounts, each until
# AXES_COOLOFF_TIME has passed since its last failure.
AXES_HANDLER = "cooperation.logins.LoginAttemptHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = 5
LOGIN_FAILURE_LIMIT_PER_ADDRESS = 50
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "cooperation.logins.client_address"
AXES_LOCKOUT_CALLABLE = "cooperation.logins.lockout_response"
PUBLIC_URL = os.environ.get("DJANGO_PUBLIC_URL", "http://localhost:8000").rstrip("/")
EXPORTS_DIR = Path(os.environ.get("DJANGO_EXPORTS_DIR", BASE_DIR / "exports"))
# The tracker republishes what others published: a secondary reporter in IATI's terms.
IATI_REPORTING_ORGANISATION = {
    "ref": os.environ.get("DJANGO_IATI_REPORTING_ORG_REF", "XI-EXAMPLE-TRACKER"),
    "type": os.environ.get("DJANGO_IATI_REPORTING_ORG_TYPE", "90"),
    "name": os.environ.get("DJANGO_IATI_REPORTING_ORG_NAME", "Cooperation tracker"),
}

# Axes's log lines mask the username and address (its default), and name no user agent.
# The failures with both stay in the admin (Axes › Access attempts) for the cool-off.
AXES_VERBOSE = False


def cache_from_url(url):
    """The default cache as DJANGO_CACHE_URL names it."""
    address = urlsplit(url)
    if not url or address.scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if address.scheme == "file" and not address.netloc and address.path.startswith("/"):
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": address.path,
            # A page keeps a few entries for each filtered list: room for many lists
            # before a third of the entries is dropped.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    if address.scheme in {"redis", "rediss"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    raise ImproperlyConfigured(
        f"DJANGO_CACHE_URL is {url!r}: write file:///an/absolute/folder, "
        "redis://host:6379/0 or locmem://."
    )


CACHES = {"default": cache_from_url(os.environ.get("DJANGO_CACHE_URL", ""))}

# The read-only API (cooperation/api.py): anonymous, JSON only, limited per client address
# (cooperation.logins.client_address, so TRUSTED_PROXY_COUNT decides whose address counts).
API_THROTTLE_RATE = os.environ.get("DJANGO_API_THROTTLE_RATE", "120/minute")
if not re.fullmatch(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)", API_THROTTLE_RATE):
    raise ImproperlyConfigured(
        f"DJANGO_API_THROTTLE_RATE is {API_THROTTLE_RATE!r}: write it as 120/minute, "
        "a number of requests per second, minute, hour or day."
    )
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cooperation tracker API",
    "DESCRIPTION": (
        "The published records of the cooperation tracker, read-only: the same lists, "
        "filters, order and pages as the site's own, each record with its public page "
        "and the sources it rests on."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "PREPROCESSING_HOOKS": ["cooperation.api.only_api_paths"],
    "ENUM_NAME_OVERRIDES": {"DatePrecisionEnum": "cooperation.dates.Precision"},
    # Swagger UI from this site's own files (drf-spectacular-sidecar), no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# One JSON object a line on stderr (config/logs.py), with the request's path and id.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Axes logs each failed login and lockout as a warning; its INFO lines are chatter.
        "axes": {"level": "WARNING"},
        # Instead of Django's own handlers (its console in DEBUG, mail to ADMINS, runserver's
        # request lines), the root handler writes them all as JSON.
        "django": {"handlers": [], "level": "INFO"},
    },
}

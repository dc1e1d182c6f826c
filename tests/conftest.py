import pytest


@pytest.fixture(autouse=True)
def settings_for_tests(settings):
    """Plain HTTP and unhashed static files, as `runserver` serves them; fast hashing."""
    settings.SECURE_SSL_REDIRECT = False
    # Hashing test users' passwords slowly protects nothing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A test walks more of the API in a second than a visitor may; tests of the limit set it.
    settings.API_THROTTLE_RATE = "100000/minute"
    settings.WHITENOISE_AUTOREFRESH = True  # no collectstatic: no STATIC_ROOT to scan
    # Facets counted whatever the machine's load: a page's queries stay the same. Tests of
    # the time limit set their own.
    settings.FACET_TIME_LIMIT_MS = 10_000
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with no cached totals: rolled-back rows send no signal to drop them."""
    from django.core.cache import cache

    cache.clear()

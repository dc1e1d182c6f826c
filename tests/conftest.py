import pytest


@pytest.fixture(autouse=True)
def plain_http(settings):
    """Serve tests over plain HTTP with unhashed static files, as `runserver` does."""
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

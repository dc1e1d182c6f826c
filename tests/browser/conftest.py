import pytest
from django.test import override_settings
from playwright.sync_api import sync_playwright

from tests.walks.conftest import CHROMIUM, CHROMIUM_ARGS

#: A phone's screen, in CSS pixels.
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session", autouse=True)
def live_server_settings():
    """Plain HTTP, and static files looked for as each request comes (see tests/walks)."""
    with override_settings(SECURE_SSL_REDIRECT=False, WHITENOISE_AUTOREFRESH=True):
        yield


@pytest.fixture(scope="session")
def browser(django_db_setup):
    # Django refuses queries from a thread running an event loop, as Playwright's sync API
    # does; the tests' own queries never run while the browser waits.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A page on a phone-sized screen with JavaScript off."""
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, is_mobile=True)
    yield context.new_page()
    context.close()

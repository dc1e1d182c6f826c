import io
import shutil

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect, sync_playwright

from .counting import CountedPage

#: Debian's Chromium: Playwright cannot download its own browsers here.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "walk-the-admin"


@pytest.fixture(scope="session", autouse=True)
def live_server_settings():
    """
    The session's live server builds its middleware before any test's settings apply
    (tests/conftest.py): plain HTTP, and static files looked for as each request comes.
    """
    with override_settings(SECURE_SSL_REDIRECT=False, WHITENOISE_AUTOREFRESH=True):
        yield


@pytest.fixture(scope="session")
def browser(django_db_setup):
    # Playwright's sync API runs an event loop in this thread, and Django refuses database
    # queries from a thread with a running loop: the walks' own queries run between steps,
    # never at the same time as the browser's.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def editor(django_user_model):
    user = django_user_model.objects.create_user("walker", password=PASSWORD)
    call_command("set_role", "walker", "editor", stdout=io.StringIO())
    return user


@pytest.fixture
def admin_walk(page, live_server, editor):
    """An Editor's page on the admin's index, logged in; counting starts here."""
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.locator("#id_username").fill(editor.username)
    page.locator("#id_password").fill(PASSWORD)
    # Waiting for the index to load, then asking the page once more, lets its load event
    # pass before counting starts.
    with page.expect_navigation():
        page.locator("input[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/admin/")
    return CountedPage(page)

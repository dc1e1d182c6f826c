import pytest

from tests.walks import conftest as walks

# The walks' Chromium, and their live server over plain HTTP.
browser = walks.browser
live_server_settings = walks.live_server_settings

#: A phone's screen, in CSS pixels.
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    """A page on a phone-sized screen with JavaScript off."""
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, is_mobile=True)
    yield context.new_page()
    context.close()

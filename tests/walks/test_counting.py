import pytest
from playwright.sync_api import expect

from .counting import CountedPage

pytestmark = pytest.mark.walk

SITE = "http://walk.test"
FORM = """<!doctype html>
<form method="post" action="/saved">
  <input name="title" id="title">
  <select name="kind" id="kind"><option>Thematic</option><option>Cross-cutting</option></select>
  <input type="checkbox" name="draft" id="draft">
  <p id="text">The agreement also foresees the exchange of experts.</p>
  <a href="/help" target="_blank" id="help">Help</a>
  <input type="submit" value="Save">
</form>
"""


def answer(route):
    if route.request.url == f"{SITE}/saved":
        route.fulfill(content_type="text/html", body="<p id='saved'>Saved</p>")
    else:
        route.fulfill(content_type="text/html", body=FORM)


def test_counted_page_counts_loads_submissions_and_field_actions(page):
    page.context.route(f"{SITE}/**", answer)
    walk = CountedPage(page)
    page.goto(f"{SITE}/form")

    walk.type(page.locator("#title"), "Exchange of experts")
    walk.choose(page.locator("#kind"), "Cross-cutting")
    walk.click(page.locator("#draft"))
    walk.select_text(page.locator("#text"), "exchange of experts")
    assert page.evaluate("String(window.getSelection())") == "exchange of experts"
    with page.context.expect_page() as popup:
        walk.click(page.locator("#help"))
    popup.value.wait_for_load_state()
    walk.submit(page.get_by_role("button", name="Save"))
    expect(page.locator("#saved")).to_be_visible()

    assert walk.counts() == {"page_loads": 3, "submissions": 1, "field_actions": 5}
    assert page.url == f"{SITE}/saved"


def test_counted_page_refuses_to_select_text_that_is_not_there(page):
    page.context.route(f"{SITE}/**", answer)
    walk = CountedPage(page)
    page.goto(f"{SITE}/form")
    with pytest.raises(AssertionError, match="not in one text"):
        walk.select_text(page.locator("#text"), "exchange of expertise")

"""Citing by selecting in Chromium: with the keyboard alone; the passage offered in an error."""

import pytest
from playwright.sync_api import expect

from cooperation.models import Citation

from ..factories import AreaFactory, SourceFactory

pytestmark = [pytest.mark.walk, pytest.mark.django_db(transaction=True)]

TEXT = (
    "The parties agreed to train border guards.\n"
    "They also exchange experts at the agency’s seat in Warsaw."
)


def test_cite_a_passage_found_and_taken_with_the_keyboard(admin_walk, live_server):
    source = SourceFactory(text=TEXT)
    area = AreaFactory(name="Border management")
    page = admin_walk.page
    page.goto(f"{live_server.url}/admin/cooperation/source/{source.pk}/cite/")

    page.locator("#citing-find").focus()
    page.keyboard.type("They also … seat")
    page.keyboard.press("Enter")
    assert page.evaluate("String(window.getSelection())") == (
        "They also exchange experts at the agency’s seat"
    )
    page.keyboard.press("Alt+Shift+C")
    # The record's search is open and focused: type, then Enter picks the first result.
    search = page.locator(".select2-container--open .select2-search__field")
    expect(search).to_be_focused()
    page.keyboard.type("Border")
    expect(page.locator(".select2-results__option--highlighted")).to_have_text(
        "Area: Border management"
    )
    page.keyboard.press("Enter")
    page.locator("#citing-form input[type=submit]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page.locator(".messagelist .success")).to_be_visible()
    citation = Citation.objects.get()
    assert citation.area == area
    assert citation.quote == "They also exchange experts at the agency’s seat"
    expect(page.locator("#source-text a.cited")).to_have_text(citation.quote)


def test_a_refused_quote_is_replaced_by_the_sources_passage_with_one_click(admin_walk, live_server):
    source = SourceFactory(text=TEXT)
    area = AreaFactory()
    page = admin_walk.page
    page.goto(f"{live_server.url}/admin/cooperation/area/{area.pk}/change/?source={source.pk}")

    page.locator("#citations-group .add-row a").click()
    page.locator("#id_citations-0-quote").fill("at the agency's seat")
    with page.expect_navigation():
        page.locator("input[name=_continue]").click()
    expect(page.locator(".errorlist")).to_contain_text("U+2019")
    page.get_by_role("button", name="Use the source’s passage").click()
    assert page.locator("#id_citations-0-quote").input_value() == "at the agency’s seat"
    with page.expect_navigation():
        page.locator("input[name=_continue]").click()

    expect(page.locator(".messagelist .success")).to_be_visible()
    assert Citation.objects.get().quote == "at the agency’s seat"

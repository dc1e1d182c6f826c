"""
Citing by selecting in Chromium: with the keyboard alone; the passage offered in an error;
new records entered from passages, with and without the script; the source's records
chosen with one click on a record's form.
"""

import pytest
from playwright.sync_api import expect

from cooperation.models import Citation, Organisation, Person

from ..factories import (
    AreaFactory,
    CitationFactory,
    OrganisationFactory,
    PersonFactory,
    SourceFactory,
)

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


RELEASE = (
    "The International Organization for Migration (IOM) trains border guards.\n"
    "IOM’s Director General Jane Doe opened the course."
)


def test_enter_an_organisation_and_its_person_from_passages_with_the_keyboard(
    admin_walk, live_server
):
    source = SourceFactory(text=RELEASE)
    page = admin_walk.page
    page.goto(f"{live_server.url}/admin/cooperation/source/{source.pk}/cite/")

    page.locator("#citing-find").focus()
    page.keyboard.type("International … (IOM)")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="New organisation").focus()
    page.keyboard.press("Enter")
    # Name and acronym are split; the kind, still to choose, has the focus.
    expect(page.locator("#id_organisations-0-name")).to_have_value(
        "International Organization for Migration"
    )
    expect(page.locator("#id_organisations-0-acronym")).to_have_value("IOM")
    expect(page.locator("#id_organisations-0-kind")).to_be_focused()
    page.locator("#id_organisations-0-kind").select_option(label="International organisation")
    page.locator("#citing-find").fill("IOM’s … Doe")
    page.locator("#citing-find").press("Enter")
    page.get_by_role("button", name="New person").focus()
    page.keyboard.press("Enter")
    # The passage names the organisation entered above.
    expect(page.locator("#id_people-0-organisation")).to_have_value("IOM")
    page.locator("#id_people-0-name").fill("Jane Doe")
    with page.expect_navigation():
        page.locator("#citing-form input[type=submit]").click()

    expect(page.locator(".messagelist .success")).to_be_visible()
    iom = Organisation.objects.get()
    assert (iom.name, iom.acronym) == ("International Organization for Migration", "IOM")
    person = Person.objects.get()
    assert (person.name, person.organisation) == ("Jane Doe", iom)
    assert sorted(Citation.objects.values_list("quote", flat=True)) == [
        "IOM’s Director General Jane Doe",
        "International Organization for Migration (IOM)",
    ]


def test_enter_a_record_from_a_passage_without_javascript(browser, live_server, editor):
    from .conftest import PASSWORD

    source = SourceFactory(text=RELEASE)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/cooperation/source/{source.pk}/cite/")
    page.locator("#id_username").fill(editor.username)
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("input[type=submit]").click()

    expect(page.locator("#citing-take")).to_be_hidden()
    page.locator("#id_areas-0-quote").fill("trains border guards")
    page.locator("#id_areas-0-name").fill("Training")
    with page.expect_navigation():
        page.locator("#citing-form input[type=submit]").click()

    expect(page.locator(".messagelist .success")).to_be_visible()
    assert Citation.objects.get().area.name == "Training"
    context.close()


def test_records_of_the_source_are_chosen_with_one_click_on_a_records_form(admin_walk, live_server):
    source = SourceFactory(text=RELEASE)
    iom = OrganisationFactory(name="International Organization for Migration", acronym="IOM")
    doe = PersonFactory(name="Jane Doe", organisation=iom)
    CitationFactory(source=source, organisation=iom, quote="International Organization")
    CitationFactory(source=source, person=doe, quote="Jane Doe")
    page = admin_walk.page
    page.goto(f"{live_server.url}/admin/cooperation/agreement/add/?source={source.pk}")

    page.locator(".field-parties .citing-chip", has_text="IOM").click()
    page.locator("#signatories-group .citing-chips-rows .citing-chip", has_text="Jane Doe").click()

    assert page.locator("#id_parties").evaluate(
        "select => Array.from(select.selectedOptions).map((option) => option.value)"
    ) == [str(iom.pk)]
    assert page.locator("#id_signatories-0-person").input_value() == str(doe.pk)
    expect(page.locator(".field-parties .select2-selection")).to_contain_text(iom.name)

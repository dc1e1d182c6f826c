"""
The "after" walk: the same new Editor enters the same records from the same release as the
before walk (release.py), through today's admin and without the import: the source's text
pasted once, then on its page to read and cite each organisation, person and area entered
from the passage that names it (its citation), the organisation's name and acronym split
from "Frontex, the European Border and Coast Guard Agency" and a person's organisation
found in their passage, all saved in one step; then the agreement and its activities on
their own forms beside the source's text, each quote selected in it, parties, areas and
signatories chosen with one click among the records the source is cited for, activities
under the agreement starting with its parties. Counted with the same code (counting.py).
"""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from . import release
from .test_walk_before import add, field, save

pytestmark = [pytest.mark.walk, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

COUNTS = Path(settings.BASE_DIR) / "bench" / "out" / "walk-after.json"
#: What the before walk counts (`make walk`: test_walk_before.py, through the admin as it
#: was); the after walk must take a third of its submissions and field actions or fewer.
BEFORE_WALK = {"submissions": 16, "field_actions": 166}
BEFORE = Path(settings.BASE_DIR) / "bench" / "out" / "walk-before.json"


def before_counts(report):
    return {name: report[name] for name in ["page_loads", "submissions", "field_actions"]}


def add_row(walk, prefix):
    group = walk.page.locator(f"#{prefix}-group")
    index = group.locator(f"tr.form-row.dynamic-{prefix}").count()
    walk.click(group.locator(".add-row a"))
    return lambda name: field(walk, f"{prefix}-{index}-{name}")


def source_text(walk):
    return walk.page.locator("#source-text")


def cite_here(walk, quotes):
    """Cite each of `quotes` beside the record's form: select it, then take it."""
    for quote in quotes:
        walk.select_text(source_text(walk), quote)
        walk.click(walk.page.locator("#citing-take"))
    boxes = walk.page.locator("#citations-group textarea[name$='-quote']")
    taken = boxes.evaluate_all("boxes => boxes.map((box) => box.value)")
    assert set(quotes) <= set(taken), taken


def choose(walk, select, record):
    """Choose a record the source is cited for with its button beside `select`: one click."""
    chips = select.locator("xpath=ancestor::div[contains(@class, 'related-widget-wrapper')][1]")
    chips = chips.locator("xpath=following-sibling::div[contains(@class, 'citing-chips')][1]")
    walk.click(chips.locator("button.citing-chip", has_text=record.get("acronym", record["name"])))


def choose_row(walk, prefix, record):
    """Add a row of the inline `prefix` for a record the source is cited for: one click."""
    group = walk.page.locator(f"#{prefix}-group")
    index = group.locator(f"tr.form-row.dynamic-{prefix}").count()
    walk.click(group.locator(".citing-chips-rows button.citing-chip", has_text=record["name"]))
    return lambda name: field(walk, f"{prefix}-{index}-{name}")


def enter_source(walk, address, text):
    add(walk, "source")
    source = release.SOURCE
    walk.type(field(walk, "title"), source["title"])
    walk.type(field(walk, "published_on"), source["published_on"])
    walk.type(field(walk, "url"), address)
    walk.type(field(walk, "text"), text)
    # Its publisher is entered on the next page, from the passage that names it.
    save(walk, "_cite")


def new_record(walk, kind, prefix, index, quote):
    """Select the passage that names a new record and enter it: its row's field locators."""
    walk.select_text(source_text(walk), quote)
    walk.click(walk.page.locator(f"button.citing-new[data-kind='{kind}']"))
    return lambda name: field(walk, f"{prefix}-{index}-{name}")


def enter_named_records(walk):
    """Organisations, people and areas from their passages, saved in one submission."""
    frontex, irini = release.ORGANISATIONS
    row = new_record(walk, "organisation", "organisations", 0, frontex["quotes"][0])
    # "Frontex, the European Border and Coast Guard Agency" gives the acronym and the name.
    expect(row("name")).to_have_value(frontex["name"])
    expect(row("acronym")).to_have_value(frontex["acronym"])
    walk.choose(row("kind"), frontex["kind"])
    walk.click(row("publishes"))
    row = new_record(walk, "organisation", "organisations", 1, irini["quotes"][0])
    walk.type(row("name"), irini["name"])
    walk.type(row("acronym"), irini["acronym"])
    walk.choose(row("kind"), irini["kind"])
    for index, person in enumerate(release.PEOPLE):
        row = new_record(walk, "person", "people", index, person["quotes"][0])
        walk.type(row("name"), person["name"])
        # The organisation the passage names, entered above.
        expect(row("organisation")).to_have_value(person["organisation"]["acronym"])
    for index, area in enumerate(release.AREAS):
        row = new_record(walk, "area", "areas", index, area["quotes"][0])
        walk.type(row("name"), area["name"])
    walk.submit(walk.page.locator("button[name=_add][value=agreement]"))
    errors = walk.page.locator(".errornote, .errorlist")
    assert errors.count() == 0, errors.all_inner_texts()
    expect(walk.page.locator(".messagelist .success")).to_be_visible()


def enter_agreement(walk):
    agreement = release.AGREEMENT
    walk.type(field(walk, "title"), agreement["title"])
    walk.choose(field(walk, "kind"), agreement["kind"])
    for party in agreement["parties"]:
        choose(walk, field(walk, "parties"), party)
    for area in agreement["areas"]:
        choose(walk, field(walk, "areas"), area)
    walk.type(field(walk, "summary"), agreement["summary"])
    for signatory in agreement["signatories"]:
        row = choose_row(walk, "signatories", signatory["person"])
        walk.type(row("title"), signatory["title"])
    cite_here(walk, agreement["quotes"])
    save(walk, "_addactivity")


def enter_activities(walk):
    for number, activity in enumerate(release.ACTIVITIES, start=1):
        walk.type(field(walk, "title"), activity["title"])
        walk.type(field(walk, "description"), activity["description"])
        for area in activity["areas"]:
            choose(walk, field(walk, "areas"), area)
        cite_here(walk, activity["quotes"])
        save(walk, "_save" if number == len(release.ACTIVITIES) else "_addanother")


def test_walk_after_enters_the_release_through_the_new_admin(admin_walk):
    header, text = release.read_release()
    enter_source(admin_walk, header["Address"], text)
    enter_named_records(admin_walk)
    enter_agreement(admin_walk)
    enter_activities(admin_walk)

    release.check_entered()
    admin_walk.write(COUNTS, walk="after", database=connection.vendor)
    counts = admin_walk.counts()
    print(f"\nWalk after, on {connection.vendor}: {counts}")
    if BEFORE.exists():
        before = json.loads(BEFORE.read_text())
        print(f"Walk before, on {before['database']}: {before_counts(before)}")
    for name, before in BEFORE_WALK.items():
        assert counts[name] * 3 <= before, (name, counts[name], before)

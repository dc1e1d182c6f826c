"""
The "before" walk: a new Editor enters the release in release.py through the admin as it
is, with its own widgets, in Chromium, and the walk counts page loads, submissions and field
actions (see counting.py). Its counts are what the admin's improvements are measured against.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from . import release

pytestmark = [pytest.mark.walk, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

COUNTS = Path(settings.BASE_DIR) / "bench" / "out" / "walk-before.json"


def add(walk, model):
    """Open the add form of `model` from the link beside it in the admin's list of models."""
    walk.follow(walk.page.locator(f"a.addlink[href$='/cooperation/{model}/add/']").first)


def save(walk, button="_save"):
    """Save with one of the form's buttons and check the admin took it."""
    walk.submit(walk.page.locator(f"input[name='{button}']"))
    errors = walk.page.locator(".errornote, .errorlist")
    assert errors.count() == 0, errors.all_inner_texts()
    expect(walk.page.locator(".messagelist .success")).to_be_visible()


def field(walk, name):
    return walk.page.locator(f"#id_{name}")


def add_row(walk, prefix):
    """Add a row to the inline `prefix` and return a function giving its fields' locators."""
    group = walk.page.locator(f"#{prefix}-group")
    index = group.locator(f"tr.form-row.dynamic-{prefix}").count()
    walk.click(group.locator(".add-row a"))
    return lambda name: field(walk, f"{prefix}-{index}-{name}")


def pick(walk, select, record):
    """Pick a named record in an autocomplete, searching by its acronym if it has one."""
    walk.pick(select, record.get("acronym", record["name"]), record["name"])


def pick_source(walk, select):
    walk.pick(select, "Frontex", release.SOURCE["title"])


def cite(walk, prefix, quotes):
    """Cite the release in the inline citation rows of the record being edited."""
    for quote in quotes:
        row = add_row(walk, prefix)
        pick_source(walk, row("source"))
        walk.type(row("quote"), quote)


def add_each(walk, model, records, enter):
    """Add `records` on `model`'s add form, one after another with "Save and add another"."""
    add(walk, model)
    for number, record in enumerate(records, start=1):
        enter(record)
        save(walk, "_save" if number == len(records) else "_addanother")


def enter_organisations(walk):
    def enter(organisation):
        walk.type(field(walk, "name"), organisation["name"])
        walk.type(field(walk, "acronym"), organisation["acronym"])
        walk.choose(field(walk, "kind"), organisation["kind"])

    add_each(walk, "organisation", release.ORGANISATIONS, enter)


def enter_source(walk, address, text):
    add(walk, "source")
    source = release.SOURCE
    walk.type(field(walk, "title"), source["title"])
    pick(walk, field(walk, "publishers"), source["publisher"])
    walk.type(field(walk, "published_on"), source["published_on"])
    walk.type(field(walk, "url"), address)
    walk.type(field(walk, "text"), text)
    save(walk)


def enter_people(walk):
    def enter(person):
        walk.type(field(walk, "name"), person["name"])
        pick(walk, field(walk, "organisation"), person["organisation"])

    add_each(walk, "person", release.PEOPLE, enter)


def enter_areas(walk):
    add_each(walk, "area", release.AREAS, lambda area: walk.type(field(walk, "name"), area["name"]))


def enter_agreement(walk):
    agreement = release.AGREEMENT
    add(walk, "agreement")
    walk.type(field(walk, "title"), agreement["title"])
    walk.choose(field(walk, "kind"), agreement["kind"])
    for party in agreement["parties"]:
        pick(walk, field(walk, "parties"), party)
    for area in agreement["areas"]:
        pick(walk, field(walk, "areas"), area)
    walk.type(field(walk, "summary"), agreement["summary"])
    for signatory in agreement["signatories"]:
        row = add_row(walk, "signatories")
        pick(walk, row("person"), signatory["person"])
        walk.type(row("title"), signatory["title"])
        pick(walk, row("organisation"), signatory["organisation"])
    cite(walk, "citations", agreement["quotes"])
    save(walk)


def enter_activities(walk):
    for activity in release.ACTIVITIES:
        add(walk, "activity")
        walk.type(field(walk, "title"), activity["title"])
        walk.type(field(walk, "description"), activity["description"])
        walk.pick(field(walk, "agreement"), "Frontex", release.AGREEMENT["title"])
        for area in activity["areas"]:
            pick(walk, field(walk, "areas"), area)
        for participant in activity["participants"]:
            row = add_row(walk, "participations")
            pick(walk, row("organisation"), participant)
        cite(walk, "citations", activity["quotes"])
        save(walk)


def enter_citations(walk):
    """Cite the organisations, people and areas, entered before the source, one by one."""

    def enter(citation):
        model, record, quote = citation
        pick_source(walk, field(walk, "source"))
        walk.type(field(walk, "quote"), quote)
        pick(walk, field(walk, model), record)

    citations = [
        (model, record, quote)
        for model, records in release.CITED_APART.items()
        for record in records
        for quote in record["quotes"]
    ]
    add_each(walk, "citation", citations, enter)


def test_walk_before_enters_the_release_through_todays_admin(admin_walk):
    header, text = release.read_release()
    enter_organisations(admin_walk)
    enter_source(admin_walk, header["Address"], text)
    enter_people(admin_walk)
    enter_areas(admin_walk)
    enter_agreement(admin_walk)
    enter_activities(admin_walk)
    enter_citations(admin_walk)

    release.check_entered()
    admin_walk.write(COUNTS, walk="before", database=connection.vendor)
    print(f"\nWalk before, on {connection.vendor}: {admin_walk.counts()}")

"""
The "after" walk: the same new Editor enters the same records from the same release as the
before walk (release.py), through today's admin and without the import: people with their
organisation, the source's text pasted once, every quote selected in the text instead of
typed (on the source's page to read and cite, or beside the record's own form opened from
it), an agreement's signatories signing for their own organisation, and activities under
the agreement starting with its parties. Counted with the same code (counting.py).
"""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from . import release
from .test_walk_before import add, field, pick, save

pytestmark = [pytest.mark.walk, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

COUNTS = Path(settings.BASE_DIR) / "bench" / "out" / "walk-after.json"
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


def enter_organisations(walk):
    """Each organisation with the person named for it, in one save each."""
    add(walk, "organisation")
    for number, organisation in enumerate(release.ORGANISATIONS, start=1):
        walk.type(field(walk, "name"), organisation["name"])
        walk.type(field(walk, "acronym"), organisation["acronym"])
        walk.choose(field(walk, "kind"), organisation["kind"])
        for person in release.PEOPLE:
            if person["organisation"] is organisation:
                walk.type(add_row(walk, "people")("name"), person["name"])
        save(walk, "_save" if number == len(release.ORGANISATIONS) else "_addanother")


def enter_source(walk, address, text):
    add(walk, "source")
    source = release.SOURCE
    walk.type(field(walk, "title"), source["title"])
    pick(walk, field(walk, "publishers"), source["publisher"])
    walk.type(field(walk, "published_on"), source["published_on"])
    walk.type(field(walk, "url"), address)
    walk.type(field(walk, "text"), text)
    save(walk)


def open_to_cite(walk):
    walk.follow(walk.page.get_by_role("link", name="Read and cite"))


def cite_on_source_page(walk, citations):
    """Select each passage, take it, and choose its record; all saved in one submission."""
    for model, record, quote in citations:
        walk.select_text(source_text(walk), quote)
        walk.click(walk.page.locator("#citing-take"))
        # Taking the passage opened the record's search, which lists the newest records
        # before anything is typed: these were just entered.
        result = walk.page.locator(".select2-container--open .select2-results__option")
        walk.click(result.filter(has_text=f"{model.capitalize()}: {record['name']}"))
    walk.submit(walk.page.locator("#citing-form input[type=submit]"))
    expect(walk.page.locator(".messagelist .success")).to_be_visible()


def add_citing(walk, verbose_name):
    """From the source's page, open the add form of a record that cites it."""
    walk.follow(walk.page.locator("a.citing-add", has_text=verbose_name))


def enter_areas(walk):
    add_citing(walk, "area")
    for number, area in enumerate(release.AREAS, start=1):
        walk.type(field(walk, "name"), area["name"])
        cite_here(walk, area["quotes"])
        last = number == len(release.AREAS)
        walk.submit(walk.page.locator(f"input[name='{'_save' if last else '_addanother'}']"))
        expect(walk.page.locator(".messagelist .success")).to_be_visible()


def enter_agreement(walk):
    agreement = release.AGREEMENT
    add_citing(walk, "agreement")
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
    cite_here(walk, agreement["quotes"])
    save(walk, "_continue")


def enter_activities(walk):
    walk.follow(walk.page.get_by_role("link", name="Add an activity under it"))
    for number, activity in enumerate(release.ACTIVITIES, start=1):
        walk.type(field(walk, "title"), activity["title"])
        walk.type(field(walk, "description"), activity["description"])
        for area in activity["areas"]:
            pick(walk, field(walk, "areas"), area)
        cite_here(walk, activity["quotes"])
        save(walk, "_save" if number == len(release.ACTIVITIES) else "_addanother")


def test_walk_after_enters_the_release_through_the_new_admin(admin_walk):
    header, text = release.read_release()
    enter_organisations(admin_walk)
    enter_source(admin_walk, header["Address"], text)
    open_to_cite(admin_walk)
    enter_areas(admin_walk)
    cite_on_source_page(
        admin_walk,
        [
            (model, record, quote)
            for model, records in [
                ("organisation", release.ORGANISATIONS),
                ("person", release.PEOPLE),
            ]
            for record in records
            for quote in record["quotes"]
        ],
    )
    enter_agreement(admin_walk)
    enter_activities(admin_walk)

    release.check_entered()
    admin_walk.write(COUNTS, walk="after", database=connection.vendor)
    print(f"\nWalk after, on {connection.vendor}: {admin_walk.counts()}")
    if BEFORE.exists():
        before = json.loads(BEFORE.read_text())
        print(f"Walk before, on {before['database']}: {before_counts(before)}")

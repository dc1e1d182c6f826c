"""
Full-text search, on whichever database the suite runs (CI runs it on SQLite and on
PostgreSQL, both migrated): the same query finds the same rows on both.
"""

import datetime
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from cooperation import filters, models, search
from cooperation.models import Activity, Agreement, Organisation, Participation, Publication

from .factories import (
    ActivityFactory,
    AgreementFactory,
    OrganisationFactory,
    ParticipationFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def records():
    iom = OrganisationFactory(name="International Organization for Migration", acronym="IOM")
    easo = OrganisationFactory(name="European Asylum Support Office", acronym="EASO")
    made = {
        "training-guards": ActivityFactory(
            title="Training guards", description="Workshops for border police."
        ),
        "train-guards": ActivityFactory(
            title="Train guards", description="Rail security and the night train."
        ),
        "ecole": ActivityFactory(title="École de la migration", description="Cours à Genève."),
        "reception": ActivityFactory(
            title="Reception conditions",
            description=(
                "Write to info@example.org or see https://www.easo.europa.eu/training; "
                "3.5 million euro for asylum-seekers."
            ),
        ),
        "return": ActivityFactory(
            title="Voluntary return", description="Counselling for returning migrants."
        ),
        "agencies": ActivityFactory(title="Agencies", description=""),
    }
    for organisation in [iom, easo]:
        ParticipationFactory(activity=made["return"], organisation=organisation)
    ParticipationFactory(activity=made["agencies"], organisation=easo)
    return made


SEARCHES = [
    # The last word is also the start of a longer word; the others are whole words.
    ("train", {"training-guards", "train-guards", "reception"}),
    ("train guards", {"train-guards"}),
    ("training guards", {"training-guards"}),
    ("guards train", {"training-guards", "train-guards"}),
    ("guard", {"training-guards", "train-guards"}),
    ("guard train", set()),
    ("rain", set()),
    # Case does not count, accents do (on both engines).
    ("TRAINING", {"training-guards", "reception"}),
    ("école", {"ecole"}),
    ("ÉCOLE", {"ecole"}),
    ("ecole", set()),
    ("genève", {"ecole"}),
    ("geneve", set()),
    # Addresses, host names and numbers split into words as elsewhere.
    ("example", {"reception"}),
    ("info example org", {"reception"}),
    ("europa training", {"reception"}),
    ("3.5 million", {"reception"}),
    ("asylum seekers", {"reception"}),
    # Punctuation and operators are separators or plain words, never syntax.
    ('"train" guards*', {"train-guards"}),
    ("-train guards", {"train-guards"}),
    ("train: guards", {"train-guards"}),
    ("train & guards", {"train-guards"}),
    ("train | guards", {"train-guards"}),
    ("!train guards", {"train-guards"}),
    ("train AND guards", {"train-guards"}),
    ("AND", {"train-guards"}),
    ("NEAR(train guards)", set()),
    ("title:train", set()),
    ("train OR police", set()),
    ("(train*", {"training-guards", "train-guards", "reception"}),
    ("'", set()),
    ('"', set()),
    ("*", set()),
    ("!!! --- ::", set()),
    ("", set()),
    # Organisations taking part: by acronym, by name, each word anywhere.
    ("iom", {"return"}),
    ("IOM return", {"return"}),
    ("iom training", set()),
    ("iom easo", {"return"}),
    ("easo", {"return", "agencies", "reception"}),
    ("migration", {"ecole", "return"}),
    ("international voluntary", {"return"}),
    ("support agencies", {"agencies"}),
    ("organisation", set()),
]


@pytest.mark.parametrize("counting", [False, True], ids=["listing", "counting"])
@pytest.mark.parametrize("few_links", [1, 5_000], ids=["walked", "read"])
@pytest.mark.parametrize(("query", "expected"), SEARCHES)
def test_search_activities_matches_table(
    records, monkeypatch, few_links, counting, query, expected
):
    """
    The same rows whether the list is walked (words in many rows) or the matches read, in
    the form that lists a page and in the form that counts.
    """
    monkeypatch.setattr(models, "FEW_LINKS", few_links)

    found = search.activities(Activity.objects.all(), query, counting)

    assert {slug for slug, activity in records.items() if activity in found} == expected
    assert found.count() == len(expected)


@pytest.mark.parametrize("counting", [False, True], ids=["listing", "counting"])
@pytest.mark.parametrize("few_links", [1, 5_000], ids=["walked", "read"])
def test_search_activities_in_a_subquery(records, monkeypatch, few_links, counting):
    """
    A search nested in another query (as a facet counts the links of the rows found),
    where the database knows the activity table by another name.
    """
    monkeypatch.setattr(models, "FEW_LINKS", few_links)
    found = search.activities(Activity.objects.all(), "easo", counting)

    nested = Participation.objects.order_by().filter(activity__in=found.order_by().values("pk"))

    assert {link.activity for link in nested} == {records["return"], records["agencies"]}


@pytest.mark.parametrize("counting", [False, True], ids=["listing", "counting"])
def test_search_walked_follows_a_renamed_organisation(records, monkeypatch, counting):
    """A word found through organisations' names, walked: a new name counts at once."""
    monkeypatch.setattr(models, "FEW_LINKS", 1)
    easo = Organisation.objects.get(acronym="EASO")

    before = set(search.activities(Activity.objects.all(), "easo", counting))
    easo.acronym = "EUAA"
    easo.save()
    after = set(search.activities(Activity.objects.all(), "easo", counting))
    renamed = set(search.activities(Activity.objects.all(), "euaa", counting))

    assert before == {records["return"], records["agencies"], records["reception"]}
    assert after == {records["reception"]}
    assert renamed == {records["return"], records["agencies"]}


def test_activity_list_facets_under_a_common_word(client, records, monkeypatch):
    monkeypatch.setattr(models, "FEW_LINKS", 1)

    response = page(client, "activity-list", q="easo")

    assert response.status_code == 200
    organisation = next(f for f in response.context["facets"] if f.name == "organisation")
    assert {option.key: option.count for option in organisation.options if option.count} == {
        Organisation.objects.get(acronym="EASO").slug: 2,
        Organisation.objects.get(acronym="IOM").slug: 1,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("iom", {"IOM"}),
        ("international org", {"IOM"}),
        ("organization migration", {"IOM"}),
        ("migr", {"IOM"}),
        ("organisation", set()),
        ("easo", {"EASO"}),
        ("office support", {"EASO"}),
        ("sup", {"EASO"}),
        ("european iom", set()),
        ("&", set()),
    ],
)
def test_search_organisations_matches_names_and_acronyms(query, expected):
    OrganisationFactory(name="International Organization for Migration", acronym="IOM")
    OrganisationFactory(name="European Asylum Support Office", acronym="EASO")

    found = search.organisations(Organisation.objects.all(), query)

    assert {organisation.acronym for organisation in found} == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("arrange", {"Working Arrangement"}),
        ("working", {"Working Arrangement"}),
        ("work arrangement", set()),
        ("resettlement", {"Memorandum"}),
        ("memorandum resettle", {"Memorandum"}),
    ],
)
def test_search_agreements_matches_titles_and_summaries(query, expected):
    AgreementFactory(title="Working Arrangement", summary="Cooperation on protection.")
    AgreementFactory(title="Memorandum", summary="On resettlement.")

    found = search.agreements(Agreement.objects.all(), query)

    assert {agreement.title for agreement in found} == expected


def test_search_words_drops_punctuation_and_operators():
    assert search.words('NEAR("Train"* -guards): a&b|c!_d') == [
        "near",
        "train",
        "guards",
        "a",
        "b",
        "c",
        "d",
    ]


# Kept in step on every path


def test_search_finds_rows_added_with_bulk_create():
    Activity.objects.bulk_create(
        [Activity(title=f"Bulk seminar {n}", slug=f"bulk-{n}") for n in range(3)]
    )

    assert search.activities(Activity.objects.all(), "bulk seminar").count() == 3


def test_search_follows_update_and_delete():
    activity = ActivityFactory(title="Old title")
    gone = ActivityFactory(title="Old news")

    Activity.objects.filter(pk=activity.pk).update(title="New title")
    gone.delete()

    assert list(search.activities(Activity.objects.all(), "new title")) == [activity]
    assert list(search.activities(Activity.objects.all(), "old")) == []


def test_search_follows_save():
    activity = ActivityFactory(title="Draft heading")
    activity.description = "Maritime surveillance"
    activity.save()

    assert list(search.activities(Activity.objects.all(), "maritime")) == [activity]


def test_search_finds_rows_loaded_from_a_fixture(tmp_path):
    fixture = tmp_path / "activities.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "cooperation.activity",
                    "fields": {
                        "title": "Loaded seminar",
                        "slug": "loaded-seminar",
                        "description": "From a fixture.",
                    },
                },
                {
                    "model": "cooperation.organisation",
                    "fields": {
                        "name": "Loaded Agency",
                        "acronym": "LA",
                        "slug": "loaded-agency",
                        "kind": "other",
                    },
                },
            ]
        )
    )

    call_command("loaddata", fixture, verbosity=0)

    assert search.activities(Activity.objects.all(), "loaded seminar").get().slug == (
        "loaded-seminar"
    )
    assert search.organisations(Organisation.objects.all(), "loaded").get().acronym == "LA"


@pytest.fixture
def activity_writes():
    """A function giving how often activity rows were written since the fixture began."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("CREATE TEMP TABLE activity_writes (id integer)")
            cursor.execute(
                "CREATE TEMP TRIGGER activity_written AFTER UPDATE ON cooperation_activity "
                "BEGIN INSERT INTO activity_writes VALUES (new.id); END"
            )
        else:
            cursor.execute(
                "SELECT n_tup_upd FROM pg_stat_xact_user_tables "
                "WHERE relname = 'cooperation_activity'"
            )

    def writes():
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("SELECT count(*) FROM activity_writes")
            else:
                cursor.execute(
                    "SELECT n_tup_upd + n_tup_hot_upd FROM pg_stat_xact_user_tables "
                    "WHERE relname = 'cooperation_activity'"
                )
            return cursor.fetchone()[0]

    yield writes
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER temp.activity_written")
            cursor.execute("DROP TABLE temp.activity_writes")


def test_search_renamed_organisation_found_without_touching_activities(activity_writes):
    agency = OrganisationFactory(name="Old Name Agency", acronym="ONA")
    activity = ActivityFactory(title="Joint patrols")
    ParticipationFactory(activity=activity, organisation=agency)
    before = activity_writes()

    agency.name = "Coast Authority"
    agency.acronym = "CA"
    with CaptureQueriesContext(connection) as queries:
        agency.save()

    assert not any("cooperation_activity" in query["sql"] for query in queries)
    assert activity_writes() == before
    assert list(search.activities(Activity.objects.all(), "coast patrols")) == [activity]
    assert list(search.activities(Activity.objects.all(), "old name")) == []


# Repairs


def test_search_installed_by_migrations():
    assert search.installed(connection)


def test_rebuild_search_command_repairs_search(records):
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER cooperation_activity_search_update")
            cursor.execute(
                "UPDATE cooperation_activity SET title = 'Lost harbour' WHERE id = %s",
                [records["ecole"].pk],
            )
        assert not search.installed(connection)
        assert not search.activities(Activity.objects.all(), "harbour").exists()

    call_command("rebuild_search", verbosity=0)

    assert search.installed(connection)
    if connection.vendor == "sqlite":
        assert list(search.activities(Activity.objects.all(), "harbour")) == [records["ecole"]]
    assert set(search.activities(Activity.objects.all(), "train guards")) == {
        records["train-guards"]
    }


@pytest.mark.skipif(connection.vendor != "sqlite", reason="only SQLite rebuilds tables")
def test_search_triggers_put_back_after_migrate():
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER cooperation_activity_search_insert")

    search.repair_after_migrate(using="default")

    assert search.installed(connection)
    activity = ActivityFactory(title="Harbour visit")
    assert list(search.activities(Activity.objects.all(), "harbour")) == [activity]


# Public pages


def page(client, name, **params):
    response = client.get(reverse(f"cooperation:{name}"), params)
    assert response.status_code == 200
    return response


def titles(response):
    return [activity.title for activity in response.context["page_obj"].object_list]


def test_activity_list_sorted_by_relevance_when_searching(client):
    ActivityFactory(
        title="Seminar",
        description="Includes a short training session.",
        start_date=datetime.date(2024, 1, 1),
    )
    ActivityFactory(
        title="Training for training officers",
        description="Training.",
        start_date=datetime.date(2019, 1, 1),
    )
    ActivityFactory(title="Unrelated", start_date=datetime.date(2025, 1, 1))

    searched = page(client, "activity-list", q="training")
    sorted_by_date = page(client, "activity-list", q="training", sort="-start")

    assert titles(searched) == ["Training for training officers", "Seminar"]
    assertContains(searched, "Sorted by relevance.")
    assert titles(sorted_by_date) == ["Seminar", "Training for training officers"]
    assertNotContains(sorted_by_date, "Sorted by relevance.")
    assertNotContains(page(client, "activity-list"), "Sorted by relevance.")


def test_activity_list_too_many_matches_keeps_date_order(client, monkeypatch):
    monkeypatch.setattr(filters, "RELEVANCE_LIMIT", 1)
    ActivityFactory(title="Seminar", description="training", start_date=datetime.date(2024, 1, 1))
    ActivityFactory(title="Training", start_date=datetime.date(2019, 1, 1))

    response = page(client, "activity-list", q="training")

    assert titles(response) == ["Seminar", "Training"]
    assertContains(response, "More than 1 matches: sorted by date, latest first.")
    assertNotContains(response, "Sorted by relevance.")


def test_activity_list_search_hides_drafts(client, records):
    ActivityFactory(title="Secret training", publication=Publication.DRAFT)

    response = page(client, "activity-list", q="training")

    assert set(titles(response)) == {"Training guards", "Reception conditions"}


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("activity-list", "iom training"),
        ("organisation-list", "iom"),
        ("agreement-list", "arrangement"),
    ],
)
def test_public_search_uses_no_substring_scan(client, name, query):
    with CaptureQueriesContext(connection) as queries:
        page(client, name, q=query)

    assert queries
    assert not [query["sql"] for query in queries if "LIKE" in query["sql"].upper()]


def test_activity_list_search_count_kept_until_a_record_is_saved(client):
    patrols = ActivityFactory(title="Coastal patrols")
    ActivityFactory(title="Coastal radar")

    def count():
        with CaptureQueriesContext(connection) as queries:
            found = client.get("/api/activities/", {"q": "coastal"}).json()["count"]
        return found, [query["sql"] for query in queries if "COUNT(" in query["sql"].upper()]

    first, counted = count()
    again, counted_again = count()
    # An editor's save of the text keeps the other totals, not what a search finds.
    patrols.title = "Inland patrols"
    patrols.save()
    edited, counted_edited = count()

    assert (first, again, edited) == (2, 2, 1)
    assert counted and not counted_again and counted_edited


@pytest.mark.parametrize("size", [1, 30])
def test_activity_list_search_query_count_pinned(client, django_assert_num_queries, size):
    for n in range(size):
        activity = ActivityFactory(title=f"Training {n}")
        ParticipationFactory(activity=activity)
        ParticipationFactory(activity=activity)

    # Whether the word is common (once: the count and the facets on PostgreSQL, which count
    # common words as they list them, find the answer in the cache), the count up to the
    # relevance limit, the ids, their scores, the page, participants, areas; the area,
    # country and region options; the eight facets counted under the search (on PostgreSQL
    # each runs in a savepoint with its own statement timeout: four queries each), which
    # organisations are public, the public areas, organisations, countries and regions, the
    # first and last start dates.
    with django_assert_num_queries(25 if connection.vendor == "sqlite" else 25 + 8 * 4):
        response = page(client, "activity-list", q="training")

    assert len(titles(response)) == min(size, 25)


# Admin


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("admin", "admin@example.org", "secret")
    client.force_login(user)
    return client


def test_admin_activity_search_uses_full_text_without_distinct(admin_client, records):
    url = reverse("admin:cooperation_activity_changelist")

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url, {"q": "iom return"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [records["return"]]
    # The date hierarchy's list of years is DISTINCT over one column; the rows are not.
    listed = [query["sql"] for query in queries if '"cooperation_activity"."title"' in query["sql"]]
    assert listed
    assert not [sql for sql in listed if "DISTINCT" in sql.upper()]
    assert not [query["sql"] for query in queries if "LIKE" in query["sql"].upper()]


def test_admin_activity_search_finds_exact_slug(admin_client, records):
    url = reverse("admin:cooperation_activity_changelist")

    response = admin_client.get(url, {"q": records["ecole"].slug})

    assert list(response.context["cl"].result_list) == [records["ecole"]]


def test_admin_organisation_search_and_autocomplete_use_index(admin_client, records):
    changelist = admin_client.get(
        reverse("admin:cooperation_organisation_changelist"), {"q": "organization mig"}
    )
    autocomplete = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "eas",
            "app_label": "cooperation",
            "model_name": "participation",
            "field_name": "organisation",
        },
    )

    assert [o.acronym for o in changelist.context["cl"].result_list] == ["IOM"]
    assert [result["text"] for result in autocomplete.json()["results"]] == [
        "European Asylum Support Office (EASO), International organisation"
    ]

"""The read-only API at /api/ and the lists' .json twins."""

import datetime
import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cooperation import api as api_module
from cooperation import exports
from cooperation.models import Activity, Publication, Role

from .factories import (
    ActivityFactory,
    AgreementFactory,
    AreaFactory,
    CitationFactory,
    OrganisationFactory,
    ParticipationFactory,
    PersonFactory,
    RegionFactory,
    SignatoryFactory,
    SourceFactory,
)
from .test_exports import NASTY, varied  # noqa: F401 (a fixture)
from .test_headers import inline_code, policy
from .test_paging import ORDERS, activities, small_count_limit  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

SOURCE_TEXT = (
    "The parties work together on training. Press: press@example.org, Tel.: +41 79 1234567"
)


def api(name, *args):
    return reverse(f"cooperation:api:{name}", args=args)


def get(client, url, expect=200, **params):
    response = client.get(url, params)
    assert response.status_code == expect, response.content.decode()[:2000]
    assert response["Content-Type"] == "application/json"
    return response.json()


@pytest.fixture
def world():
    """Two public organisations, a published agreement and activity citing a source, drafts."""
    iom = OrganisationFactory(name="International Organization for Migration", slug="iom")
    easo = OrganisationFactory(name="European Asylum Support Office", slug="easo")
    lonely = OrganisationFactory(name="Lonely Agency", slug="lonely")
    training = AreaFactory(name="Training", slug="training")
    region = RegionFactory(name="Sahel", slug="sahel")
    source = SourceFactory(
        title="Press release",
        text=SOURCE_TEXT,
        url="https://example.org/release",
        published_on=datetime.date(2019, 7, 22),
    )
    source.publishers.set([iom])
    agreement = AgreementFactory(title="Working Arrangement", parties=[iom, easo])
    person = PersonFactory(
        name="Nina Gregori", organisation=easo, telephone="+32 2 555 0100", email="nina@easo.eu"
    )
    SignatoryFactory(agreement=agreement, person=person, organisation=easo, title="Director")
    CitationFactory(source=source, agreement=agreement, quote="work together")
    activity = ActivityFactory(
        title="Joint training",
        start_date=datetime.date(2020, 3, 1),
        agreement=agreement,
        areas=[training],
        countries=["FR"],
        regions=[region],
    )
    ParticipationFactory(activity=activity, organisation=iom)
    ParticipationFactory(activity=activity, organisation=easo, role=Role.FUNDING)
    CitationFactory(source=source, activity=activity, quote="work together on training")
    draft_agreement = AgreementFactory(
        title="Secret draft agreement", parties=[iom, lonely], publication=Publication.DRAFT
    )
    draft = ActivityFactory(
        title="Secret draft activity", agreement=draft_agreement, publication=Publication.DRAFT
    )
    ParticipationFactory(activity=draft, organisation=lonely)
    return {
        "activity": activity,
        "draft": draft,
        "agreement": agreement,
        "draft_agreement": draft_agreement,
        "source": source,
    }


ENDPOINTS = ["activity", "agreement", "organisation", "area", "region", "source"]


@pytest.mark.parametrize("noun", ENDPOINTS)
def test_every_list_and_record_answers_json(client, world, noun):
    listed = get(client, api(f"{noun}-list"))

    assert listed["count"] == len(listed["results"]) > 0
    assert listed["count_is_exact"] is True
    for row in listed["results"]:
        record = get(client, row["api_url"])
        assert record == row
        if noun != "source":  # A source has no page of its own.
            assert client.get(row["html_url"]).status_code == 200


def test_root_links_every_list_the_schema_and_the_docs(client, world):
    root = get(client, api("root"))

    assert root["endpoints"] == {
        plural: f"http://testserver{api(f'{noun}-list')}"
        for plural, noun in [
            ("organisations", "organisation"),
            ("areas", "area"),
            ("regions", "region"),
            ("agreements", "agreement"),
            ("activities", "activity"),
            ("sources", "source"),
        ]
    }
    assert root["schema"] == f"http://testserver{api('schema')}"
    assert root["docs"] == f"http://testserver{api('docs')}"
    for url in [*root["endpoints"].values(), root["schema"]]:
        assert client.get(url).status_code == 200, url


def test_activity_has_its_links_page_and_evidence(client, world):
    activity = world["activity"]

    record = get(client, api("activity-detail", activity.pk))

    assert record["html_url"] == f"http://testserver/activities/{activity.pk}/"
    assert record["agreement"]["title"] == "Working Arrangement"
    assert [(p["organisation"]["slug"], p["role"]) for p in record["participants"]] == [
        ("easo", "funding"),
        ("iom", "implementing"),
    ]
    assert [area["slug"] for area in record["areas"]] == ["training"]
    assert record["countries"] == [{"code": "FR", "name": "France"}]
    assert [region["slug"] for region in record["regions"]] == ["sahel"]
    (citation,) = record["citations"]
    assert citation["quote"] == "work together on training"
    assert citation["source"]["title"] == "Press release"
    assert citation["source"]["published_on"] == "2019-07-22"
    assert citation["source"]["url"] == "https://example.org/release"
    assert [p["slug"] for p in citation["source"]["publishers"]] == ["iom"]


def test_drafts_are_absent(client, world):
    listed = get(client, api("activity-list"))
    agreements = get(client, api("agreement-list"))
    organisations = get(client, api("organisation-list"))

    assert [row["title"] for row in listed["results"]] == ["Joint training"]
    assert [row["title"] for row in agreements["results"]] == ["Working Arrangement"]
    assert "lonely" not in {row["slug"] for row in organisations["results"]}
    get(client, api("activity-detail", world["draft"].pk), expect=404)
    get(client, api("agreement-detail", world["draft_agreement"].pk), expect=404)
    get(client, api("organisation-detail", "lonely"), expect=404)


def test_draft_agreement_of_a_published_activity_is_not_named(client, world):
    activity = world["activity"]
    activity.agreement = world["draft_agreement"]
    activity.save()

    assert get(client, api("activity-detail", activity.pk))["agreement"] is None


def test_no_contact_details_nor_source_text(client, world):
    pages = [
        client.get(url).content.decode()
        for url in [
            api("agreement-detail", world["agreement"].pk),
            api("agreement-list"),
            api("source-list"),
            api("source-detail", world["source"].pk),
            api("activity-list"),
        ]
    ]

    signatory = get(client, api("agreement-detail", world["agreement"].pk))["signatories"]
    assert signatory == [
        {
            "name": "Nina Gregori",
            "title": "Director",
            "organisation": signatory[0]["organisation"] | {"slug": "easo"},
        }
    ]
    for page in pages:
        for private in ["555 0100", "nina@easo.eu", "press@example.org", SOURCE_TEXT]:
            assert private not in page


def test_sources_list_those_cited_on_public_records_without_text(client, world):
    uncited = SourceFactory(title="Never cited")
    draft_only = SourceFactory(title="Cited by a draft")
    CitationFactory(source=draft_only, activity=world["draft"])

    sources = get(client, api("source-list"))["results"]

    assert [source["title"] for source in sources] == ["Press release"]
    assert set(sources[0]) == {
        "id",
        "title",
        "publishers",
        "published_on",
        "city",
        "country",
        "url",
        "api_url",
    }
    get(client, api("source-detail", uncited.pk), expect=404)


@pytest.mark.parametrize(
    ("params", "titles"),
    [
        ({"organisation": "iom"}, ["Joint training"]),
        ({"organisation": "iom", "role": "funding"}, []),
        ({"organisation": "easo", "role": "funding"}, ["Joint training"]),
        ({"area": "training"}, ["Joint training"]),
        ({"country": "FR"}, ["Joint training"]),
        ({"status": "pipeline"}, []),
        ({"q": "joint"}, ["Joint training"]),
        ({"q": "nothing-like-it"}, []),
        ({"start_date_after": "2021-01-01"}, []),
    ],
)
def test_activity_filters_are_the_pages(client, world, params, titles):
    found = get(client, api("activity-list"), **params)

    assert [row["title"] for row in found["results"]] == titles
    assert found["count"] == len(titles)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"organisation": "nobody"}, "organisation", "No organisation matches “nobody”."),
        ({"area": "nowhere"}, "area", "Select a valid choice."),
        ({"status": "lost"}, "status", "Select a valid choice."),
        ({"start_date_after": "someday"}, "start_date_after", "Enter a valid date."),
        ({"sort": "colour"}, "sort", "Select a valid choice."),
        ({"q": "x" * 201}, "q", "at most 200 characters"),
        ({"after": "not-a-cursor"}, "after", "This page link is damaged."),
        ({"before": "W1tdLCAxXQ"}, "before", "This page link is damaged."),
    ],
)
def test_invalid_filters_are_400_with_a_message(client, world, params, field, message):
    errors = get(client, api("activity-list"), expect=400, **params)

    assert list(errors) == [field]
    assert message in errors[field][0]


def test_several_matching_organisations_are_named_in_plain_text(client, world):
    errors = get(client, api("activity-list"), expect=400, organisation="o")

    assert errors["organisation"][0].startswith("Several organisations match “o”: ")
    assert "<a" not in errors["organisation"][0]


def test_page_past_the_end_is_404(client, world):
    assert get(client, api("activity-list"), expect=404, page=2) == {"detail": "No such page."}
    get(client, api("activity-list"), expect=404, page="first")


def cursor_walk(client, url, rel):
    """The titles of each page from `url` following `rel` links, and the last page's url."""
    pages = []
    while True:
        found = get(client, url)
        pages.append([row["title"] for row in found["results"]])
        if not found[rel]:
            return pages, url
        url = found[rel]


@pytest.mark.parametrize("sort", ORDERS)
def test_pages_walk_every_row_once_in_order_forwards_and_back(
    client,
    small_count_limit,  # noqa: F811
    activities,  # noqa: F811
    sort,
):
    expected = [a.title for a in sorted(activities, key=ORDERS[sort])]

    forwards, last = cursor_walk(client, api("activity-list") + sort, "next")
    backwards, _ = cursor_walk(client, last, "previous")

    assert [title for page in forwards for title in page] == expected
    assert [len(page) for page in forwards] == [25, 25, 25, 15]
    assert "after=" in last  # Past the 50 rows counted, the pages go by cursor.
    assert [title for page in reversed(backwards) for title in page] == expected


def test_count_past_the_limit_is_bounded_and_links_follow_the_page(
    client,
    small_count_limit,  # noqa: F811
    activities,  # noqa: F811
):
    first = get(client, api("activity-list"), sort="title")
    second = get(client, first["next"])

    assert (first["count"], first["count_is_exact"]) == (50, False)
    assert first["next"] == "http://testserver/api/activities/?sort=title&page=2"
    assert (first["previous"], first["first"], first["last"]) == (None, None, None)
    assert second["previous"] == "http://testserver/api/activities/?sort=title&page=1"
    assert re.fullmatch(
        r"http://testserver/api/activities/\?sort=title&after=[\w-]+", second["next"]
    )


def test_exact_count_links_the_last_page(client, activities):  # noqa: F811
    first = get(client, api("activity-list"))

    assert (first["count"], first["count_is_exact"]) == (90, True)
    assert first["last"] == "http://testserver/api/activities/?page=4"
    assert (
        get(client, api("activity-list"), page="last")["results"]
        == get(client, first["last"])["results"]
    )


def test_search_is_ranked_as_on_the_page(client):
    ActivityFactory(title="Training of border guards", description="Training for guards.")
    ActivityFactory(title="Border work", description="Some training too.")

    found = get(client, api("activity-list"), q="training")
    page = client.get(reverse("cooperation:activity-list"), {"q": "training"})

    assert [row["title"] for row in found["results"]] == [
        activity.title for activity in page.context["object_list"]
    ]
    assert [row["title"] for row in found["results"]][0] == "Training of border guards"
    assert page.context["filter"].search_order == "relevance"


@pytest.mark.parametrize("noun", ["activity", "agreement", "organisation", "area", "region"])
def test_json_twin_is_the_api_list(client, world, noun):
    query = {"sort": "title"} if noun == "activity" else {}
    twin = get(client, reverse(f"cooperation:{noun}-list-json"), **query)

    assert twin == get(client, api(f"{noun}-list"), **query)


def test_json_twin_pages_stay_on_the_twin(client, small_count_limit, activities):  # noqa: F811
    twin = get(client, reverse("cooperation:activity-list-json"), area="")

    assert twin["next"] == "http://testserver/activities.json?area=&page=2"


def every_row(client, url, expect=200, **params):
    """The JSON of `page=all`, read whole from its pieces."""
    response = client.get(url, {**params, "page": "all"})
    assert response.status_code == expect
    assert response["Content-Type"] == "application/json"
    return json.loads(b"".join(response.streaming_content) if expect == 200 else response.content)


@pytest.mark.parametrize("sort", ORDERS)
def test_page_all_holds_the_rows_of_every_page_in_their_order(
    client,
    monkeypatch,
    small_count_limit,  # noqa: F811
    activities,  # noqa: F811
    sort,
):
    monkeypatch.setattr(api_module, "ALL_CHUNK", 20)  # Past the first chunk.
    pages, _ = cursor_walk(client, api("activity-list") + sort, "next")
    paged = [row for page in pages for row in page]
    query = dict(item.split("=") for item in sort.lstrip("?").split("&") if item)

    answer = every_row(client, api("activity-list"), **query)

    assert [row["title"] for row in answer["results"]] == paged
    assert [row["title"] for row in answer["results"]] == [
        a.title for a in sorted(activities, key=ORDERS[sort])
    ]
    # A page's count stops at 50 here; the whole list's counts what it holds, all 90 rows.
    assert (answer["count"], answer["count_is_exact"], answer["truncated"]) == (90, True, False)
    assert "everything" not in answer
    assert dict.fromkeys(["first", "previous", "next", "last"]).items() <= answer.items()


@pytest.mark.parametrize("noun", ["activity", "agreement", "organisation", "area", "region"])
def test_page_all_of_the_twin_is_the_first_page_whole(client, world, noun):
    """Every record the page shows, serialized alike; drafts no more than there."""
    twin = reverse(f"cooperation:{noun}-list-json")

    assert every_row(client, twin)["results"] == get(client, twin)["results"]


def test_page_all_is_filtered_and_ranked_as_the_list(client, world):
    ActivityFactory(title="Training of border guards", description="Training for guards.")
    ActivityFactory(title="Border work", description="Some training too.")
    twin = reverse("cooperation:activity-list-json")

    for query in [{"q": "training"}, {"area": "training"}, {"organisation": "iom"}]:
        assert every_row(client, twin, **query)["results"] == get(client, twin, **query)["results"]
    assert every_row(client, twin, area="training")["count"] == 1


def test_page_all_past_the_limit_says_so_and_where_the_rest_is(client, monkeypatch, world):
    monkeypatch.setattr(exports, "EXPORT_LIMIT", 2)
    monkeypatch.setattr(api_module, "ALL_CHUNK", 1)
    for _ in range(2):
        ActivityFactory(regions=[RegionFactory()])  # Public, as regions of a published one.

    listed = every_row(client, reverse("cooperation:activity-list-json"))
    regions = every_row(client, api("region-list"))

    assert len(listed["results"]) == listed["count"] == 2
    assert (listed["count_is_exact"], listed["truncated"]) == (False, True)
    assert listed["everything"] == "http://testserver/exports/activities.json"
    assert (len(regions["results"]), regions["truncated"]) == (2, True)
    assert regions["everything"] == "http://testserver/api/regions/"


def test_page_all_refuses_an_invalid_filter_with_its_message(client, world):
    answer = every_row(client, api("activity-list"), expect=400, start_date_after="notadate")

    assert answer == {"start_date_after": ["Enter a valid date."]}


@pytest.fixture
def varied_json(varied):  # noqa: F811
    """The activities of exports' tests, and texts and times that JSON writes its own way."""
    from cooperation.models import Organisation, Source

    both = Organisation.objects.filter(pk__in=varied[1].participations.values("organisation"))
    Source.objects.get(title="Dated").publishers.set(both)
    agreement = AgreementFactory(title=f"{NASTY} agreement\u2029")
    draft = AgreementFactory(publication=Publication.DRAFT)
    Activity.objects.filter(pk__in=[a.pk for a in varied[:4]]).update(agreement=agreement)
    Activity.objects.filter(pk=varied[4].pk).update(agreement=draft)
    odd = ActivityFactory(
        title='Line\u2028separated\u2029 \\ back/slash 🌍 \x7f "quoted"',
        description="</script>\n\t",
        start_date=datetime.date(1, 1, 1),
    )
    odd.areas.add(*varied[1].areas.all())
    whole_second = datetime.datetime(2024, 2, 29, 23, 59, 59, tzinfo=datetime.UTC)
    Activity.objects.filter(pk=odd.pk).update(published_at=whole_second)
    return [*varied, odd]


def every_row_bytes(client, **query):
    response = client.get(reverse("cooperation:activity-list-json"), {**query, "page": "all"})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def serialized_bytes(client, monkeypatch, **query):
    """The answer of `page=all` written by the API's serializer alone, as on SQLite."""
    with monkeypatch.context() as patched:
        patched.setattr(api_module.ActivityViewSet, "written", api_module.PublicViewSet.written)
        return every_row_bytes(client, **query)


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL writes the JSON of activities itself."
)


@postgresql_only
@pytest.mark.parametrize(
    "query", [{}, {"sort": "title"}, {"sort": "-start"}, {"q": "Jerry"}, {"area": 'a&"<'}]
)
def test_json_the_database_writes_is_the_serializers_byte_for_byte(
    client, monkeypatch, varied_json, query
):
    from cooperation import json_sql, kept
    from cooperation.models import KeptCells

    monkeypatch.setattr(json_sql, "CHUNK", 3)  # Several chunks, and groups within them.
    monkeypatch.setattr(json_sql, "GROUP", 2)
    serialized = serialized_bytes(client, monkeypatch, **query)

    assert not KeptCells.objects.exists()
    worked = every_row_bytes(client, **query)
    kept.keep()
    # Read as kept alone: the statement that works out stale records finds none.
    monkeypatch.setattr(json_sql, "worked_statement", lambda: "SELECT 1, '' WHERE false")
    from_kept = every_row_bytes(client, **query)

    assert worked == from_kept == serialized
    answer = json.loads(serialized)
    assert answer["count"] == len(answer["results"]) >= 2
    publishers = {
        len(citation["source"]["publishers"])
        for activity in answer["results"]
        for citation in activity["citations"]
    }
    assert 2 in publishers or "q" in query
    assert (b"\\u2028" in serialized) == ("q" not in query)


def remove_a_publisher(made):
    from cooperation.models import Source

    dated = Source.objects.get(title="Dated")
    dated.publishers.remove(dated.publishers.first())


def rename_an_organisation(made):
    organisation = made[1].participations.first().organisation
    organisation.name = "Renamed"
    organisation.save()


def clear_areas(made):
    made[1].areas.clear()


def cite_again(made):
    CitationFactory(activity=made[2], source=made[3].citations.first().source)


def unpublish_the_agreement(made):
    agreement = Activity.objects.get(pk=made[0].pk).agreement
    agreement.publication = Publication.DRAFT
    agreement.save()


def retitle_the_agreement(made):
    agreement = Activity.objects.get(pk=made[0].pk).agreement
    agreement.title = "Retitled"
    agreement.save()


def retitle(made):
    activity = Activity.objects.get(pk=made[3].pk)
    activity.title = "Retitled"
    activity.save()


@postgresql_only
@pytest.mark.parametrize(
    "edit",
    [
        remove_a_publisher,
        rename_an_organisation,
        clear_areas,
        cite_again,
        unpublish_the_agreement,
        retitle_the_agreement,
        retitle,
    ],
)
def test_json_the_database_writes_follows_edits_after_it_was_kept(
    client, monkeypatch, varied_json, edit
):
    from cooperation import json_sql, kept

    monkeypatch.setattr(json_sql, "CHUNK", 4)
    kept.keep()
    before = every_row_bytes(client)
    edit(varied_json)

    after = every_row_bytes(client)
    assert after != before
    assert after == serialized_bytes(client, monkeypatch)


@postgresql_only
def test_json_the_database_writes_leaves_out_what_is_no_longer_published(
    client, monkeypatch, varied_json
):
    """An activity unpublished, or deleted, after the list's ids were read is not written."""
    from cooperation import exports as exports_module
    from cooperation import json_sql

    listed_ids = exports_module.listed_ids

    def then_unpublish(rows, limit):
        ids, truncated = listed_ids(rows, limit)
        Activity.objects.filter(pk=ids[0]).update(publication=Publication.DRAFT)
        Activity.objects.filter(pk=ids[1]).delete()
        return ids, truncated

    monkeypatch.setattr(json_sql, "listed_ids", then_unpublish)
    answer = json.loads(every_row_bytes(client))

    assert answer["count"] == len(answer["results"]) == len(varied_json) - 2
    assert answer == json.loads(serialized_bytes(client, monkeypatch))


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("noun", ["activity", "organisation"])
def test_writes_are_refused(client, world, method, noun):
    key = world["activity"].pk if noun == "activity" else "iom"

    for url in [api(f"{noun}-list"), api(f"{noun}-detail", key)]:
        response = getattr(client, method)(
            url, {"title": "Changed"}, content_type="application/json"
        )
        assert response.status_code == 405, url

    assert Activity.objects.get(pk=world["activity"].pk).title == "Joint training"


#: Count, rows, and per page: participants, areas, agreements, countries, regions, citations
#: with their sources, and the sources' publishers.
LIST_QUERIES = 9


def test_list_costs_the_same_queries_whatever_its_rows(client, world, django_assert_num_queries):
    get(client, api("activity-list"))  # Public organisations now known (cached.py).
    with django_assert_num_queries(LIST_QUERIES):
        get(client, api("activity-list"))
    for _ in range(3):
        ActivityFactory(areas=[AreaFactory()], countries=["DE"], regions=[RegionFactory()])
    get(client, api("activity-list"))

    with django_assert_num_queries(LIST_QUERIES):
        assert get(client, api("activity-list"))["count"] == 4


@override_settings(API_THROTTLE_RATE="2/minute")
def test_throttle_limits_each_client_address(client, world):
    url = api("area-list")
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]

    other = client.get(url, REMOTE_ADDR="192.0.2.7")
    # A client that names another address is not believed without a proxy.
    claimed = client.get(url, HTTP_X_FORWARDED_FOR="192.0.2.8")

    assert other.status_code == 200
    assert claimed.status_code == 429
    assert "Retry-After" in claimed


@override_settings(API_THROTTLE_RATE="2/minute", TRUSTED_PROXY_COUNT=1)
def test_throttle_behind_a_proxy_counts_the_address_it_saw(client, world):
    url = api("area-list")

    def through_proxy(address):
        # The proxy appends the address it saw to whatever the client sent.
        return client.get(url, HTTP_X_FORWARDED_FOR=f"203.0.113.1, {address}").status_code

    assert [through_proxy("192.0.2.1") for _ in range(3)] == [200, 200, 429]
    assert through_proxy("192.0.2.2") == 200


def test_schema_is_openapi_3_with_every_endpoint(client):
    response = client.get(api("schema"), {"format": "json"})

    schema = response.json()
    assert response.status_code == 200
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {"/api/"} | {
        f"/api/{plural}/{key}"
        for plural, record in [
            ("activities", "{id}/"),
            ("agreements", "{id}/"),
            ("organisations", "{slug}/"),
            ("areas", "{slug}/"),
            ("regions", "{slug}/"),
            ("sources", "{id}/"),
        ]
        for key in ["", record]
    }
    assert {method for path in schema["paths"].values() for method in path} == {"get"}


def test_docs_page_runs_no_inline_code_and_loads_only_local_files(client):
    response = client.get(api("docs"))
    script = client.get(api("docs"), {"script": ""})

    page = response.content.decode()
    assert response.status_code == 200
    assert inline_code(page) == []
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert set(policy(response)["img-src"]) == {"'self'", "data:"}
    addresses = re.findall(r'(?:src|href)="([^"]+)"', page.replace("&amp;", "&"))
    assert len(addresses) == 6  # the icon, two stylesheets and three scripts
    for address in addresses:
        if address.startswith("/static/"):
            assert finders.find(address.removeprefix("/static/")), address
        else:
            assert address == "/api/docs/?script="
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/activities/?q=%00", 400),
        ("/activities.json?q=%00", 400),
        ("/api/areas/not%20a%20slug/", 404),
        ("/api/nothing-here/", 404),
    ],
)
def test_api_errors_before_any_view_answer_json(client, url, status):
    response = client.get(url)

    assert response.status_code == status
    assert set(response.json()) == {"detail"}


def test_page_errors_before_any_view_stay_pages(client):
    assert client.get("/activities/?q=%00").templates[0].name == "400.html"
    assert client.get("/no-such-page/").templates[0].name == "404.html"


def test_sources_number_kept_until_a_record_changes(client):
    activity = ActivityFactory()
    CitationFactory(activity=activity)
    url = reverse("cooperation:api:source-list")
    assert client.get(url).json()["count"] == 1
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).json()["count"] == 1
    assert not [query["sql"] for query in queries if "COUNT(" in query["sql"]]

    CitationFactory(activity=activity)  # A new source, cited on a published activity.

    assert client.get(url).json()["count"] == 2

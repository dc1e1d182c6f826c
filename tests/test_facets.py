import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from cooperation import facets, glossary
from cooperation.facets import Budget, OutOfTime
from cooperation.models import (
    Activity,
    ActivityStatus,
    AgreementKind,
    Area,
    AreaKind,
    OrganisationKind,
    Publication,
    Role,
)

from .factories import (
    ActivityFactory,
    AgreementFactory,
    AreaFactory,
    OrganisationFactory,
    ParticipationFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """
    Three published activities and a draft. IOM takes part in two of them, in one in two
    roles (two links, one activity); "training" covers two, "borders" one.
    """
    iom, easo = OrganisationFactory(slug="iom"), OrganisationFactory(slug="easo")
    training, borders = AreaFactory(slug="training"), AreaFactory(slug="borders")
    memorandum = AgreementFactory(kind=AgreementKind.MEMORANDUM, parties=[iom, easo])
    first = ActivityFactory(
        status=ActivityStatus.PIPELINE,
        start_date=datetime.date(2019, 3, 1),
        areas=[training],
        countries=["FR"],
        agreement=memorandum,
    )
    second = ActivityFactory(
        status=ActivityStatus.IMPLEMENTATION,
        start_date=datetime.date(2020, 5, 1),
        areas=[training, borders],
        countries=["FR", "DE"],
    )
    third = ActivityFactory(status=ActivityStatus.IMPLEMENTATION, areas=[borders])
    ActivityFactory(publication=Publication.DRAFT, areas=[training], countries=["FR"])
    for activity, organisation, role in [
        (first, iom, Role.FUNDING),
        (first, iom, Role.IMPLEMENTING),
        (first, easo, Role.IMPLEMENTING),
        (second, iom, Role.IMPLEMENTING),
        (second, easo, Role.FUNDING),
        (third, easo, Role.IMPLEMENTING),
    ]:
        ParticipationFactory(activity=activity, organisation=organisation, role=role)
    return {"first": first, "second": second, "third": third}


def facets_of(response):
    return {facet.name: facet for facet in response.context["facets"]}


def counts(facet):
    return {option.key: option.count for option in facet.everything}


def activities(client, **params):
    response = client.get(reverse("cooperation:activity-list"), params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response


def test_facets_count_published_activities_unfiltered(client, world):
    found = facets_of(activities(client))

    assert counts(found["status"]) == {"implementation": 2, "pipeline": 1}
    assert counts(found["area"]) == {"training": 2, "borders": 2}
    assert counts(found["country"]) == {"FR": 2, "DE": 1}
    assert counts(found["start_year"]) == {"2020": 1, "2019": 1}
    assert counts(found["agreement_kind"]) == {"memorandum": 1}
    assert all(facet.counted for facet in found.values())


def test_facet_counts_activities_not_links(client, world):
    found = facets_of(activities(client))

    # IOM has three participations in two activities.
    assert counts(found["organisation"]) == {"iom": 2, "easo": 3}
    assert counts(found["role"]) == {"implementing": 3, "funding": 2}


def test_facet_counts_follow_the_other_filters(client, world):
    found = facets_of(activities(client, area="training", status="implementation"))

    # The status facet ignores its own filter, keeps the area.
    assert counts(found["status"]) == {"implementation": 1, "pipeline": 1}
    # The area facet ignores the area, keeps the status.
    assert counts(found["area"]) == {"training": 1, "borders": 2}
    assert counts(found["country"]) == {"FR": 1, "DE": 1}


def test_role_facet_counts_the_chosen_organisation_roles(client, world):
    found = facets_of(activities(client, organisation="iom"))

    assert counts(found["role"]) == {"implementing": 2, "funding": 1}


def test_organisation_facet_counts_in_the_chosen_role(client, world):
    found = facets_of(activities(client, role="funding"))

    assert counts(found["organisation"]) == {"iom": 1, "easo": 1}


def test_unfiltered_counts_read_from_the_table_whatever_the_budget(client, world, settings):
    settings.FACET_TIME_LIMIT_MS = 0  # No time to count anything.
    with CaptureQueriesContext(connection) as queries:
        found = facets_of(activities(client))

    assert all(facet.counted for facet in found.values())
    assert counts(found["role"]) == {"implementing": 3, "funding": 2}
    assert not any("GROUP BY" in query["sql"] for query in queries)
    assert not any("COUNT(" in query["sql"].upper() for query in queries)


@pytest.fixture
def counted(monkeypatch):
    """Lists narrowed by facets' values count their facets, as others do."""
    monkeypatch.setattr(facets, "kept_counts", lambda *args: None)


def test_filtered_counts_past_their_limit_go_without_counts(client, world, settings, counted):
    settings.FACET_TIME_LIMIT_MS = 0
    found = facets_of(activities(client, status="implementation"))

    assert found["status"].counted  # Its own filter aside, the list is unfiltered.
    assert not found["area"].counted


def test_facet_links_add_and_remove_a_filter(client, world):
    found = facets_of(activities(client, area="training", page=1))
    training = next(option for option in found["area"].options if option.key == "training")
    status = next(option for option in found["status"].options if option.key == "pipeline")

    assert training.active
    assert training.url == "?"  # Removing the only filter; the page is dropped too.
    assert not status.active
    assert status.url == "?area=training&status=pipeline"
    assert [
        activity.pk
        for activity in activities(client, area="training", status="pipeline")
        .context["page_obj"]
        .object_list
    ] == [world["first"].pk]


def test_filtered_counts_kept_for_the_next_page(client, world):
    first = facets_of(activities(client, status="pipeline", area="training"))
    with CaptureQueriesContext(connection) as counting:
        activities(client, area="training", status="pipeline", sort="title")
    again = facets_of(activities(client, area="training", status="pipeline", sort="title"))

    assert not any("COUNT" in query["sql"] and "GROUP BY" in query["sql"] for query in counting)
    assert {name: counts(facet) for name, facet in again.items()} == {
        name: counts(facet) for name, facet in first.items()
    }


def test_year_facet_sets_both_dates(client, world):
    found = facets_of(activities(client))
    option = next(option for option in found["start_year"].options if option.key == "2019")

    assert option.url == "?start_date_after=2019-01-01&start_date_before=2019-12-31"
    chosen = facets_of(
        activities(client, start_date_after="2019-01-01", start_date_before="2019-12-31")
    )
    assert [option.key for option in chosen["start_year"].options if option.active] == ["2019"]


def test_long_facet_shows_the_top_and_links_to_all(client, world):
    for number in range(12):
        ActivityFactory(areas=[AreaFactory(slug=f"extra-{number:02}")])

    response = activities(client)
    area = facets_of(response)["area"]

    assert len(area.options) == 10
    assert area.all_url == "?_facet=area"
    assertContains(response, "All 14 area choices")
    assert len(facets_of(activities(client, _facet="area"))["area"].options) == 14


def test_facet_listed_whole_stops_at_its_limit(client, world, monkeypatch):
    monkeypatch.setattr(facets, "ALL_LIMIT", 1)

    response = activities(client, _facet="area")

    assert len(facets_of(response)["area"].options) == 1
    assertContains(response, "The first 1 of 2; type a name")


def test_facets_past_the_time_limit_list_options_without_counts(client, world, settings, counted):
    activities(client)  # Counts the whole list, kept in the cache.
    settings.FACET_TIME_LIMIT_MS = 0

    response = activities(client, area="training")
    found = facets_of(response)

    # The area facet ignores the only filter: its counts come from the cache, unfiltered.
    assert found["area"].counted
    assert not found["status"].counted
    assert {option.key for option in found["status"].options} == set(ActivityStatus.values)
    assert all(option.count is None for option in found["status"].options)
    assertContains(response, "Not counted: counting took too long.")


def out_of_time(*args):
    raise OutOfTime


def test_filtered_counts_past_the_limit_are_not_tried_again_by_each_page(
    client, world, monkeypatch, counted
):
    with monkeypatch.context() as slow:
        slow.setattr(facets.OrganisationField, "count", out_of_time)
        first = facets_of(activities(client, area="training"))
    # The counts of the list's own rows come first; the facets after the one out of time are
    # left to the next page.
    assert first["status"].counted
    assert first["start_year"].counted
    assert not first["organisation"].counted
    assert not first["role"].counted

    with CaptureQueriesContext(connection) as counting:
        again = facets_of(activities(client, area="training", sort="title"))
    # Not counted again, while the facets after it, never tried, are counted now.
    assert not again["organisation"].counted
    assert not [q for q in counting if 'AS "organisation", COUNT(' in q["sql"]]
    assert again["role"].counted
    assert again["country"].counted

    cache.clear()  # As when a record changes or the counts' minute is up.
    assert facets_of(activities(client, area="training"))["organisation"].counted


def test_a_count_of_the_lists_own_rows_out_of_time_leaves_every_count_for_later(
    client, world, settings, counted
):
    # The first count, given the whole budget, runs out of time: each of the others would
    # read the same rows and more, so none is tried by the next pages either.
    settings.FACET_TIME_LIMIT_MS = 0
    first = facets_of(activities(client, area="training"))
    settings.FACET_TIME_LIMIT_MS = 10_000
    with CaptureQueriesContext(connection) as counting:
        again = facets_of(activities(client, area="training", sort="title"))

    assert [name for name, facet in first.items() if facet.counted] == ["area"]
    assert [name for name, facet in again.items() if facet.counted] == ["area"]
    assert not [q["sql"] for q in counting if "GROUP BY" in q["sql"]]

    cache.clear()
    assert all(facet.counted for facet in facets_of(activities(client, area="training")).values())


def sleepy_count():
    """A count that runs for a second or two on either database."""
    if connection.vendor == "postgresql":
        sql = "SELECT pg_sleep(2)"
    else:
        sql = (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000000)"
            " SELECT COUNT(*) FROM n"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.mark.parametrize("milliseconds", [50])
def test_budget_stops_a_slow_count_and_the_request_goes_on(world, milliseconds):
    with transaction.atomic():
        with pytest.raises(OutOfTime):
            Budget(milliseconds).run(sleepy_count)
        # The request's transaction and connection still answer.
        assert Activity.objects.public().count() == 3
        assert Budget(1_000).run(lambda: Activity.objects.count()) == 4


def test_budget_restores_the_statement_timeout(world):
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]
    Budget(1_000).run(lambda: Activity.objects.count())
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before


def test_active_filters_summarised_with_remove_links(client, world):
    response = activities(client, area="training", organisation="iom", status="pipeline")
    summary = {active.label: active for active in response.context["active_filters"]}

    assert summary["Area"].value == Area.objects.get(slug="training").name
    assert summary["Organisation"].remove_url == "?area=training&status=pipeline"
    assert summary["Status"].value == "Pipeline or identification"
    assertContains(response, 'aria-label="Remove the filter Status: Pipeline or identification"')
    assertContains(response, '<details class="filter-panel" id="filters" open>')


def test_filter_panel_folded_without_filters(client, world):
    response = activities(client)

    assert response.context["active_filters"] == []
    assertContains(response, '<details class="filter-panel" id="filters">')
    content = response.content.decode()
    assert content.index('id="result-count"') < content.index('id="filters"')


def test_agreement_year_signed_facet(client, world):
    AgreementFactory(signed_on=datetime.date(2012, 1, 1), signed_on_precision="year")
    AgreementFactory(signed_on=datetime.date(2012, 12, 31))
    AgreementFactory(signed_on=None)
    url = reverse("cooperation:agreement-list")

    found = facets_of(client.get(url))
    # The seed agreement of the world was signed in 2019; a year-only date counts in its year.
    assert counts(found["signed_year"]) == {"2019": 1, "2012": 2}
    option = next(o for o in found["signed_year"].everything if o.key == "2012")
    assert option.url == "?signed_on_after=2012-01-01&signed_on_before=2012-12-31"

    response = client.get(url + option.url)
    assert response.context["result_count"] == 2
    found = facets_of(response)
    assert counts(found["kind"]) == {"working-arrangement": 2}
    assert [o.key for o in found["signed_year"].options if o.active] == ["2012"]


def test_agreement_list_facets(client, world):
    AgreementFactory(kind=AgreementKind.OTHER)
    response = client.get(reverse("cooperation:agreement-list"), {"kind": "other"})
    found = facets_of(response)

    assert counts(found["kind"]) == {"memorandum": 1, "other": 1}
    assert counts(found["party"]) == {}  # No other agreement has parties.
    assert response.context["charts"] == []


def test_invalid_filters_show_no_facets(client, world):
    response = client.get(reverse("cooperation:activity-list"), {"status": "nonsense"})

    assert response.status_code == 400
    assert response.context["facets"] == []


# Charts


def svg_of(response):
    return re.findall(r"<svg.*?</svg>", response.content.decode(), re.DOTALL)


@pytest.mark.parametrize("name", ["home", "activity-list"])
def test_charts_are_plain_svg_with_text_and_table(client, world, name):
    response = client.get(reverse(f"cooperation:{name}"))
    charts = svg_of(response)

    assert len(charts) == 2
    for svg in charts:
        assert "<title id=" in svg and "<desc id=" in svg and 'role="img"' in svg
        for forbidden in ["<style", "style=", "<script", 'href="http', "xlink:href", "<image"]:
            assert forbidden not in svg
    assertContains(response, "<caption", count=2)
    assertContains(response, "Activities by start year")
    assertContains(response, "Activities by area")


def test_activity_list_chart_follows_the_filters(client, world):
    response = activities(client, status="pipeline")
    years = next(chart for chart in response.context["charts"] if chart.slug == "chart-years")

    assert [(bar.label, bar.value) for bar in years.bars] == [("2019", 1)]


def test_home_chart_links_to_the_activity_list(client, world):
    response = client.get(reverse("cooperation:home"))
    areas = next(chart for chart in response.context["charts"] if chart.slug == "chart-areas")

    assert {bar.url for bar in areas.bars} == {
        "/activities/?area=training",
        "/activities/?area=borders",
    }


@pytest.mark.parametrize("name", ["home", "activity-list", "agreement-list", "glossary"])
def test_csp_header_unchanged(client, world, name):
    response = client.get(reverse(f"cooperation:{name}"))
    policy = response.headers["Content-Security-Policy"]

    assert "unsafe-inline" not in policy
    assert "default-src 'self'" in policy


# Glossary and error pages


def test_glossary_explains_every_code():
    anchors = {entry.anchor for section in glossary.sections() for entry in section.entries}

    for prefix, choices in [
        ("status", ActivityStatus),
        ("role", Role),
        ("organisation-kind", OrganisationKind),
        ("agreement-kind", AgreementKind),
        ("area-kind", AreaKind),
    ]:
        assert {f"{prefix}-{value}" for value in choices.values} <= anchors


def test_glossary_page_and_its_links(client, world):
    response = client.get(reverse("cooperation:glossary"))
    assertContains(response, 'id="status-pipeline"')
    assertContains(response, "Planned but not started")

    anchors = set(re.findall(r'id="([^"]+)"', response.content.decode()))
    listed = activities(client).content.decode()
    detail = client.get(world["first"].get_absolute_url()).content.decode()
    for page in [listed, detail]:
        linked = set(re.findall(r'href="/glossary/#([^"]+)"', page))
        assert linked
        assert linked <= anchors


def test_not_found_speaks_the_site_voice(client, world):
    response = client.get(reverse("cooperation:activity-detail", args=[999_999]))

    assertContains(response, "Page not found", status_code=404)
    assertContains(response, "No published activity has this address.", status_code=404)
    assertNotContains(response, "matching the query", status_code=404)
    assertNotContains(response, 'class="error"', status_code=404)


def test_bad_request_speaks_the_site_voice(client):
    response = client.get("/", headers={"host": "bad host"})

    assertContains(response, "Address not understood", status_code=400)
    assertNotContains(response, "Bad Request", status_code=400)

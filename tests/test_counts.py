"""
The facet counts of the unfiltered lists (cooperation/counts.py) stay what a fresh count
says after every kind of write.
"""

import datetime
import itertools

import pytest
import reversion
from django.core.cache import cache
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from reversion.models import Version

from cooperation import counts, facets
from cooperation.filters import ActivityFilter
from cooperation.models import (
    Activity,
    ActivityStatus,
    Agreement,
    AgreementKind,
    FacetCount,
    Participation,
    Publication,
    Role,
)

from .factories import (
    ActivityFactory,
    AgreementFactory,
    AreaFactory,
    OrganisationFactory,
    ParticipationFactory,
    RegionFactory,
)
from .test_imports import HEADER, confirm, editor, upload  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def kept():
    """The table as it is, rows of zero left out."""
    return {
        (row.list_name, row.facet, row.value): row.count
        for row in FacetCount.objects.all()
        if row.count
    }


def fresh():
    """The table as a whole recount makes it; the kept table is put back afterwards."""
    before = list(FacetCount.objects.all())
    counts.rebuild()
    result = kept()
    FacetCount.objects.all().delete()
    FacetCount.objects.bulk_create(before)
    return result


def counted_by_the_pages():
    """Each facet of both lists counted over the public rows as a filtered page counts it."""
    found = {}
    for list_name, make_fields, model in [
        ("activities", facets.activity_fields, Activity),
        ("agreements", facets.agreement_fields, Agreement),
    ]:
        for field in make_fields():
            found[list_name, field.name] = sorted(field.count(model.objects.public()))
    return found


def stored_as_the_pages_read_it():
    found = {}
    for list_name, make_fields in [
        ("activities", facets.activity_fields),
        ("agreements", facets.agreement_fields),
    ]:
        stored = counts.stored(list_name)
        for field in make_fields():
            found[list_name, field.name] = sorted(field.from_stored(stored.get(field.name, [])))
    return found


def narrowed_lists():
    """
    The activity list narrowed by each value of each facet: for each other facet, its
    counts as read from the table and as counted under the filter, as pages count them.
    """
    read, counted = {}, {}
    for field in facets.activity_fields():
        for key, _ in field.choices():
            query = QueryDict(mutable=True)
            query.update(field.setting(key))
            filterset = ActivityFilter(query, queryset=Activity.objects.public())
            assert filterset.is_valid()
            stored = counts.stored(counts.narrowed(field.name, field.stored_key(key)))
            for other in facets.activity_fields():
                if other.name == field.name:
                    continue
                if isinstance(other, facets.RoleField):
                    other.organisation = filterset.form.cleaned_data.get("organisation")
                if isinstance(other, facets.OrganisationField):
                    other.role = filterset.form.cleaned_data.get("role") or None
                rows = filterset.counted_without(other.parameters)
                name = (field.name, key, other.name)
                counted[name] = sorted(other.count(rows))
                read[name] = sorted(other.from_stored(stored.get(other.name, [])))
    return read, counted


def agreement_lists():
    """
    The activities of each agreement, published or not: their number and each facet's
    counts as read from the table and as counted over those activities.
    """
    read, counted = {}, {}
    for agreement in Agreement.objects.all():
        stored = counts.stored(counts.narrowed("agreement", agreement.pk))
        rows = Activity.objects.public().filter(agreement=agreement)
        read[agreement.pk, "all"] = dict(stored.get("all", [])).get("", 0)
        counted[agreement.pk, "all"] = rows.count()
        for field in facets.activity_fields():
            read[agreement.pk, field.name] = sorted(field.from_stored(stored.get(field.name, [])))
            counted[agreement.pk, field.name] = sorted(field.count(rows))
    return read, counted


def assert_exact():
    assert kept() == fresh()
    assert stored_as_the_pages_read_it() == counted_by_the_pages()
    read, counted = narrowed_lists()
    assert read == counted
    read, counted = agreement_lists()
    assert read == counted
    assert counts.totals().get("activities", 0) == Activity.objects.public().count()
    assert counts.totals().get("agreements", 0) == Agreement.objects.public().count()


@pytest.fixture
def world():
    iom, easo, unhcr = (OrganisationFactory(slug=slug) for slug in ["iom", "easo", "unhcr"])
    training, borders = AreaFactory(slug="training"), AreaFactory(slug="borders")
    sahel = RegionFactory(slug="sahel")
    agreement = AgreementFactory(kind=AgreementKind.MEMORANDUM, parties=[iom, easo])
    agreement.areas.add(training)
    first = ActivityFactory(
        status=ActivityStatus.PIPELINE,
        start_date=datetime.date(2019, 3, 1),
        areas=[training],
        countries=["FR"],
        regions=[sahel],
        agreement=agreement,
    )
    second = ActivityFactory(
        start_date=datetime.date(2020, 1, 1), areas=[training, borders], agreement=agreement
    )
    draft = ActivityFactory(publication=Publication.DRAFT, areas=[borders], countries=["DE"])
    for activity, organisation, role in [
        (first, iom, Role.FUNDING),
        (first, iom, Role.IMPLEMENTING),
        (first, easo, Role.IMPLEMENTING),
        (second, unhcr, Role.IMPLEMENTING),
        (draft, iom, Role.FUNDING),
    ]:
        ParticipationFactory(activity=activity, organisation=organisation, role=role)
    assert_exact()
    return locals()


def test_made_records_are_counted(world):
    assert kept()[("activities", "organisation", str(world["iom"].pk))] == 1  # Once, two roles.
    assert kept()[("activities", "area", str(world["training"].pk))] == 2
    assert kept()[("agreements", "kind", AgreementKind.MEMORANDUM)] == 1
    assert ("activities", "area", str(world["borders"].pk)) in kept()
    training, iom = str(world["training"].pk), str(world["iom"].pk)
    assert kept()[(f"activities:area={training}", "status", "pipeline")] == 1
    assert kept()[("activities:status=pipeline", "area", training)] == 1
    # An organisation's roles are those of its own participations, not its partners'.
    assert kept()[(f"activities:organisation={iom}", "role", "funding")] == 1
    easo = str(world["easo"].pk)
    assert (f"activities:organisation={easo}", "role", "funding") not in kept()
    assert kept()[("activities:role=funding", "organisation", iom)] == 1  # Not the draft's.
    assert ("activities:role=funding", "organisation", easo) not in kept()


def test_activity_saves(world):
    first = world["first"]
    first.status = ActivityStatus.CLOSED
    first.start_date = datetime.date(2012, 1, 1)
    first.start_date_precision = "year"
    first.agreement = None
    first.save()
    assert_exact()
    assert kept()[("activities", "start_year", "2012")] == 1

    first.agreement = world["agreement"]
    first.save(update_fields=["agreement"])
    assert_exact()


@pytest.mark.parametrize("model", ["activity", "agreement"])
def test_publish_and_return_to_draft(world, model):
    record = world["first"] if model == "activity" else world["agreement"]
    record.return_to_draft()
    assert_exact()
    record.publication = Publication.PUBLISHED
    record.save()
    assert_exact()
    draft = world["draft"]
    draft.publication = Publication.PUBLISHED
    draft.save()
    assert_exact()


def test_deletes(world):
    world["second"].delete()
    assert_exact()
    Activity.objects.filter(pk=world["first"].pk).delete()  # As the admin's delete action.
    assert_exact()
    world["agreement"].delete()
    assert_exact()
    world["borders"].delete()  # Its links go without a signal.
    assert_exact()


def test_link_changes_from_either_side(world):
    first, second, draft = world["first"], world["second"], world["draft"]
    training, borders, sahel = world["training"], world["borders"], world["sahel"]
    first.areas.add(borders)
    assert_exact()
    first.areas.remove(training)
    assert_exact()
    second.areas.clear()
    assert_exact()
    first.countries.set(["DE", "IT"])
    assert_exact()
    first.regions.clear()
    assert_exact()
    borders.activities.add(second, draft)
    assert_exact()
    borders.activities.remove(first)
    assert_exact()
    training.activities.clear()
    assert_exact()
    sahel.activities.set([second])
    assert_exact()


def test_participation_writes(world):
    first, second = world["first"], world["second"]
    iom, easo, unhcr = world["iom"], world["easo"], world["unhcr"]
    made = Participation.objects.create(activity=second, organisation=iom, role=Role.FUNDING)
    assert_exact()
    made.organisation = easo
    made.save()
    assert_exact()
    made.activity = first
    made.role = Role.EXTENDING
    made.save()
    assert_exact()
    made.delete()
    assert_exact()
    first.participations.filter(organisation=iom).delete()
    assert_exact()
    second.organisations.add(easo, through_defaults={"role": Role.ACCOUNTABLE})
    assert_exact()
    second.organisations.remove(unhcr)
    assert_exact()
    easo.activities.clear()
    assert_exact()


def test_agreement_writes(world):
    agreement, iom, unhcr = world["agreement"], world["iom"], world["unhcr"]
    agreement.kind = AgreementKind.OTHER
    agreement.signed_on = None
    agreement.save()
    assert_exact()
    agreement.parties.add(unhcr)
    agreement.parties.remove(iom)
    agreement.areas.clear()
    assert_exact()
    unhcr.agreements.clear()
    assert_exact()
    other = AgreementFactory(parties=[iom, unhcr])
    assert_exact()
    other.delete()
    assert_exact()


def test_organisation_deleted_with_its_party_links(world):
    lone = OrganisationFactory()
    world["agreement"].parties.add(lone)
    assert_exact()
    lone.delete()
    assert_exact()


def test_a_rolled_back_write_leaves_the_counts(world):
    before = kept()
    with pytest.raises(IntegrityError), transaction.atomic():
        world["first"].areas.add(world["borders"])
        Participation.objects.create(
            activity=world["first"], organisation=world["iom"], role=Role.FUNDING
        )  # Already there: refused.
    assert kept() == before
    assert_exact()


def test_revert_and_recover_versions(world):
    first = world["first"]
    with reversion.create_revision():
        first.save()
    with reversion.create_revision():
        first.status = ActivityStatus.CLOSED
        first.save()
        first.areas.set([world["borders"]])
    assert_exact()
    Version.objects.get_for_object(first).last().revert()  # Raw saves, then set().
    assert_exact()
    assert kept()[("activities", "status", ActivityStatus.PIPELINE)] == 1

    pk = first.pk
    first.delete()
    assert_exact()
    Version.objects.get_deleted(Activity).get(object_id=str(pk)).revert()
    assert_exact()


def test_import_preview_and_confirmation(editor, world):  # noqa: F811
    content = (
        HEADER
        + f"New,{world['second'].slug},closed,2011,,iom:implementing,borders,FR,draft\n"
        + "Added,added-by-import,pipeline,,,easo:funding,training,,draft\n"
    ).encode()
    preview = upload(editor, Activity, content)  # A dry run, rolled back.
    assert_exact()
    confirm(editor, Activity, preview)
    assert Activity.objects.get(slug=world["second"].slug).status == "closed"
    assert_exact()


def test_admin_publish_action(admin_client, world):
    response = admin_client.post(
        reverse("admin:cooperation_activity_changelist"),
        {"action": "return_to_draft", "_selected_action": [world["first"].pk]},
    )
    assert response.status_code == 302
    assert not Activity.objects.get(pk=world["first"].pk).is_published
    assert_exact()


def test_bulk_writes_are_counted_by_the_command(world, capsys):
    Activity.objects.filter(pk=world["draft"].pk).update(publication=Publication.PUBLISHED)
    assert kept() != fresh()  # update() sends no signal.

    call_command("rebuild_facet_counts")

    assert_exact()
    assert "3 published activities" in capsys.readouterr().out


def test_unfiltered_pages_read_the_table(client, world):
    FacetCount.objects.filter(facet="status").update(count=7)  # Not a real count: read back.
    cache.clear()  # As update() sends no signal to drop what the cache keeps.
    response = client.get(reverse("cooperation:activity-list"))
    found = {facet.name: facet for facet in response.context["facets"]}
    assert {o.key: o.count for o in found["status"].everything} == {
        "pipeline": 7,
        "implementation": 7,
    }
    assert response.context["result_count"] == 2
    home = client.get(reverse("cooperation:home"))
    assert home.context["activity_count"] == 2
    assert home.context["agreement_count"] == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"area": "training"}, 2),
        ({"area": "borders"}, 1),  # The draft is not counted.
        ({"organisation": "iom"}, 1),  # Once, in two roles.
        ({"status": "pipeline"}, 1),
        ({"role": "implementing"}, 2),
        ({"country": "FR"}, 1),
        ({"region": "sahel"}, 1),
        ({"start_date_after": "2020-01-01", "start_date_before": "2020-12-31"}, 1),
    ],
)
def test_list_narrowed_by_one_facet_value_reads_its_number_from_the_table(
    client, world, query, expected
):
    url = reverse("cooperation:activity-list")
    assert client.get(url, query).context["result_count"] == expected

    row = FacetCount.objects.filter(list_name="activities").exclude(facet="all")
    row.update(count=7)  # Not a real count: read back.
    cache.clear()
    assert client.get(url, query).context["result_count"] == 7


@pytest.mark.parametrize(
    "query",
    [
        {"area": "training"},
        {"organisation": "iom"},
        {"role": "implementing"},
        {"start_date_after": "2020-01-01", "start_date_before": "2020-12-31"},
    ],
)
def test_list_narrowed_by_one_facet_value_reads_its_other_facets_from_the_table(
    client, world, query
):
    url = reverse("cooperation:activity-list")
    with CaptureQueriesContext(connection) as queries:
        found = client.get(url, query).context["facets"]
    assert all(facet.counted for facet in found)
    assert not [q["sql"] for q in queries if "GROUP BY" in q["sql"]]

    FacetCount.objects.filter(list_name__startswith="activities:").update(count=7)
    cache.clear()  # As update() sends no signal to drop what the cache keeps.
    found = {facet.name: facet for facet in client.get(url, query).context["facets"]}
    (own,) = {
        field.name for field in facets.activity_fields() if set(query) <= set(field.parameters)
    }
    for name, facet in found.items():
        if name != own:
            assert {option.count for option in facet.options} <= {7}, name


def page_numbers(response):
    """The count of a list page and of each value of each of its facets."""
    found = {facet.name: facet for facet in response.context["facets"]}
    return response.context["result_count"], {
        name: {option.key: option.count for option in facet.everything}
        for name, facet in found.items()
    }


def counted_page(client, url, query, monkeypatch):
    """The numbers of a list page counted under its filters, none read from the table."""
    cache.clear()
    with monkeypatch.context() as patched:
        patched.setattr(facets, "known_total", lambda *args: None)
        patched.setattr(facets, "kept_counts", lambda *args: None)
        return page_numbers(client.get(url, query))


def test_list_narrowed_by_two_facet_values_reads_its_numbers_from_the_table(
    client, world, settings, monkeypatch
):
    settings.FACET_TIME_LIMIT_MS = 60_000  # Everything counted that is not read.
    url = reverse("cooperation:activity-list")
    # Each value that some published activity has, of each facet.
    values = [
        (field, key)
        for field in facets.activity_fields()
        for key, _ in field.from_stored(counts.stored("activities").get(field.name, []))
    ]
    asked = 0
    for (field, key), (other, other_key) in itertools.combinations(values, 2):
        if field.name == other.name:
            continue
        query = {**field.setting(key), **other.setting(other_key)}
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            read = page_numbers(client.get(url, query))
        # The list's own number is read; only facets under both filters are counted.
        totals = [q["sql"] for q in queries if "COUNT(" in q["sql"] and "GROUP BY" not in q["sql"]]
        assert not totals
        assert read == counted_page(client, url, query, monkeypatch), query
        asked += 1
    assert asked > 50


def test_agreement_list_reads_its_numbers_from_the_table(client, world, monkeypatch):
    url = reverse("cooperation:activity-list")
    query = {"agreement": world["agreement"].pk}
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        read = page_numbers(client.get(url, query))
    assert read[0] == 2
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"]]
    assert read == counted_page(client, url, query, monkeypatch)

    FacetCount.objects.filter(list_name__startswith="activities:agreement=").update(count=7)
    cache.clear()  # As update() sends no signal to drop what the cache keeps.
    count, found = page_numbers(client.get(url, query))
    assert count == 7
    assert {n for numbers in found.values() for n in numbers.values()} <= {7, 0}


@pytest.mark.parametrize(
    "query",
    [
        {"area": "training", "status": "pipeline", "region": "sahel"},  # Three filters.
        {"area": ["training", "borders"]},  # Two values of one facet.
        {"area": "training", "agreement": "Agreement"},  # An agreement and a facet.
        {"q": "training"},  # Not a facet.
        {"start_date_after": "2020-01-01"},  # Not a year.
    ],
)
def test_other_filters_are_counted(client, world, query):
    url = reverse("cooperation:activity-list")
    expected = client.get(url, query).context["result_count"]
    FacetCount.objects.exclude(facet="all").update(count=7)
    cache.clear()

    assert client.get(url, query).context["result_count"] == expected != 7


@pytest.mark.parametrize(
    ("name", "record", "stored"),
    [
        ("area-detail", "training", [("activities", "area"), ("agreements", "area")]),
        ("region-detail", "sahel", [("activities", "region")]),
        ("organisation-detail", "iom", [("activities", "organisation"), ("agreements", "party")]),
    ],
)
def test_record_pages_read_their_numbers_from_the_table(client, world, name, record, stored):
    url = reverse(f"cooperation:{name}", args=[world[record].slug])
    response = client.get(url)
    assert (
        response.context["activities"].count
        == Activity.objects.public()
        .filter(pk__in=[a.pk for a in response.context["activities"].rows])
        .count()
    )

    for list_name, facet in stored:
        FacetCount.objects.filter(
            list_name=list_name, facet=facet, value=str(world[record].pk)
        ).update(count=7)  # Not a real count: read back.
    cache.clear()
    response = client.get(url)

    for list_name, _ in stored:
        assert response.context[list_name].count == 7


def test_counts_kept_in_the_cache_follow_each_write(client, world):
    assert counts.stored("activities") == counts.read_stored("activities", "default")
    world["second"].areas.remove(world["borders"])

    assert counts.stored("activities") == counts.read_stored("activities", "default")
    found = {
        facet.name: facet
        for facet in client.get(reverse("cooperation:activity-list")).context["facets"]
    }
    assert {o.key: o.count for o in found["area"].everything} == {"training": 2}


@pytest.mark.parametrize(
    "query",
    [{}, {"area": "training"}, {"area": "training", "organisation": "iom"}, {"agreement": "1"}],
)
def test_json_twin_reads_its_number_from_the_table(client, world, query):
    if "agreement" in query:
        query = {"agreement": world["agreement"].pk}
    url = reverse("cooperation:activity-list-json")
    expected = client.get(reverse("cooperation:activity-list"), query).context["result_count"]
    assert client.get(url, query).json()["count"] == expected

    FacetCount.objects.update(count=7)  # Not a real count: read back.
    cache.clear()  # As update() sends no signal to drop what the cache keeps.
    assert client.get(url, query).json()["count"] == 7

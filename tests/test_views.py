import datetime
import re

import factory
import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django.views import defaults
from pytest_django.asserts import assertContains, assertNotContains

from config import settings as project_settings
from cooperation.filters import ActivityFilter, AgreementFilter, AreaFilter, OrganisationFilter
from cooperation.models import (
    ActivityStatus,
    AreaKind,
    Organisation,
    OrganisationKind,
    Publication,
    Role,
)

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

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


def page(client, name, *args, expect=200, **params):
    response = client.get(reverse(f"cooperation:{name}", args=args), params)
    assert response.status_code == expect, response.content.decode()[:2000]
    return response


def rows(response):
    return list(response.context["page_obj"].object_list)


def cite(source, **cited):
    return CitationFactory(source=source, quote="work together on training", **cited)


@pytest.fixture
def world():
    """One published record of each kind, all linked, each with a public citation."""
    union = OrganisationFactory(name="European Union", acronym="EU", slug="eu")
    easo = OrganisationFactory(
        name="European Asylum Support Office",
        acronym="EASO",
        slug="easo",
        kind=OrganisationKind.EU_AGENCY,
        parent=union,
        city="Valletta",
        country="MT",
        website="https://easo.example.org/",
        description="Supports asylum systems.",
    )
    iom = OrganisationFactory(name="International Organization for Migration", acronym="IOM")
    area = AreaFactory(name="Resettlement", description="Moving refugees to a third country.")
    region = RegionFactory(name="European neighbourhood")
    earlier = AgreementFactory(
        title="Exchange of letters 2012", signed_on=datetime.date(2012, 3, 1)
    )
    agreement = AgreementFactory(
        title="Working Arrangement",
        parties=[easo, iom],
        city="Paris",
        country="FR",
        summary="Cooperation on protection.",
        supersedes=earlier,
    )
    agreement.areas.set([area])
    SignatoryFactory(
        agreement=agreement, person=PersonFactory(name="Nina Gregori", organisation=easo)
    )
    activity = ActivityFactory(
        title="Joint training",
        description="Training for national authorities.",
        agreement=agreement,
        areas=[area],
        regions=[region],
        countries=["FR", "DE"],
        start_date=datetime.date(2020, 1, 15),
    )
    ParticipationFactory(activity=activity, organisation=easo, role=Role.FUNDING)
    ParticipationFactory(activity=activity, organisation=iom)
    source = SourceFactory(
        title="IOM press release",
        published_on=datetime.date(2019, 7, 22),
        city="Paris",
        country="FR",
    )
    source.publishers.set([iom])
    for record in [easo, area, agreement, activity]:
        cite(source, **{record._meta.model_name: record}, note=f"About {record}")
    return {
        "union": union,
        "easo": easo,
        "iom": iom,
        "area": area,
        "region": region,
        "earlier": earlier,
        "agreement": agreement,
        "activity": activity,
    }


def every_page(world):
    """Name and arguments of every public page."""
    return [
        ("home",),
        ("activity-list",),
        ("activity-detail", world["activity"].pk),
        ("organisation-list",),
        ("organisation-detail", world["easo"].slug),
        ("organisation-detail", world["iom"].slug),
        ("organisation-detail", world["union"].slug),
        ("area-list",),
        ("area-detail", world["area"].slug),
        ("agreement-list",),
        ("agreement-detail", world["agreement"].pk),
        ("agreement-detail", world["earlier"].pk),
    ]


# Every page renders


def test_home_shows_counts_and_latest_activities(client):
    ActivityFactory.create_batch(2, start_date=None)
    dated = [ActivityFactory(start_date=datetime.date(2020, month, 1)) for month in range(1, 6)]
    ActivityFactory(publication=Publication.DRAFT, start_date=datetime.date(2024, 1, 1))
    AgreementFactory()

    response = page(client, "home")

    assert response.context["activity_count"] == 7
    assert response.context["agreement_count"] == 1
    assert list(response.context["latest_activities"]) == dated[::-1]
    assertContains(response, "<strong>7</strong> activities", html=False)
    for name in ["activity-list", "organisation-list", "agreement-list", "area-list"]:
        assertContains(response, f'href="{reverse(f"cooperation:{name}")}"')
    assertContains(response, '<meta name="viewport"')


def test_activity_detail_shows_everything_public(client, world):
    response = page(client, "activity-detail", world["activity"].pk)

    for text in [
        "Joint training",
        "Training for national authorities.",
        "Implementation",
        "15 January 2020",
        "Resettlement",
        "European neighbourhood",
        "France",
        "Germany",
        "European Asylum Support Office</a> (EASO): funding",
        "International Organization for Migration</a> (IOM): implementing",
        f'<a href="{world["agreement"].get_absolute_url()}">Working Arrangement</a>',
        "<p>work together on training</p>",
        "About Joint training",
        "<cite>IOM press release</cite>",
        f'Published by <a href="{world["iom"].get_absolute_url()}">IOM</a>'
        " on 22 July 2019 in Paris, France.",
    ]:
        assertContains(response, text)
    assertContains(response, "<blockquote>")


def test_organisation_detail_shows_everything_public(client, world):
    child = OrganisationFactory(name="Asylum Support Team", parent=world["easo"])

    response = page(client, "organisation-detail", "easo")

    for text in [
        "European Asylum Support Office",
        "EU agency",
        "IATI organisation type 40",
        f'<a href="{world["union"].get_absolute_url()}">European Union</a>',
        child.short_name,
        "Valletta, Malta",
        "https://easo.example.org/",
        "Supports asylum systems.",
        "Working Arrangement",
        "Joint training",
        ": funding",
        "About European Asylum Support Office",
    ]:
        assertContains(response, text)
    assert list(response.context["partners"]) == [world["iom"]]


def test_organisation_detail_groups_roles_by_activity(client, world):
    ParticipationFactory(
        activity=world["activity"], organisation=world["easo"], role=Role.EXTENDING
    )

    response = page(client, "organisation-detail", "easo")

    assertContains(response, "Joint training</a>", count=1)
    assertContains(response, "extending, funding")


def test_area_detail_shows_everything_public(client, world):
    response = page(client, "area-detail", world["area"].slug)

    for text in [
        "Resettlement",
        "Moving refugees to a third country.",
        "Thematic",
        "Working Arrangement",
        "Joint training",
        "About Resettlement",
    ]:
        assertContains(response, text)


def test_agreement_detail_shows_everything_public(client, world):
    later = AgreementFactory(title="Renewed arrangement", supersedes=world["agreement"])

    response = page(client, "agreement-detail", world["agreement"].pk)

    for text in [
        "Working Arrangement",
        "Working arrangement",
        "22 July 2019, in Paris, France",
        "European Asylum Support Office",
        "International Organization for Migration",
        "Nina Gregori, Director, for",
        "Resettlement",
        "Cooperation on protection.",
        f'<a href="{world["earlier"].get_absolute_url()}">Exchange of letters 2012</a>',
        f'<a href="{later.get_absolute_url()}">Renewed arrangement</a>',
        "Joint training",
        "About Working Arrangement",
    ]:
        assertContains(response, text)


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("activity-list", "1 activity"),
        ("organisation-list", "3 organisations"),
        ("area-list", "1 area"),
        ("agreement-list", "2 agreements"),
    ],
)
def test_list_renders_labelled_form_and_total(client, world, name, heading):
    response = page(client, name)

    assertContains(response, heading)
    form = response.context["filter"].form
    for field in form:
        assertContains(response, f'<label for="{field.id_for_label}">')
    assertContains(response, '<button type="submit">')


def test_area_list_groups_by_kind(client):
    AreaFactory(name="Training", kind=AreaKind.CROSS_CUTTING)
    AreaFactory(name="Returns", kind=AreaKind.THEMATIC)

    response = page(client, "area-list")

    content = response.content.decode()
    assert content.index("<h3>Thematic</h3>") < content.index("Returns")
    assert content.index("Returns") < content.index("<h3>Cross-cutting</h3>")
    assert content.index("<h3>Cross-cutting</h3>") < content.index("Training</a>")


# Filters narrow the lists


@pytest.fixture
def activities():
    a = OrganisationFactory(slug="a")
    b = OrganisationFactory(slug="b")
    x = AreaFactory(slug="x")
    y = AreaFactory(slug="y")
    region = RegionFactory(slug="r")
    agreement = AgreementFactory()
    training = ActivityFactory(
        title="Training",
        description="Reception conditions",
        status=ActivityStatus.IMPLEMENTATION,
        agreement=agreement,
        areas=[x],
        regions=[region],
        countries=["FR"],
        start_date=datetime.date(2020, 1, 1),
    )
    ParticipationFactory(activity=training, organisation=a, role=Role.IMPLEMENTING)
    ParticipationFactory(activity=training, organisation=b, role=Role.FUNDING)
    returns = ActivityFactory(
        title="Returns",
        status=ActivityStatus.CLOSED,
        areas=[x, y],
        countries=["DE", "GB"],
        start_date=datetime.date(2018, 6, 1),
    )
    ParticipationFactory(activity=returns, organisation=a, role=Role.FUNDING)
    ParticipationFactory(activity=returns, organisation=a, role=Role.IMPLEMENTING)
    undated = ActivityFactory(title="Undated")
    ParticipationFactory(activity=undated, organisation=b, role=Role.IMPLEMENTING)
    draft = ActivityFactory(
        title="Draft", publication=Publication.DRAFT, areas=[x], countries=["BE", "FR"]
    )
    ParticipationFactory(activity=draft, organisation=a, role=Role.FUNDING)
    return {"agreement": agreement}


@pytest.mark.parametrize(
    ("params", "titles"),
    [
        ({}, ["Training", "Returns", "Undated"]),
        ({"q": "train"}, ["Training"]),
        ({"q": "RECEPTION"}, ["Training"]),
        ({"q": "nothing like it"}, []),
        ({"organisation": "a"}, ["Training", "Returns"]),
        ({"organisation": "b"}, ["Training", "Undated"]),
        ({"role": "funding"}, ["Training", "Returns"]),
        ({"role": "accountable"}, []),
        ({"organisation": "a", "role": "funding"}, ["Returns"]),
        ({"organisation": "b", "role": "implementing"}, ["Undated"]),
        ({"organisation": "b", "role": "funding"}, ["Training"]),
        ({"area": "x"}, ["Training", "Returns"]),
        ({"area": "y"}, ["Returns"]),
        ({"status": "closed"}, ["Returns"]),
        ({"country": "GB"}, ["Returns"]),
        ({"country": "FR"}, ["Training"]),
        ({"country": "DE"}, ["Returns"]),
        ({"region": "r"}, ["Training"]),
        ({"start_date_after": "2019-01-01"}, ["Training"]),
        ({"start_date_before": "2019-01-01"}, ["Returns"]),
        (
            {"start_date_after": "2018-06-01", "start_date_before": "2020-01-01"},
            ["Training", "Returns"],
        ),
        ({"organisation": "a", "area": "y", "status": "closed"}, ["Returns"]),
    ],
)
def test_activity_list_filters(client, activities, params, titles):
    response = page(client, "activity-list", **params)

    assert [activity.title for activity in rows(response)] == titles
    assert response.context["paginator"].count == len(titles)


def test_activity_list_country_choices_are_those_of_published_activities(client, activities):
    choices = page(client, "activity-list").context["filter"].form.fields["country"].choices

    assert [label for value, label in choices if value] == ["France", "Germany", "United Kingdom"]
    # Belgium is only on a draft: the public cannot filter by it.
    response = page(client, "activity-list", expect=400, country="BE")
    assert response.context["filter"].form.errors["country"][0].startswith("Select a valid choice")


def test_activity_list_filters_by_agreement(client, activities):
    response = page(client, "activity-list", agreement=activities["agreement"].pk)

    assert [activity.title for activity in rows(response)] == ["Training"]


@pytest.mark.parametrize(
    ("sort", "titles"),
    [
        ("", ["Training", "Returns", "Undated"]),
        ("-start", ["Training", "Returns", "Undated"]),
        ("start", ["Returns", "Training", "Undated"]),
        ("title", ["Returns", "Training", "Undated"]),
        ("-title", ["Undated", "Training", "Returns"]),
    ],
)
def test_activity_list_sorts(client, activities, sort, titles):
    response = page(client, "activity-list", sort=sort)

    assert [activity.title for activity in rows(response)] == titles


def test_activity_list_pagination_keeps_filters(client):
    matching = ActivityFactory.create_batch(30, title=factory.Sequence(lambda n: f"Match {n:02}"))
    ActivityFactory(title="Other")

    first = page(client, "activity-list", q="Match", sort="title")
    second = page(client, "activity-list", q="Match", sort="title", page=2)

    assert first.context["paginator"].count == 30
    assert len(rows(first)) == 25
    assertContains(first, 'href="?q=Match&amp;sort=title&amp;page=2"')
    assert len(rows(second)) == 5
    assert set(rows(first)) | set(rows(second)) == set(matching)
    assertContains(second, 'href="?q=Match&amp;sort=title&amp;page=1"')


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({}, ["Asylum Office", "Interior Ministry", "Migration Agency"]),
        ({"q": "migration"}, ["Migration Agency"]),
        ({"q": "IM"}, ["Interior Ministry"]),
        ({"kind": "national-authority"}, ["Interior Ministry"]),
        ({"kind": "eu-agency", "q": "office"}, ["Asylum Office"]),
    ],
)
def test_organisation_list_filters(client, params, names):
    OrganisationFactory(name="Asylum Office", acronym="AO", kind=OrganisationKind.EU_AGENCY)
    OrganisationFactory(
        name="Interior Ministry", acronym="IM", kind=OrganisationKind.NATIONAL_AUTHORITY
    )
    OrganisationFactory(name="Migration Agency", acronym="MA")

    response = page(client, "organisation-list", **params)

    assert [organisation.name for organisation in rows(response)] == names


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({}, ["Returns", "Training"]),
        ({"q": "train"}, ["Training"]),
        ({"q": "voluntary"}, ["Returns"]),
        ({"kind": "cross-cutting"}, ["Training"]),
        ({"kind": "thematic"}, ["Returns"]),
    ],
)
def test_area_list_filters(client, params, names):
    AreaFactory(name="Returns", description="Assisted voluntary return")
    AreaFactory(name="Training", kind=AreaKind.CROSS_CUTTING)

    response = page(client, "area-list", **params)

    assert [area.name for area in rows(response)] == names


@pytest.mark.parametrize(
    ("params", "titles"),
    [
        ({}, ["Memorandum", "Arrangement"]),
        ({"q": "arrange"}, ["Arrangement"]),
        ({"q": "RESETTLEMENT"}, ["Memorandum"]),
        ({"kind": "memorandum"}, ["Memorandum"]),
        ({"party": "a"}, ["Memorandum", "Arrangement"]),
        ({"party": "b"}, ["Arrangement"]),
        ({"area": "x"}, ["Memorandum"]),
        ({"party": "b", "area": "x"}, []),
    ],
)
def test_agreement_list_filters(client, params, titles):
    a = OrganisationFactory(slug="a")
    b = OrganisationFactory(slug="b")
    AgreementFactory(title="Arrangement", parties=[a, b], signed_on=datetime.date(2019, 1, 1))
    memorandum = AgreementFactory(
        title="Memorandum",
        kind="memorandum",
        parties=[a],
        summary="On resettlement.",
        signed_on=datetime.date(2021, 1, 1),
    )
    memorandum.areas.set([AreaFactory(slug="x"), AreaFactory()])

    response = page(client, "agreement-list", **params)

    assert [agreement.title for agreement in rows(response)] == titles


def test_activity_list_many_participations_no_duplicates(client):
    organisation = OrganisationFactory(slug="a")
    activity = ActivityFactory(
        areas=AreaFactory.create_batch(2), regions=RegionFactory.create_batch(2)
    )
    for role in Role:
        ParticipationFactory(activity=activity, organisation=organisation, role=role)

    response = page(client, "activity-list", organisation="a", area=activity.areas.first().slug)

    assert rows(response) == [activity]
    assert response.context["paginator"].count == 1


def test_organisation_partners_of_uses_published_activities_and_agreements(world):
    by_agreement = OrganisationFactory(name="By agreement")
    by_activity = OrganisationFactory(name="By activity")
    by_draft = OrganisationFactory(name="By draft")
    unrelated = OrganisationFactory(name="Unrelated")
    AgreementFactory(parties=[world["easo"], by_agreement])
    ParticipationFactory(activity=world["activity"], organisation=by_activity)
    draft = ActivityFactory(publication=Publication.DRAFT)
    ParticipationFactory(activity=draft, organisation=world["easo"])
    ParticipationFactory(activity=draft, organisation=by_draft)
    ParticipationFactory(activity=ActivityFactory(), organisation=unrelated)

    partners = list(Organisation.objects.partners_of(world["easo"]))

    assert partners == [by_activity, by_agreement, world["iom"]]


# Bad input: a message, a 4xx status, nothing reflected raw


LISTS = ["activity-list", "organisation-list", "area-list", "agreement-list"]


def list_parameters():
    filters = [ActivityFilter, OrganisationFilter, AreaFilter, AgreementFilter]
    return [
        (name, parameter)
        for name, filterset in zip(LISTS, filters, strict=True)
        for parameter in filterset().form.fields
    ]


@pytest.mark.parametrize(("name", "parameter"), list_parameters())
@pytest.mark.parametrize("value", ["\x00", "<script>alert(1)</script>", "x" * 201, HUGE, "-1"])
def test_list_bad_parameter_answers_400_with_message(client, world, name, parameter, value):
    response = client.get(reverse(f"cooperation:{name}"), {parameter: value, "page": "1"})

    if parameter == "q" and value in {"<script>alert(1)</script>", HUGE, "-1"}:
        assert response.status_code == 200  # A search for odd text is a fair question.
        assert rows(response) == []
    else:
        assert response.status_code == 400
        assertContains(response, "Correct the fields marked below", status_code=400)
        assertContains(response, 'class="errorlist"', status_code=400)
    if value == "\x00":
        assertContains(response, "Null characters are not allowed.", status_code=400)
    assert b"<script>" not in response.content
    assert b"\x00" not in response.content


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start_date_after": "2020-13-45"}, "Enter a valid date."),
        ({"start_date_before": "yesterday"}, "Enter a valid date."),
        ({"role": "chair"}, "Select a valid choice. chair is not one of the available choices."),
        ({"status": "done"}, "Select a valid choice."),
        ({"country": "XX"}, "Select a valid choice."),
        ({"sort": "budget"}, "Select a valid choice."),
        ({"organisation": "nobody"}, "Select a valid choice."),
        ({"area": "nowhere"}, "Select a valid choice."),
        ({"region": "nowhere"}, "Select a valid choice."),
        ({"agreement": "abc"}, "Select a valid choice."),
        ({"agreement": "0"}, "Select a valid choice."),
        ({"agreement": HUGE}, "Select a valid choice."),
        ({"q": "x" * 201}, "Ensure this value has at most 200 characters (it has 201)."),
        ({"q": "a\x00b"}, "Null characters are not allowed."),
        ({"organisation": "a\x00b"}, "Null characters are not allowed."),
        ({"start_date_after": "2020-01-01\x00"}, "Null characters are not allowed."),
    ],
)
def test_activity_list_bad_filter_shows_message_and_keeps_input(client, world, params, message):
    response = page(client, "activity-list", expect=400, **{"role": "funding", **params})

    assertContains(response, message, status_code=400)
    assert rows(response) == []
    if "role" not in params:
        assertContains(response, '<option value="funding" selected>', status_code=400)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("organisation-list", {"kind": "planet"}),
        ("area-list", {"kind": "<b>cross-cutting</b>"}),
        ("agreement-list", {"party": "<script>"}),
        ("agreement-list", {"area": "nowhere"}),
    ],
)
def test_list_bad_filter_keeps_other_input(client, name, params):
    response = page(client, name, expect=400, q="keep me", **params)

    assertContains(response, 'value="keep me"', status_code=400)
    assertContains(response, "Select a valid choice.", status_code=400)


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("abc", "nor can it be converted to an int"),
        ("0", "That page number is less than 1"),
        ("-1", "That page number is less than 1"),
        ("2", "That page contains no results"),
        (HUGE, "That page contains no results"),
        ("\x00", "nor can it be converted to an int"),
        ("<script>alert(1)</script>", "nor can it be converted to an int"),
        ("1.5", "nor can it be converted to an int"),
    ],
)
def test_list_bad_page_answers_404_with_message(client, world, name, number, message):
    response = page(client, name, expect=404, page=number)

    assertContains(response, message, status_code=404)
    assert b"<script>" not in response.content


@pytest.mark.parametrize("name", LISTS)
def test_list_last_page_by_name(client, world, name):
    page(client, name, page="last")


def test_page_not_found_escapes_message(client):
    response = client.get("/activities/<script>alert(1)</script>/")

    assertContains(response, "Not found", status_code=404)
    assertNotContains(response, "Resolver404", status_code=404)
    assert b"<script>" not in response.content


@pytest.mark.parametrize(
    ("name", "argument"),
    [
        ("activity-detail", 0),
        ("activity-detail", HUGE),
        ("organisation-detail", "nobody"),
        ("area-detail", "nowhere"),
        ("agreement-detail", 0),
        ("agreement-detail", HUGE),
    ],
)
def test_detail_unknown_answers_404(client, world, name, argument):
    response = page(client, name, argument, expect=404)

    assertContains(response, "found matching the query", status_code=404)


def test_activity_detail_draft_answers_404(client):
    draft = ActivityFactory(publication=Publication.DRAFT)

    page(client, "activity-detail", draft.pk, expect=404)


def test_bad_request_page(client):
    response = client.get("/", headers={"host": "evil.example"})

    assertContains(response, "Bad request", status_code=400)


def test_server_error_page():
    response = defaults.server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert b"Server error" in response.content


# What is never public


def test_drafts_absent_from_every_page(client, world):
    draft = ActivityFactory(
        title="Secret draft activity",
        publication=Publication.DRAFT,
        agreement=world["agreement"],
        areas=[world["area"]],
        start_date=datetime.date(2030, 1, 1),
    )
    hidden_partner = OrganisationFactory(name="Only a draft partner")
    for organisation in [world["easo"], world["iom"], hidden_partner]:
        ParticipationFactory(activity=draft, organisation=organisation)
    CitationFactory(source=SourceFactory(title="Draft evidence"), activity=draft)

    pages = [*every_page(world), ("activity-list", {"q": "Secret"})]
    for name, *args in pages:
        params = args.pop() if args and isinstance(args[-1], dict) else {}
        response = page(client, name, *args, **params)
        assertNotContains(response, "Secret draft activity")
        assertNotContains(response, "Draft evidence")
    home = page(client, "home")
    assert home.context["activity_count"] == 1
    for organisation in [world["easo"], world["iom"]]:
        response = page(client, "organisation-detail", organisation.slug)
        assertNotContains(response, "Only a draft partner")
        assert hidden_partner not in response.context["partners"]
    page(client, "activity-detail", draft.pk, expect=404)


def test_staff_only_data_absent_from_every_page(client, world):
    person = PersonFactory(
        name="Joel Millman",
        organisation=world["iom"],
        telephone="+41 79 103 8720",
        email="jmillman@iom.example",
    )
    SignatoryFactory(agreement=world["agreement"], person=person)
    source = SourceFactory(
        text="Partnership has grown. Contact Joel Millman, press@easo.example, Tel. +41 79 103 8720"
    )
    source.publishers.set([world["easo"]])
    CitationFactory(source=source, quote="Partnership has grown", activity=world["activity"])
    CitationFactory(source=source, quote="Contact Joel Millman", person=person)

    for name, *args in every_page(world):
        response = page(client, name, *args)
        for secret in ["103 8720", "jmillman@", "press@easo", "Contact Joel Millman"]:
            assertNotContains(response, secret)
    assertContains(page(client, "agreement-detail", world["agreement"].pk), "Joel Millman")
    assertContains(page(client, "activity-detail", world["activity"].pk), "Partnership has grown")


# Query counts do not grow with the rows shown


def populate(size):
    """`size` rows of every kind, each tied to one hub organisation, area and agreement."""
    union = OrganisationFactory(slug="union")
    hub = OrganisationFactory(slug="hub", parent=union)
    hub_area = AreaFactory(slug="hub")
    hub_agreement = AgreementFactory(slug="hub", parties=[hub])
    hub_agreement.areas.set([hub_area])
    source = SourceFactory()
    source.publishers.set([union, hub])
    for record in [hub, hub_area, hub_agreement]:
        cite(source, **{record._meta.model_name: record})
    activities = []
    for _ in range(size):
        partner = OrganisationFactory(parent=union)
        area = AreaFactory()
        region = RegionFactory()
        agreement = AgreementFactory(parties=[hub, partner], supersedes=hub_agreement)
        agreement.areas.set([hub_area, area])
        hub_agreement.parties.add(partner)
        SignatoryFactory(agreement=hub_agreement, person=PersonFactory(organisation=partner))
        activity = ActivityFactory(
            agreement=hub_agreement,
            areas=[hub_area, area],
            regions=[region],
            countries=["FR", "DE"],
            start_date=datetime.date(2020, 1, 1),
        )
        ParticipationFactory(activity=activity, organisation=hub)
        ParticipationFactory(activity=activity, organisation=partner, role=Role.FUNDING)
        activities.append(activity)
        source = SourceFactory()
        source.publishers.set([union, partner])
        for record in [hub, hub_area, hub_agreement, activities[0]]:
            cite(source, **{record._meta.model_name: record})
    ActivityFactory(publication=Publication.DRAFT, agreement=hub_agreement, areas=[hub_area])
    return {"activity": activities[0], "agreement": hub_agreement}


QUERIES = [
    # Four counts, the activities, their participants and their areas.
    ("home", 7),
    # Count, page, participants, areas; the organisation, area, agreement, country and
    # region options.
    ("activity-list", 9),
    # Activity with agreement, participants, areas, countries, regions, citations with
    # sources, publishers.
    ("activity-detail", 7),
    # Count, page with parents.
    ("organisation-list", 2),
    # Organisation with parent, children, agreements, participations, citations,
    # publishers, partners.
    ("organisation-detail", 7),
    # Count, page.
    ("area-list", 2),
    # Area, agreements, activities, their participants and areas, citations, publishers.
    ("area-detail", 7),
    # Count, page, parties; the party and area options.
    ("agreement-list", 5),
    # Agreement with the one it supersedes, those superseding it, parties, signatories,
    # areas, activities, their participants and areas, citations, publishers.
    ("agreement-detail", 10),
]


@pytest.mark.parametrize("size", [1, 30])
@pytest.mark.parametrize(("name", "queries"), QUERIES)
def test_page_query_count_pinned(client, django_assert_num_queries, size, name, queries):
    records = populate(size)
    args = {
        "activity-detail": [records["activity"].pk],
        "organisation-detail": ["hub"],
        "area-detail": ["hub"],
        "agreement-detail": [records["agreement"].pk],
    }.get(name, [])

    with django_assert_num_queries(queries):
        response = page(client, name, *args)

    assertContains(response, "<h1>")


# Static files


def test_stylesheet_served_with_debug_off(client, settings, tmp_path):
    """
    As in production: `collectstatic` with the project's own storage (hashed, compressed
    names unless DJANGO_DEBUG is set), then WhiteNoise, reading STATIC_ROOT once at start,
    serves it with DEBUG off.
    """
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = project_settings.STORAGES
    settings.WHITENOISE_AUTOREFRESH = False
    call_command("collectstatic", interactive=False, verbosity=0)
    assert not settings.DEBUG

    home = page(client, "home")
    href = re.search(r'<link rel="stylesheet" href="([^"]+)">', home.content.decode())[1]
    for url in [href, "/static/cooperation/site.css"]:
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/css")
        assert b":focus-visible" in b"".join(response.streaming_content)
        response.close()

import datetime
import html
import re
from urllib.parse import urlencode

import factory
import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.views import defaults
from pytest_django.asserts import assertContains, assertNotContains

from config import settings as project_settings
from cooperation import models, paging
from cooperation.filters import (
    ActivityFilter,
    AgreementFilter,
    AreaFilter,
    OrganisationFilter,
    RegionFilter,
)
from cooperation.models import (
    ORGANISATION_DEPTH,
    Activity,
    ActivityStatus,
    Agreement,
    AreaKind,
    Organisation,
    OrganisationKind,
    Publication,
    Role,
)
from cooperation.views import LATEST_ON_RECORD, NO_SUCH_PAGE, PARTNERS_SHOWN

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


def public_organisation(**fields):
    """An organisation made public by its part in a published activity."""
    organisation = OrganisationFactory(**fields)
    ParticipationFactory(organisation=organisation)
    return organisation


def public_area(**fields):
    """An area made public by a published activity in it."""
    area = AreaFactory(**fields)
    ActivityFactory(areas=[area])
    return area


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
        ("region-list",),
        ("region-detail", world["region"].slug),
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
    child = public_organisation(name="Asylum Support Team", parent=world["easo"])
    OrganisationFactory(name="Drafting Unit", parent=world["easo"])

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
    assertNotContains(response, "Drafting Unit")
    assert response.context["partners"].rows == [world["iom"]]


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
    public_area(name="Training", kind=AreaKind.CROSS_CUTTING)
    public_area(name="Returns", kind=AreaKind.THEMATIC)

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
    public_organisation(name="Asylum Office", acronym="AO", kind=OrganisationKind.EU_AGENCY)
    public_organisation(
        name="Interior Ministry", acronym="IM", kind=OrganisationKind.NATIONAL_AUTHORITY
    )
    public_organisation(name="Migration Agency", acronym="MA")
    OrganisationFactory(name="Migration Office", acronym="MO", kind=OrganisationKind.EU_AGENCY)

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
    public_area(name="Returns", description="Assisted voluntary return")
    public_area(name="Training", kind=AreaKind.CROSS_CUTTING)
    AreaFactory(name="Trainers", description="Voluntary", kind=AreaKind.CROSS_CUTTING)

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


@pytest.mark.parametrize("few_links", [1, 5_000], ids=["probed", "read outwards"])
def test_organisation_partners_of_uses_published_activities_and_agreements(
    world, monkeypatch, few_links
):
    monkeypatch.setattr(models, "FEW_LINKS", few_links)
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


LISTS = ["activity-list", "organisation-list", "area-list", "region-list", "agreement-list"]


def list_parameters():
    filters = [ActivityFilter, OrganisationFilter, AreaFilter, RegionFilter, AgreementFilter]
    return [
        (name, parameter)
        for name, filterset in zip(LISTS, filters, strict=True)
        for parameter in filterset().form.fields
    ]


@pytest.mark.parametrize(("name", "parameter"), list_parameters())
@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "x" * 201, HUGE, "-1"])
def test_list_bad_parameter_answers_400_with_message(client, world, name, parameter, value):
    response = client.get(reverse(f"cooperation:{name}"), {parameter: value, "page": "1"})

    if parameter == "q" and value in {"<script>alert(1)</script>", HUGE, "-1"}:
        assert response.status_code == 200  # A search for odd text is a fair question.
        assert rows(response) == []
    else:
        assert response.status_code == 400
        assertContains(response, "Correct the fields marked below", status_code=400)
        assertContains(response, 'class="errorlist"', status_code=400)
    assert b"<script>" not in response.content


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start_date_after": "2020-13-45"}, "Enter a valid date."),
        ({"start_date_before": "yesterday"}, "Enter a valid date."),
        ({"role": "chair"}, "Select a valid choice. chair is not one of the available choices."),
        ({"status": "done"}, "Select a valid choice."),
        ({"country": "XX"}, "Select a valid choice."),
        ({"sort": "budget"}, "Select a valid choice."),
        ({"organisation": "nobody"}, "No organisation matches “nobody”."),
        ({"area": "nowhere"}, "Select a valid choice."),
        ({"region": "nowhere"}, "Select a valid choice."),
        ({"agreement": "abc"}, "No agreement matches “abc”."),
        ({"agreement": "0"}, "No agreement has the number 0."),
        ({"agreement": HUGE}, f"No agreement has the number {HUGE}."),
        ({"q": "x" * 201}, "Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_activity_list_bad_filter_shows_message_and_keeps_input(client, world, params, message):
    response = page(client, "activity-list", expect=400, **{"role": "funding", **params})

    assertContains(response, message, status_code=400)
    assert rows(response) == []
    if "role" not in params:
        assertContains(response, '<option value="funding" selected>', status_code=400)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("organisation-list", {"kind": "planet"}, "Select a valid choice."),
        ("organisation-list", {"partner": "nobody"}, "No organisation matches “nobody”."),
        ("area-list", {"kind": "<b>cross-cutting</b>"}, "Select a valid choice."),
        ("agreement-list", {"party": "<script>"}, "No organisation matches “&lt;script&gt;”."),
        ("agreement-list", {"area": "nowhere"}, "Select a valid choice."),
    ],
)
def test_list_bad_filter_keeps_other_input(client, name, params, message):
    response = page(client, name, expect=400, q="keep me", **params)

    assertContains(response, 'value="keep me"', status_code=400)
    assertContains(response, message, status_code=400)


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize(
    "number", ["abc", "0", "-1", "2", HUGE, "<script>alert(1)</script>", "1.5"]
)
def test_list_bad_page_answers_404_with_message(client, world, name, number):
    response = page(client, name, expect=404, page=number)

    assertContains(response, html.escape(NO_SUCH_PAGE), status_code=404)
    for djangos in ["Invalid page", "converted to an int", "less than 1", "no results"]:
        assert djangos.encode() not in response.content
    assert b"<script>" not in response.content


@pytest.mark.parametrize("name", LISTS)
def test_list_last_page_by_name(client, world, name):
    page(client, name, page="last")


def test_page_not_found_escapes_message(client):
    response = client.get("/activities/<script>alert(1)</script>/")

    assertContains(response, "Page not found", status_code=404)
    assertNotContains(response, "Resolver404", status_code=404)
    assert b"<script>" not in response.content


@pytest.mark.parametrize(
    ("name", "argument"),
    [
        ("activity-detail", 0),
        ("activity-detail", HUGE),
        ("organisation-detail", "nobody"),
        ("area-detail", "nowhere"),
        ("region-detail", "nowhere"),
        ("agreement-detail", 0),
        ("agreement-detail", HUGE),
    ],
)
def test_detail_unknown_answers_404(client, world, name, argument):
    response = page(client, name, argument, expect=404)

    assertContains(response, "Page not found", status_code=404)
    assertContains(response, "has this address", status_code=404)
    assertNotContains(response, "matching the query", status_code=404)


def test_activity_detail_draft_answers_404(client):
    draft = ActivityFactory(publication=Publication.DRAFT)

    page(client, "activity-detail", draft.pk, expect=404)


def test_bad_request_page(client):
    response = client.get("/", headers={"host": "evil.example"})

    assertContains(response, "Address not understood", status_code=400)


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
        assert hidden_partner not in response.context["partners"].rows
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


# Public only when a published record refers to it


def options(response, name):
    """The labels of the rendered <select name=`name`>, without its empty choice."""
    select = re.search(rf'<select name="{name}".*?</select>', response.content.decode(), re.S)
    assert select, f"no <select name={name!r}>"
    return re.findall(r'<option value="[^"]+"[^>]*>([^<]*)</option>', select[0])


def publish(record):
    record.publication = Publication.PUBLISHED
    record.save()


@pytest.fixture
def drafts(world):
    """
    Beside the published world, a draft agreement and a draft activity, each the only record
    that refers to its own organisation and area (the activity also to a region). A published
    activity falls under the draft agreement, which EASO is party to and covers Resettlement.
    """
    party = OrganisationFactory(name="Party Pending", slug="party-pending")
    participant = OrganisationFactory(name="Participant Pending", slug="participant-pending")
    agreement_area = AreaFactory(name="Border Management", slug="border-management")
    activity_area = AreaFactory(name="Child Protection", slug="child-protection")
    region = RegionFactory(name="Sahel Region", slug="sahel")
    agreement = AgreementFactory(
        title="Unsigned Memorandum",
        publication=Publication.DRAFT,
        parties=[world["easo"], party],
    )
    agreement.areas.set([agreement_area, world["area"]])
    activity = ActivityFactory(
        title="Pilot Workshop",
        publication=Publication.DRAFT,
        areas=[activity_area],
        regions=[region],
    )
    for organisation in [world["easo"], participant]:
        ParticipationFactory(activity=activity, organisation=organisation)
    under_draft = ActivityFactory(title="Published under a draft", agreement=agreement)
    for organisation in [world["easo"], world["iom"]]:
        ParticipationFactory(activity=under_draft, organisation=organisation)
    return {
        "organisation-by-agreement": (party, agreement),
        "organisation-by-activity": (participant, activity),
        "area-by-agreement": (agreement_area, agreement),
        "area-by-activity": (activity_area, activity),
        "region": (region, activity),
        "agreement": (agreement, agreement),
        "activity": (activity, activity),
        "under_draft": under_draft,
    }


# What shows a record of each kind: its list, the filters offering it, its home count.
SHOWN_IN = {
    "organisation": (
        "organisation-list",
        [
            ("activity-list", "organisation"),
            ("agreement-list", "party"),
            ("organisation-list", "partner"),
        ],
        "organisation_count",
    ),
    "area": ("area-list", [("activity-list", "area"), ("agreement-list", "area")], "area_count"),
    "region": ("region-list", [("activity-list", "region")], None),
    "agreement": ("agreement-list", [("activity-list", "agreement")], "agreement_count"),
    "activity": ("activity-list", [], "activity_count"),
}
# The filters that take a record typed by name; the others are <select>s.
TYPED = {
    ("activity-list", "organisation"),
    ("activity-list", "agreement"),
    ("agreement-list", "party"),
    ("organisation-list", "partner"),
}


def offered(client, list_name, parameter, name):
    """Whether a filter offers the record called `name`: in its <select>, or typed in."""
    if (list_name, parameter) in TYPED:
        response = client.get(reverse(f"cooperation:{list_name}"), {parameter: name})
        assert response.status_code in (200, 400)
        return response.status_code == 200
    return name in options(page(client, list_name), parameter)


def shown_publicly(client, world, drafts, record):
    """Where `record` shows on the public pages, anonymously: the answers, in one dict."""
    model = type(record)
    name = str(record)
    list_name, selects, count = SHOWN_IN[model._meta.model_name]
    pages = [*every_page(world), ("activity-detail", drafts["under_draft"].pk)]
    easo = page(client, "organisation-detail", "easo")
    return {
        "public": model.objects.public().filter(pk=record.pk).exists(),
        "page": (
            client.get(record.get_absolute_url()).status_code
            if hasattr(record, "get_absolute_url")
            else None
        ),
        "listed": bool(list_name) and name in [str(row) for row in rows(page(client, list_name))],
        "offered": [offered(client, url, parameter, name) for url, parameter in selects],
        "count": count and page(client, "home").context[count],
        "partner": record in easo.context["partners"].rows,
        "named on pages": [
            (page_name, *args)
            for page_name, *args in pages
            if name in page(client, page_name, *args).content.decode()
        ],
    }


@pytest.mark.parametrize(
    "kind",
    [
        "organisation-by-agreement",
        "organisation-by-activity",
        "area-by-agreement",
        "area-by-activity",
        "region",
        "agreement",
        "activity",
    ],
)
def test_record_only_a_draft_refers_to_is_hidden_until_published(client, world, drafts, kind):
    record, draft = drafts[kind]
    organisation = kind.startswith("organisation")
    has_page = hasattr(record, "get_absolute_url")
    _, selects, count = SHOWN_IN[type(record)._meta.model_name]

    hidden = shown_publicly(client, world, drafts, record)
    publish(draft)
    shown = shown_publicly(client, world, drafts, record)

    assert hidden["public"] is False
    assert hidden["page"] == (404 if has_page else None)
    assert not hidden["listed"]
    assert hidden["offered"] == [False] * len(selects)
    assert hidden["partner"] is False
    assert hidden["named on pages"] == []
    assert shown["public"] is True
    assert shown["page"] == (200 if has_page else None)
    assert shown["listed"] is True
    assert shown["offered"] == [True] * len(selects)
    if count:
        assert shown["count"] == hidden["count"] + 1
    assert shown["partner"] is organisation
    if kind == "agreement":
        # Its title on the pages of the activity under it, a party and an area it covers.
        assert {
            ("activity-detail", drafts["under_draft"].pk),
            ("organisation-detail", "easo"),
            ("area-detail", world["area"].slug),
        } <= set(shown["named on pages"])


def test_draft_agreement_absent_from_published_activity_page(client, drafts):
    response = page(client, "activity-detail", drafts["under_draft"].pk)

    assert response.context["activity"].public_agreement is None
    assertContains(response, "<dt>Agreement</dt>\n    <dd>None recorded</dd>", html=False)
    assertNotContains(response, "Unsigned Memorandum")


def test_parent_and_grandparent_of_public_organisation_are_public(client):
    grandparent = OrganisationFactory(name="Grandparent Union", slug="grandparent")
    parent = OrganisationFactory(name="Parent Agency", slug="parent", parent=grandparent)
    child = OrganisationFactory(name="Child Office", slug="child", parent=parent)
    activity = ActivityFactory(publication=Publication.DRAFT)
    ParticipationFactory(activity=activity, organisation=child)

    for organisation in [grandparent, parent, child]:
        page(client, "organisation-detail", organisation.slug, expect=404)
    assert rows(page(client, "organisation-list")) == []
    publish(activity)

    assert rows(page(client, "organisation-list")) == [child, grandparent, parent]
    assertContains(
        page(client, "organisation-detail", "child"),
        f'<a href="{parent.get_absolute_url()}">Parent Agency</a>',
    )
    assertContains(
        page(client, "organisation-detail", "parent"),
        f'<a href="{child.get_absolute_url()}">Child Office</a>',
    )
    assertContains(
        page(client, "organisation-detail", "grandparent"),
        f'<a href="{parent.get_absolute_url()}">Parent Agency</a>',
    )


def test_ancestor_beyond_depth_not_named_by_its_public_child(client):
    chain = [ParticipationFactory(organisation__name="Leaf Office").organisation]
    for depth in range(1, ORGANISATION_DEPTH + 2):
        chain.append(OrganisationFactory(name=f"Level {depth} Body", acronym=f"L{depth}"))
        chain[-2].parent = chain[-1]
        chain[-2].save()
    top, beyond = chain[ORGANISATION_DEPTH], chain[ORGANISATION_DEPTH + 1]

    top_page = page(client, "organisation-detail", top.slug)
    listed = page(client, "organisation-list")

    page(client, "organisation-detail", beyond.slug, expect=404)
    assertNotContains(top_page, beyond.name)
    assertNotContains(top_page, "Part of")
    assert rows(listed) == sorted(chain[:-1], key=lambda organisation: organisation.name)
    assertNotContains(listed, f"part of {beyond.short_name}")
    assertContains(listed, f"part of {top.short_name}")


def test_publisher_of_source_cited_on_published_activity_is_public(client, world):
    publisher = OrganisationFactory(name="Press Office", slug="press")
    activity = ActivityFactory(title="Reported", publication=Publication.DRAFT)
    source = SourceFactory(title="Annual report")
    source.publishers.set([publisher])
    cite(source, activity=activity)

    page(client, "organisation-detail", "press", expect=404)
    assertNotContains(page(client, "organisation-list"), "Press Office")
    assertContains(
        page(client, "activity-list", organisation="Press Office", expect=400),
        "No organisation matches “Press Office”.",
        status_code=400,
    )
    publish(activity)

    page(client, "organisation-detail", "press")
    assertContains(page(client, "organisation-list"), "Press Office")
    page(client, "activity-list", organisation="Press Office")
    assertContains(
        page(client, "activity-detail", activity.pk),
        f'Published by <a href="{publisher.get_absolute_url()}">Press Office</a>',
    )


def test_citations_name_public_publishers_only(client, world):
    # The union is public as EASO's parent only; a source cited on it does not make its
    # publishers public (only a record public in its own right does), so the page omits it.
    unknown = OrganisationFactory(name="Unknown Publisher")
    source = SourceFactory(title="Union yearbook")
    source.publishers.set([unknown, world["iom"]])
    cite(source, organisation=world["union"])

    response = page(client, "organisation-detail", "eu")

    assertContains(response, "<cite>Union yearbook</cite>")
    assertContains(response, f'Published by <a href="{world["iom"].get_absolute_url()}">IOM</a>')
    assertNotContains(response, "Unknown Publisher")
    page(client, "organisation-detail", unknown.slug, expect=404)


def test_agreement_shows_only_signatories_for_its_parties(client, world):
    stray = OrganisationFactory(name="Stray Signer Body")
    # Bypasses Signatory.clean(), as a party removed after publication would.
    SignatoryFactory(
        agreement=world["agreement"], person=PersonFactory(name="Sam Stray", organisation=stray)
    )

    response = page(client, "agreement-detail", world["agreement"].pk)

    assertContains(response, "Nina Gregori, Director, for")
    assertNotContains(response, "Sam Stray")
    assertNotContains(response, "Stray Signer Body")


# Staff preview drafts under a banner

BANNER = "Draft: not public."


def log_in(client, django_user_model, *permissions, is_staff=True):
    user = django_user_model.objects.create_user("editor", is_staff=is_staff)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="cooperation", codename__in=permissions)
    )
    client.force_login(user)
    return user


@pytest.fixture
def unpublished(world):
    """
    A draft activity and agreement, and an organisation and a region only the activity
    refers to.
    """
    agreement = AgreementFactory(title="Draft deal", publication=Publication.DRAFT)
    region = RegionFactory(name="Draft region", slug="draft-region")
    activity = ActivityFactory(title="Draft work", publication=Publication.DRAFT, regions=[region])
    organisation = OrganisationFactory(name="Draft partner", slug="draft-partner")
    ParticipationFactory(activity=activity, organisation=organisation)
    return {
        "activity": ("activity-detail", activity.pk, "Draft work"),
        "agreement": ("agreement-detail", agreement.pk, "Draft deal"),
        "organisation": ("organisation-detail", "draft-partner", "Draft partner"),
        "region": ("region-detail", "draft-region", "Draft region"),
    }


@pytest.mark.parametrize("model", ["activity", "agreement", "organisation", "region"])
def test_staff_preview_draft_with_banner(client, django_user_model, unpublished, model):
    name, key, title = unpublished[model]

    page(client, name, key, expect=404)
    log_in(client, django_user_model, f"view_{model}")
    response = page(client, name, key)

    assert response.context["draft"] is True
    assertContains(response, f"<h1>{title}")
    assertContains(response, BANNER)


@pytest.mark.parametrize("model", ["activity", "agreement", "organisation", "area", "region"])
def test_staff_see_published_page_without_banner(client, django_user_model, world, model):
    record = world["easo" if model == "organisation" else model]
    log_in(client, django_user_model, f"view_{model}")

    response = client.get(record.get_absolute_url())

    assert response.status_code == 200
    assert response.context["draft"] is False
    assertNotContains(response, BANNER)


@pytest.mark.parametrize(
    ("model", "permissions", "is_staff"),
    [
        ("activity", [], True),
        ("activity", ["view_agreement", "change_organisation"], True),
        ("agreement", ["view_activity"], True),
        ("organisation", ["view_activity", "view_agreement"], True),
        ("region", ["view_activity", "view_area"], True),
        ("activity", ["view_activity"], False),
    ],
)
def test_preview_needs_staff_and_view_permission(
    client, django_user_model, unpublished, model, permissions, is_staff
):
    name, key, _ = unpublished[model]
    log_in(client, django_user_model, *permissions, is_staff=is_staff)

    page(client, name, key, expect=404)


def test_admin_view_on_site_opens_draft_preview(client, django_user_model, unpublished):
    activity = Activity.objects.get(title="Draft work")
    log_in(client, django_user_model, "view_activity")
    content_type = ContentType.objects.get_for_model(Activity)

    response = client.get(reverse("admin:view_on_site", args=[content_type.pk, activity.pk]))

    assert response.status_code == 302
    assert response["Location"].endswith(activity.get_absolute_url())
    assertContains(client.get(activity.get_absolute_url()), BANNER)


# Query counts do not grow with the rows shown


def populate(size):
    """`size` rows of every kind, each tied to one hub organisation, area and agreement."""
    union = OrganisationFactory(slug="union")
    hub = OrganisationFactory(slug="hub", parent=union)
    hub_area = AreaFactory(slug="hub")
    hub_region = RegionFactory(slug="hub")
    hub_agreement = AgreementFactory(slug="hub", parties=[hub])
    hub_agreement.areas.set([hub_area])
    source = SourceFactory()
    source.publishers.set([union, hub])
    for record in [hub, hub_area, hub_region, hub_agreement]:
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
            regions=[hub_region, region],
            countries=["FR", "DE"],
            start_date=datetime.date(2020, 1, 1),
        )
        ParticipationFactory(activity=activity, organisation=hub)
        ParticipationFactory(activity=activity, organisation=partner, role=Role.FUNDING)
        activities.append(activity)
        source = SourceFactory()
        source.publishers.set([union, partner])
        for record in [hub, hub_area, hub_region, hub_agreement, activities[0]]:
            cite(source, **{record._meta.model_name: record})
    ActivityFactory(
        publication=Publication.DRAFT,
        agreement=hub_agreement,
        areas=[hub_area],
        regions=[hub_region],
    )
    return {"activity": activities[0], "agreement": hub_agreement}


QUERIES = [
    # With a cold cache: a page that names organisations first reads which are public, once
    # until a record changes (cached.py), then filters by their ids.
    # Which organisations are public (their number too), the count of areas, the totals of
    # activities and agreements (counts.py), the activities, their participants and their
    # areas; for the charts, the unfiltered counts (counts.py), the public areas, the first
    # and last start dates.
    ("home", 10),
    # The total (counts.py), page, participants, areas; the area, country and region
    # options; the facets unfiltered: the counts (counts.py), the public areas,
    # organisations, countries and regions, the first and last start dates.
    ("activity-list", 15),
    # Activity with agreement, participants, areas, countries, regions, citations with
    # sources, publishers.
    ("activity-detail", 8),
    # Count, page with parents and whether each parent is public.
    ("organisation-list", 3),
    # Organisation with parent, children, former names, citations, publishers; how many
    # activities and agreements it has links to (models.linked); the latest activities, its
    # roles in them, their number (counts.py); the latest agreements, their number
    # (counts.py); partners, their count (from the partner pairs).
    ("organisation-detail", 15),
    # Count, page.
    ("area-list", 2),
    # Area, citations, publishers; how many activities and agreements it has links to; the
    # latest agreements, their number (counts.py); the latest activities, their participants
    # and areas, their number (counts.py).
    ("area-detail", 12),
    # Count, page.
    ("region-list", 2),
    # Region, citations, publishers; how many activities it has links to; the latest
    # activities, their participants and areas, their count.
    ("region-detail", 9),
    # Which organisations are public, the total (counts.py), page, parties; the area
    # options; the facets unfiltered: the counts (counts.py), the public organisations and
    # areas, the first and last dates signed.
    ("agreement-list", 10),
    # Agreement with the one it supersedes, those superseding it, parties, signatories,
    # areas, citations, publishers; the latest activities, their participants and areas,
    # their count.
    ("agreement-detail", 12),
]


def populated_args(records, name):
    return {
        "activity-detail": [records["activity"].pk],
        "organisation-detail": ["hub"],
        "area-detail": ["hub"],
        "region-detail": ["hub"],
        "agreement-detail": [records["agreement"].pk],
    }.get(name, [])


@pytest.mark.parametrize("size", [1, 30])
@pytest.mark.parametrize(("name", "queries"), QUERIES)
def test_page_query_count_pinned(client, django_assert_num_queries, size, name, queries):
    records = populate(size)

    # No page here is filtered: none counts its facets, on PostgreSQL or SQLite (counts.py).
    with django_assert_num_queries(queries):
        response = page(client, name, *populated_args(records, name))

    assertContains(response, "<h1>")


# For staff, a record's page also reads the session, the user, the user's and the groups'
# permissions, and whether the record is public.
PREVIEW_QUERIES = 5


@pytest.mark.parametrize("size", [1, 30])
@pytest.mark.parametrize(
    ("name", "queries"), [(name, queries) for name, queries in QUERIES if name.endswith("-detail")]
)
def test_staff_page_query_count_pinned(
    client, django_user_model, django_assert_num_queries, size, name, queries
):
    records = populate(size)
    model = name.removesuffix("-detail")
    log_in(client, django_user_model, f"view_{model}")

    with django_assert_num_queries(queries + PREVIEW_QUERIES):
        response = page(client, name, *populated_args(records, name))

    assert response.context["draft"] is False


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


# Record pages show the latest few related rows, their count, and a link to all of them


def dated_activities(count, **fields):
    """`count` published activities starting a month apart from January 2000, oldest first."""
    return [
        ActivityFactory(start_date=datetime.date(2000 + n // 12, n % 12 + 1, 1), **fields)
        for n in range(count)
    ]


def hub(kind):
    """A record of `kind` whose page lists activities, and the query of its activity list."""
    if kind == "organisation":
        return OrganisationFactory(slug="hub"), {"organisation": "hub"}
    if kind == "agreement":
        agreement = AgreementFactory()
        return agreement, {"agreement": agreement.pk}
    factories = {"area": AreaFactory, "region": RegionFactory}
    return factories[kind](slug="hub"), {kind: "hub"}


def link(record, activity):
    """Make `activity` one of `record`'s activities."""
    if isinstance(record, Organisation):
        ParticipationFactory(activity=activity, organisation=record)
    elif isinstance(record, Agreement):
        activity.agreement = record
        activity.save(update_fields=["agreement"])
    else:
        getattr(activity, f"{record._meta.model_name}s").add(record)


def record_page(client, record):
    response = client.get(record.get_absolute_url())
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("kind", ["organisation", "area", "region", "agreement"])
def test_record_page_shows_latest_activities_count_and_link(client, kind):
    record, query = hub(kind)
    activities = dated_activities(LATEST_ON_RECORD + 3)
    draft = ActivityFactory(
        title="Drafted later", publication=Publication.DRAFT, start_date=datetime.date(2030, 1, 1)
    )
    for activity in [*activities, draft]:
        link(record, activity)

    response = record_page(client, record)

    latest = activities[::-1][:LATEST_ON_RECORD]
    assert response.context["activities"].rows == latest
    assert response.context["activities"].count == LATEST_ON_RECORD + 3
    for activity in latest:
        assertContains(response, f'href="{activity.get_absolute_url()}"', count=1)
    for activity in [*activities[:3], draft]:
        assertNotContains(response, f'href="{activity.get_absolute_url()}"')
    url = f"{reverse('cooperation:activity-list')}?{urlencode(query)}"
    assertContains(response, f'<a href="{url}">All 13 activities</a>', html=True)
    assertContains(response, "10 of 13 shown, the latest first.")
    listed = client.get(url)
    assert listed.status_code == 200
    assert listed.context["paginator"].count == LATEST_ON_RECORD + 3


@pytest.mark.parametrize("kind", ["organisation", "area", "region", "agreement"])
def test_record_page_with_few_activities_links_to_them(client, kind):
    record, query = hub(kind)
    (activity,) = dated_activities(1)
    link(record, activity)

    response = record_page(client, record)

    url = f"{reverse('cooperation:activity-list')}?{urlencode(query)}"
    assertContains(response, f'<a href="{url}">The 1 activity in the list of activities</a>')
    assertNotContains(response, "shown, the latest first")


def test_record_page_says_more_than_the_count_limit(client, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_LIMIT", 11)
    record, _ = hub("area")
    for activity in dated_activities(LATEST_ON_RECORD + 3):
        link(record, activity)

    response = record_page(client, record)

    assert len(response.context["activities"].rows) == LATEST_ON_RECORD
    assertContains(response, 'Activities <span class="count">(more than 11)</span>')
    assertContains(response, "10 of more than 11 shown")
    assertContains(response, "All of more than 11 activities</a>")


@pytest.mark.parametrize(("kind", "parameter"), [("organisation", "party"), ("area", "area")])
def test_record_page_shows_latest_agreements_count_and_link(client, kind, parameter):
    record, _ = hub(kind)
    relation = "parties" if kind == "organisation" else "areas"
    agreements = [
        AgreementFactory(signed_on=datetime.date(2000 + n, 1, 1))
        for n in range(LATEST_ON_RECORD + 2)
    ]
    draft = AgreementFactory(
        title="Unsigned draft", publication=Publication.DRAFT, signed_on=datetime.date(2030, 1, 1)
    )
    for agreement in [*agreements, draft]:
        getattr(agreement, relation).add(record)
    if kind == "organisation":
        ParticipationFactory(organisation=record)  # Public in its own right.

    response = record_page(client, record)

    assert response.context["agreements"].rows == agreements[::-1][:LATEST_ON_RECORD]
    assert response.context["agreements"].count == LATEST_ON_RECORD + 2
    for agreement in [*agreements[:2], draft]:
        assertNotContains(response, f'href="{agreement.get_absolute_url()}"')
    url = f"{reverse('cooperation:agreement-list')}?{parameter}=hub"
    assertContains(response, f'<a href="{url}">All 12 agreements</a>', html=True)
    assert client.get(url).context["paginator"].count == LATEST_ON_RECORD + 2


def test_organisation_page_names_first_partners_count_and_link(client):
    organisation = OrganisationFactory(slug="hub")
    partners = [OrganisationFactory(name=f"Partner {n:02}") for n in range(PARTNERS_SHOWN + 3)]
    for partner in partners:
        AgreementFactory(parties=[organisation, partner])
    draft_partner = OrganisationFactory(name="Partner by draft only")
    draft = ActivityFactory(publication=Publication.DRAFT)
    for member in [organisation, draft_partner]:
        ParticipationFactory(activity=draft, organisation=member)

    response = page(client, "organisation-detail", "hub")

    assert response.context["partners"].rows == partners[:PARTNERS_SHOWN]
    assert response.context["partners"].count == PARTNERS_SHOWN + 3
    for partner in partners[PARTNERS_SHOWN:]:
        assertNotContains(response, partner.name)
    assertNotContains(response, "Partner by draft only")
    assertContains(response, "20 of 23 shown. ")
    url = f"{reverse('cooperation:organisation-list')}?partner=hub"
    assertContains(response, f'<a href="{url}">All 23 partners</a>', html=True)
    listed = client.get(url)
    assert listed.status_code == 200
    assert rows(listed) == partners


# Regions


def test_region_list_shows_public_regions_only(client, world, drafts):
    other = public_region(name="Western Balkans")

    response = page(client, "region-list")

    assert rows(response) == [world["region"], other]
    assertContains(response, f'<a href="{other.get_absolute_url()}">Western Balkans</a>')
    assertNotContains(response, "Sahel Region")
    assert rows(page(client, "region-list", q="balkan")) == [other]


def public_region(**fields):
    """A region made public by a published activity in it."""
    region = RegionFactory(**fields)
    ActivityFactory(regions=[region])
    return region


def test_region_detail_shows_description_activities_and_evidence(client, world):
    region = world["region"]
    region.description = "Countries bordering the Union."
    region.save()
    cite(SourceFactory(title="Neighbourhood report"), region=region, note="About the region")

    response = page(client, "region-detail", region.slug)

    for text in [
        "<h1>European neighbourhood</h1>",
        "Countries bordering the Union.",
        f'<a href="{world["activity"].get_absolute_url()}">Joint training</a>',
        "<cite>Neighbourhood report</cite>",
        "About the region",
        f'<a href="{reverse("cooperation:activity-list")}?region={region.slug}">',
    ]:
        assertContains(response, text)


def test_region_only_a_draft_refers_to_answers_404(client, drafts):
    region, activity = drafts["region"]

    page(client, "region-detail", region.slug, expect=404)
    publish(activity)
    assertContains(page(client, "region-detail", region.slug), "Pilot Workshop")


def test_activity_page_links_its_regions(client, world):
    response = page(client, "activity-detail", world["activity"].pk)

    region = world["region"]
    assertContains(response, f'<a href="{region.get_absolute_url()}">European neighbourhood</a>')


def test_every_page_links_the_region_list(client, world):
    for name, *args in every_page(world):
        assertContains(page(client, name, *args), f'href="{reverse("cooperation:region-list")}"')


def test_home_totals_are_kept_until_a_record_changes(client, django_assert_num_queries):
    ActivityFactory()
    assert page(client, "home").context["activity_count"] == 1

    Activity.objects.update(title="Renamed without a signal")  # Kept: no signal, no recount.
    # The latest activities, their participants and areas; the totals from the table kept
    # as records change (counts.py); the charts' counts from the cache.
    with django_assert_num_queries(4):
        assert page(client, "home").context["activity_count"] == 1

    ActivityFactory()
    assert page(client, "home").context["activity_count"] == 2


def test_filter_form_kept_per_query_string_until_a_record_changes(client):
    ActivityFactory(areas=[AreaFactory(name="Returns")])
    with CaptureQueriesContext(connection) as first:
        assertContains(page(client, "activity-list"), ">Returns</option>")
    with CaptureQueriesContext(connection) as again:
        page(client, "activity-list")

    ActivityFactory(areas=[AreaFactory(name="Resettlement")])

    assert len(again) < len(first)  # The area, country and region options not asked again.
    assertContains(page(client, "activity-list"), ">Resettlement</option>")
    refused = page(client, "activity-list", expect=400, area="nowhere")
    assertContains(refused, "Select a valid choice", status_code=400)

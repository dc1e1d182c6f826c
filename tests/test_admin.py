import datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import Message, constants
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from pytest_django.asserts import (
    assertContains,
    assertMessages,
    assertNotContains,
    assertRedirects,
)
from reversion.models import Version

from cooperation.admin import FewRecordsFilter
from cooperation.models import (
    Activity,
    ActivityStatus,
    Agreement,
    AgreementKind,
    Area,
    AreaKind,
    Citation,
    Country,
    Organisation,
    OrganisationKind,
    Participation,
    Person,
    Publication,
    Region,
    Role,
    SeedLoad,
    Signatory,
    Source,
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

#: The models staff edit; the view-only SeedLoad admin has its tests in test_seed_load.py.
MODELS = [
    model
    for model in admin.site._registry
    if model._meta.app_label == "cooperation" and model not in (SeedLoad, Country)
]

SOURCE_TEXT = "In 2024 the two organisations trained border guards together in three countries."
QUOTE = "trained border guards together"
QUOTE_NOT_IN_SOURCE = "This quote does not occur, letter for letter, in the source's text."


def with_related(row, **related):
    """Set many-to-many relations on `row` that its factory has no hook for."""
    for name, values in related.items():
        getattr(row, name).set(values)
    return row


def cited(record):
    CitationFactory(**{record._meta.model_name: record})
    return record


def full_agreement():
    parties = OrganisationFactory.create_batch(2)
    agreement = AgreementFactory(parties=parties)
    agreement.areas.set([AreaFactory()])
    SignatoryFactory(agreement=agreement, organisation=parties[0])
    return cited(agreement)


def full_activity():
    activity = ActivityFactory(
        start_date=datetime.date(2023, 1, 1), areas=[AreaFactory()], regions=[RegionFactory()]
    )
    ParticipationFactory(activity=activity, role=Role.FUNDING)
    ParticipationFactory(activity=activity)
    return cited(activity)


#: One complete row of each registered model, foreign keys and many-to-many relations filled,
#: so that every changelist column and change page inline has something to fetch.
ROWS = {
    Organisation: lambda: cited(OrganisationFactory(parent=OrganisationFactory())),
    Area: lambda: cited(AreaFactory()),
    Region: lambda: cited(RegionFactory()),
    Person: lambda: cited(PersonFactory()),
    Agreement: full_agreement,
    Signatory: SignatoryFactory,
    Activity: full_activity,
    Participation: ParticipationFactory,
    Source: lambda: with_related(SourceFactory(), publishers=OrganisationFactory.create_batch(2)),
    Citation: lambda: CitationFactory(activity=ActivityFactory()),
}


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def inline_prefix(response, model):
    """The form prefix of the inline editing `model` on a rendered admin add or change page."""
    return next(
        inline.formset.prefix
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is model
    )


def inline_rows(prefix, rows):
    """POST data for new inline rows: the management form and one form per dict in `rows`."""
    data = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": 0}
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


def rendered_form_data(response):
    """POST data that saves a rendered admin change page as it stands, inlines included."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    return {
        field.html_name: field.value()
        for form in forms
        for field in form
        if field.value() is not None and field.value() is not False
    }


def form_errors(response):
    """The errors of a re-rendered admin form and its inlines, to explain a failed save."""
    if response.context is None or "adminform" not in response.context:
        return ""
    inlines = response.context["inline_admin_formsets"]
    return str([response.context["adminform"].form.errors, *(i.formset.errors for i in inlines)])


def activity_add_data(client, *, participations=(), citations=(), **fields):
    """POST data for the activity add page: `fields` over a plain draft, and inline rows."""
    response = client.get(admin_url(Activity, "add"))
    return {
        "title": "Joint training of border guards",
        "slug": "joint-training-of-border-guards",
        "description": "Border guards of three countries trained together.",
        "status": ActivityStatus.IMPLEMENTATION,
        "start_date": "2024-03-01",
        "end_date": "2024-06-30",
        "publication": Publication.DRAFT,
        **fields,
        **inline_rows(inline_prefix(response, Participation), participations),
        **inline_rows(inline_prefix(response, Citation), citations),
    }


def publish_by_action(client, activity):
    return client.post(
        admin_url(Activity, "changelist"), {"action": "publish", "_selected_action": [activity.pk]}
    )


def publish_by_change_form(client, activity):
    url = admin_url(Activity, "change", activity.pk)
    data = rendered_form_data(client.get(url))
    return client.post(url, {**data, "_publish": "Save and publish"})


@pytest.fixture
def staff_client(client, django_user_model):
    """A client logged in as staff holding every permission of this app, and no others."""
    user = django_user_model.objects.create_user(username="editor", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="cooperation"))
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_admin_changelist_renders(admin_client, model):
    row = ROWS[model]()

    response = admin_client.get(admin_url(model, "changelist"))

    assert response.status_code == 200
    assert row in response.context["cl"].result_list


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_admin_add_page_renders(admin_client, model):
    response = admin_client.get(admin_url(model, "add"))

    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_admin_change_page_renders(admin_client, model):
    row = ROWS[model]()

    response = admin_client.get(admin_url(model, "change", row.pk))

    assert response.status_code == 200
    assert response.context["original"] == row


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_admin_changelist_query_count_independent_of_rows(admin_client, model):
    url = admin_url(model, "changelist")

    def rows_and_queries(count):
        for _ in range(count):
            ROWS[model]()
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url)
        return len(response.context["cl"].result_list), len(queries)

    few_rows, few_queries = rows_and_queries(2)
    many_rows, many_queries = rows_and_queries(4)

    assert many_rows == 3 * few_rows
    assert many_queries == few_queries


@pytest.mark.parametrize(
    ("make", "term"),
    [
        pytest.param(lambda: OrganisationFactory(acronym="UNODC"), "unodc", id="organisation"),
        pytest.param(lambda: AreaFactory(name="Border management"), "border", id="area"),
        pytest.param(lambda: RegionFactory(name="Western Balkans"), "balkans", id="region"),
        pytest.param(
            lambda: PersonFactory(email="ana.silva@example.org"), "ana.silva", id="person"
        ),
        pytest.param(
            lambda: AgreementFactory(parties=[OrganisationFactory(acronym="Frontex")]),
            "frontex",
            id="agreement",
        ),
        pytest.param(
            lambda: SignatoryFactory(title="Executive Director"), "executive", id="signatory"
        ),
        pytest.param(
            lambda: ParticipationFactory(organisation=OrganisationFactory(acronym="IOM")).activity,
            "iom",
            id="activity",
        ),
        pytest.param(
            lambda: ParticipationFactory(activity__title="Joint patrols"),
            "patrols",
            id="participation",
        ),
        pytest.param(lambda: SourceFactory(title="Annual report"), "annual", id="source"),
        pytest.param(
            lambda: CitationFactory(
                activity=ActivityFactory(), source__text="They share data.", quote="share data"
            ),
            "share data",
            id="citation",
        ),
    ],
)
def test_admin_changelist_search_finds_row(admin_client, make, term):
    wanted = make()
    model = type(wanted)
    ROWS[model]()

    response = admin_client.get(admin_url(model, "changelist"), {"q": term})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wanted]


@pytest.mark.parametrize(
    ("make", "query"),
    [
        pytest.param(
            lambda: OrganisationFactory(kind=OrganisationKind.ACADEMIC),
            lambda row: {"kind__exact": row.kind},
            id="organisation-kind",
        ),
        pytest.param(
            lambda: OrganisationFactory(parent=OrganisationFactory()),
            lambda row: {"parent__id__exact": row.parent_id},
            id="organisation-parent",
        ),
        pytest.param(
            lambda: AreaFactory(kind=AreaKind.CROSS_CUTTING),
            lambda row: {"kind__exact": row.kind},
            id="area-kind",
        ),
        pytest.param(
            PersonFactory,
            lambda row: {"organisation__id__exact": row.organisation_id},
            id="person-organisation",
        ),
        pytest.param(
            lambda: AgreementFactory(kind=AgreementKind.MEMORANDUM),
            lambda row: {"kind__exact": row.kind},
            id="agreement-kind",
        ),
        pytest.param(
            lambda: AgreementFactory(parties=[OrganisationFactory()]),
            lambda row: {"parties__id__exact": row.parties.get().pk},
            id="agreement-parties",
        ),
        pytest.param(
            lambda: with_related(AgreementFactory(), areas=[AreaFactory()]),
            lambda row: {"areas__id__exact": row.areas.get().pk},
            id="agreement-areas",
        ),
        pytest.param(
            SignatoryFactory,
            lambda row: {"organisation__id__exact": row.organisation_id},
            id="signatory-organisation",
        ),
        pytest.param(
            lambda: ActivityFactory(publication=Publication.DRAFT),
            lambda row: {"publication__exact": row.publication},
            id="activity-publication",
        ),
        pytest.param(
            lambda: ActivityFactory(status=ActivityStatus.CLOSED),
            lambda row: {"status__exact": row.status},
            id="activity-status",
        ),
        pytest.param(
            lambda: ActivityFactory(areas=[AreaFactory()]),
            lambda row: {"areas__id__exact": row.areas.get().pk},
            id="activity-areas",
        ),
        pytest.param(
            lambda: ActivityFactory(regions=[RegionFactory()]),
            lambda row: {"regions__id__exact": row.regions.get().pk},
            id="activity-regions",
        ),
        pytest.param(
            lambda: ParticipationFactory(role=Role.FUNDING),
            lambda row: {"role__exact": row.role},
            id="participation-role",
        ),
        pytest.param(
            lambda: with_related(SourceFactory(), publishers=[OrganisationFactory()]),
            lambda row: {"publishers__id__exact": row.publishers.get().pk},
            id="source-publishers",
        ),
        pytest.param(
            lambda: CitationFactory(person=PersonFactory()),
            lambda row: {"supports": "person"},
            id="citation-supports",
        ),
    ],
)
def test_admin_changelist_filter_keeps_matching_rows(admin_client, make, query):
    wanted = make()
    model = type(wanted)
    ROWS[model]()

    response = admin_client.get(admin_url(model, "changelist"), query(wanted))

    assert response.status_code == 200
    cl = response.context["cl"]
    assert any(set(query(wanted)) <= set(spec.expected_parameters()) for spec in cl.filter_specs)
    assert list(cl.result_list) == [wanted]


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_admin_changelist_every_filter_choice_renders(admin_client, model):
    ROWS[model]()
    ROWS[model]()
    url = admin_url(model, "changelist")
    cl = admin_client.get(url).context["cl"]

    for spec in cl.filter_specs:
        for choice in spec.choices(cl):
            assert admin_client.get(url + choice["query_string"]).status_code == 200


@pytest.mark.parametrize(
    "model",
    [model for model in MODELS if admin.site._registry[model].date_hierarchy],
    ids=lambda model: model.__name__,
)
def test_admin_changelist_date_hierarchy_keeps_year(admin_client, model):
    field = admin.site._registry[model].date_hierarchy
    wanted, other = ROWS[model](), ROWS[model]()
    model.objects.filter(pk=wanted.pk).update(**{field: datetime.date(2019, 7, 22)})
    model.objects.filter(pk=other.pk).update(**{field: datetime.date(2021, 1, 5)})

    response = admin_client.get(admin_url(model, "changelist"), {f"{field}__year": 2019})

    assert list(response.context["cl"].result_list) == [wanted]


def test_admin_date_hierarchy_offers_only_years_with_rows(admin_client):
    for year in [2012, 2015, 2019]:
        ActivityFactory(start_date=datetime.date(year, 3, 1))
    ActivityFactory(start_date=None)
    url = admin_url(Activity, "changelist")

    response = admin_client.get(url)
    choices = [choice["title"] for choice in response.context["choices"]]
    links = [choice["link"] for choice in response.context["choices"]]

    assert choices == ["2012", "2015", "2019"]
    assert links[1] == "?start_date__year=2015"
    assert response.context["cl"].result_count == 4
    months = admin_client.get(url + links[1]).context["choices"]
    assert [month["title"] for month in months] == ["March 2015"]


def test_admin_date_hierarchy_of_a_search_offers_the_years_of_all_rows(admin_client):
    ActivityFactory(title="Training", start_date=datetime.date(2012, 3, 1))
    ActivityFactory(title="Other", start_date=datetime.date(2015, 3, 1))

    response = admin_client.get(admin_url(Activity, "changelist"), {"q": "training"})

    assert [choice["title"] for choice in response.context["choices"]] == ["2012", "2015"]
    assert [row.title for row in response.context["cl"].result_list] == ["Training"]


def test_admin_date_hierarchy_of_one_year_opens_at_its_months(admin_client):
    for month in [2, 5]:
        ActivityFactory(start_date=datetime.date(2019, month, 1))

    response = admin_client.get(admin_url(Activity, "changelist"))

    assert [choice["title"] for choice in response.context["choices"]] == [
        "February 2019",
        "May 2019",
    ]


@pytest.mark.parametrize("user", ["admin_client", "staff_client"])
@pytest.mark.parametrize("publish", [publish_by_action, publish_by_change_form])
def test_activity_staff_journey(request, user, publish):
    client = request.getfixturevalue(user)
    funder, implementer = OrganisationFactory.create_batch(2)
    area = AreaFactory()
    source = SourceFactory(text=SOURCE_TEXT)

    response = client.post(
        admin_url(Activity, "add"),
        activity_add_data(
            client,
            areas=[area.pk],
            participations=[
                {"organisation": funder.pk, "role": Role.FUNDING},
                {"organisation": implementer.pk, "role": Role.IMPLEMENTING},
            ],
            citations=[{"source": source.pk, "quote": QUOTE}],
        ),
    )

    assertRedirects(response, admin_url(Activity, "changelist"), msg_prefix=form_errors(response))
    activity = Activity.objects.get(slug="joint-training-of-border-guards")
    assert activity.publication == Publication.DRAFT
    assert list(activity.areas.all()) == [area]
    assert {(p.organisation, p.role) for p in activity.participations.all()} == {
        (funder, Role.FUNDING),
        (implementer, Role.IMPLEMENTING),
    }
    assert activity.citations.get().quote == QUOTE
    public = Client()
    assertNotContains(public.get(reverse("cooperation:activity-list")), activity.title)
    assert public.get(activity.get_absolute_url()).status_code == 404

    response = publish(client, activity)

    assert response.status_code == 302, form_errors(response)
    activity.refresh_from_db()
    assert activity.is_published
    assert activity.participations.count() == 2
    assert activity.citations.count() == 1
    assertContains(public.get(reverse("cooperation:activity-list")), activity.title)
    detail = public.get(activity.get_absolute_url())
    assertContains(detail, QUOTE)
    assertContains(detail, funder.name)


def test_activity_actions_change_rows_and_report_count(admin_client):
    drafts = [full_activity() for _ in range(2)]
    Activity.objects.update(publication=Publication.DRAFT)
    published = ActivityFactory()
    url = admin_url(Activity, "changelist")
    everything = [activity.pk for activity in [*drafts, published]]

    response = admin_client.post(
        url, {"action": "publish", "_selected_action": everything}, follow=True
    )

    assertMessages(response, [Message(constants.SUCCESS, "2 activities were published.")])
    assert Activity.objects.public().count() == 3
    assert Version.objects.get_for_model(Activity).count() == 2

    response = admin_client.post(
        url, {"action": "return_to_draft", "_selected_action": [published.pk]}, follow=True
    )

    assertMessages(response, [Message(constants.SUCCESS, "1 activity was returned to draft.")])
    assert list(Activity.objects.exclude(publication=Publication.PUBLISHED)) == [published]


def test_citation_inline_quote_not_in_source_refused(admin_client):
    source = SourceFactory(text=SOURCE_TEXT)

    response = admin_client.post(
        admin_url(Activity, "add"),
        activity_add_data(
            admin_client, citations=[{"source": source.pk, "quote": "trained police officers"}]
        ),
    )

    assertContains(response, escape(QUOTE_NOT_IN_SOURCE))
    assert not Activity.objects.exists()
    assert not Citation.objects.exists()


def test_citation_inline_without_source_refused(admin_client):
    response = admin_client.post(
        admin_url(Activity, "add"), activity_add_data(admin_client, citations=[{"quote": QUOTE}])
    )

    assertContains(response, "This field is required.")
    assert not Activity.objects.exists()


def test_citation_quote_not_in_source_refused(admin_client):
    source = SourceFactory(text=SOURCE_TEXT)
    activity = ActivityFactory()

    response = admin_client.post(
        admin_url(Citation, "add"),
        {"source": source.pk, "quote": "trained police officers", "activity": activity.pk},
    )

    assertContains(response, escape(QUOTE_NOT_IN_SOURCE))
    assert not Citation.objects.exists()


def test_citation_supporting_two_records_refused(admin_client):
    source = SourceFactory(text=SOURCE_TEXT)

    response = admin_client.post(
        admin_url(Citation, "add"),
        {
            "source": source.pk,
            "quote": QUOTE,
            "activity": ActivityFactory().pk,
            "area": AreaFactory().pk,
        },
    )

    assertContains(response, "A citation supports exactly one record.")
    assert not Citation.objects.exists()


def test_activity_end_before_start_refused(admin_client):
    response = admin_client.post(
        admin_url(Activity, "add"),
        activity_add_data(admin_client, start_date="2024-06-30", end_date="2024-03-01"),
    )

    assertContains(response, "The end date is before the start date.")
    assert not Activity.objects.exists()


def organisation_data(client, url, **fields):
    """POST data for the organisation add or change page: `fields` over a plain organisation."""
    response = client.get(url)
    data = {
        "name": "European Union Agency for Asylum",
        "acronym": "EUAA",
        "slug": "euaa",
        "kind": OrganisationKind.EU_AGENCY,
        **inline_rows(inline_prefix(response, Citation), []),
        **inline_rows(inline_prefix(response, Person), []),
        **fields,
    }
    return {name: value for name, value in data.items() if value is not None}


def test_organisation_add_unlike_others_saves_without_question(admin_client):
    OrganisationFactory(name="International Organization for Migration", acronym="IOM")
    url = admin_url(Organisation, "add")

    assertContains(admin_client.get(url), '<input type="hidden" name="different_organisation"')
    response = admin_client.post(url, organisation_data(admin_client, url))

    assertRedirects(
        response, admin_url(Organisation, "changelist"), msg_prefix=form_errors(response)
    )
    assert Organisation.objects.filter(acronym="EUAA").exists()


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"name": "european union agency for asylum"}, id="case"),
        pytest.param({"name": "European Union Agency for Asylum", "acronym": ""}, id="same"),
        pytest.param({"different_organisation": "on"}, id="confirmed"),
    ],
)
def test_organisation_add_same_name_ignoring_case_refused(admin_client, fields):
    existing = OrganisationFactory(name="European Union Agency for Asylum", acronym="EASO")
    url = admin_url(Organisation, "add")

    response = admin_client.post(url, organisation_data(admin_client, url, **fields))

    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    assertContains(response, "already has this name, capitals aside")
    assertContains(response, admin_url(Organisation, "change", existing.pk))
    assert list(Organisation.objects.all()) == [existing]


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"name": "European Union Agency  for Asylum"}, id="name-spacing"),
        pytest.param({"name": "EU Asylum Agency", "acronym": "euaa"}, id="acronym-case"),
    ],
)
def test_organisation_add_resembling_another_asks_then_saves_when_confirmed(admin_client, fields):
    existing = OrganisationFactory(
        name="European Union Agency for Asylum", acronym="EUAA", kind=OrganisationKind.EU_AGENCY
    )
    url = admin_url(Organisation, "add")
    data = organisation_data(admin_client, url, **fields, slug="new")

    asked = admin_client.post(url, data)

    assert asked.status_code == 200
    assert list(asked.context["adminform"].form.errors) == ["different_organisation"]
    assertContains(asked, "resembles that of")
    assertContains(
        asked,
        f'<a href="{admin_url(Organisation, "change", existing.pk)}" target="_blank">'
        "European Union Agency for Asylum (EUAA), EU agency</a>",
        html=True,
    )
    assertContains(asked, '<input type="checkbox" name="different_organisation"')
    assert Organisation.objects.count() == 1

    saved = admin_client.post(url, {**data, "different_organisation": "on"})

    assertRedirects(saved, admin_url(Organisation, "changelist"), msg_prefix=form_errors(saved))
    assert Organisation.objects.filter(slug="new").exists()


def test_organisation_change_of_other_fields_does_not_ask_again(admin_client):
    OrganisationFactory(name="European Union Agency for Asylum", acronym="EUAA")
    twin = OrganisationFactory(name="EU Asylum Agency", acronym="EUAA")
    url = admin_url(Organisation, "change", twin.pk)
    data = rendered_form_data(admin_client.get(url))

    response = admin_client.post(url, {**data, "description": "Another agency."})

    assertRedirects(
        response, admin_url(Organisation, "changelist"), msg_prefix=form_errors(response)
    )
    twin.refresh_from_db()
    assert twin.description == "Another agency."


def test_organisation_change_of_acronym_to_another_asks(admin_client):
    OrganisationFactory(name="European Union Agency for Asylum", acronym="EUAA")
    agency = OrganisationFactory(name="EU Asylum Agency", acronym="EAA")
    url = admin_url(Organisation, "change", agency.pk)
    data = rendered_form_data(admin_client.get(url))

    response = admin_client.post(url, {**data, "acronym": "EUAA"})

    assertContains(response, "resembles that of")
    agency.refresh_from_db()
    assert agency.acronym == "EAA"


ORGANISATION_AUTOCOMPLETES = [
    pytest.param("participation", "organisation", id="activity-participants"),
    pytest.param("agreement", "parties", id="agreement-parties"),
    pytest.param("organisation", "parent", id="organisation-parent"),
    pytest.param("citation", "organisation", id="citation-organisation"),
]


@pytest.mark.parametrize(("model_name", "field_name"), ORGANISATION_AUTOCOMPLETES)
@pytest.mark.parametrize("term", ["euaa", "asylum"])
def test_organisation_autocomplete_shows_name_acronym_and_kind(
    admin_client, model_name, field_name, term
):
    euaa = OrganisationFactory(
        name="European Union Agency for Asylum", acronym="EUAA", kind=OrganisationKind.EU_AGENCY
    )
    OrganisationFactory(name="International Organization for Migration", acronym="IOM")
    params = {"app_label": "cooperation", "model_name": model_name, "field_name": field_name}

    response = admin_client.get(reverse("admin:autocomplete"), {**params, "term": term})

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"id": str(euaa.pk), "text": "European Union Agency for Asylum (EUAA), EU agency"}
    ]
    assert str(euaa) == "European Union Agency for Asylum"


def test_organisation_autocomplete_without_acronym_shows_name_and_kind(admin_client):
    OrganisationFactory(name="Ministry of the Interior", kind=OrganisationKind.NATIONAL_AUTHORITY)
    params = {"app_label": "cooperation", "model_name": "participation"}

    response = admin_client.get(
        reverse("admin:autocomplete"), {**params, "field_name": "organisation", "term": "min"}
    )

    assert [result["text"] for result in response.json()["results"]] == [
        "Ministry of the Interior, National authority"
    ]


def test_autocomplete_of_other_models_shows_their_names(admin_client):
    AreaFactory(name="Resettlement")
    params = {"app_label": "cooperation", "model_name": "activity", "field_name": "areas"}

    response = admin_client.get(reverse("admin:autocomplete"), {**params, "term": "resett"})

    assert [result["text"] for result in response.json()["results"]] == ["Resettlement"]


def test_source_list_links_to_its_citations(admin_client):
    wanted = CitationFactory(activity=ActivityFactory())
    CitationFactory(activity=ActivityFactory())

    sources = admin_client.get(admin_url(Source, "changelist"))
    url = f"{admin_url(Citation, 'changelist')}?source__id__exact={wanted.source_id}"
    response = admin_client.get(url)

    assertContains(sources, url.replace("&", "&amp;"))
    assert list(response.context["cl"].result_list) == [wanted]


@pytest.mark.parametrize("role", ["Viewer", "Editor", "Publisher"])
def test_country_admin_is_view_only(client, django_user_model, role):
    user = django_user_model.objects.create_user(username="staff", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)

    changelist = client.get(admin_url(Country, "changelist"), {"q": "fr"})
    change = client.get(admin_url(Country, "change", "FR"))
    add = client.get(admin_url(Country, "add"))
    delete = client.get(admin_url(Country, "delete", "FR"))

    assert Country.objects.get(code="FR") in changelist.context["cl"].result_list
    assert not change.context["has_change_permission"]
    assert (add.status_code, delete.status_code) == (403, 403)


def test_activity_admin_finds_countries_by_name_and_code(admin_client):
    def found(term):
        response = admin_client.get(
            "/admin/autocomplete/",
            {
                "app_label": "cooperation",
                "model_name": "activity",
                "field_name": "countries",
                "term": term,
            },
        )
        return {row["id"] for row in response.json()["results"]}

    assert "DE" in found("germ")
    assert "DE" in found("de")
    assert "FR" not in found("germ")


def test_activity_admin_saves_countries(admin_client):
    response = admin_client.post(
        admin_url(Activity, "add"), activity_add_data(admin_client, countries=["FR", "DE"])
    )

    assert response.status_code == 302, form_errors(response)
    assert set(Activity.objects.get().countries.values_list("code", flat=True)) == {"DE", "FR"}


#: A release as a file holds it, lines ending in LF; browsers send a textarea's lines in CRLF.
RELEASE_LINES = "Paris, 22 July 2019\nThe two agencies will train\nborder guards together.\n"
TYPED_QUOTE = "will train\r\nborder guards"


def test_citation_multi_line_quote_typed_with_crlf_matches_source_with_lf(admin_client):
    source = SourceFactory(text=RELEASE_LINES)
    activity = ActivityFactory()

    response = admin_client.post(
        admin_url(Citation, "add"),
        {"source": source.pk, "quote": TYPED_QUOTE, "activity": activity.pk},
    )

    assert response.status_code == 302, form_errors(response)
    assert Citation.objects.get().quote == "will train\nborder guards"


def test_citation_inline_multi_line_quote_typed_with_crlf_matches_source_with_lf(admin_client):
    source = SourceFactory(text=RELEASE_LINES)

    response = admin_client.post(
        admin_url(Activity, "add"),
        activity_add_data(admin_client, citations=[{"source": source.pk, "quote": TYPED_QUOTE}]),
    )

    assert response.status_code == 302, form_errors(response)
    assert Activity.objects.get().citations.get().quote == "will train\nborder guards"


def test_citation_quote_differing_by_a_space_within_a_line_still_refused(admin_client):
    source = SourceFactory(text=RELEASE_LINES)

    response = admin_client.post(
        admin_url(Citation, "add"),
        {"source": source.pk, "quote": "will  train\r\nborder", "activity": ActivityFactory().pk},
    )

    assertContains(response, escape(QUOTE_NOT_IN_SOURCE))
    assert not Citation.objects.exists()


def test_source_text_typed_with_crlf_saved_with_lf(admin_client):
    source = SourceFactory(text=RELEASE_LINES)
    url = admin_url(Source, "change", source.pk)
    data = rendered_form_data(admin_client.get(url))

    response = admin_client.post(url, {**data, "text": RELEASE_LINES.replace("\n", "\r\n")})

    assert response.status_code == 302, form_errors(response)
    source.refresh_from_db()
    assert source.text == RELEASE_LINES.strip()


@pytest.fixture
def cited_source():
    """A source and two citations of it, in the order its page lists them."""
    source = SourceFactory(text=RELEASE_LINES)
    activity = ActivityFactory(title="Joint training")
    return source, [
        CitationFactory(source=source, activity=activity, quote="Paris, 22 July 2019"),
        CitationFactory(source=source, area=AreaFactory(name="Border management"), quote="train"),
    ]


def save_source(client, source, **changes):
    url = admin_url(Source, "change", source.pk)
    return client.post(url, {**rendered_form_data(client.get(url)), **changes})


def test_source_change_that_loses_quotes_refused_listing_each_citation(admin_client, cited_source):
    source, (dated, trained) = cited_source

    response = save_source(admin_client, source, text="Brussels, 23 July 2019. Nothing else.")

    assert response.status_code == 200
    errors = list(response.context["inline_admin_formsets"][0].formset.non_form_errors())
    assert errors[0].startswith("The full text no longer holds the quotes of 2 of its citations")
    assert errors[1:] == [
        f'<a href="{admin_url(Citation, "change", citation.pk)}" target="_blank">{label}</a>: '
        f"“{citation.quote}”"
        for citation, label in [
            (dated, "Activity: Joint training"),
            (trained, "Area: Border management"),
        ]
    ]
    for error in errors:
        assertContains(response, error, html=True)
    source.refresh_from_db()
    assert source.text == RELEASE_LINES


def test_source_change_that_keeps_every_quote_saves(admin_client, cited_source):
    source, _ = cited_source
    text = "Paris, 22 July 2019\nThe agencies train border guards together.\n"

    response = save_source(admin_client, source, text=text)

    assert response.status_code == 302, form_errors(response)
    source.refresh_from_db()
    assert source.text == text.strip()


def test_source_change_fixing_the_quote_in_the_same_save(admin_client, cited_source):
    source, (dated, trained) = cited_source
    text = "Paris, 23 July 2019\nThe two agencies will train\r\nborder guards together."

    response = save_source(
        admin_client, source, text=text, **{"citations-0-quote": "Paris, 23 July 2019"}
    )

    assert response.status_code == 302, form_errors(response)
    dated.refresh_from_db()
    assert dated.quote == "Paris, 23 July 2019"
    source.refresh_from_db()
    assert source.text == text.replace("\r\n", "\n")


def test_source_change_deleting_the_lost_citation_in_the_same_save(admin_client, cited_source):
    source, (dated, trained) = cited_source

    response = save_source(
        admin_client,
        source,
        text="The two agencies will train border guards.",
        **{"citations-0-DELETE": "on"},
    )

    assert response.status_code == 302, form_errors(response)
    assert list(source.citations.all()) == [trained]


def test_source_change_counts_a_citation_added_since_the_page_was_opened(
    admin_client, cited_source
):
    source, _ = cited_source
    url = admin_url(Source, "change", source.pk)
    data = rendered_form_data(admin_client.get(url))
    added = CitationFactory(source=source, region=RegionFactory(), quote="border guards")

    response = admin_client.post(url, {**data, "text": "Paris, 22 July 2019. Agencies train."})

    assert response.status_code == 200
    assertContains(response, admin_url(Citation, "change", added.pk))
    source.refresh_from_db()
    assert source.text == RELEASE_LINES


def test_source_page_quote_repeating_another_of_the_records_citations_refused(
    admin_client, cited_source
):
    source, (dated, _) = cited_source
    CitationFactory(source=source, activity=dated.activity, quote="border guards")

    response = save_source(admin_client, source, **{"citations-0-quote": "border guards"})

    assertContains(response, "This activity already cites this quote.")
    dated.refresh_from_db()
    assert dated.quote == "Paris, 22 July 2019"


@pytest.mark.parametrize("model", [Activity, Agreement], ids=lambda model: model.__name__)
def test_admin_change_form_queries_do_not_grow_with_inline_rows(admin_client, model):
    """Each row's chosen organisation, person or source comes with the rows."""
    queries = []
    for rows in [1, 4]:
        record = ActivityFactory() if model is Activity else AgreementFactory()
        for _ in range(rows):
            organisation = OrganisationFactory()
            if model is Activity:
                ParticipationFactory(activity=record, organisation=organisation)
                CitationFactory(activity=record)
            else:
                record.parties.add(organisation)
                SignatoryFactory(agreement=record, organisation=organisation)
                CitationFactory(agreement=record)
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(admin_url(model, "change", record.pk))
        assert response.status_code == 200
        queries.append(len(captured))

    assert queries[0] == queries[1]
    assertContains(response, f'<option value="{organisation.pk}" selected>', html=False)


def test_admin_related_filter_lists_many_records_only_when_chosen(admin_client, monkeypatch):
    monkeypatch.setattr(FewRecordsFilter, "LIMIT", 1)
    first, second = OrganisationFactory(name="First party"), OrganisationFactory(name="Second")
    AgreementFactory(parties=[first, second])
    url = admin_url(Agreement, "changelist")

    def party_choices(response):
        specs = response.context["cl"].filter_specs
        spec = next((spec for spec in specs if isinstance(spec, FewRecordsFilter)), None)
        return spec and [choice["display"] for choice in spec.choices(response.context["cl"])]

    assert party_choices(admin_client.get(url)) is None  # Nothing to list: no filter.
    chosen = admin_client.get(url, {"parties__id__exact": first.pk})
    assert party_choices(chosen) == ["All", "First party", "-"]  # "-": with no party.
    monkeypatch.setattr(FewRecordsFilter, "LIMIT", 50)
    assert party_choices(admin_client.get(url)) == ["All", "First party", "Second", "-"]


def test_admin_changelists_show_countries_by_name(admin_client):
    OrganisationFactory(country="FR")

    response = admin_client.get(admin_url(Organisation, "changelist"))

    assertContains(response, '<td class="field-country_name">France</td>', html=True)


def test_new_citation_rows_offer_the_source_last_cited(admin_client):
    source = SourceFactory(title="Release", text="The parties will train guards together.")
    activity = full_activity()
    url = admin_url(Activity, "change", activity.pk)
    form = rendered_form_data(admin_client.get(url))
    prefix = "citations"
    rows = int(form[f"{prefix}-TOTAL_FORMS"])
    form.update(
        {
            f"{prefix}-TOTAL_FORMS": str(rows + 1),
            f"{prefix}-{rows}-source": str(source.pk),
            f"{prefix}-{rows}-quote": "train guards together",
        }
    )

    saved = admin_client.post(url, form)

    assert saved.status_code == 302, form_errors(saved)
    agreement_page = admin_client.get(admin_url(Agreement, "add"))
    formset = next(
        inline.formset
        for inline in agreement_page.context["inline_admin_formsets"]
        if inline.formset.model is Citation
    )
    assert formset.empty_form.initial["source"] == source.pk
    assert admin_client.get(admin_url(Source, "change", source.pk)).status_code == 200

"""Entering new records from passages of a source, on its page to read and cite."""

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Permission
from django.db import IntegrityError
from django.urls import reverse
from reversion.models import Version

from cooperation.models import Agreement, Area, Citation, Organisation, Person
from cooperation.roles import EDITOR, VIEWER

from .factories import AreaFactory, OrganisationFactory, SourceFactory
from .test_citing import as_role, cite_url, rows  # noqa: F401 - as_role is a fixture.

pytestmark = pytest.mark.django_db

TEXT = (
    "The International Organization for Migration (IOM) and Frontex, the European Border "
    "and Coast Guard Agency, agreed to train border guards.\n"
    "IOM’s Director General Jane Doe signed for it."
)
IOM = "International Organization for Migration (IOM)"
DOE = "IOM’s Director General Jane Doe"


@pytest.fixture
def source():
    return SourceFactory(text=TEXT)


def new_rows(prefix, *entered):
    """POST data for the rows of new records under `prefix`, one dict of fields a row."""
    data = {f"{prefix}-TOTAL_FORMS": len(entered), f"{prefix}-INITIAL_FORMS": 0}
    for index, fields in enumerate(entered):
        data.update({f"{prefix}-{index}-{name}": value for name, value in fields.items()})
    return data


def organisation_row(**fields):
    return {
        "quote": IOM,
        "name": "International Organization for Migration",
        "acronym": "IOM",
        "kind": "international",
        **fields,
    }


def person_row(**fields):
    return {"quote": DOE, "name": "Jane Doe", "organisation": "IOM", **fields}


def area_row(**fields):
    return {"quote": "train border guards", "name": "Training", **fields}


def test_cite_enters_new_records_with_their_passages_in_one_version(as_role, source):  # noqa: F811
    client = as_role(EDITOR)
    existing = AreaFactory(name="Border management")
    data = {
        **rows((existing, "border guards"), total=3),
        **new_rows("organisations", organisation_row(publishes="on"), {}),
        **new_rows("people", person_row()),
        **new_rows("areas", area_row()),
        "_add": "agreement",
    }

    response = client.post(cite_url(source), data)

    assert response.status_code == 302
    assert (
        response["Location"] == f"{reverse('admin:cooperation_agreement_add')}?source={source.pk}"
    )
    iom = Organisation.objects.get()
    assert (iom.name, iom.acronym, iom.slug, iom.kind) == (
        "International Organization for Migration",
        "IOM",
        "international-organization-for-migration",
        "international",
    )
    assert list(source.publishers.all()) == [iom]
    doe = Person.objects.get()
    assert (doe.name, doe.slug, doe.organisation) == ("Jane Doe", "jane-doe", iom)
    training = Area.objects.get(name="Training")
    assert sorted((c.cited_model, str(c.cited), c.quote) for c in Citation.objects.all()) == [
        ("area", "Border management", "border guards"),
        ("area", "Training", "train border guards"),
        ("organisation", iom.name, IOM),
        ("person", "Jane Doe", DOE),
    ]
    revisions = {Version.objects.get_for_object(record).get().revision for record in [iom, doe]}
    (revision,) = revisions
    assert revision.user.username == "editor"
    assert Version.objects.get_for_object(training).get().revision == revision
    assert Version.objects.get_for_object(source).get().revision == revision
    assert LogEntry.objects.filter(action_flag=ADDITION).count() == 3
    assert not Agreement.objects.exists()


def test_cite_with_new_records_only_needs_no_citation_row(admin_client, source):
    data = {**rows(total=3), **new_rows("areas", area_row())}

    response = admin_client.post(cite_url(source), data)

    assert response.status_code == 302
    assert response["Location"] == cite_url(source)
    assert Citation.objects.get().area.name == "Training"


def test_new_person_names_a_saved_organisation_by_name_or_acronym(admin_client, source):
    iom = OrganisationFactory(name="International Organization for Migration", acronym="IOM")
    data = {**rows(total=0), **new_rows("people", person_row(organisation="iom"))}

    response = admin_client.post(cite_url(source), data)

    assert response.status_code == 302
    assert Person.objects.get().organisation == iom


def test_new_record_takes_a_free_slug(admin_client, source):
    AreaFactory(name="Training courses", slug="training")

    admin_client.post(cite_url(source), {**rows(total=0), **new_rows("areas", area_row())})

    assert Area.objects.get(name="Training").slug == "training-2"


def errors(response, kind):
    formsets = {each[0]: each[3] for each in response.context["entering"]}
    return [form.errors for form in formsets[kind].forms]


@pytest.mark.parametrize(
    ("prefix", "kind", "row", "field", "message"),
    [
        ("organisations", "organisation", {"quote": "the agency's seat"}, "quote", "not occur"),
        ("organisations", "organisation", {"name": ""}, "name", "required"),
        ("organisations", "organisation", {"name": "  "}, "name", "required"),
        ("organisations", "organisation", {"name": "FRONTEX"}, "name", "already has this name"),
        ("organisations", "organisation", {"kind": "planet"}, "kind", "valid choice"),
        ("organisations", "organisation", {"name": "—"}, "slug", "letter or a digit"),
        ("people", "person", {"organisation": "UNHCR"}, "organisation", "No organisation"),
        ("people", "person", {"quote": ""}, "quote", "required"),
        ("areas", "area", {"name": "Border management"}, "name", "already exists"),
        ("areas", "area", {"quote": "x" * 1001}, "quote", "at most 1000"),
    ],
)
def test_cite_refuses_a_bad_new_record_and_writes_nothing(
    admin_client, source, prefix, kind, row, field, message
):
    OrganisationFactory(name="Frontex")
    AreaFactory(name="Border management")
    made = {"organisations": organisation_row, "people": person_row, "areas": area_row}
    entered = {name: new_rows(name, made[name]()) for name in made}
    entered[prefix] = new_rows(prefix, made[prefix](**row))
    data = {**rows(total=0), **entered["organisations"], **entered["people"], **entered["areas"]}

    response = admin_client.post(cite_url(source), data)

    assert response.status_code == 400
    assert message in str(errors(response, kind)[0][field])
    assert Organisation.objects.count() == 1
    assert Person.objects.count() == 0
    assert Area.objects.count() == 1
    assert not Citation.objects.exists()
    assert not Version.objects.exists()


def test_cite_refuses_an_organisation_entered_twice(admin_client, source):
    twice = new_rows(
        "organisations",
        organisation_row(),
        organisation_row(name="INTERNATIONAL organization for migration"),
    )

    response = admin_client.post(cite_url(source), {**rows(total=0), **twice})

    assert response.status_code == 400
    assert "entered twice" in str(errors(response, "organisation")[1]["name"])
    assert not Organisation.objects.exists()


def test_cite_offers_the_passage_for_a_new_records_quote_not_found(admin_client, source):
    data = {**rows(total=0), **new_rows("areas", area_row(quote="train border  guards"))}

    response = admin_client.post(cite_url(source), data)

    assert 'data-passage="train border guards"' in response.content.decode()


def test_viewer_cannot_enter_new_records(as_role, source):  # noqa: F811
    client = as_role(VIEWER)

    response = client.post(cite_url(source), {**rows(total=0), **new_rows("areas", area_row())})

    assert response.status_code == 403
    assert not Area.objects.exists()


def test_cite_page_offers_a_row_of_each_new_record(admin_client, source):
    OrganisationFactory(name="International Organization for Migration", acronym="IOM")
    source.publishers.add(Organisation.objects.get())

    response = admin_client.get(cite_url(source))

    html = response.content.decode()
    for kind, prefix in [
        ("organisation", "organisations"),
        ("person", "people"),
        ("area", "areas"),
    ]:
        assert f'data-kind="{kind}" data-prefix="{prefix}"' in html
        assert f'name="{prefix}-0-quote"' in html
    assert '<option value="IOM">International Organization for Migration</option>' in html
    assert 'name="_add" value="agreement"' in html


def test_an_organisation_resembling_a_saved_one_waits_for_confirmation(admin_client, source):
    OrganisationFactory(name="IOM Development Fund", acronym="IOM")
    data = {**rows(total=0), **new_rows("organisations", organisation_row())}

    refused = admin_client.post(cite_url(source), data)
    data["organisations-0-different_organisation"] = "on"
    confirmed = admin_client.post(cite_url(source), data)

    assert refused.status_code == 400
    assert "resembles" in str(errors(refused, "organisation")[0]["different_organisation"])
    assert 'name="organisations-0-different_organisation"' in refused.content.decode()
    assert confirmed.status_code == 302
    assert Organisation.objects.count() == 2


def test_a_save_refused_by_the_database_writes_nothing(admin_client, source, monkeypatch):
    def refuse(*args, **kwargs):
        raise IntegrityError("taken meanwhile")

    monkeypatch.setattr(Citation, "save", refuse)
    data = {**rows(total=0), **new_rows("areas", area_row())}

    response = admin_client.post(cite_url(source), data)

    assert response.status_code == 400
    assert "nothing was saved" in response.content.decode()
    assert not Area.objects.exists()
    assert not Version.objects.exists()


@pytest.fixture
def citer(client, django_user_model):
    """A staff member who may read sources and cite them, and add organisations only."""
    user = django_user_model.objects.create_user(username="citer", is_staff=True)
    codenames = ["view_source", "add_citation", "add_organisation", "view_organisation"]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


def test_entering_a_kind_of_record_takes_the_permission_to_add_it(citer, source):
    page = citer.get(cite_url(source))
    response = citer.post(cite_url(source), {**rows(total=0), **new_rows("areas", area_row())})

    assert 'data-kind="organisation"' in page.content.decode()
    assert 'data-kind="area"' not in page.content.decode()
    assert response.status_code == 403
    assert not Area.objects.exists()


def test_adding_a_publisher_takes_the_permission_to_change_the_source(citer, source):
    data = {**rows(total=0), **new_rows("organisations", organisation_row(publishes="on"))}

    response = citer.post(cite_url(source), data)

    assert response.status_code == 400
    assert "may not change" in str(errors(response, "organisation")[0]["publishes"])
    assert not Organisation.objects.exists()

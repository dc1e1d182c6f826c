import datetime

import pytest
import reversion
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects
from reversion.models import Version

from cooperation import seed
from cooperation.dates import Precision
from cooperation.models import (
    Agreement,
    FormerName,
    FormerSlug,
    Organisation,
    OrganisationKind,
    Participation,
)
from cooperation.roles import EDITOR, PUBLISHER, VIEWER

from .factories import (
    ActivityFactory,
    AgreementFactory,
    FormerNameFactory,
    FormerSlugFactory,
    OrganisationFactory,
    ParticipationFactory,
    PersonFactory,
)
from .test_admin import admin_url, form_errors, inline_prefix, rendered_form_data

pytestmark = pytest.mark.django_db

EUAA = "European Union Agency for Asylum"
EASO = "European Asylum Support Office"


def renamed(**fields):
    """EASO as it is since 19 January 2022: the EUAA, with its old name and slug kept."""
    agency = OrganisationFactory(
        name=EUAA,
        acronym="EUAA",
        slug="euaa",
        kind=OrganisationKind.EU_AGENCY,
        **{"name_since": datetime.date(2022, 1, 19), **fields},
    )
    FormerNameFactory(organisation=agency, name=EASO, acronym="EASO")
    FormerSlugFactory(organisation=agency, slug="easo")
    return agency


def public(organisation, signed_on=datetime.date(2019, 7, 22)):
    """Make `organisation` public: a party to a published agreement signed on `signed_on`."""
    return AgreementFactory(parties=[organisation, OrganisationFactory()], signed_on=signed_on)


# The model


def test_organisation_name_on_a_day_before_the_change_is_the_former_name():
    agency = renamed()

    assert str(agency.name_on(datetime.date(2019, 7, 22))) == f"{EASO} (EASO)"
    assert agency.name_on(datetime.date(2022, 1, 19)) is None
    assert agency.name_on(None) is None


def test_organisation_name_on_picks_the_name_in_effect_among_several():
    agency = renamed()
    FormerNameFactory(
        organisation=agency,
        name="European Asylum Office",
        took_effect=datetime.date(2015, 1, 1),
        took_effect_precision=Precision.YEAR,
    )

    assert agency.name_on(datetime.date(2014, 6, 1)).name == EASO
    assert agency.name_on(datetime.date(2016, 6, 1)).name == "European Asylum Office"
    assert [former.until for former in agency.name_history()] == ["18 January 2022", "2015"]


def test_former_slug_is_refused_by_the_database_when_another_organisation_has_it():
    agency = renamed()
    other = OrganisationFactory(slug="other")

    with pytest.raises(IntegrityError), transaction.atomic():
        FormerSlugFactory(organisation=agency, slug="other")
    with pytest.raises(IntegrityError), transaction.atomic():
        FormerSlugFactory(organisation=other, slug="easo")
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.filter(pk=other.pk).update(slug="easo")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganisationFactory(slug="easo")
    assert list(FormerSlug.objects.values_list("slug", flat=True)) == ["easo"]


def test_former_name_refuses_contact_details():
    former = FormerNameFactory.build(organisation=renamed(), name="Office, Tel. +32 2 123 45 67")

    with pytest.raises(Exception, match="telephone"):
        former.full_clean()


def test_slug_change_through_the_orm_keeps_the_former_slug_and_gives_one_back():
    agency = renamed()

    agency.slug = "asylum-agency"
    agency.save()
    agency.slug = "easo"
    agency.save()

    assert set(agency.former_slugs.values_list("slug", flat=True)) == {"euaa", "asylum-agency"}


# Natural keys: the seed's `easo` finds the renamed record


def test_natural_key_lookup_finds_the_organisation_by_a_former_slug():
    agency = renamed()
    activity = ActivityFactory(slug="training")
    participation = ParticipationFactory(activity=activity, organisation=agency)

    assert Organisation.objects.get_by_natural_key("easo") == agency
    assert Organisation.objects.get_by_natural_key("euaa") == agency
    assert Participation.objects.get_by_natural_key("training", "easo", "implementing") == (
        participation
    )
    assert FormerName.objects.get_by_natural_key("easo", EASO).organisation == agency


def test_load_seed_finds_the_renamed_organisation_instead_of_adding_it_again():
    agency = renamed()

    call_command("load_seed", stdout=None)

    assert Organisation.objects.filter(kind=OrganisationKind.EU_AGENCY).get() == agency
    agency.refresh_from_db()
    assert (agency.name, agency.slug) == (EUAA, "euaa")
    agreement = Agreement.objects.get(slug="iom-easo-working-arrangement-2019")
    assert agency in agreement.parties.all()


def test_loaddata_of_the_seed_updates_the_renamed_organisation_instead_of_adding_it():
    agency = renamed()

    call_command("loaddata", seed.seed_path(), verbosity=0)

    assert Organisation.objects.filter(kind=OrganisationKind.EU_AGENCY).get() == agency
    agency.refresh_from_db()
    # loaddata gives rows the file's values: the slug is easo again, euaa kept as former.
    assert agency.slug == "easo"
    assert list(agency.former_slugs.values_list("slug", flat=True)) == ["euaa"]


# Public pages


def test_former_slug_address_redirects_permanently_with_its_query(client):
    agency = renamed()
    public(agency)
    url = reverse("cooperation:organisation-detail", args=["easo"])

    response = client.get(url + "?x=1")

    assertRedirects(
        response, agency.get_absolute_url() + "?x=1", status_code=301, fetch_redirect_response=False
    )


def test_former_slug_of_an_organisation_not_public_is_not_found(client):
    renamed()

    response = client.get(reverse("cooperation:organisation-detail", args=["easo"]))

    assert response.status_code == 404
    assertNotContains(response, EUAA, status_code=404)


def test_unknown_slug_is_still_not_found(client):
    response = client.get(reverse("cooperation:organisation-detail", args=["nobody"]))

    assert response.status_code == 404


def test_organisation_page_names_its_former_names_with_dates(client):
    agency = renamed()
    public(agency)

    response = client.get(agency.get_absolute_url())

    assertContains(
        response,
        f"{EUAA} (EUAA), known until 18 January 2022 as {EASO} (EASO).",
    )


def test_organisation_page_without_the_date_of_the_change_says_formerly(client):
    agency = renamed(name_since=None)
    public(agency)

    response = client.get(agency.get_absolute_url())

    assertContains(response, f"{EUAA} (EUAA), formerly {EASO} (EASO).")


def test_agreement_page_shows_the_name_at_signing_beside_the_current_one(client):
    agency = renamed()
    before, after = public(agency), public(agency, datetime.date(2023, 3, 1))

    assertContains(client.get(before.get_absolute_url()), f"(then {EASO} (EASO))", count=1)
    assertNotContains(client.get(after.get_absolute_url()), "(then ")


def test_agreement_page_shows_the_name_at_signing_for_a_signatory(client):
    agency = renamed()
    agreement = public(agency)
    agreement.signatories.create(person=PersonFactory(), organisation=agency)

    response = client.get(agreement.get_absolute_url())

    assertContains(response, f"(then {EASO} (EASO))", count=2)


def test_activity_page_shows_the_name_at_its_start(client):
    agency = renamed()
    activity = ActivityFactory(start_date=datetime.date(2020, 5, 1))
    ParticipationFactory(activity=activity, organisation=agency)
    ParticipationFactory(activity=activity)

    assertContains(client.get(activity.get_absolute_url()), f"(then {EASO} (EASO))")


# Searching and filtering by a former name, acronym or slug


@pytest.mark.parametrize("text", ["easo", "Asylum Support Office", "EUAA"])
def test_organisation_search_finds_a_former_name_or_acronym(client, text):
    agency = renamed()
    public(agency)

    response = client.get(reverse("cooperation:organisation-list"), {"q": text})

    assert list(response.context["object_list"]) == [agency]


@pytest.mark.parametrize("text", ["easo", "EASO", EASO, f"{EASO} (EASO)", "Support Off"])
def test_activity_organisation_filter_finds_a_former_slug_name_or_acronym(client, text):
    agency = renamed()
    activity = ActivityFactory()
    ParticipationFactory(activity=activity, organisation=agency)
    ActivityFactory()  # Another, not listed.

    response = client.get(reverse("cooperation:activity-list"), {"organisation": text})

    assert response.status_code == 200, response.context["filter"].errors
    assert list(response.context["object_list"]) == [activity]


def test_activity_search_finds_activities_of_an_organisation_by_a_former_acronym(client):
    agency = renamed()
    activity = ActivityFactory(title="Joint training")
    ParticipationFactory(activity=activity, organisation=agency)
    ActivityFactory(title="Joint training elsewhere")

    response = client.get(reverse("cooperation:activity-list"), {"q": "easo training"})

    assert list(response.context["object_list"]) == [activity]


def test_admin_search_finds_an_organisation_by_a_former_name(admin_client):
    agency = renamed()
    OrganisationFactory()

    response = admin_client.get(admin_url(Organisation, "changelist"), {"q": "support office"})

    assert list(response.context["cl"].result_list) == [agency]


# The admin


def change_data(client, organisation, **fields):
    url = admin_url(Organisation, "change", organisation.pk)
    page = client.get(url)
    return url, page, {**rendered_form_data(page), **fields}


def test_admin_records_a_former_name_with_its_date_and_the_current_names_date(admin_client):
    agency = OrganisationFactory(name=EUAA, acronym="EUAA", slug="euaa")
    url, page, data = change_data(admin_client, agency, name_since="19 January 2022")
    prefix = inline_prefix(page, FormerName)
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": 1,
            f"{prefix}-0-name": EASO,
            f"{prefix}-0-acronym": "EASO",
            f"{prefix}-0-took_effect": "2010",
        }
    )

    response = admin_client.post(url, data)

    assertRedirects(
        response, admin_url(Organisation, "changelist"), msg_prefix=form_errors(response)
    )
    agency.refresh_from_db()
    assert (agency.name_since, agency.name_since_precision) == (
        datetime.date(2022, 1, 19),
        Precision.DAY,
    )
    former = agency.former_names.get()
    assert (former.name, former.took_effect, former.took_effect_precision) == (
        EASO,
        datetime.date(2010, 1, 1),
        Precision.YEAR,
    )
    version = Version.objects.get_for_object(agency).latest("pk")
    assert version.revision.user.username == "admin"
    assert Version.objects.get_for_object(former).latest("pk").revision == version.revision


def test_admin_refuses_an_impossible_date_for_a_former_name(admin_client):
    agency = OrganisationFactory()
    url, page, data = change_data(admin_client, agency)
    prefix = inline_prefix(page, FormerName)
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": 1,
            f"{prefix}-0-name": EASO,
            f"{prefix}-0-took_effect": "31 February 2012",
        }
    )

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assertContains(response, "February 2012 has no day 31")
    assert not FormerName.objects.exists()


def test_admin_slug_change_keeps_the_former_slug_in_the_history(admin_client):
    agency = OrganisationFactory(name=EUAA, slug="easo")
    with reversion.create_revision():
        agency.save()
    url, _, data = change_data(admin_client, agency, slug="euaa")

    response = admin_client.post(url, data)

    assertRedirects(
        response, admin_url(Organisation, "changelist"), msg_prefix=form_errors(response)
    )
    former = FormerSlug.objects.get()
    assert (former.organisation, former.slug) == (agency, "easo")
    version = Version.objects.get_for_object(former).get()
    assert version.revision.user.username == "admin"
    history = admin_client.get(admin_url(Organisation, "history", agency.pk))
    assertContains(history, "Former slug")


def test_admin_refuses_a_slug_another_organisation_had(admin_client):
    renamed()
    other = OrganisationFactory(slug="other")
    url, _, data = change_data(admin_client, other, slug="easo")

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assertContains(response, "had this slug before")
    other.refresh_from_db()
    assert other.slug == "other"


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("other", "has this slug now"),
        ("easo", "Former slug with this Slug already exists"),
        ("mine", "This is the organisation&#x27;s slug now"),
    ],
)
def test_admin_refuses_a_former_slug_that_is_taken(admin_client, slug, message):
    renamed()
    OrganisationFactory(slug="other")
    mine = OrganisationFactory(slug="mine")
    url, page, data = change_data(admin_client, mine)
    prefix = inline_prefix(page, FormerSlug)
    data.update({f"{prefix}-TOTAL_FORMS": 1, f"{prefix}-0-slug": slug})

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assertContains(response, message)
    assert not mine.former_slugs.exists()


def test_admin_refuses_a_former_name_dated_after_the_current_one(admin_client):
    agency = OrganisationFactory(name=EUAA, name_since=datetime.date(2022, 1, 19))
    url, page, data = change_data(admin_client, agency)
    prefix = inline_prefix(page, FormerName)
    data.update(
        {f"{prefix}-TOTAL_FORMS": 1, f"{prefix}-0-name": EASO, f"{prefix}-0-took_effect": "2023"}
    )

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assertContains(response, "A former name took effect before the current one (19 January 2022)")
    assert not FormerName.objects.exists()


# Roles


@pytest.mark.parametrize(
    ("role", "names", "slugs"),
    [(VIEWER, False, False), (EDITOR, True, False), (PUBLISHER, True, True)],
)
def test_role_may_delete_former_names_and_only_a_publisher_former_slugs(
    client, django_user_model, role, names, slugs
):
    agency = renamed()
    user = django_user_model.objects.create_user(username="staff", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)

    page = client.get(admin_url(Organisation, "change", agency.pk))

    can_delete = {
        inline.formset.model: inline.formset.can_delete
        for inline in page.context["inline_admin_formsets"]
    }
    assert (can_delete[FormerName], can_delete[FormerSlug]) == (names, slugs)

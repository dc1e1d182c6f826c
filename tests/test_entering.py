"""The admin's shortcuts for entering a release: prefilled rows and defaults."""

import pytest
from django.urls import reverse

from cooperation.models import Activity, Agreement, Organisation, Participation, Person, Signatory

from .factories import AgreementFactory, OrganisationFactory, PersonFactory, SourceFactory
from .test_admin import admin_url, form_errors, inline_prefix, inline_rows, rendered_form_data

pytestmark = pytest.mark.django_db


def test_activity_under_an_agreement_starts_with_its_parties(admin_client):
    parties = OrganisationFactory.create_batch(2)
    agreement = AgreementFactory(parties=parties)
    url = f"{admin_url(Activity, 'add')}?agreement={agreement.pk}"
    data = rendered_form_data(admin_client.get(url))

    response = admin_client.post(url, {**data, "title": "Training", "slug": "training"})

    assert response.status_code == 302, form_errors(response)
    activity = Activity.objects.get()
    assert activity.agreement == agreement
    assert set(activity.participations.values_list("organisation", flat=True)) == {
        party.pk for party in parties
    }


def test_activity_under_an_agreement_keeps_only_the_participants_left(admin_client):
    agreement = AgreementFactory(parties=OrganisationFactory.create_batch(2))
    url = f"{admin_url(Activity, 'add')}?agreement={agreement.pk}"
    data = rendered_form_data(admin_client.get(url))
    data["participations-TOTAL_FORMS"] = 0

    response = admin_client.post(url, {**data, "title": "Training", "slug": "training"})

    assert response.status_code == 302, form_errors(response)
    assert not Participation.objects.exists()


@pytest.mark.parametrize("agreement", ["x", "1²", "99999999999999999999", "", "1,x"])
def test_activity_add_ignores_a_malformed_agreement(admin_client, agreement):
    response = admin_client.get(admin_url(Activity, "add"), {"agreement": agreement})

    assert response.status_code == 200
    assert inline_prefix(response, Participation) == "participations"


def agreement_data(client, signatories):
    parties = OrganisationFactory.create_batch(2)
    response = client.get(admin_url(Agreement, "add"))
    return parties, {
        **rendered_form_data(response),
        "title": "Arrangement",
        "slug": "arrangement",
        "kind": "working-arrangement",
        "parties": [party.pk for party in parties],
        **inline_rows("signatories", signatories(parties)),
    }


def test_signatory_signs_for_the_persons_organisation_unless_told(admin_client):
    people = {}

    def signatories(parties):
        people["first"] = PersonFactory(organisation=parties[0])
        people["second"] = PersonFactory(organisation=parties[0])
        return [
            {"person": people["first"].pk},
            {"person": people["second"].pk, "organisation": parties[1].pk},
        ]

    parties, data = agreement_data(admin_client, signatories)

    response = admin_client.post(admin_url(Agreement, "add"), data)

    assert response.status_code == 302, form_errors(response)
    assert dict(Signatory.objects.values_list("person", "organisation")) == {
        people["first"].pk: parties[0].pk,
        people["second"].pk: parties[1].pk,
    }


def test_signatory_without_organisation_is_asked_for_one(admin_client):
    _, data = agreement_data(
        admin_client, lambda parties: [{"person": PersonFactory(organisation=None).pk}]
    )

    response = admin_client.post(admin_url(Agreement, "add"), data)

    assert response.status_code == 200
    assert "Choose the party this person signed for." in form_errors(response)
    assert not Agreement.objects.exists()


def test_organisation_saved_with_its_people(admin_client):
    url = admin_url(Organisation, "add")
    response = admin_client.get(url)
    data = {
        **rendered_form_data(response),
        "name": "Operation IRINI",
        "slug": "irini",
        "kind": "other",
        **inline_rows("people", [{"name": "Fabio Agostini", "slug": "fabio-agostini"}]),
    }

    response = admin_client.post(url, data)

    assert response.status_code == 302, form_errors(response)
    assert Person.objects.get().organisation.name == "Operation IRINI"


def test_record_added_from_a_source_returns_to_it(admin_client):
    source = SourceFactory()
    url = f"{admin_url(Organisation, 'add')}?source={source.pk}"
    data = {
        **rendered_form_data(admin_client.get(url)),
        "name": "Frontex",
        "slug": "frontex",
        "kind": "eu-agency",
    }

    saved = admin_client.post(url, {**data, "_save": "Save"})
    another = admin_client.post(url, {**data, "name": "Other", "slug": "o", "_addanother": "1"})

    assert saved.url == reverse("admin:cooperation_source_cite", args=[source.pk])
    assert another.url == url


def test_organisation_saved_without_people_rows_keeps_its_people(admin_client):
    person = PersonFactory()
    organisation = person.organisation
    url = admin_url(Organisation, "change", organisation.pk)
    data = rendered_form_data(admin_client.get(url))
    data = {name: value for name, value in data.items() if not name.startswith("people-")}

    response = admin_client.post(url, {**data, "name": "Renamed"})

    assert response.status_code == 302, form_errors(response)
    organisation.refresh_from_db()
    assert organisation.name == "Renamed"
    assert list(organisation.people.all()) == [person]

import pytest
from django.contrib.messages import Message, constants
from django.core.exceptions import ValidationError
from pytest_django.asserts import assertContains, assertMessages

from cooperation.models import Activity, Agreement, Publication, Signatory

from .factories import (
    ActivityFactory,
    AgreementFactory,
    OrganisationFactory,
    PersonFactory,
    SignatoryFactory,
)
from .test_admin import (
    admin_url,
    form_errors,
    full_activity,
    full_agreement,
    inline_prefix,
    rendered_form_data,
)

pytestmark = pytest.mark.django_db


def as_draft(record):
    type(record).objects.filter(pk=record.pk).update(publication=Publication.DRAFT)
    record.refresh_from_db()
    return record


@pytest.mark.parametrize(
    ("make", "problems"),
    [
        (
            lambda: ActivityFactory(publication=Publication.DRAFT),
            [
                "it needs at least two participating organisations",
                "it needs at least one area",
                "it needs at least one citation",
            ],
        ),
        (lambda: as_draft(full_activity()), []),
        (
            lambda: AgreementFactory(publication=Publication.DRAFT),
            ["it needs at least two parties", "it needs at least one citation"],
        ),
        (lambda: as_draft(full_agreement()), []),
    ],
)
def test_publish_checks_the_record_is_ready(make, problems):
    record = make()

    assert record.publish() == problems
    record.refresh_from_db()
    assert record.is_published == (not problems)


def test_publish_action_says_what_is_missing_and_publishes_the_ready(admin_client):
    ready = as_draft(full_activity())
    unready = ActivityFactory(publication=Publication.DRAFT, title="Half done")

    response = admin_client.post(
        admin_url(Activity, "changelist"),
        {"action": "publish", "_selected_action": [ready.pk, unready.pk]},
        follow=True,
    )

    assertMessages(
        response,
        [
            Message(
                constants.WARNING,
                "“Half done” was not published: it needs at least two participating "
                "organisations; it needs at least one area; it needs at least one citation.",
            ),
            Message(constants.SUCCESS, "1 activity was published."),
        ],
    )
    assert list(Activity.objects.public()) == [ready]


def test_publishing_stamps_published_and_changed_alike():
    activity = as_draft(full_activity())

    activity.publish()

    assert activity.published_at == activity.changed_at
    assert not Activity.objects.changed_since_published().exists()


def test_signatory_must_sign_for_a_party():
    agreement = AgreementFactory(parties=[OrganisationFactory()])
    signatory = SignatoryFactory.build(
        agreement=agreement, person=PersonFactory(), organisation=OrganisationFactory()
    )

    with pytest.raises(ValidationError, match="signs for one of the agreement's parties"):
        signatory.full_clean()


def test_agreement_with_stray_signatory_cannot_be_published():
    agreement = as_draft(full_agreement())
    stranger = OrganisationFactory(name="Stranger")
    Signatory.objects.filter(agreement=agreement).update(organisation=stranger)

    problems = agreement.publish()

    assert any("Stranger, which is not a party" in problem for problem in problems)


def test_admin_refuses_signatory_for_non_party(admin_client):
    agreement = full_agreement()
    url = admin_url(Agreement, "change", agreement.pk)
    page = admin_client.get(url)
    prefix = inline_prefix(page, Signatory)
    data = rendered_form_data(page)

    response = admin_client.post(
        url, {**data, f"{prefix}-0-organisation": OrganisationFactory().pk}
    )

    assertContains(response, "A signatory signs for one of the agreement")
    assert agreement.signatories.get().organisation in agreement.parties.all()


def test_admin_checks_signatories_against_parties_saved_with_them(admin_client):
    agreement = full_agreement()
    newcomer = OrganisationFactory()
    url = admin_url(Agreement, "change", agreement.pk)
    page = admin_client.get(url)
    prefix = inline_prefix(page, Signatory)
    data = rendered_form_data(page)
    parties = [*agreement.parties.values_list("pk", flat=True), newcomer.pk]

    response = admin_client.post(
        url, {**data, "parties": parties, f"{prefix}-0-organisation": newcomer.pk}
    )

    assert response.status_code == 302, form_errors(response)
    assert agreement.signatories.get().organisation == newcomer


def test_saving_a_published_record_that_no_longer_qualifies_warns(admin_client):
    activity = full_activity()
    url = admin_url(Activity, "change", activity.pk)
    data = {**rendered_form_data(admin_client.get(url)), "areas": []}

    response = admin_client.post(url, data, follow=True)

    assertContains(response, "no longer meets the publishing rules: it needs at least one area")

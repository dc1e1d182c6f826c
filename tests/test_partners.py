"""The partner pairs (cooperation/partners.py) stay what the participations and parties say."""

import pytest
from django.core.management import call_command

from cooperation import partners
from cooperation.models import (
    Agreement,
    Organisation,
    Participation,
    PartnerPair,
    Publication,
    Role,
)

from .factories import (
    ActivityFactory,
    AgreementFactory,
    OrganisationFactory,
    ParticipationFactory,
)

pytestmark = pytest.mark.django_db


def kept():
    """The pairs in the table, as (organisation, partner) names."""
    return set(PartnerPair.objects.values_list("organisation__name", "partner__name"))


def by_rule():
    """The pairs as the records say, worked out from scratch."""
    pairs = set()
    for organisation in Organisation.objects.all():
        activities = Participation.objects.filter(
            organisation=organisation, activity__publication=Publication.PUBLISHED
        ).values("activity")
        agreements = organisation.agreements.filter(publication=Publication.PUBLISHED)
        parties = Agreement.parties.through.objects.filter(agreement__in=agreements)
        partners = Organisation.objects.exclude(pk=organisation.pk).filter(
            pk__in=[
                *Participation.objects.filter(activity__in=activities).values_list(
                    "organisation", flat=True
                ),
                *parties.values_list("organisation", flat=True),
            ]
        )
        pairs |= {(organisation.name, partner.name) for partner in partners}
    return pairs


def assert_kept(expected):
    assert kept() == by_rule() == expected


def both_ways(*pairs):
    return {(one, other) for pair in pairs for one, other in [pair, pair[::-1]]}


@pytest.fixture
def names():
    return [OrganisationFactory(name=name) for name in ["A", "B", "C", "D"]]


def take_part(activity, *organisations, role=Role.IMPLEMENTING):
    return [
        ParticipationFactory(activity=activity, organisation=o, role=role) for o in organisations
    ]


def test_a_participation_added_or_removed_makes_or_ends_partnerships(names):
    a, b, c, d = names
    activity = ActivityFactory()
    take_part(activity, a, b)
    assert_kept(both_ways(("A", "B")))

    [joined] = take_part(activity, c)
    assert_kept(both_ways(("A", "B"), ("A", "C"), ("B", "C")))

    joined.delete()
    assert_kept(both_ways(("A", "B")))


def test_a_second_shared_activity_keeps_the_pair_when_one_ends(names):
    a, b, c, d = names
    first, second = ActivityFactory(), ActivityFactory()
    take_part(first, a, b)
    take_part(second, a, b, c)

    Participation.objects.filter(activity=second, organisation=b).delete()

    assert_kept(both_ways(("A", "B"), ("A", "C")))


def test_a_participation_moved_to_another_organisation_or_activity(names):
    a, b, c, d = names
    first, second = ActivityFactory(), ActivityFactory()
    [_, moved] = take_part(first, a, b)
    take_part(second, c, d)

    moved.organisation = c
    moved.save()
    assert_kept(both_ways(("A", "C"), ("C", "D")))

    moved.activity = second
    moved.role = Role.FUNDING
    moved.save()
    assert_kept(both_ways(("C", "D")))


def test_two_roles_of_one_organisation_make_no_pair_with_itself(names):
    a, b, c, d = names
    activity = ActivityFactory()
    take_part(activity, a, role=Role.FUNDING)
    take_part(activity, a, b)

    assert_kept(both_ways(("A", "B")))


def test_unpublishing_publishing_and_deleting_an_activity(names):
    a, b, c, d = names
    activity = ActivityFactory()
    take_part(activity, a, b, c)

    activity.publication = Publication.DRAFT
    activity.save()
    assert_kept(set())

    activity.publication = Publication.PUBLISHED
    activity.save()
    assert_kept(both_ways(("A", "B"), ("A", "C"), ("B", "C")))

    activity.delete()
    assert_kept(set())


def test_a_draft_activity_makes_no_pair(names):
    a, b, c, d = names
    take_part(ActivityFactory(publication=Publication.DRAFT), a, b)

    assert_kept(set())


def test_agreement_parties_from_either_side(names):
    a, b, c, d = names
    agreement = AgreementFactory(parties=[a, b])
    assert_kept(both_ways(("A", "B")))

    c.agreements.add(agreement)
    assert_kept(both_ways(("A", "B"), ("A", "C"), ("B", "C")))

    agreement.parties.remove(a)
    assert_kept(both_ways(("B", "C")))

    c.agreements.clear()
    assert_kept(set())

    agreement.parties.add(a)
    agreement.parties.clear()
    assert_kept(set())


def test_unpublishing_or_deleting_an_agreement(names):
    a, b, c, d = names
    agreement = AgreementFactory(parties=[a, b, c])
    take_part(ActivityFactory(), a, d)

    agreement.publication = Publication.DRAFT
    agreement.save()
    assert_kept(both_ways(("A", "D")))

    agreement.publication = Publication.PUBLISHED
    agreement.save()
    agreement.delete()
    assert_kept(both_ways(("A", "D")))


def test_rebuild_and_generate_demo_give_the_pairs_the_rule_gives():
    call_command("generate_demo", activities=300, verbosity=0)
    kept_as_generated = kept()
    assert kept_as_generated == by_rule()
    assert kept_as_generated

    PartnerPair.objects.all().delete()
    partners.rebuild()

    assert kept() == kept_as_generated


def test_load_seed_fills_the_pairs():
    call_command("load_seed", verbosity=0)

    assert kept() == by_rule()
    assert ("IOM", "EASO") in {
        (pair.organisation.short_name, pair.partner.short_name)
        for pair in PartnerPair.objects.select_related("organisation", "partner")
    }


def test_rebuild_partners_command_repairs_the_table(names, capsys):
    a, b, c, d = names
    take_part(ActivityFactory(), a, b)
    PartnerPair.objects.all().delete()

    call_command("rebuild_partners")

    assert_kept(both_ways(("A", "B")))
    assert capsys.readouterr().out == "2 partner pairs (each pair counted both ways round).\n"

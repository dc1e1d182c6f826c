"""
Which organisations are partners, kept in a table (models.PartnerPair) as records change,
so that an organisation's page reads its partners from its own few rows. Worked out from
the participations when the page is asked for, the partners of an organisation in 65,000
activities took 0.1 s on SQLite and 0.7 s on PostgreSQL at a million activities.

Two organisations are partners when they take part in the same published activity or are
parties to the same published agreement. A change to one record can only make or end the
partnership of two organisations that both take part in it, so each change rechecks just
those pairs (refresh()). The receivers below are connected in apps.py; bulk writes, which
send no signals (generate_demo, a migration), call rebuild() when they are done. loaddata
sends signals marked raw, which are ignored: load_seed rebuilds after loading. A physical
backup (cooperation/backups.py) holds the table as it was.
"""

import itertools

from django.db import connections, transaction

from .models import Activity, Agreement, Participation, PartnerPair, Publication

AGREEMENT_PARTIES = Agreement.parties.through

REBUILD = """
INSERT INTO {pairs} (organisation_id, partner_id)
SELECT one.organisation_id, other.organisation_id
FROM {participation} one
JOIN {participation} other
  ON other.activity_id = one.activity_id AND other.organisation_id <> one.organisation_id
JOIN {activity} record ON record.id = one.activity_id AND record.publication = %s
UNION
SELECT one.organisation_id, other.organisation_id
FROM {parties} one
JOIN {parties} other
  ON other.agreement_id = one.agreement_id AND other.organisation_id <> one.organisation_id
JOIN {agreement} record ON record.id = one.agreement_id AND record.publication = %s
"""


def rebuild(using="default"):
    """Empty the table and fill it from every participation and agreement party."""
    tables = {
        "pairs": PartnerPair._meta.db_table,
        "participation": Participation._meta.db_table,
        "activity": Activity._meta.db_table,
        "parties": AGREEMENT_PARTIES._meta.db_table,
        "agreement": Agreement._meta.db_table,
    }
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"DELETE FROM {tables['pairs']}")
        cursor.execute(REBUILD.format(**tables), [Publication.PUBLISHED] * 2)


def share_a_record(organisation, partner, using):
    activities = Participation.objects.using(using).filter(
        organisation=organisation,
        activity__publication=Publication.PUBLISHED,
        activity__participations__organisation=partner,
    )
    agreements = AGREEMENT_PARTIES.objects.using(using).filter(
        organisation=organisation,
        agreement__publication=Publication.PUBLISHED,
        agreement__parties=partner,
    )
    return activities.exists() or agreements.exists()


def refresh(organisations, using="default"):
    """Recheck every pair of `organisations` (ids): a few EXISTS probes a pair."""
    for one, other in itertools.combinations(sorted(set(organisations) - {None}), 2):
        pairs = PartnerPair.objects.using(using).filter(
            organisation__in=[one, other], partner__in=[one, other]
        )
        if share_a_record(one, other, using):
            if pairs.count() < 2:
                pairs.delete()
                PartnerPair.objects.using(using).bulk_create(
                    [
                        PartnerPair(organisation_id=one, partner_id=other),
                        PartnerPair(organisation_id=other, partner_id=one),
                    ]
                )
        else:
            pairs.delete()


def participants(activity_id, using):
    return set(
        Participation.objects.using(using)
        .filter(activity=activity_id)
        .values_list("organisation", flat=True)
    )


def parties(agreement_id, using):
    return set(
        AGREEMENT_PARTIES.objects.using(using)
        .filter(agreement=agreement_id)
        .values_list("organisation", flat=True)
    )


def remember(sender, instance, **kwargs):
    """post_init: what a participation links, or a record's publication, as read."""
    if sender is Participation:
        instance._linked_as_read = (instance.activity_id, instance.organisation_id)
    else:
        instance._publication_for_partners = instance.__dict__.get("publication")


def participation_saved(sender, instance, raw=False, using="default", **kwargs):
    if raw:
        return
    activity, organisation = instance._linked_as_read
    refresh(participants(instance.activity_id, using) | {organisation}, using)
    if activity not in (None, instance.activity_id):
        refresh(participants(activity, using) | {organisation}, using)
    instance._linked_as_read = (instance.activity_id, instance.organisation_id)


def participation_deleting(sender, instance, using="default", **kwargs):
    """pre_delete: the activity's participants, before a cascade deletes them all."""
    instance._partners_to_check = participants(instance.activity_id, using)


def participation_deleted(sender, instance, using="default", **kwargs):
    refresh(getattr(instance, "_partners_to_check", set()) | {instance.organisation_id}, using)


def record_saved(sender, instance, created=False, raw=False, using="default", **kwargs):
    """An activity or agreement saved: its pairs change only with its publication."""
    read = instance._publication_for_partners
    instance._publication_for_partners = instance.__dict__.get("publication")
    if raw or created or (read is not None and read == instance.publication):
        return
    if sender is Activity:
        refresh(participants(instance.pk, using), using)
    else:
        refresh(parties(instance.pk, using), using)


def agreement_deleting(sender, instance, using="default", **kwargs):
    instance._partners_to_check = parties(instance.pk, using)


def agreement_deleted(sender, instance, using="default", **kwargs):
    refresh(getattr(instance, "_partners_to_check", set()), using)


def parties_changed(sender, instance, action, reverse, pk_set, using="default", **kwargs):
    """m2m_changed of Agreement.parties, from either side."""
    if reverse:  # `instance` is an organisation, `pk_set` agreements.
        agreements = (
            pk_set
            if action != "pre_clear"
            else set(instance.agreements.values_list("pk", flat=True))
        )
        groups = [parties(pk, using) | {instance.pk} for pk in agreements or ()]
    else:
        groups = [parties(instance.pk, using) | set(pk_set or ())]
    if action == "pre_clear":
        instance._partners_to_check = groups
    elif action == "post_clear":
        groups = getattr(instance, "_partners_to_check", [])
    if action in {"post_add", "post_remove", "post_clear"}:
        for group in groups:
            refresh(group, using)

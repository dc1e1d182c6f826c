"""
The counts of the public lists when no filter is set, kept in a table (models.FacetCount):
for activities and agreements, the number of published records with each value of each
facet, and their total. The unfiltered list, its facets and the home page's charts and
totals read these few hundred rows instead of counting a million activities, which took
longer than a page may (facets.py).

Each write adds the difference it makes, in its own transaction: a receiver reads what the
records it touches add to the counts before the write (pre_save, pre_delete, m2m pre_*)
and again after it (post_*), and adds the difference with an upsert (count = count + n).
Incremental rather than marking the table stale and counting it all again: a whole
recount takes seconds at a million activities, too long for an editor's save and wrong
for every page meanwhile; the difference is a few index reads a write and rolls back with
it. Every write path the ORM has sends these signals: the admin's forms, actions and
deletes, imports (which save each record and write links with set() and create()),
reverting and recovering versions (raw saves, then set()), loaddata. Writes that send no
signal (bulk_create, update(), SQL: generate_demo, a migration) call rebuild() when they
are done, as load_seed does; so does manage.py rebuild_facet_counts.

What a record adds: an activity, when published, one to the total, its status, its start
year (a date known only to the year or month is stored as its first day, so it counts in
that year), the kind of its agreement if that is published, and each of its areas,
countries, regions, organisations and roles once. An agreement, when published, one to the
total, its kind, its year signed, each party and area once, and to the activities' facet
"agreement kind" the number of its published activities. Values are stored by key (a
choice, a year, a record's primary key); the page shows those that are public.

The activity list narrowed by one value of one facet (?area=12, ?status=pipeline) has its
other facets kept too, as the list "activities:area=12": an activity adds each of its
values to the list of each of its other values (pairs()). An organisation and a role pair
within one participation, as facets.RoleField counts an organisation's own roles. Counted
under the filter at a million activities, these facets took longer than the time budget
(a narrowed list holds up to a few hundred thousand activities); a save that changes no
column they read (an editor's change of the text) reads no link for them.

An agreement's activities (?agreement=12) are kept the same way, as the list
"activities:agreement=12" with its total (facet "all") and the count of each value of each
facet: an activity adds one to the total of its agreement's list and each of its values to
it. Not the other way round: no list narrowed by a facet's value counts agreements, which
no page shows as a facet.
"""

import itertools
import secrets
from collections import Counter

from django.core.cache import cache
from django.db import connections, transaction
from django.db.models import CharField, Count, F, QuerySet
from django.db.models.functions import Cast, ExtractYear

from . import cached
from .models import (
    Activity,
    Agreement,
    Area,
    Country,
    FacetCount,
    Organisation,
    Participation,
    Publication,
    Region,
)

ACTIVITIES, AGREEMENTS = "activities", "agreements"
STORED_KEY = "cooperation:stored-counts:{}"
NARROWED_KEY = "cooperation:stored-counts:narrowed"
#: The facet that holds a list's total, with the value "".
TOTAL = "all"
#: The filter of the activity list by its agreement, whose lists are kept too (not a facet).
AGREEMENT = "agreement"
PUBLISHED = Publication.PUBLISHED

#: Link tables: (list, facet, the table, its owner and value columns).
ACTIVITY_LINKS = {
    "area": (Activity.areas.through, "area"),
    "country": (Activity.countries.through, "country"),
    "region": (Activity.regions.through, "region"),
}
AGREEMENT_LINKS = {
    "party": (Agreement.parties.through, "organisation"),
    "area": (Agreement.areas.through, "area"),
}
#: The facets that a deleted record was a value of: its rows go with it.
VALUE_OF = {
    Area: [(ACTIVITIES, "area"), (AGREEMENTS, "area")],
    Country: [(ACTIVITIES, "country")],
    Region: [(ACTIVITIES, "region")],
    Organisation: [(ACTIVITIES, "organisation"), (AGREEMENTS, "party")],
}


# What records add to the counts. Each returns a Counter of (list, facet, value) keys.


def activity_columns(ids, using):
    """What activities add through their own columns; and which of them are published."""
    rows = (
        Activity.objects.using(using)
        .filter(pk__in=ids, publication=PUBLISHED)
        .values_list("pk", "status", "start_date", "agreement__kind", "agreement__publication")
    )
    added, published = Counter(), set()
    for pk, status, start, kind, agreement_publication in rows:
        published.add(pk)
        added[ACTIVITIES, TOTAL, ""] += 1
        added[ACTIVITIES, "status", status] += 1
        if start is not None:
            added[ACTIVITIES, "start_year", str(start.year)] += 1
        if agreement_publication == PUBLISHED:
            added[ACTIVITIES, "agreement_kind", kind] += 1
    return added, published


def activity_links(ids, facets, using, published=True):
    """
    What the published ones of activities `ids` add through their links, in `facets`; all
    of them, with `published` false (an activity's save knows whether it is published).
    """
    if not ids:
        return Counter()
    added = links_of(ACTIVITIES, "activity", ACTIVITY_LINKS, ids, facets, using, published)
    public = {"activity__publication": PUBLISHED} if published else {}
    participations = Participation.objects.using(using).filter(activity__in=ids, **public)
    for facet, column in [("organisation", "organisation"), ("role", "role")]:
        if facet in facets:
            pairs = participations.order_by().values_list("activity", column).distinct()
            for _, value in pairs:
                added[ACTIVITIES, facet, str(value)] += 1
    return added


ACTIVITY_LINK_FACETS = {*ACTIVITY_LINKS, "organisation", "role"}


def paired(ids, facets, using):
    """What activities add through their links in `facets`, and to the narrowed lists."""
    return activity_links(ids, facets, using) + pairs(ids, using)


def of_activities(ids, using):
    added, published = activity_columns(ids, using)
    return added + activity_links(published, ACTIVITY_LINK_FACETS, using) + pairs(ids, using)


def narrowed(facet, value):
    """The name of the activity list narrowed by one value of one facet: activities:area=12."""
    return f"{ACTIVITIES}:{facet}={value}"


#: Facets whose pairs are taken within one participation: an organisation in a role, as the
#: list narrowed by an organisation counts its roles (facets.RoleField) and the other way.
SAME_PARTICIPATION = {"organisation", "role"}


def facet_values(ids, using):
    """
    For each published activity of `ids`: the (facet, value) pairs it counts in, the
    (organisation, role) pairs of its participations, and its agreement if it has one.
    """
    rows = (
        Activity.objects.using(using)
        .filter(pk__in=ids, publication=PUBLISHED)
        .values_list(
            "pk", "status", "start_date", "agreement", "agreement__kind", "agreement__publication"
        )
    )
    found, roles, agreements = {}, {}, {}
    for pk, status, start, agreement, kind, agreement_publication in rows:
        values = found[pk] = {("status", status)}
        if start is not None:
            values.add(("start_year", str(start.year)))
        if agreement is not None:
            agreements[pk] = agreement
        if agreement_publication == PUBLISHED:
            values.add(("agreement_kind", kind))
    if not found:
        return found, roles, agreements
    published = list(found)
    for facet, (table, column) in ACTIVITY_LINKS.items():
        links = table.objects.using(using).filter(activity__in=published)
        for pk, value in links.values_list("activity", column):
            found[pk].add((facet, str(value)))
    participations = Participation.objects.using(using).filter(activity__in=published)
    for pk, organisation, role in participations.values_list("activity", "organisation", "role"):
        found[pk].update([("organisation", str(organisation)), ("role", role)])
        roles.setdefault(pk, set()).add((str(organisation), role))
    return found, roles, agreements


def pairs(ids, using):
    """
    What activities `ids` add to the counts of the lists narrowed by one facet's value:
    each value of each of its facets to the list narrowed by each value of its others; and
    to the list of its agreement's activities, one to its total and each of its values.
    """
    added = Counter()
    found, roles, agreements = facet_values(ids, using)
    for pk, values in found.items():
        for facet, value in values:
            for other, other_value in values:
                if other != facet and {facet, other} != SAME_PARTICIPATION:
                    added[narrowed(facet, value), other, other_value] += 1
        for organisation, role in roles.get(pk, ()):
            added[narrowed("organisation", organisation), "role", role] += 1
            added[narrowed("role", role), "organisation", organisation] += 1
        if pk in agreements:
            agreement = narrowed(AGREEMENT, agreements[pk])
            added[agreement, TOTAL, ""] += 1
            for facet, value in values:
                added[agreement, facet, value] += 1
    return added


def agreement_columns(ids, using):
    """
    What agreements add through their own columns, with what they add to their published
    activities' facet "agreement kind"; and which of them are published.
    """
    rows = (
        Agreement.objects.using(using)
        .filter(pk__in=ids, publication=PUBLISHED)
        .values_list("pk", "kind", "signed_on")
    )
    added, published = Counter(), set()
    for pk, kind, signed in rows:
        published.add(pk)
        added[AGREEMENTS, TOTAL, ""] += 1
        added[AGREEMENTS, "kind", kind] += 1
        if signed is not None:
            added[AGREEMENTS, "signed_year", str(signed.year)] += 1
    if published:
        activities = (
            Activity.objects.using(using)
            .filter(agreement__in=published, publication=PUBLISHED)
            .order_by()
            .values_list("agreement__kind")
            .annotate(n=Count("pk"))
        )
        for kind, n in activities:
            added[ACTIVITIES, "agreement_kind", kind] += n
    return added, published


def agreement_links(ids, facets, using, published=True):
    return links_of(AGREEMENTS, "agreement", AGREEMENT_LINKS, ids, facets, using, published)


def links_of(list_name, owner, link_tables, ids, facets, using, published):
    """
    What the records `ids` of `list_name` (their published ones, with `published`) add
    through the link tables `link_tables` ({facet: (table, column)}) in `facets`.
    """
    added = Counter()
    if not ids:
        return added
    public = {f"{owner}__publication": PUBLISHED} if published else {}
    for facet, (table, column) in link_tables.items():
        if facet in facets:
            links = table.objects.using(using).filter(**{f"{owner}__in": ids}, **public)
            for value in links.values_list(column, flat=True):
                added[list_name, facet, str(value)] += 1
    return added


def of_agreements(ids, using):
    added, published = agreement_columns(ids, using)
    return added + agreement_links(published, set(AGREEMENT_LINKS), using)


# Writing the differences.


def add(before, after, using):
    """Add what `after` counts and `before` did not (or take away), in one statement."""
    changes = [(*key, after[key] - before[key]) for key in before.keys() | after.keys()]
    # In one order, so that two writes that take locks on the same rows wait, not deadlock.
    changes = sorted(change for change in changes if change[3])
    if not changes:
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(FacetCount._meta.db_table)
    columns = ", ".join(quote(name) for name in ["list_name", "facet", "value", "count"])
    count = quote("count")
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(changes))
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {rows} "
            f"ON CONFLICT ({columns.rsplit(', ', 1)[0]}) "
            f"DO UPDATE SET {count} = {table}.{count} + excluded.{count}",
            [part for change in changes for part in change],
        )
    forget(using)


def forget(using):
    """Drop the counts kept in the cache: now, and again once the write is committed."""
    keys = [STORED_KEY.format(list_name) for list_name in [ACTIVITIES, AGREEMENTS]]
    keys.append(NARROWED_KEY)
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys), using=using)


def rebuild(using="default"):
    """Empty the table and count every facet of both lists again."""
    counts = Counter()
    activities = Activity.objects.using(using).filter(publication=PUBLISHED).order_by()
    counts[ACTIVITIES, TOTAL, ""] = activities.count()
    grouped = {
        "status": activities.values_list("status"),
        "start_year": activities.filter(start_date__isnull=False)
        .annotate(year=ExtractYear("start_date"))
        .values_list("year"),
        "agreement_kind": activities.filter(agreement__publication=PUBLISHED).values_list(
            "agreement__kind"
        ),
    }
    for facet, (table, column) in ACTIVITY_LINKS.items():
        rows = table.objects.using(using).filter(activity__publication=PUBLISHED).order_by()
        grouped[facet] = rows.values_list(column)
    participations = Participation.objects.using(using).filter(activity__publication=PUBLISHED)
    for facet in ["organisation", "role"]:
        grouped[facet] = participations.order_by().values_list(facet)
    agreements = Agreement.objects.using(using).filter(publication=PUBLISHED).order_by()
    counts[AGREEMENTS, TOTAL, ""] = agreements.count()
    agreement_grouped = {
        "kind": agreements.values_list("kind"),
        "signed_year": agreements.filter(signed_on__isnull=False)
        .annotate(year=ExtractYear("signed_on"))
        .values_list("year"),
    }
    for facet, (table, column) in AGREEMENT_LINKS.items():
        rows = table.objects.using(using).filter(agreement__publication=PUBLISHED).order_by()
        agreement_grouped[facet] = rows.values_list(column)
    for list_name, facets in [(ACTIVITIES, grouped), (AGREEMENTS, agreement_grouped)]:
        for facet, rows in facets.items():
            # Organisations and roles: each activity once, however many times it links one.
            distinct = facet in ("organisation", "role")
            counted = rows.annotate(n=Count("activity" if distinct else "pk", distinct=distinct))
            for value, n in counted:
                counts[list_name, facet, str(value)] = n
    with transaction.atomic(using=using):
        FacetCount.objects.using(using).all().delete()
        FacetCount.objects.using(using).bulk_create(
            FacetCount(list_name=list_name, facet=facet, value=value, count=n)
            for (list_name, facet, value), n in counts.items()
            if n
        )
        rebuild_pairs(using)
    forget(using)


def value_rows(using):
    """
    For each facet of the activities, the query of its (owner, value) rows: each published
    activity with each value it counts in once, values as text as the table keeps them.
    """
    text = CharField()
    activities = Activity.objects.using(using).filter(publication=PUBLISHED).order_by()
    found = {
        "status": activities.values(owner=F("pk"), value=F("status")),
        "start_year": activities.filter(start_date__isnull=False).values(
            owner=F("pk"), value=Cast(ExtractYear("start_date"), text)
        ),
        "agreement_kind": activities.filter(agreement__publication=PUBLISHED).values(
            owner=F("pk"), value=F("agreement__kind")
        ),
    }
    for facet, (table, column) in ACTIVITY_LINKS.items():
        rows = table.objects.using(using).filter(activity__publication=PUBLISHED).order_by()
        found[facet] = rows.values(owner=F("activity"), value=Cast(column, text))
    participations = (
        Participation.objects.using(using).filter(activity__publication=PUBLISHED).order_by()
    )
    found["organisation"] = participations.values(
        owner=F("activity"), value=Cast("organisation", text)
    ).distinct()
    found["role"] = participations.values(owner=F("activity"), value=F("role")).distinct()
    return found


def rebuild_pairs(using):
    """
    Count the lists narrowed by one facet's value (see pairs()) in the database, one query
    for each two facets: at a million activities the pairs are some hundred million.
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(FacetCount._meta.db_table)
    columns = ", ".join(quote(name) for name in ["list_name", "facet", "value", "count"])

    def sql(queryset):
        return queryset.query.get_compiler(using).as_sql()

    rows = value_rows(using)
    joined = []
    for first, second in itertools.combinations(rows, 2):
        if {first, second} == SAME_PARTICIPATION:
            continue
        (first_sql, first_params), (second_sql, second_params) = map(
            sql, [rows[first], rows[second]]
        )
        joined.append(
            (
                first,
                second,
                f"SELECT a.value AS first_value, b.value AS second_value, COUNT(*) AS n "
                f"FROM ({first_sql}) a INNER JOIN ({second_sql}) b ON a.owner = b.owner "
                "GROUP BY a.value, b.value",
                [*first_params, *second_params],
            )
        )
    roles = Participation.objects.using(using).filter(activity__publication=PUBLISHED)
    roles_sql, roles_params = sql(
        roles.order_by()
        .values(
            owner=F("activity"),
            first_value=Cast("organisation", CharField()),
            second_value=F("role"),
        )
        .distinct()
    )
    joined.append(
        (
            "organisation",
            "role",
            "SELECT first_value, second_value, COUNT(*) AS n "
            f"FROM ({roles_sql}) pairs GROUP BY first_value, second_value",
            roles_params,
        )
    )
    with connection.cursor() as cursor:
        for first, second, found, params in joined:
            # Each pair of values counted once and written both ways round.
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "
                "SELECT CASE side WHEN 1 THEN %s || first_value ELSE %s || second_value END, "
                "CASE side WHEN 1 THEN %s ELSE %s END, "
                "CASE side WHEN 1 THEN second_value ELSE first_value END, n "
                f"FROM ({found}) found, (SELECT 1 AS side UNION ALL SELECT 2) sides",
                [narrowed(first, ""), narrowed(second, ""), second, first, *params],
            )
    rebuild_agreements(using, rows)


def rebuild_agreements(using, rows=None):
    """
    Count the lists of an agreement's activities (see pairs()) in the database: their
    totals, then one query for each facet. `rows` is value_rows(), if read already.
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(FacetCount._meta.db_table)
    columns = ", ".join(quote(name) for name in ["list_name", "facet", "value", "count"])
    rows = value_rows(using) if rows is None else rows
    activities = (
        Activity.objects.using(using)
        .filter(publication=PUBLISHED, agreement__isnull=False)
        .order_by()
        .values(owner=F("pk"), value=Cast("agreement", CharField()))
    )
    agreement_sql, agreement_params = activities.query.get_compiler(using).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) "
            f"SELECT %s || a.value, %s, '', COUNT(*) FROM ({agreement_sql}) a GROUP BY a.value",
            [narrowed(AGREEMENT, ""), TOTAL, *agreement_params],
        )
        for facet, queryset in rows.items():
            facet_sql, facet_params = queryset.query.get_compiler(using).as_sql()
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "
                f"SELECT %s || a.value, %s, b.value, COUNT(*) FROM ({agreement_sql}) a "
                f"INNER JOIN ({facet_sql}) b ON a.owner = b.owner GROUP BY a.value, b.value",
                [narrowed(AGREEMENT, ""), facet, *agreement_params, *facet_params],
            )


def stored(list_name, using="default"):
    """
    The counts of a list by facet: {facet: [(value, count), ...]}, counts above zero; kept
    in the cache until a write changes them (the organisation facet alone is 2,000 rows at
    a million activities: reading them took 20 ms of every unfiltered page).
    """
    if using != "default":
        return read_stored(list_name, using)
    key = STORED_KEY.format(list_name)
    if list_name not in (ACTIVITIES, AGREEMENTS):
        # A narrowed list, one of thousands: their keys change together on a write.
        key += ":" + cache.get_or_set(NARROWED_KEY, lambda: secrets.token_hex(8), None)
    return cache.get_or_set(key, lambda: read_stored(list_name, using), cached.MAX_AGE)


def read_stored(list_name, using):
    found = {}
    rows = FacetCount.objects.using(using).filter(list_name=list_name, count__gt=0).order_by()
    for facet, value, n in rows.values_list("facet", "value", "count"):
        found.setdefault(facet, []).append((value, n))
    return found


def of_value(list_name, facet, value, using="default"):
    """The number of published records of a list with one value of one facet."""
    rows = FacetCount.objects.using(using).filter(list_name=list_name, facet=facet)
    return rows.filter(value=str(value)).values_list("count", flat=True).first() or 0


def total(list_name, using="default"):
    return totals(using).get(list_name, 0) if list_name else 0


def totals(using="default"):
    """The number of published records of each list: {"activities": n, "agreements": n}."""
    # Named lists, so that the table's unique index finds the rows among those of the
    # narrowed lists (a million and a half at a million activities).
    rows = FacetCount.objects.using(using).filter(
        list_name__in=[ACTIVITIES, AGREEMENTS], facet=TOTAL, value=""
    )
    rows = rows.order_by()
    return dict(rows.values_list("list_name", "count"))


# Receivers, connected in apps.py. Each pre_* receiver keeps what the records counted on
# the instance written; its post_* receiver adds the difference.


#: The columns of an activity and of an agreement that the activities' facets read.
ACTIVITY_COLUMNS = ["publication", "status", "start_date", "agreement_id"]
AGREEMENT_COLUMNS = ["publication", "kind"]


def changes_columns(instance, columns, using):
    """Whether a save of `instance` changes any of `columns` (a new record: always)."""
    if not instance.pk:
        return True
    saved = type(instance).objects.using(using).filter(pk=instance.pk).values_list(*columns)
    return saved.first() != tuple(getattr(instance, column) for column in columns)


def activity_saving(sender, instance, using="default", **kwargs):
    instance._counted_before = activity_columns([instance.pk], using) if instance.pk else None
    # The lists narrowed by a value count again only when a column they read changes: an
    # editor's change of the text reads no link.
    instance._paired_before = None
    if changes_columns(instance, ACTIVITY_COLUMNS, using):
        instance._paired_before = pairs([instance.pk] if instance.pk else [], using)


def activity_saved(sender, instance, using="default", **kwargs):
    before, was_published = getattr(instance, "_counted_before", None) or (Counter(), set())
    after, published = activity_columns([instance.pk], using)
    # A save changes no link: the links count again only when the publication changes.
    if published != was_published:
        links = activity_links([instance.pk], ACTIVITY_LINK_FACETS, using, published=False)
        (after if published else before).update(links)
    paired_before = getattr(instance, "_paired_before", None)
    if paired_before is not None:
        before.update(paired_before)
        after.update(pairs([instance.pk], using))
    add(before, after, using)


def agreement_saving(sender, instance, using="default", **kwargs):
    instance._counted_before = agreement_columns([instance.pk], using) if instance.pk else None
    # Its activities' kind of agreement, in the lists narrowed by their other values.
    instance._paired_before = None
    if instance.pk and changes_columns(instance, AGREEMENT_COLUMNS, using):
        ids = list(instance.activities.using(using).values_list("pk", flat=True))
        instance._paired_before = (ids, pairs(ids, using))


def agreement_saved(sender, instance, using="default", **kwargs):
    before, was_published = getattr(instance, "_counted_before", None) or (Counter(), set())
    after, published = agreement_columns([instance.pk], using)
    if published != was_published:
        links = agreement_links([instance.pk], set(AGREEMENT_LINKS), using, published=False)
        (after if published else before).update(links)
    if getattr(instance, "_paired_before", None) is not None:
        ids, paired_before = instance._paired_before
        before.update(paired_before)
        after.update(pairs(ids, using))
    add(before, after, using)


def record_deleting(sender, instance, using="default", **kwargs):
    """pre_delete of an activity or agreement: all it counted, before its links go."""
    of = of_activities if sender is Activity else of_agreements
    instance._counted_before = of([instance.pk], using)


def record_deleted(sender, instance, using="default", **kwargs):
    add(getattr(instance, "_counted_before", Counter()), Counter(), using)
    if sender is Agreement:  # Its list is empty (its activities protect it): rows of zero.
        FacetCount.objects.using(using).filter(list_name=narrowed(AGREEMENT, instance.pk)).delete()


def own_deletion(origin):
    """Whether participations are deleted for themselves, not with their activity."""
    if isinstance(origin, QuerySet):
        return origin.model is Participation
    return isinstance(origin, Participation)


PARTICIPATION_FACETS = {"organisation", "role"}


def participation_saving(sender, instance, using="default", **kwargs):
    ids = {instance.activity_id}
    if instance.pk:  # The activity it was on, if it moves.
        saved = Participation.objects.using(using).filter(pk=instance.pk)
        ids |= set(saved.values_list("activity", flat=True))
    ids -= {None}
    instance._counted_before = (ids, paired(ids, PARTICIPATION_FACETS, using))


def participation_saved(sender, instance, using="default", **kwargs):
    ids, before = instance._counted_before
    ids = ids | {instance.activity_id}
    add(before, paired(ids, PARTICIPATION_FACETS, using), using)


def participation_deleting(sender, instance, using="default", origin=None, **kwargs):
    """
    pre_delete of a participation deleted for itself. One deletion (of a queryset) may
    take several of an activity's participations: all pre_delete signals come before the
    rows go, so what the activity counted is read once, kept on the deletion's origin, and
    the difference added after its last participation went.
    """
    if not own_deletion(origin):
        return  # Its activity is being deleted, and counts it (record_deleting).
    pending = origin.__dict__.setdefault("_counted_participations", {})
    if instance.activity_id not in pending:
        before = paired({instance.activity_id}, PARTICIPATION_FACETS, using)
        pending[instance.activity_id] = [before, 0]
    pending[instance.activity_id][1] += 1


def participation_deleted(sender, instance, using="default", origin=None, **kwargs):
    pending = getattr(origin, "_counted_participations", {}) if own_deletion(origin) else {}
    if instance.activity_id not in pending:
        return
    pending[instance.activity_id][1] -= 1
    if pending[instance.activity_id][1] == 0:
        before, _ = pending.pop(instance.activity_id)
        after = paired({instance.activity_id}, PARTICIPATION_FACETS, using)
        add(before, after, using)


def links_changed(sender, instance, action, reverse, pk_set, using="default", **kwargs):
    """
    m2m_changed of the links facets count: an activity's areas, countries, regions and
    organisations (participations written by add() or set()), an agreement's parties and
    areas, from either side.
    """
    if sender is Participation:
        if not action.endswith("_add"):
            return  # remove() and clear() delete participations, which count themselves.
        facets, owner, of = PARTICIPATION_FACETS, Activity, paired
    else:
        owner = Activity if sender in {table for table, _ in ACTIVITY_LINKS.values()} else Agreement
        links = ACTIVITY_LINKS if owner is Activity else AGREEMENT_LINKS
        facets = {facet for facet, (table, _) in links.items() if table is sender}
        of = paired if owner is Activity else agreement_links
    if action.startswith("pre_"):
        if not reverse:
            ids = {instance.pk}
        elif action == "pre_clear":
            column = "activity" if owner is Activity else "agreement"
            value = next(
                field.name
                for field in sender._meta.get_fields()
                if getattr(field, "related_model", None) is type(instance)
            )
            rows = sender.objects.using(using).filter(**{value: instance.pk})
            ids = set(rows.values_list(column, flat=True))
        else:
            ids = set(pk_set or ())
        pending = instance.__dict__.setdefault("_counted_links", {})
        pending[sender] = (ids, of(ids, facets, using))
    else:
        ids, before = instance.__dict__.get("_counted_links", {}).pop(sender, (set(), Counter()))
        add(before, of(ids, facets, using), using)


def value_deleted(sender, instance, using="default", **kwargs):
    """post_delete of an area, country, region or organisation: its links went with it."""
    rows = FacetCount.objects.using(using)
    for list_name, facet in VALUE_OF.get(sender, []):
        rows.filter(list_name=list_name, facet=facet, value=str(instance.pk)).delete()
        if list_name == ACTIVITIES:
            rows.filter(list_name=narrowed(facet, instance.pk)).delete()
            narrowing = rows.filter(list_name__startswith=f"{ACTIVITIES}:")
            narrowing.filter(facet=facet, value=str(instance.pk)).delete()
    forget(using)

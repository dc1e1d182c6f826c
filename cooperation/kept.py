"""
What an export writes of each published activity, worked out ahead of time and kept in a
table (models.KeptCells) by `manage.py keep_export_cells`: the CSV cells of its linked
rows (organisations by role, areas, countries, regions, citations; exports.ACTIVITY_COLUMNS),
its IATI XML element but for its dates, which depend on the day (iati_sql.
element_parts), and its JSON (json_sql.kept_column). At a million
activities, joining the linked rows to each activity took about four fifths of an
export's time. CSV reads an activity's own cells from its row.

Kept texts are read only while they are still true (still_true()), which the reading
statement checks row by row, so an editor's save never waits on the table:

- the activity's links have not changed since: every write of a participation, citation
  or link to an area, country or region gives its activity a new `links_changed_at`
  (receivers below, connected in apps.py), in the write's transaction, and every save of
  an agreement gives its activities one (JSON names their agreement);
- for IATI XML and JSON, the activity itself has not changed since (its `changed_at`);
- no name has changed since: every save or delete of an organisation, area, country,
  region or source, and every change of a source's publishers, adds one to
  NamesVersion, whose number each kept row records;
- they were worked out by the same statement (layout(), a hash of its SQL), so a release
  that changes how a cell is written does not read cells written the old way.

Each chunk is kept by one statement that reads the links, their names, the activity and
the names' version at the same moment: a write that commits later makes the row stale,
never wrong. Writes that send no signal (bulk_create, update(), SQL) must call
links_changed() or names_changed(), or be followed by `keep_export_cells --all`. On
SQLite nothing is kept: its exports work out every cell, quickly at the sizes SQLite
serves.
"""

import datetime
import hashlib

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone

from .models import Activity, KeptCells, NamesVersion, Publication

#: Activities kept by one statement.
CHUNK = 5_000


def table(model):
    return model._meta.db_table


#: The table of kept texts, as SQL.
TABLE = table(KeptCells)


def links_changed(activity_ids, using):
    """Mark the links of the activities `activity_ids` changed: their kept texts are stale."""
    activity_ids = {pk for pk in activity_ids if pk is not None}
    if activity_ids:
        Activity.objects.using(using).filter(pk__in=activity_ids).update(
            links_changed_at=timezone.now()
        )


def names_changed(using):
    """Mark every kept text stale: a name or code they may show has changed."""
    NamesVersion.objects.using(using).filter(pk=1).update(number=F("number") + 1)


def still_true(activity_id, links_changed_at, changed_at=None):
    """
    SQL of the condition that the row `kept` (of KeptCells) holds the kept texts of the
    activity whose id and the time its links last changed are the SQL `activity_id` and
    `links_changed_at`, and that they are still true. With `changed_at` (the time the
    activity itself last changed), they must have been kept since that too.
    """
    own = "" if changed_at is None else f"AND kept.changed_at = {changed_at} "
    return (
        f"kept.activity_id = {activity_id} AND kept.links_changed_at = {links_changed_at} {own}"
        f"AND kept.names_version = (SELECT number FROM {table(NamesVersion)} WHERE id = 1) "
        f"AND kept.layout = '{layout()}'"
    )


#: In the statement that keeps a chunk's texts, until it is hashed (layout()).
LAYOUT = "'(layout)'"
#: (SQL, parameters) of that statement, once made, by the reporting organisation that
#: its IATI XML names (a setting).
statements = {}


def keep_statement():
    """
    (SQL, parameters) of the statement that keeps the texts of the activities whose ids
    are in its first parameter (an array): exports' grouped queries of linked cells,
    iati_sql's of the parts of an element but its dates and json_sql's of the JSON of
    linked rows, over the same keys, written over any kept before.
    """
    reporter = repr(settings.IATI_REPORTING_ORGANISATION)
    if reporter in statements:
        return statements[reporter]
    from . import iati_sql, json_sql
    from .exports import KEY, KEYS, TABLES, grouped_cells, joined_statements

    columns = TABLES["activity-list"].columns
    joined, sources = grouped_cells(columns)
    grouped, params = joined_statements(joined)
    site = iati_sql.literal(iati_sql.SITE)
    head, _, tail = iati_sql.element_parts(site, datetime.date.today())
    linked = iati_sql.linked_rows(site)
    json, json_linked = json_sql.kept_column()
    linked += json_linked
    chosen = f'{{key}} IN (SELECT "{KEY}" FROM "{KEYS}")'
    ctes = [
        f'"{KEYS}" AS MATERIALIZED (SELECT unnest(%s::bigint[]) AS "{KEY}" ORDER BY 1)',
        *grouped,
        *[link.cte(chosen) for link in linked],
    ]
    csv = ", ".join(f"'{columns[number].name}', {source}" for number, source in sources.items())
    joins = " ".join(
        f'LEFT JOIN "joined_{n}" ON "joined_{n}"."{KEY}" = activity.id' for n in range(len(joined))
    )
    sql = (
        f"WITH {', '.join(ctes)} "
        f"INSERT INTO {TABLE} "
        "(activity_id, links_changed_at, changed_at, names_version, layout, cells, "
        "iati_head, iati_tail, json) "
        "SELECT activity.id, activity.links_changed_at, activity.changed_at, names.number, "
        f"{LAYOUT}, jsonb_build_object({csv}), {head}, {tail}, {json} "
        f'FROM "{KEYS}" JOIN {table(Activity)} activity ON activity.id = "{KEYS}"."{KEY}" '
        f"{iati_sql.TEXTS} {json_sql.AGREEMENT} "
        f"JOIN {table(NamesVersion)} names ON names.id = 1 {joins} "
        f"{iati_sql.linked_joins(linked)} "
        "ON CONFLICT (activity_id) DO UPDATE SET links_changed_at = EXCLUDED.links_changed_at, "
        "changed_at = EXCLUDED.changed_at, names_version = EXCLUDED.names_version, "
        "layout = EXCLUDED.layout, cells = EXCLUDED.cells, iati_head = EXCLUDED.iati_head, "
        "iati_tail = EXCLUDED.iati_tail, json = EXCLUDED.json"
    )
    statements[reporter] = sql, params
    return statements[reporter]


def layout():
    """A hash of the statement that keeps the texts: the same for texts kept the same way."""
    sql, params = keep_statement()
    return hashlib.sha256(f"{sql}{params!r}".encode()).hexdigest()[:16]


def still_true_rows(using):
    """
    The kept rows that exports read: built from the activity, its links and the names as
    they are now (CSV reads its row's cells while only the activity itself has changed).
    """
    version = NamesVersion.objects.using(using).filter(pk=1).values("number")
    return KeptCells.objects.using(using).filter(
        activity=OuterRef("pk"),
        links_changed_at=OuterRef("links_changed_at"),
        changed_at=OuterRef("changed_at"),
        names_version=Subquery(version),
        layout=layout(),
    )


def keep(using="default", everything=False, report=None):
    """
    Keep the texts of every published activity that has none still true (with
    `everything`, of every one), CHUNK at a time, each chunk in its own transaction;
    forget those of activities no longer published. (The number kept, the number
    published.)
    """
    if connections[using].vendor != "postgresql":
        return 0, 0
    NamesVersion.objects.using(using).get_or_create(pk=1)
    sql, params = keep_statement()
    sql = sql.replace(LAYOUT, f"'{layout()}'")
    published = Activity.objects.using(using).filter(publication=Publication.PUBLISHED)
    with connections[using].cursor() as cursor:  # Without reading each row, as delete() does.
        cursor.execute(
            f"DELETE FROM {TABLE} kept USING {table(Activity)} activity "
            "WHERE activity.id = kept.activity_id AND activity.publication <> %s",
            [Publication.PUBLISHED],
        )
    stale = published if everything else published.exclude(Exists(still_true_rows(using)))
    ids = list(stale.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(sql, [ids[start : start + CHUNK], *params])
        if report:
            report(min(start + CHUNK, len(ids)), len(ids))
    return len(ids), published.count()


def forget(using="default"):
    """Forget every kept text: exports work out every cell again."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")


# Receivers, connected in apps.py. Raw saves (a revert, loaddata) count: they change links.


def link_saving(sender, instance, using, **kwargs):
    """Before a participation or citation is saved: the activity it was linked to."""
    if instance.pk is not None:
        instance._former_activity_id = (
            sender.objects.using(using).filter(pk=instance.pk).values_list("activity_id").first()
        )


def link_saved(sender, instance, using, **kwargs):
    former = getattr(instance, "_former_activity_id", None)
    links_changed([instance.activity_id, former[0] if former else None], using)


def link_deleted(sender, instance, using, **kwargs):
    links_changed([instance.activity_id], using)


def m2m_changed(sender, instance, action, reverse, pk_set, using, **kwargs):
    """An activity's areas, countries, regions or organisations added, removed or cleared."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:
        links_changed([instance.pk], using)
    elif action == "pre_clear":
        target = sender._meta.get_field(type(instance)._meta.model_name)
        links_changed(
            sender.objects.using(using)
            .filter(**{target.name: instance.pk})
            .values_list("activity_id", flat=True),
            using,
        )
    else:
        links_changed(pk_set, using)


def agreement_saved(sender, instance, using, **kwargs):
    """An agreement saved: its title or publication, which its activities' JSON shows."""
    Activity.objects.using(using).filter(agreement=instance.pk).update(
        links_changed_at=timezone.now()
    )


def name_changed(sender, instance, using, **kwargs):
    names_changed(using)


def publishers_changed(sender, action, using, **kwargs):
    """The organisations that published a source added, removed or cleared (JSON shows them)."""
    if action in ("post_add", "post_remove", "post_clear"):
        names_changed(using)

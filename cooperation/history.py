"""
What changed between two versions of a record, in words: for the admin's history, the
message that refuses a stale save, and the public change log.

django-reversion stores the versions (each record's version holds its inline rows, see the
registrations at the end of models.py) and reverts them; this module reads them.
"""

from dataclasses import dataclass
from itertools import chain

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.models import OuterRef, Subquery
from django.utils.formats import date_format
from django.utils.text import capfirst
from reversion.models import Version

from .models import HISTORY_FOLLOWS, Activity, Agreement, Area, Organisation, Publication, Region

#: Bookkeeping that a person did not change, or that is told apart (publication).
UNTRACKED_FIELDS = {"id", "changed_at", "published_at", "publication"}


@dataclass(frozen=True)
class Change:
    """One difference: a field's old and new value, or a row added ("" old) or removed."""

    label: str
    old: str
    new: str

    def __str__(self):
        if not self.old:
            return f"{self.label}: added {self.new}"
        if not self.new:
            return f"{self.label}: removed {self.old}"
        return f"{self.label}: {self.old} → {self.new}"


def versions_of(record):
    return Version.objects.get_for_object(record).select_related("revision__user")


def latest_version_id(record):
    return versions_of(record).order_by("-pk").values_list("pk", flat=True).first()


def lock(record):
    """
    Hold the record's row until the transaction ends, so that two saves of it queue up
    instead of both checking against the same version. SQLite locks the whole database for
    a write transaction instead (see the IMMEDIATE transaction mode in the settings).
    """
    if connection.in_atomic_block and connection.features.has_select_for_update:
        list(type(record).objects.select_for_update().filter(pk=record.pk).values_list("pk"))


def tracked_fields(model):
    return [
        field
        for field in model._meta.get_fields()
        if field.concrete
        and not field.auto_created
        and field.name not in UNTRACKED_FIELDS
        and not (field.many_to_many and not field.remote_field.through._meta.auto_created)
    ]


def child_keys(model):
    """The rows that make up a record: the foreign keys to it that its history follows."""
    fields = [model._meta.get_field(name) for name in HISTORY_FOLLOWS.get(model, [])]
    return [field.remote_field for field in fields if field.one_to_many]


class Describer:
    """Turns pairs of versions into changes, looking up related names in few queries."""

    def __init__(self):
        self.names = {}

    def display(self, field, value):
        if value in (None, "", []):
            return ""
        if field.many_to_many:
            return ", ".join(self.name(field.related_model, pk) for pk in value)
        if field.many_to_one:
            return self.name(field.related_model, value)
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(field, models.DateField) and hasattr(value, "year"):
            return date_format(value, "j F Y")
        if isinstance(field, models.BooleanField):
            return "yes" if value else "no"
        return str(value)

    def name(self, model, pk):
        return self.names.get((model, str(pk)), f"#{pk} (deleted)")

    def load_names(self, versions):
        """Look up, one query a model, the records that `versions` refer to."""
        wanted = {}
        for version in versions:
            for field in tracked_fields(version._model):
                value = version.field_dict.get(field.attname)
                if field.many_to_many:
                    wanted.setdefault(field.related_model, set()).update(value or [])
                elif field.many_to_one and value is not None:
                    wanted.setdefault(field.related_model, set()).add(value)
        for model, pks in wanted.items():
            self.names.update(
                ((model, str(row.pk)), str(row))
                for row in model._default_manager.filter(pk__in=pks)
            )

    def field_changes(self, model, old, new, prefix=""):
        changes = []
        for field in tracked_fields(model):
            before, after = old.get(field.attname), new.get(field.attname)
            if field.many_to_many:
                before, after = sorted(before or []), sorted(after or [])
            if (before or None) != (after or None):
                changes.append(
                    Change(
                        prefix + capfirst(field.verbose_name),
                        self.display(field, before),
                        self.display(field, after),
                    )
                )
        return changes

    def row_changes(self, model, pk, old_rows, new_rows):
        changes = []
        for key in child_keys(model):
            child = key.model
            label = capfirst(child._meta.verbose_name)
            before = rows_of(old_rows, child, key.attname, pk)
            after = rows_of(new_rows, child, key.attname, pk)
            for row_pk in sorted(before.keys() - after.keys()):
                changes.append(Change(label, before[row_pk].object_repr, ""))
            for row_pk in sorted(after.keys() - before.keys()):
                changes.append(Change(label, "", after[row_pk].object_repr))
            for row_pk in sorted(before.keys() & after.keys()):
                old_row, new_row = before[row_pk], after[row_pk]
                changes += self.field_changes(
                    child,
                    without(old_row.field_dict, key.attname),
                    without(new_row.field_dict, key.attname),
                    prefix=f"{label} “{new_row.object_repr}”: ",
                )
        return changes

    def changes(self, version, previous, old_rows=(), new_rows=()):
        """What `version` changed after `previous`; nothing for a record's first version."""
        if previous is None:
            return []
        model = version._model
        return [
            *self.field_changes(model, previous.field_dict, version.field_dict),
            *self.row_changes(model, version.object_id, old_rows, new_rows),
        ]


def without(field_dict, name):
    return {key: value for key, value in field_dict.items() if key != name}


def rows_of(versions, model, fk_attname, parent_pk):
    return {
        version.object_id: version
        for version in versions
        if version._model is model and str(version.field_dict.get(fk_attname)) == str(parent_pk)
    }


def revision_rows(versions):
    """The versions stored with each of `versions`' revisions, by revision id."""
    by_revision = {}
    revisions = {version.revision_id for version in versions if version}
    for row in Version.objects.filter(revision_id__in=revisions).select_related("content_type"):
        by_revision.setdefault(row.revision_id, []).append(row)
    return by_revision


@dataclass
class Entry:
    """One saved version of a record and what it changed."""

    version: Version
    previous: Version | None
    changes: list

    @property
    def author(self):
        user = self.version.revision.user
        return user.get_username() if user else ""

    @property
    def first(self):
        return self.previous is None

    @property
    def published_now(self):
        return self.previous and self.state == Publication.PUBLISHED != self.previous_state

    @property
    def returned_to_draft(self):
        return self.state == Publication.DRAFT and self.previous_state == Publication.PUBLISHED

    @property
    def state(self):
        return self.version.field_dict.get("publication")

    @property
    def previous_state(self):
        return self.previous.field_dict.get("publication") if self.previous else None


def entries(versions, limit=None):
    """
    The versions of the queryset `versions` (of any registered records, at most `limit`),
    each with what it changed since the version of the same record before it, in a fixed
    number of queries.
    """
    earlier = Version.objects.filter(
        content_type=OuterRef("content_type"),
        object_id=OuterRef("object_id"),
        db=OuterRef("db"),
        pk__lt=OuterRef("pk"),
    )
    versions = list(
        versions.annotate(
            previous_id=Subquery(earlier.order_by("-pk").values("pk")[:1])
        ).select_related("revision__user")
    )
    previous = Version.objects.in_bulk([version.previous_id for version in versions])
    rows = revision_rows([*versions, *previous.values()])
    describer = Describer()
    describer.load_names([*versions, *previous.values(), *chain.from_iterable(rows.values())])
    result = []
    for version in versions:
        before = previous.get(version.previous_id)
        changes = describer.changes(
            version,
            before,
            old_rows=rows.get(before.revision_id, []) if before else [],
            new_rows=rows.get(version.revision_id, []),
        )
        result.append(Entry(version, before, changes))
    return result


def changes_since(record, version_id):
    """What changed in `record` after the version `version_id` (None: since it was created)."""
    latest = versions_of(record).order_by("-pk").first()
    if latest is None:
        return []
    opened = Version.objects.filter(pk=version_id).first() if version_id else None
    rows = revision_rows([latest, opened])
    describer = Describer()
    describer.load_names([latest, opened or latest, *chain.from_iterable(rows.values())])
    return describer.changes(
        latest,
        opened,
        old_rows=rows.get(opened.revision_id, []) if opened else [],
        new_rows=rows.get(latest.revision_id, []),
    )


def content_types(*models):
    return ContentType.objects.get_for_models(*models).values()


#: The records whose changes the public change log lists, once they are public.
LOGGED_MODELS = [Activity, Agreement, Organisation, Area, Region]
#: How many versions one page of the change log reads at most to find its entries.
LOG_SCAN = 500


@dataclass
class PublicChange:
    """A change the public may see: a public record, when, and what (never who)."""

    record: object
    entry: Entry

    @property
    def date(self):
        return self.entry.version.revision.date_created

    @property
    def kind(self):
        return self.record._meta.verbose_name

    @property
    def headline(self):
        publishable = "publication" in self.entry.version.field_dict
        if self.entry.first or self.entry.published_now:
            return "Published" if publishable else "Added"
        return "Changed"

    @property
    def changes(self):
        return self.entry.changes if self.headline == "Changed" else []

    @property
    def version_id(self):
        return self.entry.version.pk


def public_changes(before=None, limit=25):
    """
    The latest changes to public records, newest first: versions older than `before` (a
    version id) of records that are public now, saved while they were published. A version
    that published a record shows as "published" rather than as its drafts' differences.
    Returns the changes and the version id to continue from (None at the end).
    """
    versions = Version.objects.filter(content_type__in=content_types(*LOGGED_MODELS))
    if before is not None:
        versions = versions.filter(pk__lt=before)
    scanned = entries(versions.order_by("-pk"), limit=LOG_SCAN)
    records = {}
    for model in LOGGED_MODELS:
        ids = [entry.version.object_id for entry in scanned if entry.version._model is model]
        records[model] = {str(pk): row for pk, row in model.objects.public().in_bulk(ids).items()}
    shown = []
    for entry in scanned:
        record = records[entry.version._model].get(entry.version.object_id)
        if record is None:
            continue
        if "publication" in entry.version.field_dict and entry.state != Publication.PUBLISHED:
            continue
        if entry.changes or entry.published_now or entry.first:
            shown.append(PublicChange(record, entry))
        if len(shown) == limit:
            return shown, entry.version.pk
    more = len(scanned) == LOG_SCAN
    return shown, scanned[-1].version.pk if more else None

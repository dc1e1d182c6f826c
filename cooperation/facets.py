"""
Facets of a public list: for each of a few fields, its values with the number of records
that have each under the list's other filters, as links that add or remove that value.

Counts of the whole list, unfiltered, are read from the table counts.py keeps in step with
every write: a page with no filter counts nothing; nor does an activity list narrowed by
one value of one facet, whose other facets the table keeps too. Counts under other filters
stop at a time budget for all facets of a page (FACET_TIME_LIMIT_MS, as Datasette's
facet_time_limit_ms): on PostgreSQL each count runs with a statement timeout of what is
left of it, in a transaction rolled back afterwards; on SQLite a progress handler
interrupts it. A facet not counted in time lists its values without numbers and says so.
The counts of the list's own rows are tried first: when one of them runs out of the whole
budget, the others, which read those rows and more, are not tried. Counts under filters
are kept in the cache for the next page of the same filtered list (see cached.py).
"""

import dataclasses
import datetime
import functools
import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Count
from django.db.models.functions import ExtractYear
from django.http import QueryDict
from django.urls import reverse

from . import cached
from .counts import ACTIVITIES, AGREEMENT, TOTAL, narrowed, total
from .counts import stored as stored_counts
from .models import (
    Activity,
    ActivityStatus,
    Agreement,
    AgreementKind,
    Area,
    Country,
    Organisation,
    Participation,
    Publication,
    Region,
    Role,
)

#: Values a facet shows before a link to all of them.
SHOWN = 10
#: The most values a facet lists when asked for all: a page stays small, and the filter's
#: own field finds any organisation by name.
ALL_LIMIT = 100
#: The query parameter that asks for all values of one facet: ?_facet=area.
ALL_PARAMETER = "_facet"
#: Query parameters that place a page; a changed filter starts from the first.
PAGE_PARAMETERS = ["page", "after", "before"]
#: How often (in SQLite virtual machine steps) the deadline is checked.
SQLITE_STEPS = 1_000


class OutOfTime(Exception):
    pass


class Budget:
    """The time left for a page's facet counts, enforced by the database."""

    def __init__(self, milliseconds):
        self.deadline = time.monotonic() + milliseconds / 1000

    @property
    def left_ms(self):
        return int((self.deadline - time.monotonic()) * 1000)

    def run(self, count):
        """The result of `count()`, or OutOfTime if the budget runs out first."""
        left = self.left_ms
        if left <= 0:
            raise OutOfTime
        try:
            if connection.vendor == "postgresql":
                return self.run_postgresql(count, left)
            if connection.vendor == "sqlite":
                return self.run_sqlite(count)
            return count()
        except DatabaseError as error:
            if self.left_ms <= 0:
                raise OutOfTime from error
            raise

    def run_postgresql(self, count, left):
        # SET LOCAL ends with the transaction; rolling it back (a count writes nothing)
        # restores the request's own timeout, and a cancelled count leaves the request's
        # transaction, if any, as it was.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [left])
            try:
                return count()
            finally:
                transaction.set_rollback(True)

    def run_sqlite(self, count):
        # An interrupted SELECT leaves the transaction and the connection as they were.
        connection.ensure_connection()
        deadline = self.deadline
        handler = connection.connection.set_progress_handler
        handler(lambda: int(time.monotonic() > deadline), SQLITE_STEPS)
        try:
            return count()
        finally:
            handler(None, 0)


@dataclass
class Option:
    label: str
    key: str
    active: bool
    count: int | None
    field: "Field"
    query: QueryDict

    @functools.cached_property
    def url(self):
        # Written when shown: a facet may have thousands of values and show ten.
        return toggled(self.query, self.field, self.key, self.active)


@dataclass
class Facet:
    name: str
    label: str
    options: list
    counted: bool
    glossary: str = ""
    all_url: str = ""
    total_options: int = 0
    showing_all: bool = False
    everything: list = dataclasses.field(default_factory=list)

    @property
    def more(self):
        return bool(self.all_url)


class Field:
    """One facet: which filters it sets, how to count its values and how to name them."""

    #: Whether its count reads rows beyond the list's own (links, another table): it then
    #: takes at least as long as a count of the list's own rows.
    reads_beyond = True

    def __init__(self, name, label, glossary=""):
        self.name, self.label, self.glossary = name, label, glossary

    @property
    def parameters(self):
        return [self.name]

    def count(self, queryset):
        """(key, number) pairs for the values of `queryset`, the rows of the other filters."""
        raise NotImplementedError

    def choices(self):
        """(key, label) of every value, in the order to list them without counts."""
        raise NotImplementedError

    def from_stored(self, pairs):
        """(key, number) pairs from the table of unfiltered counts (counts.py)."""
        return pairs

    def selected(self, query):
        return query.get(self.name, "")

    def setting(self, key):
        return {self.name: key}

    def stored_key(self, key):
        """How the table of counts (counts.py) writes the value `key`."""
        return key


class ChoiceField(Field):
    reads_beyond = False

    def __init__(self, name, label, choices, column, glossary=""):
        super().__init__(name, label, glossary)
        self.choices_class, self.column = choices, column

    def count(self, queryset):
        rows = queryset.order_by().values(self.column).annotate(n=Count("pk"))
        return [(row[self.column], row["n"]) for row in rows if row[self.column]]

    def choices(self):
        return list(self.choices_class.choices)


class AgreementKindField(ChoiceField):
    """The kind of an activity's agreement, when that agreement is public."""

    reads_beyond = True

    def count(self, queryset):
        return super().count(queryset.filter(agreement__publication=Publication.PUBLISHED))


class RoleField(ChoiceField):
    """
    Roles: with an organisation chosen, the activities in which it has each role; otherwise
    those in which any organisation has it.
    """

    reads_beyond = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = None

    def count(self, queryset):
        links = Participation.objects.filter(activity__in=queryset.order_by().values("pk"))
        if self.organisation is not None:
            links = links.filter(organisation=self.organisation)
        rows = links.order_by().values("role").annotate(n=Count("activity", distinct=True))
        return [(row["role"], row["n"]) for row in rows]


class LinkField(Field):
    """
    A many-to-many field counted from its link table: the number of records of the list
    linked to each value, each record once (COUNT DISTINCT where a pair may repeat).
    """

    def __init__(self, name, label, links, owner, value, model, key, glossary="", distinct=False):
        super().__init__(name, label, glossary)
        self.links, self.owner, self.value = links, owner, value
        self.model, self.key, self.distinct = model, key, distinct

    def link_rows(self, queryset):
        return self.links().filter(**{f"{self.owner}__in": queryset.order_by().values("pk")})

    def count(self, queryset):
        rows = (
            self.link_rows(queryset)
            .order_by()
            .values(self.value)
            .annotate(n=Count(self.owner, distinct=self.distinct))
        )
        keys = self.keys()
        return [(keys[row[self.value]], row["n"]) for row in rows if row[self.value] in keys]

    @functools.cached_property
    def labelled(self):
        """The public values (labels()), read from the cache once for this field."""
        return labels(self.model, self.key)

    def keys(self):
        """The public values' primary keys and their keys in links, from the cache."""
        return dict(self.labelled["keys"])

    @functools.cached_property
    def stored_keys(self):
        """{primary key as the table of counts writes it: key in links} of public values."""
        return {str(pk): key for pk, key in self.labelled["keys"]}

    def from_stored(self, pairs):
        keys = self.stored_keys
        return [(keys[value], n) for value, n in pairs if value in keys]

    def stored_key(self, key):
        return next(pk for pk, value in self.stored_keys.items() if value == key)

    def choices(self):
        return self.labelled["choices"]


class OrganisationField(LinkField):
    """Organisations taking part in activities; in the chosen role, if any."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role = None

    def link_rows(self, queryset):
        rows = super().link_rows(queryset)
        return rows.filter(role=self.role) if self.role else rows


class YearField(Field):
    """The year a date falls in, set as the two date filters that bound it."""

    reads_beyond = False

    def __init__(self, name, label, column, after, before, model, glossary=""):
        super().__init__(name, label, glossary)
        self.column, self.after, self.before, self.model = column, after, before, model

    @property
    def parameters(self):
        return [self.after, self.before]

    def count(self, queryset):
        rows = (
            queryset.filter(**{f"{self.column}__isnull": False})
            .order_by()
            .annotate(year=ExtractYear(self.column))
            .values("year")
            .annotate(n=Count("pk"))
        )
        return sorted(((str(row["year"]), row["n"]) for row in rows), reverse=True)

    @functools.cached_property
    def years(self):
        return labels(self.model, self.column)["years"]

    def choices(self):
        return [(year, year) for year in self.years]

    def from_stored(self, pairs):
        return sorted(pairs, reverse=True)

    def selected(self, query):
        after, before = query.get(self.after, ""), query.get(self.before, "")
        year = after[:4]
        if after == f"{year}-01-01" and before == f"{year}-12-31":
            return year
        return ""

    def setting(self, key):
        return {self.after: f"{key}-01-01", self.before: f"{key}-12-31"}


def activity_fields():
    return [
        ChoiceField("status", "Status", ActivityStatus, "status", glossary="status"),
        LinkField(
            "area",
            "Area",
            lambda: Activity.areas.through.objects,
            "activity",
            "area",
            Area,
            "slug",
            glossary="area",
        ),
        OrganisationField(
            "organisation",
            "Organisation",
            lambda: Participation.objects,
            "activity",
            "organisation",
            Organisation,
            "slug",
            distinct=True,
        ),
        RoleField("role", "Role", Role, "role", glossary="role"),
        LinkField(
            "country",
            "Country",
            lambda: Activity.countries.through.objects,
            "activity",
            "country",
            Country,
            "code",
            glossary="country",
        ),
        LinkField(
            "region",
            "Region",
            lambda: Activity.regions.through.objects,
            "activity",
            "region",
            Region,
            "slug",
            glossary="region",
        ),
        AgreementKindField(
            "agreement_kind",
            "Agreement kind",
            AgreementKind,
            "agreement__kind",
            glossary="agreement-kind",
        ),
        YearField(
            "start_year",
            "Start year",
            "start_date",
            "start_date_after",
            "start_date_before",
            Activity,
            glossary="start-year",
        ),
    ]


def chart_fields():
    """The activity list's facets that charts draw (see views.charts_of)."""
    return [field for field in activity_fields() if field.name in ("start_year", "area")]


def agreement_fields():
    return [
        ChoiceField("kind", "Kind", AgreementKind, "kind", glossary="agreement-kind"),
        LinkField(
            "party",
            "Party",
            lambda: Agreement.parties.through.objects,
            "agreement",
            "organisation",
            Organisation,
            "slug",
            glossary="party",
        ),
        LinkField(
            "area",
            "Area",
            lambda: Agreement.areas.through.objects,
            "agreement",
            "area",
            Area,
            "slug",
            glossary="area",
        ),
        YearField(
            "signed_year",
            "Year signed",
            "signed_on",
            "signed_on_after",
            "signed_on_before",
            Agreement,
            glossary="year-signed",
        ),
    ]


def labels(model, key):
    """
    The public values of a facet, kept in the cache until a record changes: for a model,
    its public rows' keys and labels; for a date column, the years between its ends.
    """
    name = f"cooperation:facet-labels:{model._meta.model_name}:{key}:{cached.version()}"
    return cache.get_or_set(name, lambda: find_labels(model, key), cached.MAX_AGE)


def find_labels(model, key):
    if key in ("start_date", "signed_on"):
        dated = model.objects.public().filter(**{f"{key}__isnull": False}).order_by()
        ends = [
            dated.order_by(order).values_list(key, flat=True).first() for order in (key, f"-{key}")
        ]
        if ends[0] is None:
            return {"years": []}
        return {"years": [str(year) for year in range(ends[1].year, ends[0].year - 1, -1)]}
    rows = model.objects.public().order_by()
    if model is Organisation:
        values = rows.values_list("pk", key, "name", "acronym")
        pairs = [
            (pk, slug, f"{name} ({acronym})" if acronym else name)
            for pk, slug, name, acronym in values
        ]
    else:
        pairs = list(rows.values_list("pk", key, "name"))
    pairs.sort(key=lambda row: row[2].casefold())
    return {
        "keys": [(pk, value) for pk, value, _ in pairs],
        "choices": [(value, label) for _, value, label in pairs],
    }


def unfiltered_counts(list_name, fields):
    """The counts of the whole list by facet name, from the table counts.py keeps."""
    found = stored_counts(list_name)
    return {field.name: field.from_stored(found.get(field.name, [])) for field in fields}


def selections(fields, list_name, filterset, query):
    """
    The filters of a bound, valid `filterset` as values of `fields`, facets the table of counts
    keeps (counts.py), when it holds the list they make: [] with no filter; a (field, key)
    pair for the list narrowed by one value of one facet; two pairs, of two facets, for the
    activity list narrowed by two (the list narrowed by the first holds the counts of the
    second's values). None for any other filter: a search, a range of days, two values of
    one facet, or a value the facet does not offer (an organisation given by its name).
    """
    active = active_names(filterset)
    found, covered = [], set()
    for field in fields:
        key = field.selected(query)
        if not key or not set(field.parameters) <= active:
            continue
        if any(len(query.getlist(name)) != 1 for name in field.parameters):
            return None
        if key not in dict(field.choices()):
            return None
        found.append((field, key))
        covered.update(field.parameters)
    if covered != active or len(found) > (2 if list_name == ACTIVITIES else 1):
        return None
    return found


def chosen_agreement(list_name, filterset, query):
    """The agreement whose activities the list is, when that is its only filter; else None."""
    if list_name != ACTIVITIES or active_names(filterset) != {AGREEMENT}:
        return None
    if len(query.getlist(AGREEMENT)) != 1:
        return None
    return filterset.form.cleaned_data[AGREEMENT]


def kept_list(field, key):
    """The name under which the table of counts keeps the activities with `key` of `field`."""
    return narrowed(field.name, field.stored_key(key))


def known_total(make_fields, list_name, filterset, query):
    """
    The number of rows of a list, from the table of counts (counts.py), when it holds it:
    the whole list; the list narrowed by one value of one facet (the whole list's count of
    that value); the activity list narrowed by two (the list narrowed by one, its count of
    the other's value); an agreement's activities. None for any other filter, or an invalid
    one.
    """
    if filterset.is_bound and not filterset.is_valid():
        return None
    agreement = chosen_agreement(list_name, filterset, query)
    if agreement is not None:
        kept = stored_counts(narrowed(AGREEMENT, agreement.pk))
        return dict(kept.get(TOTAL, [])).get("", 0)
    chosen = selections(make_fields(), list_name, filterset, query)
    if chosen is None:
        return None
    if not chosen:
        return total(list_name)
    *narrowing, (field, key) = chosen
    kept = stored_counts(kept_list(*narrowing[0]) if narrowing else list_name)
    return dict(field.from_stored(kept.get(field.name, []))).get(key, 0)


def kept_counts(field, active, chosen, agreement):
    """
    The counts, from the table (counts.py), of the list under the filters in use other than
    `field`'s, when the table keeps that list narrowed by one value (or an agreement's
    activities): {facet: [(value, count), ...]}; None otherwise. `chosen` is selections().
    """
    rest = active - set(field.parameters)
    if agreement is not None:
        return stored_counts(narrowed(AGREEMENT, agreement.pk)) if rest == {AGREEMENT} else None
    others = [(other, key) for other, key in chosen or [] if other.name != field.name]
    if len(others) == 1 and set(others[0][0].parameters) == rest:
        return stored_counts(kept_list(*others[0]))
    return None


def active_names(filterset):
    """The filters that narrow a bound, valid filterset's list (a sort does not)."""
    cleaned = filterset.form.cleaned_data if filterset.is_bound else {}
    empty = (None, "", [], ())
    return {name for name, value in cleaned.items() if value not in empty and name != "sort"}


def facets(filterset, make_fields, list_name, query, budget_ms=None):
    """
    The facets of a bound, valid `filterset`'s list, each counted under the other filters
    within the time budget. `query` is the request's query string (a QueryDict).
    """
    if budget_ms is None:
        budget_ms = settings.FACET_TIME_LIMIT_MS
    budget = Budget(budget_ms)
    fields = make_fields()
    cleaned = filterset.form.cleaned_data if filterset.is_bound else {}
    for field in fields:
        if isinstance(field, RoleField):
            field.organisation = cleaned.get("organisation")
        if isinstance(field, OrganisationField):
            field.role = cleaned.get("role") or None
    active = active_names(filterset)
    unfiltered = None
    showing_all = query.get(ALL_PARAMETER, "")
    # Counts under filters, kept for the next page of the same list, until a record changes.
    filtered_key = f"cooperation:facet-counts:{list_name}:{cached.version()}:{filters_of(query)}"
    # Narrowed by one or two facets' values, or to an agreement's activities: the facets of
    # the list under all filters but one facet's are kept in the table.
    listed = active and list_name == ACTIVITIES
    chosen = selections(fields, list_name, filterset, query) if listed else None
    agreement = chosen_agreement(list_name, filterset, query) if active else None
    known = cache.get(filtered_key, {}) if active else {}
    counted = {}
    found = {}
    out_of_time = hopeless = False
    # The counts of the list's own rows first: if one of them, given the whole budget, runs
    # out of time, the others would too, as each reads those rows and more.
    for field in sorted(fields, key=lambda field: field.reads_beyond):
        counts = known.get(field.name)
        kept = kept_counts(field, active, chosen, agreement) if active else None
        if not active - set(field.parameters):
            if unfiltered is None:
                unfiltered = unfiltered_counts(list_name, fields)
            counts = unfiltered.get(field.name)
        elif kept is not None:
            counts = field.from_stored(kept.get(field.name, []))
        elif field.name in known:
            pass  # Counted for an earlier page, or None: not counted in time then.
        elif not out_of_time:
            rows = filterset.counted_without(field.parameters)
            whole_budget = not counted
            try:
                counts = counted[field.name] = budget.run(
                    lambda rows=rows, field=field: field.count(rows)
                )
            except OutOfTime:
                # Kept as not counted, so that every page of this list does not spend its
                # budget on it again; the facets after it are tried by the next page,
                # unless they cannot be counted in time either.
                counted[field.name] = None
                out_of_time = True
                hopeless = whole_budget and not field.reads_beyond
        found[field.name] = counts
    if hopeless:
        untried = [
            field.name
            for field in fields
            if field.name not in known.keys() | counted.keys() and active - set(field.parameters)
        ]
        counted.update(dict.fromkeys(untried, None))
    if counted:
        cache.set(filtered_key, {**known, **counted}, cached.MAX_AGE)
    return [facet(field, found[field.name], query, showing_all == field.name) for field in fields]


def filters_of(query):
    """The filters of a query string, whatever their order, without page, sort or facet."""
    ignored = {*PAGE_PARAMETERS, "sort", ALL_PARAMETER}
    kept = sorted((name, values) for name, values in query.lists() if name not in ignored)
    return hashlib.sha256(repr(kept).encode()).hexdigest()[:32]


def facet(field, counts, query, showing_all):
    selected = field.selected(query)
    if counts is None:
        pairs = [(key, label, None) for key, label in field.choices()]
    else:
        label_of = dict(field.choices())
        ordered = (
            counts
            if isinstance(field, YearField)
            else sorted(counts, key=lambda kn: (-kn[1], str(label_of.get(kn[0], kn[0])).casefold()))
        )
        pairs = [(key, label_of.get(key, key), n) for key, n in ordered if key in label_of]
        if selected and selected not in {key for key, _, _ in pairs} and selected in label_of:
            pairs.insert(0, (selected, label_of[selected], 0))
    total = len(pairs)
    everything = [Option(label, key, key == selected, n, field, query) for key, label, n in pairs]
    if showing_all:
        options = everything[:ALL_LIMIT]
    else:
        options = everything if total <= SHOWN + 1 else everything[:SHOWN]
    if selected and not any(option.active for option in options):
        options += [option for option in everything if option.active]
    all_url = ""
    if len(options) < total and not showing_all:
        asking = query.copy()
        asking[ALL_PARAMETER] = field.name
        all_url = f"?{asking.urlencode()}"
    return Facet(
        name=field.name,
        label=field.label,
        options=options,
        counted=counts is not None,
        glossary=f"{reverse('cooperation:glossary')}#{field.glossary}" if field.glossary else "",
        all_url=all_url,
        total_options=total,
        showing_all=showing_all,
        everything=everything,
    )


def toggled(query, field, key, active):
    """The query string with `field` set to `key`, or without it if `active`; first page."""
    changed = QueryDict(mutable=True)
    for name, values in query.lists():
        if name not in PAGE_PARAMETERS and name not in field.parameters:
            changed.setlist(name, values)
    if not active:
        changed.update(field.setting(key))
    return f"?{changed.urlencode()}" if changed else "?"


@dataclass
class ActiveFilter:
    label: str
    value: str
    remove_url: str


def active_filters(filterset, query):
    """The filters in use, in the form's order, each with the link that removes it."""
    if not filterset.is_bound or not filterset.is_valid():
        return []
    found = []
    for name, value in filterset.form.cleaned_data.items():
        if value in (None, "", [], ()) or name == "sort":
            continue
        form_field = filterset.form.fields[name]
        found.append(
            ActiveFilter(
                label=str(form_field.label),
                value=shown_value(form_field, value, query.get(name, "")),
                remove_url=without(query, name),
            )
        )
    return found


def shown_value(form_field, value, typed):
    if hasattr(form_field, "label_of"):  # filters.RecordField: the record's label.
        return form_field.label_of(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime.date):
        return f"{value.day} {value:%B %Y}"
    choices = dict(getattr(form_field, "choices", None) or [])
    return str(choices.get(typed, value))


def without(query, name):
    changed = query.copy()
    for parameter in [name, *PAGE_PARAMETERS]:
        changed.pop(parameter, None)
    return f"?{changed.urlencode()}" if changed else "?"

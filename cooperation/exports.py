"""
The public lists taken away: each filtered list in CSV and XLSX, activities and
organisations in HXL-tagged CSV, and activities in IATI XML (iati.py). An export is the
list's own URL with a format suffix and the same query string (`/activities/?area=x` →
`/activities.csv?area=x`), filtered and sorted by the list's own FilterSet and queryset.

CSV, HXL and XML stream: the header goes out before the first query. The database computes
every cell of CSV, HXL and XLSX (Column, Cells) in one statement, the cells of linked rows
(areas, organisations by role, citations) joined into one text each (Joined), or, for
activities on PostgreSQL, read as kept where still true (kept.py). On PostgreSQL it also
writes the CSV of the rows (COPY), which the worker forwards as it comes; outside a
transaction, the rows' ids are read first and their CSV written a chunk at a time through
two connections at once (parallel.py). On SQLite, or for a search in relevance order, the
rows are read EXPORT_CHUNK at a time and written as COPY writes them (csv_line), lines
ending in LF. IATI XML on PostgreSQL is written by the database (iati_sql.py); on SQLite it
reads its rows as the database driver's plain tuples, and the linked rows as tuples, one
query a kind of link a chunk (Related). The text goes out in pieces of about WRITE_SIZE
characters. An export stops at EXPORT_LIMIT rows (XLSX, written whole, at XLSX_LIMIT) and
says so in a last row, pointing to the full export that `manage.py dump_exports` writes
every night into EXPORTS_DIR.

Every row carries its record's absolute public address and its citations. Cells of CSV and
HXL that a spreadsheet would run as a formula get one leading apostrophe (escape_formula);
XLSX cells are written as strings, and XML carries the text as it is.
"""

import contextlib
import datetime
import functools
import json
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Expression,
    F,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Concat, Substr
from django.db.models.sql.constants import MULTI
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, register_converter, reverse
from django.views import View

from . import kept, parallel, views
from .addresses import address_parts
from .dates import Precision
from .filters import EVERY_ROW, PAGE_PARAMETERS
from .models import (
    IATI_ORGANISATION_TYPE,
    Activity,
    ActivityStatus,
    Agreement,
    AgreementKind,
    AreaKind,
    Citation,
    OrganisationKind,
    Participation,
    Publication,
    Role,
)
from .spreadsheets import ESCAPE, FORMULA_STARTS, escape_formula

#: The most rows one export holds; the full list is in the nightly dump.
EXPORT_LIMIT = 100_000
#: The most rows one XLSX export holds: it is written whole before it is sent.
XLSX_LIMIT = 50_000
#: The file of every published activity in JSON that `manage.py dump_exports` writes
#: (api.dump_activities): the whole of the activity list's `page=all`.
JSON_DUMP = "activities.json"
#: The most rows a spreadsheet program opens: the limit of the full XLSX dump.
XLSX_DUMP_LIMIT = 1_048_575
#: Rows read, and their related rows prefetched, at a time.
EXPORT_CHUNK = 2_000
#: Rows a statement writes as CSV when an export's chunks are read in parallel: a chunk of
#: activities is about 3 MB, and each connection holds one or two (parallel.in_order).
COPY_CHUNK = 5_000
#: Characters of CSV or XML written to the response at a time, about.
WRITE_SIZE = 64 * 1024

#: Characters XML 1.0, and so XLSX, cannot hold: C0 controls but tab, LF and CR.
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Between two citations in one cell of CSV, HXL or XLSX.
CITATION_SEPARATOR = "\n"
#: Between two names in one cell.
NAME_SEPARATOR = "; "


def xml_text(text):
    """`text` without the control characters XML cannot hold (nothing else changes)."""
    return NOT_IN_XML.sub("", text)


def aware(moment):
    """`moment` in UTC if the driver read it without a zone (SQLite stores UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


@dataclass
class Context:
    """What a row needs beyond its record: the site's address and the export's limit."""

    base: str
    limit: int | None = EXPORT_LIMIT
    dump_url: str = ""

    def url(self, url_name, key):
        """The absolute address of a record's page: reverse() once, not once a row."""
        prefix, suffix = address_parts(url_name)
        return f"{self.base}{prefix}{key}{suffix}"


def raw_chunks(queryset, chunk_size=EXPORT_CHUNK):
    """
    The rows `queryset` (of values_list) selects, lists of `chunk_size` tuples as the
    database driver reads them: a server-side cursor where the database has one, and no
    field converters (a date is a date on both databases; SQLite's times have no zone).
    """
    compiler = queryset.query.get_compiler(using=queryset.db)
    chunked = connections[queryset.db].features.can_use_chunked_reads
    return compiler.execute_sql(MULTI, chunked_fetch=chunked, chunk_size=chunk_size)


def raw_rows(queryset):
    """All the rows `queryset` (of values_list) selects, as the driver reads them."""
    with connections[queryset.db].cursor() as cursor:
        try:
            cursor.execute(*queryset.query.sql_with_params())
        except EmptyResultSet:
            return []
        return cursor.fetchall()


def raw_ids(queryset):
    """
    The first column of the rows `queryset` (of values_list) selects, in order, read as one
    PostgreSQL array: at 100,000 ids, a third of the time of reading them as rows.
    """
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"SELECT ARRAY({sql})", params)
        return cursor.fetchone()[0]


def database(rows):
    """The alias of the database of `rows`, a queryset or a search.Ranked."""
    return rows.db if isinstance(rows, QuerySet) else rows.queryset.db


def listed_ids(rows, limit):
    """
    The ids of `rows` (a queryset or a search.Ranked) in their order, at most `limit` (None:
    every one), and whether the list has more.
    """
    if isinstance(rows, QuerySet):
        listed = rows.values_list("pk")
        ids = raw_ids(listed if limit is None else listed[: limit + 1])
    else:
        ids = rows.ids if limit is None else rows.ids[: limit + 1]
    if limit is not None and len(ids) > limit:
        return ids[:limit], True
    return ids, False


#: In place of the ids of KeyIn, a query compiled once for every chunk (chunk_rows), and
#: in place of its parameter that takes them.
CHUNK_IDS = object()
IDS_PARAMETER = object()


class KeyIn(Expression):
    """
    The condition that the column `key` holds one of `ids`, integers from the database
    written out: `key__in` prepares each of a chunk's thousands of ids in Python first.
    """

    output_field = BooleanField()

    def __init__(self, key, ids):
        super().__init__()
        self.key, self.ids = F(key), ids

    def get_source_expressions(self):
        return [self.key]

    def set_source_expressions(self, expressions):
        (self.key,) = expressions

    def as_sql(self, compiler, connection):
        if not self.ids:
            return "1 = 0", []
        key, params = compiler.compile(self.key)
        if self.ids is CHUNK_IDS and connection.vendor == "sqlite":
            return f"{key} IN (SELECT value FROM json_each(%s))", [*params, IDS_PARAMETER]
        if self.ids is CHUNK_IDS:
            return f"{key} = ANY(%s)", [*params, IDS_PARAMETER]
        return f"{key} IN ({', '.join(str(int(pk)) for pk in self.ids)})", params


#: The SQL of each query that chunk_rows() has compiled, by what asked for it.
compiled_queries = {}


def chunk_rows(asker, make, ids):
    """
    The rows of `make(ids)`, a queryset of values_list narrowed by KeyIn to a chunk's `ids`,
    as the driver reads them. Compiled once for `asker` (with CHUNK_IDS), as Django takes
    longer to compile such a query than the database takes to run it. The ids are one
    parameter (a JSON array on SQLite, an array on PostgreSQL), so the SQL is the same for
    every chunk: SQLite keeps its statements prepared, one a text, and a text a chunk held
    tens of megabytes.
    """
    if not ids:
        return []
    compiled = compiled_queries.get(asker)
    if compiled is None:
        queryset = make(CHUNK_IDS)
        compiled = compiled_queries[asker] = (queryset.db, *queryset.query.sql_with_params())
    alias, sql, params = compiled
    ids = [int(pk) for pk in ids]
    if connections[alias].vendor == "sqlite":
        ids = json.dumps(ids)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [ids if p is IDS_PARAMETER else p for p in params])
        return cursor.fetchall()


@dataclass(eq=False)  # Keys of compiled_queries, by identity.
class Related:
    """
    Rows linked to the records of a chunk, read in one query: `queryset` narrowed to the
    chunk's ids in its column `key`, as tuples of `fields`, grouped by that key.
    """

    name: str
    queryset: object  # A function that returns the queryset, once the models are ready.
    key: str
    fields: list

    def read(self, ids):
        grouped = defaultdict(list)
        for row in chunk_rows(self, self.query, ids):
            grouped[row[0]].append(row[1:])
        return grouped

    def query(self, ids):
        return self.queryset().filter(KeyIn(self.key, ids)).values_list(self.key, *self.fields)


def through(model, relation, *fields):
    """The links of the many-to-many field `relation` of `model`, ordered by `fields`."""
    field_ = model._meta.get_field(relation)
    target = field_.m2m_reverse_field_name()
    return Related(
        relation,
        lambda: field_.remote_field.through.objects.order_by(*[f"{target}__{f}" for f in fields]),
        field_.m2m_field_name(),
        [f"{target}__{f}" for f in fields],
    )


#: The most rows linked to one record that an export joins into one cell. A subquery with a
#: limit keeps its ORDER BY, which Django drops from one without.
JOINED_LIMIT = 10_000


class JoinedText(Subquery):
    """
    The column `joined` of `queryset` (the rows linked to the outer record, in their order)
    as one text, `separator` between two, "" if none: on PostgreSQL an ARRAY of the ordered
    rows made a string, on SQLite GROUP_CONCAT over the ordered rows of a subquery, which it
    joins in their order.
    """

    def __init__(self, queryset, separator):
        super().__init__(queryset[:JOINED_LIMIT], output_field=TextField())
        self.separator = separator

    def as_sql(self, compiler, connection, template=None, **extra_context):
        sql, params = super().as_sql(compiler, connection, **extra_context)
        if connection.vendor == "postgresql":
            return f"ARRAY_TO_STRING(ARRAY{sql}, %s)", (*params, self.separator)
        return (
            f"COALESCE((SELECT GROUP_CONCAT(joined, %s) FROM {sql}), '')",
            (self.separator, *params),
        )


#: The names, in an export's statement (Cells), of the rows chosen with their cells, of
#: their keys in order, of a row's key and place in the list, and of a cell of a row.
CHOSEN = "export_rows"
KEYS = "export_keys"
KEY = "export_key"
NUMBER = "export_number"
CELL = "cell_{}"
#: The name of a row's kept cells of linked rows, if still true (kept.py).
KEPT = "export_kept"


@dataclass(eq=False)  # Keys of the grouped queries of a statement, by identity.
class Joined:
    """
    Cells of rows linked to a record (its areas, its citations), which the database joins
    into one text a cell: `value` of the rows of `queryset` whose column `key` is the
    record's, in `order`, `separator` between two. With `group` (a field and its values),
    one cell a value (the organisations in each role): cell(value).

    On SQLite each cell is a subquery a record (expression()): SQLite runs them quickly, and
    its GROUP_CONCAT keeps no order before 3.44. PostgreSQL runs such a subquery in some
    microseconds a record and a cell, tens of seconds for a whole export, so there one
    query groups the linked rows of all the records chosen, each cell an aggregate
    (grouped()), and the export joins it to them.
    """

    queryset: object  # A function that returns the queryset, once the models are ready.
    key: str
    value: object  # A field's name or an expression.
    order: list
    separator: str = NAME_SEPARATOR
    group: tuple = ()  # (field, [values]), or () for one cell.

    def cell(self, value=None):
        """The cell of the rows in the group `value`, or of all of them."""
        return JoinedCell(self, value)

    def value_expression(self):
        return F(self.value) if isinstance(self.value, str) else self.value

    def narrowed(self, value):
        return {self.group[0]: value} if value is not None else {}

    def expression(self, value=None):
        """The cell as a subquery of the outer record (SQLite)."""
        linked = (
            self.queryset()
            .filter(**{self.key: OuterRef("pk")}, **self.narrowed(value))
            .order_by(*self.order)
            .annotate(joined=self.value_expression())
            .values("joined")
        )
        return JoinedText(linked, self.separator)

    def grouped(self, values):
        """
        The query of the cells in the groups `values` (None for all the rows) of each record
        chosen (PostgreSQL): the record's key (KEY) and one text a value, named `joined_0`,
        `joined_1`... in their order.
        """
        from django.contrib.postgres.aggregates import StringAgg

        order = [F(name) if isinstance(name, str) else name for name in self.order]
        texts = {
            f"joined_{number}": StringAgg(
                self.value_expression(),
                self.separator,
                order_by=order,
                filter=Q(**self.narrowed(value)) if value is not None else None,
            )
            for number, value in enumerate(values)
        }
        chosen = RawSQL(f'SELECT "{KEY}" FROM "{KEYS}"', ())
        return (
            self.queryset()
            .filter(**{f"{self.key}__in": chosen})
            .order_by()
            .values(**{KEY: F(self.key)})
            .annotate(**texts)
            .values_list(KEY, *texts)
        )


@dataclass(frozen=True)
class JoinedCell:
    """A column's cell of linked rows: those of `joined` in its group `value`, or all."""

    joined: Joined
    value: object = None


def joined_through(model, relation, value, *order):
    """The `value` (a name) of each record the many-to-many field `relation` links to."""
    field_ = model._meta.get_field(relation)
    target = field_.m2m_reverse_field_name()
    return Joined(
        lambda: field_.remote_field.through.objects.all(),
        field_.m2m_field_name(),
        f"{target}__{value}",
        [f"{target}__{name}" for name in order],
    ).cell()


def joined_citations(cited):
    """A record's citations, a line each: “quote” (Source title, 2019-07-22) [note]."""
    when = Case(
        When(source__published_on=None, then=Value("")),
        default=Concat(Value(", "), Cast("source__published_on", CharField())),
    )
    noted = Case(When(note="", then=Value("")), default=Concat(Value(" ["), "note", Value("]")))
    text = Concat(
        Value("“"),
        "quote",
        Value("” ("),
        "source__title",
        when,
        Value(")"),
        noted,
        output_field=TextField(),
    )
    return Joined(
        lambda: Citation.objects.all(),
        cited,
        text,
        [F("source__published_on").desc(nulls_last=True), "source__title", "pk"],
        CITATION_SEPARATOR,
    ).cell()


#: The names of the organisations in each role in an activity.
PARTICIPANTS = Joined(
    lambda: Participation.objects.all(),
    "activity",
    "organisation__name",
    ["organisation__name"],
    group=("role", Role.values),
)


def citations_of(cited):
    """A record's citations: quote, note, and its source's title, date and address."""
    return Related(
        "citations",
        lambda: Citation.objects.order_by(
            F("source__published_on").desc(nulls_last=True), "source__title", "pk"
        ),
        cited,
        ["quote", "note", "source__title", "source__published_on", "source__url"],
    )


@dataclass
class Column:
    """
    A column of CSV, HXL and XLSX: its header, its HXL hashtag, and its cell, which the
    database computes: a function of the Context that returns an expression over the
    list's rows (a text, "" or NULL for an empty cell), or a JoinedCell. `plain` columns
    hold nothing that can begin as a formula (addresses, codes, dates, labels), so CSV
    need not check them.
    """

    name: str
    hxl: str
    cell: object
    plain: bool = False

    @classmethod
    def of(cls, name, hxl, cell=None, plain=False):
        """A column; by default the row's field `name`."""
        return cls(name, hxl, cell or (lambda context: F(name)), plain)


def text(*parts):
    return Concat(*parts, output_field=TextField())


def choice(name, choices):
    return lambda context: Case(
        *[When(**{name: value}, then=Value(label)) for value, label in choices.choices],
        output_field=TextField(),
    )


def precise(name):
    """The date `name` in ISO 8601, no more precisely than known: 2026-01-22, 2026-01, 2026."""
    day = Cast(name, TextField())  # YYYY-MM-DD on both databases.
    lengths = {Precision.YEAR: 4, Precision.MONTH: 7}
    return lambda context: Case(
        *[
            When(**{f"{name}_precision": precision}, then=Substr(day, 1, length))
            for precision, length in lengths.items()
        ],
        default=day,
        output_field=TextField(),
    )


def url_of(url_name, key, context):
    """The absolute address of the page of the record whose key is in the field `key`."""
    prefix, suffix = address_parts(url_name)
    return text(Value(context.base + prefix), Cast(key, TextField()), Value(suffix))


def address(url_name, key):
    return Column.of("url", "#meta+url", lambda context: url_of(url_name, key, context), plain=True)


def if_public(condition, value):
    """A cell that holds `value` (a function of the Context) where `condition` holds."""
    return lambda context: Case(When(condition, then=value(context)), output_field=TextField())


PUBLIC_AGREEMENT = Q(agreement__publication=Publication.PUBLISHED)
PUBLIC_PARENT = Q(parent_is_public=True)


def citations_column(cited):
    return Column.of("citations", "#meta+citations", joined_citations(cited))


ACTIVITY_COLUMNS = [
    address("activity-detail", "pk"),
    Column.of("title", "#activity+title"),
    Column.of("status", "#status", choice("status", ActivityStatus), plain=True),
    Column.of("start", "#date+start", precise("start_date"), plain=True),
    Column.of("end", "#date+end", precise("end_date"), plain=True),
    Column.of("description", "#activity+description"),
    *[
        Column.of(role.value, f"#org+name+{role.value}", PARTICIPANTS.cell(role.value))
        for role in Role
    ],
    Column.of("areas", "#sector", joined_through(Activity, "areas", "name", "name", "slug")),
    Column.of(
        "countries",
        "#country+code",
        joined_through(Activity, "countries", "code", "code"),  # The code is the key.
        plain=True,
    ),
    Column.of(
        "regions", "#region+name", joined_through(Activity, "regions", "name", "name", "slug")
    ),
    Column.of(
        "agreement", "#meta+agreement", if_public(PUBLIC_AGREEMENT, lambda c: F("agreement__title"))
    ),
    Column.of(
        "agreement_url",
        "#meta+agreement+url",
        if_public(PUBLIC_AGREEMENT, lambda c: url_of("agreement-detail", "agreement", c)),
        plain=True,
    ),
    citations_column("activity"),
]

ORGANISATION_COLUMNS = [
    address("organisation-detail", "slug"),
    Column.of("name", "#org+name"),
    Column.of("acronym", "#org+acronym"),
    Column.of("kind", "#org+type", choice("kind", OrganisationKind), plain=True),
    Column.of(
        "iati_type",
        "#org+type+code",
        lambda context: Case(
            *[When(kind=kind, then=Value(code)) for kind, code in IATI_ORGANISATION_TYPE.items()],
            output_field=TextField(),
        ),
        plain=True,
    ),
    Column.of("iati_identifier", "#org+code"),
    Column.of("parent", "#org+name+parent", if_public(PUBLIC_PARENT, lambda c: F("parent__name"))),
    Column.of(
        "parent_url",
        "#meta+parent+url",
        if_public(PUBLIC_PARENT, lambda c: url_of("organisation-detail", "parent__slug", c)),
        plain=True,
    ),
    Column.of("city", "#loc+name"),
    Column.of("country", "#country+code", plain=True),
    Column.of("website", "#meta+website"),
    Column.of("description", "#org+description"),
    citations_column("organisation"),
]

AGREEMENT_COLUMNS = [
    address("agreement-detail", "pk"),
    Column.of("title", "#meta+title"),
    Column.of("kind", "#meta+kind", choice("kind", AgreementKind), plain=True),
    Column.of("signed", "#date+signed", precise("signed_on"), plain=True),
    Column.of("city", "#loc+name"),
    Column.of("country", "#country+code", plain=True),
    Column.of("parties", "#org+name", joined_through(Agreement, "parties", "name", "name")),
    Column.of("areas", "#sector", joined_through(Agreement, "areas", "name", "name")),
    Column.of("summary", "#description"),
    citations_column("agreement"),
]

AREA_COLUMNS = [
    address("area-detail", "slug"),
    Column.of("name", "#sector+name"),
    Column.of("kind", "#sector+type", choice("kind", AreaKind), plain=True),
    Column.of("description", "#description"),
    citations_column("area"),
]


@dataclass(eq=False)  # Compared, and hashed, by identity.
class Table:
    """
    One public list as an export: its page's view (queryset and FilterSet), the columns of
    CSV, HXL and XLSX, its formats, and for IATI XML the fields read from each row and the
    linked rows read as tuples per chunk (`related`).
    """

    name: str  # The list's path and the dump's file names: "activities".
    list_name: str  # The list's URL name: "activity-list".
    view: type
    fields: list
    columns: list
    formats: list = field(default_factory=lambda: ["csv", "xlsx"])
    related: list = field(default_factory=list)
    #: Whether the cells of its linked rows may be read as kept (kept.py).
    kept: bool = False

    def filterset(self, data):
        queryset = self.view.queryset.prefetch_related(None)  # Read per chunk instead.
        return self.view.filterset_class(data or None, queryset=queryset)

    def header(self):
        return [column.name for column in self.columns]

    def chunks(self, rows, linked_rows="related"):
        """
        The rows of the filtered list as dicts of `fields` (the first the key) and the
        table's `related` tuples (the only linked rows left to read this way), a chunk at
        a time. A search in relevance order (search.Ranked) is read by its ids, in order.
        """
        if isinstance(rows, QuerySet):
            chunks = raw_chunks(rows.values_list(*self.fields))
        else:
            chunks = (self.by_ids(rows, start) for start in range(0, len(rows), EXPORT_CHUNK))
        fields = self.fields
        for tuples in chunks:
            ids = [row[0] for row in tuples]
            linked = [(related.name, related.read(ids)) for related in self.related]
            chunk = []
            for row in tuples:
                record = dict(zip(fields, row, strict=True))
                for name, found in linked:
                    record[name] = found.get(row[0], ())
                chunk.append(record)
            yield chunk

    def by_ids(self, ranked, start):
        ids = ranked.ids[start : start + EXPORT_CHUNK]
        rows = ranked.queryset.filter(KeyIn("pk", ids)).values_list(*self.fields)
        found = {row[0]: row for row in raw_rows(rows)}
        return [found[pk] for pk in ids if pk in found]


def grouped_cells(columns):
    """
    ({Joined: [group values]}, {column number: SQL of its cell}) of the `columns` whose
    cells are of linked rows, each read from the query of its Joined grouped on
    PostgreSQL, `joined_0`, `joined_1`... in the order first met (joined_statements).
    """
    joined, sources = {}, {}
    for number, column in enumerate(columns):
        cell = column.cell
        if isinstance(cell, JoinedCell):
            values = joined.setdefault(cell.joined, [])
            values.append(cell.value)
            sources[number] = (
                f'"joined_{list(joined).index(cell.joined)}"."joined_{len(values) - 1}"'
            )
    return joined, sources


def joined_statements(joined):
    """
    (common table expressions, parameters) of the grouped queries of `joined`
    (grouped_cells), over the keys in KEYS.
    """
    ctes, params = [], []
    for number, (joined_, values) in enumerate(joined.items()):
        sql, grouped_params = joined_.grouped(values).query.sql_with_params()
        ctes.append(f'"joined_{number}" AS ({sql})')
        params += grouped_params
    return ctes, params


def cells_statement(table, rows, context, escaped, limit=None, keyed=True, in_chunk_order=False):
    """
    (database alias, SQL, parameters) of one statement that selects the cells of `rows` (a
    queryset), at most `limit`, in their order, after each row's key if `keyed`: the
    table's columns as texts, NULL for an empty one, and with `escaped` a `'` before each
    cell of a column that is not plain and begins as a formula (escape_formula). None if
    `rows` is empty. With `in_chunk_order` (PostgreSQL), the rows come in the order of the
    ids of the parameter IDS_PARAMETER (chunk_statement).

    The rows and their own cells are chosen first (CHOSEN); on PostgreSQL each Joined is
    then one grouped query over the keys of the rows chosen (KEYS), joined to them, and
    the rows keep their place by their number. The outer query makes the cells empty or
    escaped, reading each once (a cell of linked rows costs a subquery on SQLite).
    """
    alias = rows.db
    grouping = connections[alias].vendor == "postgresql"
    kept_cells = grouping and table.kept
    own = {KEY: F("pk")}
    if kept_cells:
        activity = rows.model._meta.db_table
        still_true = kept.still_true(f'"{activity}"."id"', f'"{activity}"."links_changed_at"')
        kept_sql = f"SELECT kept.cells FROM {kept.TABLE} kept WHERE {still_true}"
        own[KEPT] = RawSQL(kept_sql, (), output_field=JSONField())
    joined, grouped_sources = grouped_cells(table.columns) if grouping else ({}, {})
    sources = []
    for number, column in enumerate(table.columns):
        cell = column.cell
        if number in grouped_sources:
            source = grouped_sources[number]
            if kept_cells:
                source = (
                    f'CASE WHEN "{CHOSEN}"."{KEPT}" IS NULL THEN {source} '
                    f'ELSE "{CHOSEN}"."{KEPT}" ->> \'{column.name}\' END'
                )
        else:
            name = CELL.format(number)
            if isinstance(cell, JoinedCell):
                own[name] = cell.joined.expression(cell.value)
            else:
                own[name] = cell(context)
            source = f'"{CHOSEN}"."{name}"'
        sources.append((source, escaped and not column.plain))
    chosen = rows.annotate(**own).values_list(*own)
    if limit is not None:
        chosen = chosen[:limit]
    try:
        sql, params = chosen.query.sql_with_params()
    except EmptyResultSet:
        return None
    params = list(params)
    if not grouping:
        ctes, tail = [f'"{CHOSEN}" AS ({sql})'], f'FROM "{CHOSEN}"'
    else:
        numbered = f'SELECT *, ROW_NUMBER() OVER () AS "{NUMBER}" FROM ({sql}) AS listed'
        if in_chunk_order:
            numbered = (
                f'SELECT listed.*, chunk.place AS "{NUMBER}" FROM ({sql}) AS listed '
                "JOIN unnest(%s::bigint[]) WITH ORDINALITY AS chunk (id, place) "
                f'ON chunk.id = listed."{KEY}"'
            )
            params.append(IDS_PARAMETER)
        ctes, joins = [f'"{CHOSEN}" AS MATERIALIZED ({numbered})'], []
        # With kept cells, only the rows without them have their linked rows grouped.
        stale = f' WHERE "{KEPT}" IS NULL' if kept_cells else ""
        if joined:  # Sorted once for every grouped query, each of which reads them in order.
            ctes.append(
                f'"{KEYS}" AS MATERIALIZED (SELECT "{KEY}" FROM "{CHOSEN}"{stale} ORDER BY 1)'
            )
        grouped_ctes, grouped_params = joined_statements(joined)
        ctes += grouped_ctes
        params += grouped_params
        for number in range(len(joined)):
            joins.append(
                f'LEFT JOIN "joined_{number}" ON "joined_{number}"."{KEY}" = "{CHOSEN}"."{KEY}"'
            )
        tail = f'FROM "{CHOSEN}" {" ".join(joins)} ORDER BY "{CHOSEN}"."{NUMBER}"'
    cells = [f'"{CHOSEN}"."{KEY}"'] if keyed else []
    starts = ", ".join(["%s"] * len(FORMULA_STARTS))
    for source, checked in sources:
        if checked:
            cells.append(
                f"CASE WHEN SUBSTR({source}, 1, 1) IN ({starts}) THEN %s || {source} "
                f"ELSE NULLIF({source}, '') END"
            )
            params += [*FORMULA_STARTS, ESCAPE]
        else:
            cells.append(f"NULLIF({source}, '')")
    return alias, f"WITH {', '.join(ctes)} SELECT {', '.join(cells)} {tail}", params


#: How PostgreSQL runs an export's statement. Its estimates of the grouped rows are far too
#: high, which would have it compile the statement (JIT) for a second or more. Without
#: hashing, it takes the rows' keys in order (sorted and made unique) to find their linked
#: rows, reading the pages of each index and table in order, and groups those as they come,
#: about twice as fast at a million activities as taking the keys in a hash's order. The
#: rows sorted back into the list's order take some tens of megabytes.
STATEMENT_SETTINGS = {"jit": "off", "enable_hashagg": "off", "work_mem": "64MB"}


@contextlib.contextmanager
def statement_cursor(alias, chunked=False):
    """A cursor for an export's statement, in a transaction of its own settings."""
    connection = connections[alias]
    with transaction.atomic(using=alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for name, value in STATEMENT_SETTINGS.items():
                    cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        with connection.chunked_cursor() if chunked else connection.cursor() as cursor:
            yield cursor


class Cells:
    """
    The cells of a table's rows (tuples, or CSV through PostgreSQL's COPY), computed by the
    database, stopping at the context's limit; `truncated` once the rows run past it. A
    search in relevance order (search.Ranked) is read by its ids, a chunk at a time, in
    order.
    """

    def __init__(self, table, rows, context, escaped):
        self.table, self.rows, self.context, self.escaped = table, rows, context, escaped
        self.truncated = False

    def statement(self, rows, keyed=True):
        limit = self.context.limit
        return cells_statement(
            self.table,
            rows,
            self.context,
            self.escaped,
            None if limit is None else limit + 1,
            keyed,
        )

    @property
    def copied(self):
        """Whether the rows go out as CSV through COPY (copy()) rather than as tuples."""
        rows = self.rows
        return isinstance(rows, QuerySet) and connections[rows.db].vendor == "postgresql"

    def copy(self):
        """
        The CSV of the rows that PostgreSQL writes (COPY), about WRITE_SIZE bytes a piece,
        the same as csv_line() writes. COPY sends a row at a time, so the one past the
        limit is left out here. Where it can, the rows are read by their ids, COPY_CHUNK
        at a time, through several connections at once (copy_in_chunks).
        """
        if parallel.usable(self.rows.db):
            yield from self.copy_in_chunks()
            return
        statement = self.statement(self.rows, keyed=False)
        if statement is None:
            return
        alias, sql, params = statement
        limit, number, pieces, size = self.context.limit, 0, [], 0
        copy_sql = f"COPY ({sql}) TO STDOUT (FORMAT csv)"
        with statement_cursor(alias) as cursor, cursor.copy(copy_sql, params) as copy:
            for line in copy:
                number += 1
                if limit is not None and number > limit:
                    self.truncated = True
                    continue
                pieces.append(line)
                size += len(line)
                if size >= WRITE_SIZE:
                    yield b"".join(pieces)
                    pieces, size = [], 0
        if pieces:
            yield b"".join(pieces)

    def copy_in_chunks(self):
        """
        The CSV of the rows, COPY_CHUNK rows a piece: their ids read in order, then each
        chunk's cells written by COPY, in parallel.in_order().
        """
        rows = self.rows
        ids, self.truncated = listed_ids(rows, self.context.limit)
        sql, params = chunk_statement(self.table, rows.db, self.context.base, self.escaped, False)
        read = functools.partial(copied_chunk, rows.db, sql, params)
        yield from parallel.by_chunks(rows.db, read, ids, COPY_CHUNK)

    def __iter__(self):
        limit, number = self.context.limit, 0
        for chunk in self.chunks():
            for row in chunk:
                if number == limit:
                    self.truncated = True
                    return
                number += 1
                yield row

    def chunks(self):
        rows = self.rows
        if isinstance(rows, QuerySet) and connections[rows.db].vendor == "postgresql":
            statement = self.statement(rows)
            if statement is None:
                return
            alias, sql, params = statement
            with statement_cursor(alias, chunked=True) as cursor:
                cursor.execute(sql, params)
                while chunk := cursor.fetchmany(EXPORT_CHUNK):
                    yield [row[1:] for row in chunk]
            return
        if isinstance(rows, QuerySet):
            limit = self.context.limit
            listed = rows.values_list("pk", flat=True)
            alias, ids = rows.db, list(listed if limit is None else listed[: limit + 1])
        else:
            alias, ids = rows.queryset.db, rows.ids
        for start in range(0, len(ids), EXPORT_CHUNK):
            chunk = ids[start : start + EXPORT_CHUNK]
            found = {row[0]: row[1:] for row in self.chunk_cells(alias, chunk)}
            yield [found[pk] for pk in chunk if pk in found]

    def chunk_cells(self, alias, ids):
        """
        The keyed cells of the rows `ids` (already filtered) in the database `alias`, by a
        statement compiled once for the table, the database, the site's address and
        `escaped` (chunk_statement): Django takes longer to compile it than SQLite to run it
        for a short list.
        """
        sql, params = chunk_statement(self.table, alias, self.context.base, self.escaped)
        ids = [int(pk) for pk in ids]
        if connections[alias].vendor == "sqlite":
            ids = json.dumps(ids)
        with statement_cursor(alias) as cursor:
            cursor.execute(sql, [ids if p is IDS_PARAMETER else p for p in params])
            return cursor.fetchall()


#: The statements of chunk_statement(), by table, database, site address, escaping and key.
chunk_statements = {}


def chunk_statement(table, alias, site, escaped, keyed=True):
    """
    (SQL, parameters) of the cells of the table's public rows whose keys are a chunk's
    (CHUNK_IDS), compiled the first time it is asked for. Without `keyed` (PostgreSQL),
    the rows come in the chunk's order, without their keys: the statement COPY writes.
    """
    key = (table, alias, site, escaped, keyed)
    if key not in chunk_statements:
        public = table.filterset(None).qs.using(alias).order_by()
        rows = public.filter(KeyIn("pk", CHUNK_IDS))
        chunk_statements[key] = cells_statement(
            table, rows, Context(site), escaped, keyed=keyed, in_chunk_order=not keyed
        )[1:]
    return chunk_statements[key]


def copied_chunk(alias, sql, params, ids):
    """The CSV that COPY writes of the statement `sql` of a chunk (chunk_statement), `ids`."""
    copy_sql = f"COPY ({sql}) TO STDOUT (FORMAT csv)"
    params = [ids if p is IDS_PARAMETER else p for p in params]
    with statement_cursor(alias) as cursor, cursor.copy(copy_sql, params) as copy:
        return b"".join(copy)


TABLES = {
    table.list_name: table
    for table in [
        Table(
            "activities",
            "activity-list",
            views.ActivityListView,
            [
                *["pk", "title", "status", "description", "changed_at"],
                *["start_date", "start_date_precision", "end_date", "end_date_precision"],
                *["agreement", "agreement__title", "agreement__publication"],
            ],
            ACTIVITY_COLUMNS,
            ["csv", "xlsx", "iati.xml", "hxl.csv"],
            [
                Related(
                    "participations",
                    lambda: Participation.objects.order_by("role", "organisation__name"),
                    "activity",
                    [
                        "role",
                        "organisation__name",
                        "organisation__kind",
                        "organisation__iati_identifier",
                    ],
                ),
                through(Activity, "areas", "name", "slug"),
                through(Activity, "countries", "code", "name"),
                through(Activity, "regions", "name", "slug"),
                citations_of("activity"),
            ],
            kept=True,
        ),
        Table(
            "organisations",
            "organisation-list",
            views.OrganisationListView,
            [
                *["pk", "slug", "name", "acronym", "kind", "iati_identifier"],
                *["parent__name", "parent__slug", "parent_is_public"],
                *["city", "country", "website", "description"],
            ],
            ORGANISATION_COLUMNS,
            ["csv", "xlsx", "hxl.csv"],
        ),
        Table(
            "agreements",
            "agreement-list",
            views.AgreementListView,
            ["pk", "title", "kind", "signed_on", "signed_on_precision", "city", "country"]
            + ["summary"],
            AGREEMENT_COLUMNS,
        ),
        Table(
            "areas",
            "area-list",
            views.AreaListView,
            ["pk", "slug", "name", "kind", "description"],
            AREA_COLUMNS,
        ),
    ]
}

LABELS = {
    "csv": "CSV",
    "xlsx": "XLSX",
    "json": "JSON",
    "iati.xml": "IATI XML",
    "hxl.csv": "HXL",
}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "hxl.csv": "text/csv; charset=utf-8",
    "iati.xml": "application/xml; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


class Capped:
    """The rows of a table's list, stopping at `limit`; `truncated` once they run past it."""

    def __init__(self, table, rows, limit, linked_rows="joined"):
        self.table, self.rows, self.limit, self.truncated = table, rows, limit, False
        self.linked_rows = linked_rows

    def __iter__(self):
        rows = self.rows
        if self.limit is not None and isinstance(rows, QuerySet):
            rows = rows[: self.limit + 1]
        number = 0
        for chunk in self.table.chunks(rows, self.linked_rows):
            for row in chunk:
                if number == self.limit:
                    self.truncated = True
                    return
                number += 1
                yield row


def truncation_note(context):
    return (
        f"This export stops at {context.limit:,} rows; the list has more. "
        f"The full list, rebuilt every night: {context.dump_url}"
    )


#: The byte order mark that tells a spreadsheet program a CSV file is UTF-8 (Excel reads it
#: as its ANSI code page without one, and garbles every accent).
BYTE_ORDER_MARK = "\ufeff"
#: A cell that CSV writes in double quotes.
QUOTED = re.compile('[,"\r\n]')


def csv_cell(text):
    if text is None:
        return ""
    if text == "" or QUOTED.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(cells):
    """
    One line of CSV as PostgreSQL's COPY writes it (Cells.copy), so that an export is the
    same from either: a cell in double quotes, each inside doubled, when it holds a comma, a
    double quote, a carriage return or a line feed, or is "" (None is an empty cell); a
    line feed at the end of the line.
    """
    return ",".join(map(csv_cell, cells)) + "\n"


def csv_lines(table, rows, context, hxl=False):
    """
    The CSV of `rows`, in pieces of about WRITE_SIZE characters or bytes, after a byte order
    mark for spreadsheet programs. With `hxl`, HXL's hashtag row under the header and no
    byte order mark: HXL is read by HXL tools, and libhxl keeps a mark as part of the first
    header. On PostgreSQL the database writes the CSV of the rows (Cells.copy); the header
    and the note of a truncated export are written here.
    """
    head = [] if hxl else [BYTE_ORDER_MARK]
    head.append(csv_line(map(escape_formula, table.header())))
    if hxl:
        head.append(csv_line([escape_formula(column.hxl) for column in table.columns]))
    yield "".join(head)
    cells = Cells(table, rows, context, escaped=True)
    if cells.copied:
        yield from cells.copy()
    else:
        lines, size = [], 0
        for row in cells:
            lines.append(csv_line(row))
            size += len(lines[-1])
            if size >= WRITE_SIZE:
                yield "".join(lines)
                lines, size = [], 0
        yield "".join(lines)
    if cells.truncated:
        yield csv_line([escape_formula(truncation_note(context))])


def write_xlsx(table, rows, context, file):
    """
    The XLSX of `rows`, written to `file` a row at a time: every cell a string as it is,
    never a formula, a number or a link; an empty cell left out.
    """
    import xlsxwriter

    options = {"constant_memory": True, "strings_to_numbers": False}
    options |= {"strings_to_formulas": False, "strings_to_urls": False}
    with xlsxwriter.Workbook(file, options) as workbook:
        sheet = workbook.add_worksheet(table.name)
        write = sheet.write_string

        def append(number, cells):
            for column, text in enumerate(cells):
                if text:
                    write(number, column, xml_text(text))

        append(0, table.header())
        cells = Cells(table, rows, context, escaped=False)
        number = 0
        for number, row in enumerate(cells, 1):  # noqa: B007 The last row's number follows.
            append(number, row)
        if cells.truncated:
            append(number + 1, [truncation_note(context)])


def iati_chunks(table, rows, context):
    from . import iati

    return iati.document(table, rows, context)


STREAMS = {
    "csv": csv_lines,
    "hxl.csv": lambda table, rows, context: csv_lines(table, rows, context, hxl=True),
    "iati.xml": iati_chunks,
}


def file_name(table, export_format):
    return f"{table.name}.{export_format}"


def dump_url(base, table, export_format):
    return base + reverse("cooperation:export-dump", args=[file_name(table, export_format)])


class ExportView(View):
    """A public list in one format, filtered and sorted as its page is."""

    table = None

    def get(self, request, format):
        table = self.table
        if format not in table.formats:
            raise Http404(f"The {table.name} are not exported as {format}.")
        filterset = table.filterset(request.GET)
        if filterset.is_bound and not filterset.is_valid():
            return render(
                request,
                "cooperation/export_invalid.html",
                {"filter": filterset, "list_url": reverse(f"cooperation:{table.list_name}")},
                status=400,
            )
        base = request.build_absolute_uri("/").rstrip("/")
        limit = XLSX_LIMIT if format == "xlsx" else EXPORT_LIMIT
        context = Context(base, limit, dump_url(base, table, format))
        name = file_name(table, format)
        if format == "xlsx":
            file = tempfile.TemporaryFile()  # noqa: SIM115 FileResponse closes it when sent.
            write_xlsx(table, filterset.qs, context, file)
            file.seek(0)
            return FileResponse(
                file, as_attachment=True, filename=name, content_type=CONTENT_TYPES[format]
            )
        response = StreamingHttpResponse(
            STREAMS[format](table, filterset.qs, context), content_type=CONTENT_TYPES[format]
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def dump(table, export_format, path):
    """The whole list `table` in `export_format`, written to `path` (see dump_exports)."""
    limit = XLSX_DUMP_LIMIT if export_format == "xlsx" else None
    context = Context(settings.PUBLIC_URL, limit, dump_url(settings.PUBLIC_URL, table, "csv"))
    rows = table.filterset(None).qs
    if export_format == "xlsx":
        with path.open("wb") as file:
            write_xlsx(table, rows, context, file)
        return
    with path.open("wb") as file:
        for piece in STREAMS[export_format](table, rows, context):
            file.write(piece.encode() if isinstance(piece, str) else piece)


def dump_path(name):
    return Path(settings.EXPORTS_DIR) / name


DUMP_NAMES = {
    file_name(table, export_format) for table in TABLES.values() for export_format in table.formats
} | {JSON_DUMP}


class DumpView(View):
    """A full export that `manage.py dump_exports` wrote, unfiltered and without a limit."""

    def get(self, request, name):
        if name not in DUMP_NAMES or not dump_path(name).is_file():
            raise Http404("This full export has not been built yet.")
        export_format = name.partition(".")[2]
        return FileResponse(
            dump_path(name).open("rb"),
            as_attachment=True,
            filename=name,
            content_type=CONTENT_TYPES[export_format],
        )


#: The suffixes an export's path may end in; the list says which it offers.
FORMAT_PATTERN = r"csv|xlsx|iati\.xml|hxl\.csv"


class FormatConverter:
    regex = FORMAT_PATTERN

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FormatConverter, "export_format")


def urlpatterns():
    return [
        *[
            path(
                f"{table.name}.<export_format:format>",
                ExportView.as_view(table=table),
                name=f"{table.list_name}-export",
            )
            for table in TABLES.values()
        ],
        path("exports/<str:name>", DumpView.as_view(), name="export-dump"),
    ]


def export_links(request, list_name):
    """
    (label, address) of each format of the list `list_name`, with its current filters: its
    exports, then its JSON with every row (the API's list, `page=all`).
    """
    table = TABLES.get(list_name)
    if table is None:
        return []
    query = request.GET.copy()
    for name in PAGE_PARAMETERS:
        query.pop(name, None)
    query_string = f"?{query.urlencode()}" if query else ""
    base = request.path.rstrip("/")
    links = [(LABELS[f], f"{base}.{f}{query_string}") for f in table.formats]
    query["page"] = EVERY_ROW  # The .json twin, the API's list, every row at once.
    return [*links, (LABELS["json"], f"{base}.json?{query.urlencode()}")]

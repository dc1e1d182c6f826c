"""
Full-text search over activities, organisations and agreements, one interface on both
databases: SQLite FTS5 tables kept in step by triggers, and on PostgreSQL a stored
generated `tsvector` column with a GIN index.

Both engines follow the same rules, so a query finds the same rows on either:

- The text is split into words: runs of Unicode letters and digits. Everything else
  (punctuation, quotes, `*`, `:`, `&`, `|`, `!`, `-`) separates words and is never read
  as an operator; `AND`, `OR`, `NOT` and `NEAR` are ordinary words.
- A row matches when it holds every word, whole and ignoring case; the last word also
  matches as the start of a longer word ("train" finds "training", "train guards" does
  not find "training guards"). Text without a word matches nothing.
- No stemming and no stop words (FTS5 `unicode61`, PostgreSQL's `simple` configuration),
  and accents count: "ecole" does not find "école". FTS5 is told not to remove
  diacritics, as PostgreSQL has no accent folding without the `unaccent` extension.
  PostgreSQL folds the case of letters beyond ASCII only in a database whose `LC_CTYPE`
  is not C (C.UTF-8, the Debian default, is fine).

The tables and columns are made by migration 0009 through `install()`, and those of
former names by migration 0014. On SQLite a
migration that rebuilds a table (Django does so for most column changes) drops its
triggers; `repair_after_migrate()` puts them back and reindexes after every `migrate`,
and `manage.py rebuild_search` does the same by hand. On PostgreSQL a column used by the
generated column cannot change type: a migration that alters `title`, `description`,
`summary`, `name` or `acronym` calls `uninstall()` before and `install()` after.

An organisation's former names (FormerName) have an index of their own, and every search
for organisations, and for activities by their organisations, reads both indexes: the
former names are a few rows, read once per query, never once per row listed.
"""

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.cache import cache
from django.db import NotSupportedError, connections
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.db.models.sql.where import WhereNode

from . import cached, models

#: A word: a run of Unicode letters and digits (not the underscore, as neither engine
#: counts it as part of a word).
WORD = re.compile(r"[^\W_]+")

#: Characters PostgreSQL's parser reads as part of an e-mail address, a URL, a host name,
#: a file path or a decimal number; replaced by spaces so it splits words where FTS5 does.
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


@dataclass(frozen=True)
class Index:
    table: str
    columns: tuple[str, ...]
    #: Relevance weight of a word in each column, highest first (PostgreSQL has four).
    weights: tuple[str, ...]

    @property
    def name(self):
        return f"{self.table}_search"


ACTIVITIES = Index("cooperation_activity", ("title", "description"), ("A", "D"))
ORGANISATIONS = Index("cooperation_organisation", ("name", "acronym"), ("A", "A"))
AGREEMENTS = Index("cooperation_agreement", ("title", "summary"), ("A", "D"))
#: The names organisations had before: an organisation is found by any of its names.
FORMER_NAMES = Index("cooperation_formername", ("name", "acronym"), ("A", "A"))
INDEXES = [ACTIVITIES, ORGANISATIONS, AGREEMENTS, FORMER_NAMES]

#: The weight of a word in each PostgreSQL class, D to A (ts_rank's default), and the
#: same weights for FTS5's bm25.
PG_WEIGHTS = {"D": 0.1, "C": 0.2, "B": 0.4, "A": 1.0}


def words(text):
    """The words of `text`, in lower case, as both engines read them."""
    return WORD.findall(unicodedata.normalize("NFC", text).lower())


# Querying


def activities(queryset, text, counting=False):
    """
    Activities in which every word of `text` is in the title or the description, or in
    the name or acronym of an organisation taking part (each word may be found in a
    different place). The last word may be the start of a longer one. With `counting`, in
    the form that counts fastest.
    """
    terms = _terms(text)
    if not terms:
        return queryset.none()
    vendor = _vendor(queryset)
    words = [_word_matches(vendor, term) for term in terms]
    # A count on SQLite stops sooner reading the matches than walking; PostgreSQL tests each
    # row's vector faster than it reads the matches, for a page and for a count.
    walk = vendor == "postgresql" or not counting
    extent = _extent(queryset.db, words) if walk else []
    common = extent and min(found for found, _ in extent) >= models.FEW_LINKS
    if common and not counting:
        # Found in thousands of activities: walk the list in its own order and test each
        # row, which finds a page within a few hundred rows (see models.FEW_LINKS).
        return queryset.filter(_each_row_holds(vendor, queryset.db, terms))
    condition = Q()
    for index, (text_ids, participants) in enumerate(words):
        if common:
            # PostgreSQL's count: the COUNT_LIMIT rows a bounded count reads are found
            # sooner with the organisations' participations hashed once than probed per
            # row, unless they are many (a word in 125 names had 200,000 at a million
            # activities: hashing them took 480 ms, probing 190 ms).
            through_organisations = extent[index][1]
            if through_organisations >= models.FEW_LINKS:
                condition &= Q(_own_text(text_ids)) | Q(
                    _participates(vendor, queryset.db, terms[index])
                )
            else:
                condition &= Q(_own_text(text_ids)) | Q(pk__in=participants)
            continue
        # One set of ids per word, text matches and participations together: an OR of
        # an IN and an EXISTS would make SQLite visit every activity to test both.
        ids = RawSQL(
            f"{text_ids.sql} UNION {participants.sql}", [*text_ids.params, *participants.params]
        )
        condition &= Q(pk__in=ids)
    return queryset.filter(condition)


class RowSQL(RawSQL):
    """
    A condition in SQL on the list's own row, written with {row} for its table: the name
    the query gives that table, which differs where the list is nested in another query
    (as when a facet counts the links of the rows found).
    """

    def __init__(self, sql, params):
        super().__init__(sql, params, output_field=BooleanField())

    def as_sql(self, compiler, connection):
        row = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"({self.sql.replace('{row}', row)})", self.params


def _own_text(text_ids):
    """PostgreSQL: the condition that the row's own vector holds what `text_ids` finds."""
    return RowSQL("{row}.\"search_vector\" @@ to_tsquery('simple', %s)", text_ids.params)


def _each_row_holds(vendor, db, terms):
    """
    The condition that an activity holds every term, tested on each row in turn: in its
    own text, or in the name of an organisation taking part, probed through the row's
    own few participations. (Reading every participation of the organisations whose names
    match, as the union does, reads 190,000 rows at a million activities for a word that
    is in 125 names.)
    """
    condition = Q()
    for term in terms:
        text_ids = _matching(vendor, ACTIVITIES, [term])
        if vendor == "postgresql":
            own_text = _own_text(text_ids)
        else:
            # `id + 0` is not the key: SQLite cannot read the matches as the list's rows,
            # so it walks the list in its own order and looks each row up among them.
            own_text = RowSQL(f'{{row}}."id" + 0 IN ({text_ids.sql})', text_ids.params)
        condition &= Q(own_text) | Q(_participates(vendor, db, term))
    return condition


def _participates(vendor, db, term):
    """
    The condition that an organisation whose name holds `term` takes part in the row's
    activity, probed through the row's own few participations.
    """
    if vendor == "postgresql":
        # The organisations' ids written out: with a subquery PostgreSQL may hash the row's
        # few participations and probe them with every organisation, once a row (a word in
        # 125 names: 280 ms to count 10,001 matches at a million activities, 50 ms so).
        # OFFSET 0 keeps it from hashing every participation of those organisations instead.
        return RowSQL(
            "EXISTS (SELECT 1 FROM cooperation_participation "
            'WHERE activity_id = {row}."id" AND organisation_id = ANY(%s) OFFSET 0)',
            [_organisations_named(db, term)],
        )
    organisation_ids = _matching(vendor, ORGANISATIONS, [term])
    # `+ 0`: probe by the row's activity, then test the organisation.
    return RowSQL(
        "EXISTS (SELECT 1 FROM cooperation_participation "
        'WHERE activity_id = {row}."id" '
        f"AND organisation_id + 0 IN ({organisation_ids.sql}))",
        organisation_ids.params,
    )


def _organisations_named(db, term):
    """
    The ids of the organisations whose name, acronym or former name holds `term` (PostgreSQL),
    kept in the cache until a record changes (cached.version(): a change of a name is one).
    """
    found = _matching("postgresql", ORGANISATIONS, [term])
    key = f"cooperation:search-organisations:{cached.version()}:{_digest(db, found)}"

    def find():
        with connections[db].cursor() as cursor:
            cursor.execute(found.sql, found.params)
            return sorted(pk for (pk,) in cursor.fetchall())

    return cache.get_or_set(key, find, cached.MAX_AGE)


def _digest(db, raw):
    return hashlib.sha256(repr((db, raw.sql, raw.params)).encode()).hexdigest()


def organisations(queryset, text, counting=False):
    """
    Organisations with every word of `text` in their name and acronym, or in one of their
    former names and its acronym.
    """
    return _filter(queryset, ORGANISATIONS, text)


def agreements(queryset, text, counting=False):
    """Agreements with every word of `text` in their title or summary."""
    return _filter(queryset, AGREEMENTS, text)


def ranked(queryset, text):
    """
    The rows of `queryset` of activities, best match for `text` first, then in the
    queryset's own order: a list for a paginator, fetching each page as it is sliced. A
    word in the title counts for more than one in the description; an activity found
    only through an organisation comes after those whose text matches.

    It reads every id of `queryset` and scores them in one query: call it only when the
    rows are few (ActivityFilter counts them first, with paging.bounded_count). A score
    per row in SQL would open a full-text cursor per row, and FTS5's bm25 then recounts
    every word's rows each time.
    """
    terms = _terms(text)
    if not terms:
        return queryset
    ids = list(queryset.values_list("pk", flat=True))
    scores = _scores(_vendor(queryset), queryset.db, ACTIVITIES, terms, ids)
    ids.sort(key=lambda pk: -scores.get(pk, 0.0))  # Stable: ties keep the queryset's order.
    return Ranked(queryset, ids)


class Ranked(Sequence):
    """Rows of `queryset` in the order of `ids`, fetched a slice at a time."""

    ordered = True

    def __init__(self, queryset, ids):
        # The ids are already filtered: fetch them without the conditions again, keeping
        # the queryset's select_related and prefetch_related.
        self.queryset = queryset.all()
        self.queryset.query.where = WhereNode()
        self.model = queryset.model
        self.ids = ids

    def __len__(self):
        return len(self.ids)

    def count(self, value=None):
        return len(self.ids) if value is None else super().count(value)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0] if index >= 0 else self[len(self) + index]
        ids = self.ids[index]
        rows = self.queryset.in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]


def _scores(vendor, using, index, terms, ids):
    """How well each of `ids` matches any of `terms`: higher is better, absent is no match."""
    if not ids:
        return {}
    query = _query(vendor, terms, "or")
    with connections[using].cursor() as cursor:
        if vendor == "sqlite":
            weights = ", ".join(str(PG_WEIGHTS[weight]) for weight in index.weights)
            cursor.execute(
                f"SELECT rowid, -bm25({index.name}, {weights}) FROM {index.name} "
                f"WHERE {index.name} MATCH %s AND rowid BETWEEN %s AND %s",
                [query, min(ids), max(ids)],
            )
        else:
            cursor.execute(
                f"SELECT id, ts_rank(search_vector, to_tsquery('simple', %s)) "
                f"FROM {index.table} WHERE id = ANY(%s)",
                [query, ids],
            )
        return dict(cursor.fetchall())


def _filter(queryset, index, text):
    terms = _terms(text)
    if not terms:
        return queryset.none()
    return queryset.filter(pk__in=_matching(_vendor(queryset), index, terms))


def _terms(text):
    """The words of `text` as (word, is a prefix) pairs: the last word is a prefix."""
    found = words(text)
    return [(word, position == len(found) - 1) for position, word in enumerate(found)]


def _vendor(queryset):
    vendor = connections[queryset.db].vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise NotSupportedError(f"Full-text search is not implemented for {vendor}.")
    return vendor


def _query(vendor, terms, operator):
    """A query for `terms`, (word, is prefix) pairs, that no input can turn into syntax."""
    if vendor == "sqlite":
        # Each word quoted as a string: never an operator, a column name or a NEAR group.
        parts = [f'"{word}"' + ("*" if prefix else "") for word, prefix in terms]
        return {"and": " ", "or": " OR "}[operator].join(parts)
    parts = [word + (":*" if prefix else "") for word, prefix in terms]
    return {"and": " & ", "or": " | "}[operator].join(parts)


def _word_matches(vendor, term):
    """
    The ids of the activities whose text holds `term`, and of those in which an
    organisation whose name or acronym holds it takes part: two RawSQL.
    """
    organisation_ids = _matching(vendor, ORGANISATIONS, [term])
    participants = RawSQL(
        "SELECT activity_id FROM cooperation_participation "
        f"WHERE organisation_id IN ({organisation_ids.sql})",
        organisation_ids.params,
    )
    return _matching(vendor, ACTIVITIES, [term]), participants


def _extent(db, words):
    """
    For each word (as _word_matches() gives it), in how many activities it is found by
    their text or their organisations, and by their organisations alone, each counted up
    to FEW_LINKS: one query. Kept in the cache for a minute, as a page asks three times
    (its rows, their number, its facets), and only how a query is written depends on it,
    never what it finds.
    """
    counts, params = [], []
    for text_ids, participants in words:
        found = f"{text_ids.sql} UNION ALL {participants.sql}"
        for sql in [found, participants.sql]:
            counts.append(f"(SELECT COUNT(*) FROM ({sql} LIMIT {models.FEW_LINKS}) found)")
        params += [*text_ids.params, *participants.params, *participants.params]
    sql = f"SELECT {', '.join(counts)}"
    digest = hashlib.sha256(repr((db, sql, params)).encode()).hexdigest()
    key = f"cooperation:search-extent:{digest}"

    def count():
        with connections[db].cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return list(zip(row[::2], row[1::2], strict=True))

    return cache.get_or_set(key, count, cached.MAX_AGE)


def _matching(vendor, index, terms):
    """
    The ids of `index`'s rows that hold every term; for organisations, also of those
    with a former name that does.
    """
    query = _query(vendor, terms, "and")
    if vendor == "sqlite":
        sql = f"SELECT rowid FROM {index.name} WHERE {index.name} MATCH %s"
    else:
        sql = f"SELECT id FROM {index.table} WHERE search_vector @@ to_tsquery('simple', %s)"
    if index is not ORGANISATIONS:
        return RawSQL(sql, [query])
    former = _matching(vendor, FORMER_NAMES, terms)
    return RawSQL(
        f"{sql} UNION SELECT organisation_id FROM {FORMER_NAMES.table} WHERE id IN ({former.sql})",
        [query, *former.params],
    )


# Installing and repairing


def _sqlite_statements(index):
    columns = ", ".join(index.columns)
    new = ", ".join(f"new.{column}" for column in index.columns)
    old = ", ".join(f"old.{column}" for column in index.columns)
    name, table = index.name, index.table
    delete = f"INSERT INTO {name}({name}, rowid, {columns}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO {name}(rowid, {columns}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING fts5({columns}, "
        f"content='{table}', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 0', prefix='2 3')",
        f"CREATE TRIGGER IF NOT EXISTS {name}_insert AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {name}_delete AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER IF NOT EXISTS {name}_update AFTER UPDATE OF id, {columns} "
        f"ON {table} BEGIN {delete} {insert} END",
    ]


def _sqlite_triggers(index):
    return [f"{index.name}_{event}" for event in ["insert", "delete", "update"]]


def _postgresql_statements(index, cursor):
    """What is missing of `index` (ALTER TABLE is refused while a transaction has
    deferred constraint checks pending, even with IF NOT EXISTS)."""
    spaces = " " * len(PUNCTUATION)
    punctuation = PUNCTUATION.replace("'", "''")
    vector = " || ".join(
        f"setweight(to_tsvector('simple'::regconfig, "
        f"translate({column}, '{punctuation}', '{spaces}')), '{weight}')"
        for column, weight in zip(index.columns, index.weights, strict=True)
    )
    statements = []
    cursor.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s AND column_name = 'search_vector'",
        [index.table],
    )
    if not cursor.fetchone():
        statements.append(
            f"ALTER TABLE {index.table} ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({vector}) STORED"
        )
    cursor.execute("SELECT to_regclass(%s)", [index.name])
    if cursor.fetchone()[0] is None:
        statements.append(f"CREATE INDEX {index.name} ON {index.table} USING gin (search_vector)")
    return statements


def _present(connection):
    """The indexes whose tables exist: a migration before a table's own installs the rest."""
    tables = set(connection.introspection.table_names())
    return [index for index in INDEXES if index.table in tables]


def install(connection):
    """Create the search tables, triggers and columns that are missing, and fill them."""
    indexes = _present(connection)
    with connection.cursor() as cursor:
        for index in indexes:
            if connection.vendor == "sqlite":
                for statement in _sqlite_statements(index):
                    cursor.execute(statement)
                cursor.execute(f"INSERT INTO {index.name}({index.name}) VALUES ('rebuild')")
            elif connection.vendor == "postgresql":
                for statement in _postgresql_statements(index, cursor):
                    cursor.execute(statement)


def uninstall(connection, indexes=INDEXES):
    with connection.cursor() as cursor:
        for index in indexes:
            if connection.vendor == "sqlite":
                for trigger in _sqlite_triggers(index):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
                cursor.execute(f"DROP TABLE IF EXISTS {index.name}")
            elif connection.vendor == "postgresql":
                cursor.execute(f"DROP INDEX IF EXISTS {index.name}")
                cursor.execute(f"ALTER TABLE {index.table} DROP COLUMN IF EXISTS search_vector")


def installed(connection):
    """Whether every search table and trigger (SQLite) or column (PostgreSQL) exists."""
    indexes = _present(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
            names = {name for (name,) in cursor.fetchall()}
            wanted = {index.name for index in indexes}
            wanted.update(*(_sqlite_triggers(index) for index in indexes))
            return wanted <= names
        cursor.execute(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_name = 'search_vector'"
        )
        return {index.table for index in indexes} <= {name for (name,) in cursor.fetchall()}


def rebuild(connection):
    """
    Put back whatever is missing and, on SQLite, reindex every row from the tables
    themselves. PostgreSQL computes its columns from each row, so they cannot drift.
    """
    install(connection)


def repair_after_migrate(using, **kwargs):
    """
    After `migrate` on SQLite: if the search tables exist (migration 0009 is applied) but
    a table rebuilt by a later migration lost its triggers, put them back and reindex.
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor != "sqlite":
            return
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [ACTIVITIES.name]
        )
        present = cursor.fetchone()
    if present and not installed(connection):
        rebuild(connection)

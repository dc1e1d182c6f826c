"""
The JSON of published activities written by PostgreSQL, a chunk at a time, for the activity
list's `page=all` (api.PublicViewSet.every_row). It writes what the API's serializer writes
(serializers.ActivitySerializer, rendered by DRF's JSONRenderer: compact, UTF-8, U+2028 and
U+2029 as escapes), byte for byte; tests/test_api.py compares the two on the same records.
The serializer writes about 1,300 activities a second at a million, as Django and DRF build
objects for every linked row; this writes tens of thousands.

As iati_sql.py does for XML: a first statement (kept_statement) reads each activity's JSON
as kept (kept.py) where it is still true (a save of its agreement makes it stale). A second
(worked_statement), only for the activities whose kept JSON is stale, works it out from
the activity's row and its linked rows, each kind in one pass grouped by activity. Both are
read by COPY, and two connections write chunks at once (parallel.py). Kept JSON holds a
marker where the site's address goes (it serves every address the site is asked at),
which the first statement replaces with its parameter `site`. At a million activities,
keeping the activity's own fields and agreement too took a chunk's statement from about
70 to 45 ms; Python, which holds the GIL, took 12 ms a chunk to replace the marker and
8 ms to escape U+2028 and U+2029, which the database now does, the escapes as it keeps
the JSON.

Every record begins with a comma (api.every_row() drops the first one): a stale record is
written in place of its marker, and one deleted or unpublished since has nothing to write.
"""

import functools
import json

from . import kept, parallel
from .addresses import SAFE, address_parts
from .exports import database, listed_ids
from .iati_sql import (
    SITE,
    STALE,
    Linked,
    copied,
    copy_statement,
    literal,
    table,
)
from .models import (
    Activity,
    Agreement,
    Area,
    Citation,
    Country,
    Organisation,
    Participation,
    Publication,
    Region,
    Source,
)

#: Activities a statement writes.
CHUNK = 2_000
#: Records a row of kept_statement() holds.
GROUP = 50
#: In place of the site's address in kept JSON (iati_sql.SITE), which JSON never holds
#: (json.dumps() writes a control character as an escape), as SQL.
SITE_SQL = literal(SITE)
#: The site's address in the statements: their parameter `site`, the address as JSON.
SITE_PARAMETER = "%(site)s"


def line_separators_escaped(text):
    """
    The JSON `text` with U+2028 and U+2029 written as escapes, as JSONRenderer writes
    them beyond json.dumps() (a script would end a line at either). Python took 8 ms a chunk
    looking for them, holding the GIL; the database does it as it keeps the JSON.
    """
    return f"replace(replace({text}, chr(8232), '\\u2028'), chr(8233), '\\u2029')"


def json_text(column):
    """The text `column` as a JSON string, or null: as json.dumps() writes it."""
    return f"COALESCE(to_json({column})::text, 'null')"


def day(column):
    """The date `column` as DRF writes it, "YYYY-MM-DD", or null."""
    return f"COALESCE('\"' || to_char({column}, 'YYYY-MM-DD') || '\"', 'null')"


def moment(column):
    """
    The time `column` as DRF writes it, or null: ISO 8601 in UTC, the microseconds only if
    there are some, and Z for +00:00.
    """
    utc = f"{column} AT TIME ZONE 'UTC'"
    return (
        f"COALESCE('\"' || to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE to_char({utc}, 'US') WHEN '000000' THEN '' ELSE to_char({utc}, '.US') END "
        "|| 'Z\"', 'null')"
    )


def address(site, url_name, key):
    """The absolute address `url_name` of the record whose key is the SQL `key`, as JSON."""
    prefix, suffix = address_parts(url_name)
    return f"""'"' || {site} || {literal(prefix)} || {key} || {literal(suffix + '"')}"""


#: The characters that addresses.record_url() leaves as they are in a key.
UNQUOTED = literal("[A-Za-z0-9" + "".join(sorted(set("_.~" + SAFE))) + "-]")


def quoted(column):
    """
    The slug `column` in an address, as addresses.record_url() quotes it: unchanged, unless
    it holds a character that a slug should not, which is written as its UTF-8 in %XX.
    """
    each = (
        f"CASE WHEN letter ~ {UNQUOTED} THEN letter ELSE regexp_replace("
        "upper(encode(convert_to(letter, 'UTF8'), 'hex')), '(..)', '%%\\1', 'g') END"
    )
    return (
        f"CASE WHEN {column} ~ ('^' || {UNQUOTED} || '*$') THEN {column} "
        f"ELSE (SELECT string_agg({each}, '' ORDER BY place) "
        f"FROM regexp_split_to_table({column}, '') WITH ORDINALITY AS letters (letter, place)) "
        "END"
    )


def members(*pairs):
    """The members of a JSON object, the (name, SQL of its JSON value) `pairs` in order."""
    written = [f"{literal(json.dumps(name) + ':')} || {value}" for name, value in pairs]
    return " || ',' || ".join(written)


def json_object(*pairs):
    """A JSON object of the (name, SQL of its JSON value) `pairs`, in their order."""
    return f"('{{' || {members(*pairs)} || '}}')"


def named(site, alias, url_name):
    """A record named by its slug and name (serializers.NamedReference)."""
    return json_object(
        ("slug", json_text(f"{alias}.slug")),
        ("name", json_text(f"{alias}.name")),
        ("api_url", address(site, f"api:{url_name}", quoted(f"{alias}.slug"))),
        ("html_url", address(site, url_name, quoted(f"{alias}.slug"))),
    )


def organisation(site, alias):
    """serializers.OrganisationReference of the organisation `alias`."""
    return json_object(
        ("slug", json_text(f"{alias}.slug")),
        ("name", json_text(f"{alias}.name")),
        ("acronym", json_text(f"{alias}.acronym")),
        ("api_url", address(site, "api:organisation-detail", quoted(f"{alias}.slug"))),
        ("html_url", address(site, "organisation-detail", quoted(f"{alias}.slug"))),
    )


def array(link):
    """The JSON array of the Linked `link` joined to an activity: [] if it has none."""
    return f"'[' || {link.text()} || ']'"


def linked_rows(site):
    """
    The Linked of an activity's JSON, each a JSON array's members in the order of the
    serializer's querysets: participants, areas, countries, regions, citations. `site` is
    the SQL of the site's address, as JSON.
    """
    links = table(Source.publishers.through)
    publishers = (
        f"(SELECT '[' || COALESCE(string_agg({organisation(site, 'publisher')}, ',' "
        f"ORDER BY publisher.name), '') || ']' FROM {links} link "
        f"JOIN {table(Organisation)} publisher ON publisher.id = link.organisation_id "
        "WHERE link.source_id = source.id)"
    )
    source = json_object(
        ("id", "source.id::text"),
        ("title", json_text("source.title")),
        ("publishers", publishers),
        ("published_on", day("source.published_on")),
        ("city", json_text("source.city")),
        ("country", json_text("source.country")),
        ("url", json_text("source.url")),
        ("api_url", address(site, "api:source-detail", "source.id")),
    )

    def through(relation, model, alias, order, value):
        return Linked(
            f"json_{relation}",
            f"{table(getattr(Activity, relation).through)} link JOIN {table(model)} {alias} "
            f"ON {alias}.{model._meta.pk.column} = link.{model._meta.model_name}_id",
            "link.activity_id",
            order,
            value,
            separator=",",
        )

    return [
        Linked(
            "json_participants",
            f"{table(Participation)} participation JOIN {table(Organisation)} organisation "
            "ON organisation.id = participation.organisation_id",
            "participation.activity_id",
            "participation.role, organisation.name",
            json_object(
                ("organisation", organisation(site, "organisation")),
                ("role", json_text("participation.role")),
            ),
            separator=",",
        ),
        through("areas", Area, "area", "area.name", named(site, "area", "area-detail")),
        through(
            "countries",
            Country,
            "country",
            "country.name",
            json_object(("code", json_text("country.code")), ("name", json_text("country.name"))),
        ),
        through("regions", Region, "region", "region.name", named(site, "region", "region-detail")),
        Linked(
            "json_citations",
            f"{table(Citation)} citation JOIN {table(Source)} source "
            "ON source.id = citation.source_id",
            "citation.activity_id",
            "source.published_on DESC NULLS LAST, source.title, source.id, citation.id",
            json_object(
                ("quote", json_text("citation.quote")),
                ("note", json_text("citation.note")),
                ("source", source),
            ),
            separator=",",
        ),
    ]


def record(site, linked):
    """
    SQL of the JSON of the activity `activity`, after a comma, with its linked rows
    (linked_rows(`site`)) and its published agreement (AGREEMENT) joined.
    """
    participants, areas, countries, regions, citations = linked
    return (
        "(',{' || "
        + members(
            ("id", "activity.id::text"),
            ("title", json_text("activity.title")),
            ("description", json_text("activity.description")),
            ("status", json_text("activity.status")),
            ("start_date", day("activity.start_date")),
            ("start_date_precision", json_text("activity.start_date_precision")),
            ("end_date", day("activity.end_date")),
            ("end_date_precision", json_text("activity.end_date_precision")),
            ("agreement", agreement(site)),
            ("participants", array(participants)),
            ("areas", array(areas)),
            ("countries", array(countries)),
            ("regions", array(regions)),
            ("published_at", moment("activity.published_at")),
            ("api_url", address(site, "api:activity-detail", "activity.id")),
            ("html_url", address(site, "activity-detail", "activity.id")),
            ("citations", array(citations)),
        )
        + " || '}')"
    )


def agreement(site):
    """The activity's published agreement, joined as `agreement` (AGREEMENT), as JSON."""
    reference = json_object(
        ("id", "agreement.id::text"),
        ("title", json_text("agreement.title")),
        ("api_url", address(site, "api:agreement-detail", "agreement.id")),
        ("html_url", address(site, "agreement-detail", "agreement.id")),
    )
    return f"CASE WHEN agreement.id IS NULL THEN 'null' ELSE {reference} END"


#: The activity's agreement, joined as `agreement` while it is published.
AGREEMENT = (
    f"LEFT JOIN {table(Agreement)} agreement ON agreement.id = activity.agreement_id "
    f"AND agreement.publication = {literal(Publication.PUBLISHED.value)}"
)
#: The activities of a chunk (the parameter `ids`) still published, as `activity`.
CHOSEN = (
    "unnest(%(ids)s::bigint[]) WITH ORDINALITY AS chunk (id, place) "
    f"LEFT JOIN {table(Activity)} activity ON activity.id = chunk.id "
    f"AND activity.publication = {literal(Publication.PUBLISHED.value)}"
)


def kept_statement():
    """
    The SQL that writes the JSON of the activities whose ids are in its parameter `ids`, in
    their order, for COPY: GROUP activities a row, each row the number of them no longer
    published, then their records. An activity whose kept JSON is not still true is
    written as its id between two STALE (worked_statement() writes those).
    """
    still_true = kept.still_true("activity.id", "activity.links_changed_at", "activity.changed_at")
    group = f"(chunk.place - 1) / {GROUP}"
    return (
        "SELECT count(*) FILTER (WHERE activity.id IS NULL), "
        "COALESCE(string_agg(CASE WHEN kept.json IS NULL "
        f"THEN {literal(STALE)} || activity.id || {literal(STALE)} "
        f"ELSE replace(kept.json, {SITE_SQL}, {SITE_PARAMETER}) END, '' ORDER BY chunk.place) "
        "FILTER (WHERE activity.id IS NOT NULL), '') "
        f"FROM {CHOSEN} "
        f"LEFT JOIN LATERAL (SELECT kept.json FROM {kept.TABLE} kept "
        f"WHERE {still_true} LIMIT 1) kept ON true "
        f"GROUP BY {group} ORDER BY {group}"
    )


def worked_statement():
    """
    The SQL that writes the id and the JSON of each of the activities `ids` still published
    (a row each, the id and the record as COPY's columns), from its own row and its linked
    rows, none read as kept.
    """
    linked = linked_rows(SITE_PARAMETER)
    return (
        "WITH "
        + ", ".join(link.cte("{key} = ANY(%(ids)s::bigint[])") for link in linked)
        + f" SELECT activity.id, {line_separators_escaped(record(SITE_PARAMETER, linked))} "
        f"FROM {CHOSEN} {AGREEMENT} "
        + " ".join(f"LEFT JOIN {link.name} ON {link.name}.id = activity.id" for link in linked)
        + " WHERE activity.id IS NOT NULL ORDER BY chunk.place"
    )


def kept_column():
    """
    (SQL of the column json of an activity's kept row, with its linked rows and its
    agreement (AGREEMENT) joined, the Linked to join): kept.keep_statement() keeps it.
    """
    linked = linked_rows(SITE_SQL)
    return line_separators_escaped(record(SITE_SQL, linked)), linked


def copied_records(alias, statements, origin, ids):
    """
    (UTF-8, records) of the activities `ids`: their JSON as the COPY `statements` write it
    (iati_sql.copied()), with the site's address `origin` (as JSON), and how many records it
    holds.
    """
    gone, pieces, worked = copied(alias, statements, {"site": origin}, ids)
    for place in range(1, len(pieces), 2):
        pieces[place] = worked.get(int(pieces[place]), b"")
        gone += pieces[place] == b""
    return b"".join(pieces), len(ids) - gone


class Written:
    """
    The JSON of the activities `rows` (a queryset or a search.Ranked), each record after a
    comma, written by PostgreSQL a chunk at a time: at most `limit`, `truncated` if the list
    has more, `count` of those written. `origin` is the site's address (scheme and host).
    """

    def __init__(self, rows, origin, limit):
        self.rows, self.origin, self.limit = rows, origin, limit
        self.count, self.truncated = 0, False

    def __iter__(self):
        alias = database(self.rows)
        origin = json.dumps(self.origin, ensure_ascii=False)[1:-1]
        ids, self.truncated = listed_ids(self.rows, self.limit)
        statements = copy_statement(kept_statement()), copy_statement(worked_statement())
        read = functools.partial(copied_records, alias, statements, origin)
        width = None if parallel.usable(alias) else 1
        for text, count in parallel.by_chunks(alias, read, ids, CHUNK, width):
            self.count += count
            if text:
                yield text

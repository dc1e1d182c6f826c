"""
IATI XML written by PostgreSQL, a chunk of activities at a time, in the order of their
ids. A first statement (kept_statement) reads each activity's element as kept, but for its
dates, where it is still true (kept.py). A second (worked_statement), only for the
activities whose kept element is stale, builds the elements of iati.element() as text: it
reads those activities by their ids, and each kind of linked row (organisations in their
roles, countries, regions, areas, citations with their sources) in one pass grouped by
activity. Python passes the text on as COPY hands it over (copy_statement), which takes a
tenth of the time building the elements in Python did. Outside a transaction, two
connections write chunks at once (parallel.py).

It says what iati.element() says, in the same order and escaped the same way (texts and
attribute values as lxml writes them, without the control characters XML cannot hold);
tests/test_exports.py compares the two on the same records.
"""

import functools
import re
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from . import iati, kept, parallel
from .addresses import address_parts
from .dates import Precision
from .exports import NOT_IN_XML, database, listed_ids, statement_cursor
from .models import (
    IATI_ORGANISATION_TYPE,
    Activity,
    ActivityStatus,
    Area,
    Citation,
    Country,
    Organisation,
    Participation,
    Region,
    Source,
)

#: Activities a statement writes: each chunk's text, about 4 MB, waits whole for its turn
#: (parallel.in_order).
CHUNK = 2_000
#: Elements a row of kept_statement() holds.
GROUP = 50

#: The characters XML cannot hold (exports.NOT_IN_XML), which a text loses.
CONTROL_CHARACTERS = "".join(chr(code) for code in range(1, 32) if NOT_IN_XML.match(chr(code)))
#: What iati.escaped() writes for each character, and what iati.quoted_attribute() adds.
CHARACTER_DATA = [("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")]
ATTRIBUTE_VALUE = [*CHARACTER_DATA, ('"', "&quot;"), ("\n", "&#10;"), ("\t", "&#9;")]


def literal(text):
    """
    `text` as an SQL string constant (which may hold any character but NUL, as it is), in
    a statement executed with parameters.
    """
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


def character_class(characters):
    """A regular expression that matches any one of `characters`."""
    return literal("[" + "".join(f"\\x{ord(character):02x}" for character in characters) + "]")


def escaped(column, replacements=CHARACTER_DATA):
    """
    The text `column` as XML character data, as iati.escaped() writes it. Most texts need
    nothing: a regular expression tells which do, much faster than replace() runs over them
    (and translate() is slower still).
    """
    escaping = CONTROL_CHARACTERS + "".join(character for character, _ in replacements)
    changed = f"regexp_replace({column}, {character_class(CONTROL_CHARACTERS)}, '', 'g')"
    for character, reference in replacements:
        changed = f"replace({changed}, {literal(character)}, {literal(reference)})"
    return f"CASE WHEN {column} ~ {character_class(escaping)} THEN {changed} ELSE {column} END"


def quoted_attribute(column):
    """The text `column` as an attribute's value, as iati.quoted_attribute() writes it."""
    return escaped(column, ATTRIBUTE_VALUE)


def concat(*parts):
    """
    The texts `parts` (SQL, none of them NULL) one after the other. By ||: concat() looks up
    how to write each of its arguments every time it is called.
    """
    return "(" + " || ".join(parts) + ")"


def code_of(column, codes):
    """The code that the dict `codes` gives the value of `column`."""
    cases = " ".join(f"WHEN {literal(value)} THEN {literal(code)}" for value, code in codes.items())
    return f"CASE {column} {cases} END"


def iso_date(column):
    return f"to_char({column}, 'YYYY-MM-DD')"


def table(model):
    return model._meta.db_table


@dataclass
class Linked:
    """
    Rows linked to an activity: those of `tables` whose column `key` holds its id, each
    written as `element` (SQL), in `order`, `separator` between two. As SQL, a common table
    expression `name` of one text an activity (cte()).
    """

    name: str
    tables: str
    key: str
    order: str
    element: str
    separator: str = ""

    def cte(self, chosen):
        """The expression over the activities whose id meets `chosen`, SQL of {key}."""
        return (
            f"{self.name} (id, text) AS (SELECT {self.key}, "
            f"string_agg({self.element}, {literal(self.separator)} ORDER BY {self.order}) "
            f"FROM {self.tables} "
            f"WHERE {chosen.format(key=self.key)} GROUP BY {self.key})"
        )

    def text(self):
        return f"COALESCE({self.name}.text, '')"


#: A record's citations with their sources, in the order an element lists them.
CITATIONS = (
    f"{table(Citation)} citation JOIN {table(Source)} source ON source.id = citation.source_id"
)
CITATION_ORDER = "source.published_on DESC NULLS LAST, source.title, citation.id"
#: A citation's quote as its document-link describes it.
QUOTE_TEXT = concat(
    "'“'",
    "citation.quote",
    "'”'",
    "CASE WHEN citation.note = '' THEN '' ELSE ' (' || citation.note || ')' END",
)
CATEGORY = f'<category code="{iati.WEB_PAGE}"/>'
#: In place of the site's address in a kept element (kept.py), which serves every address
#: the site is asked at: a character that no element holds, as XML cannot
#: (exports.NOT_IN_XML).
SITE = "\x04"


def site_address(base):
    """The site's address `base` as SQL of an attribute's value."""
    return literal(iati.quoted_attribute(base))


def linked_rows(site):
    """
    The Linked of an iati-activity element, in its order: organisations, countries,
    regions, areas, citations. `site` is the SQL of the site's address as an attribute.
    """
    prefix, suffix = address_parts("activity-detail")
    prefix = f"{site} || {literal(iati.quoted_attribute(prefix))}"
    suffix = literal(iati.quoted_attribute(suffix))
    own = f' vocabulary="{iati.OWN_VOCABULARY}" vocabulary-uri="'

    def vocabulary(url_name):
        path = iati.quoted_attribute(reverse(url_name))
        return f"{literal(own)} || {site} || {literal(path)}"

    participations = Linked(
        "participations",
        f"{table(Participation)} participation JOIN {table(Organisation)} organisation "
        "ON organisation.id = participation.organisation_id",
        "participation.activity_id",
        "participation.role, organisation.name",
        concat(
            "'<participating-org role=\"'",
            code_of("participation.role", iati.ROLE_CODES),
            "'\" type=\"'",
            code_of("organisation.kind", IATI_ORGANISATION_TYPE),
            "'\"'",
            "CASE WHEN organisation.iati_identifier = '' THEN '' ELSE ' ref=\"' || "
            f"{quoted_attribute('organisation.iati_identifier')} || '\"' END",
            "'><narrative>'",
            escaped("organisation.name"),
            "'</narrative></participating-org>'",
        ),
    )
    countries = Linked(
        "countries",
        f"{table(Activity.countries.through)} link JOIN {table(Country)} country "
        "ON country.code = link.country_id",
        "link.activity_id",
        "country.code, country.name",
        concat(
            "'<recipient-country code=\"'",
            quoted_attribute("country.code"),
            "'\"><narrative>'",
            escaped("country.name"),
            "'</narrative></recipient-country>'",
        ),
    )
    regions = Linked(
        "regions",
        f"{table(Activity.regions.through)} link JOIN {table(Region)} region "
        "ON region.id = link.region_id",
        "link.activity_id",
        "region.name, region.slug",
        concat(
            "'<recipient-region code=\"'",
            quoted_attribute("region.slug"),
            "'\"'",
            vocabulary("cooperation:region-list"),
            "'\"><narrative>'",
            escaped("region.name"),
            "'</narrative></recipient-region>'",
        ),
    )
    areas = Linked(
        "areas",
        f"{table(Activity.areas.through)} link JOIN {table(Area)} area ON area.id = link.area_id",
        "link.activity_id",
        "area.name, area.slug",
        concat(
            "'<tag code=\"'",
            quoted_attribute("area.slug"),
            "'\"'",
            vocabulary("cooperation:area-list"),
            "'\"><narrative>'",
            escaped("area.name"),
            "'</narrative></tag>'",
        ),
    )
    sources = Linked(
        "sources",
        f"{CITATIONS} CROSS JOIN LATERAL (SELECT {QUOTE_TEXT} AS text) quoted",
        "citation.activity_id",
        CITATION_ORDER,
        concat(
            "'<document-link url=\"'",
            f"CASE WHEN source.url = '' THEN {prefix} || citation.activity_id || {suffix} "
            f"ELSE {quoted_attribute('source.url')} END",
            '\'" format="text/html"><title><narrative>\'',
            escaped("source.title"),
            "'</narrative></title><description><narrative>'",
            escaped("quoted.text"),
            literal(f"</narrative></description>{CATEGORY}"),
            "CASE WHEN source.published_on IS NULL THEN '' ELSE '<document-date iso-date=\"' "
            f"|| {iso_date('source.published_on')} || '\"/>' END",
            "'</document-link>'",
        ),
    )
    return [participations, countries, regions, areas, sources]


def element_parts(site, today):
    """
    SQL of the three parts of the iati-activity element of the row `activity` (of
    `chosen`), with its texts (TEXTS) and its linked rows (linked_rows(`site`)) joined:
    the part before its dates, its dates (which `today` makes actual or planned), and the
    part after them. `site` is the SQL of the site's address as an attribute.
    """
    reporter = settings.IATI_REPORTING_ORGANISATION
    prefix, suffix = address_parts("activity-detail")
    prefix = f"{site} || {literal(iati.quoted_attribute(prefix))}"
    suffix = literal(iati.quoted_attribute(suffix))
    started = (
        f"activity.status <> {literal(ActivityStatus.PIPELINE.value)} "
        f"AND {{}} <= DATE {literal(today.isoformat())}"
    )
    day = literal(Precision.DAY.value)
    participations, countries, regions, areas, sources = linked_rows(site)
    head = concat(
        "'<iati-activity last-updated-datetime=\"'",
        "to_char(activity.changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')",
        '\'" xml:lang="en"><iati-identifier>\'',
        literal(iati.escaped(iati.identifier(""))),
        "activity.id",
        literal(
            "</iati-identifier>"
            + iati.reporting_org(reporter["name"], reporter["ref"], reporter["type"])
            + "<title><narrative>"
        ),
        "texts.title",
        literal(f'</narrative></title><description type="{iati.GENERAL}"><narrative>'),
        escaped("texts.description"),
        "'</narrative></description>'",
        participations.text(),
        "'<activity-status code=\"'",
        code_of("activity.status", iati.STATUS_CODES),
        "'\"/>'",
    )
    dates = concat(
        "'<activity-date type=\"'",
        f"CASE WHEN {started.format('activity.start_date')} THEN {literal(iati.ACTUAL_START)} "
        f"ELSE {literal(iati.PLANNED_START)} END",
        "'\" iso-date=\"'",
        iso_date("activity.start_date"),
        "'\"/>'",
        f"CASE WHEN activity.end_date IS NULL OR activity.end_date_precision <> {day} THEN '' "
        "ELSE '<activity-date type=\"' || "
        f"CASE WHEN {started.format('activity.end_date')} THEN {literal(iati.ACTUAL_END)} "
        f"ELSE {literal(iati.PLANNED_END)} END || "
        f"'\" iso-date=\"' || {iso_date('activity.end_date')} || '\"/>' END",
    )
    tail = concat(
        countries.text(),
        regions.text(),
        areas.text(),
        "'<document-link url=\"'",
        prefix,
        "activity.id",
        suffix,
        '\'" format="text/html"><title><narrative>\'',
        "texts.title",
        literal(f"</narrative></title>{CATEGORY}</document-link>"),
        sources.text(),
        literal("</iati-activity>"),
    )
    return head, dates, tail


#: An activity's title as XML, and its description: its own, or if it has none the first
#: quote of its evidence, or its title. Joined to the row `activity` as `texts`.
TEXTS = (
    f"CROSS JOIN LATERAL (SELECT {escaped('activity.title')} AS title, "
    "CASE WHEN activity.description <> '' THEN activity.description "
    f"ELSE COALESCE((SELECT {QUOTE_TEXT} FROM {CITATIONS} "
    f"WHERE citation.activity_id = activity.id ORDER BY {CITATION_ORDER} LIMIT 1), "
    "activity.title) END AS description) AS texts"
)


def linked_joins(linked):
    return " ".join(f"LEFT JOIN {link.name} ON {link.name}.id = activity.id" for link in linked)


#: SQL of the condition that the activity `activity` starts on a day it knows.
COMPLETE = (
    "activity.start_date IS NOT NULL "
    f"AND activity.start_date_precision = {literal(Precision.DAY.value)}"
)


def kept_statement(context, today):
    """
    The SQL that writes the iati-activity elements of the activities whose ids are in its
    parameter `ids`, in their order, for COPY (copy_statement), from their kept texts
    (kept.py) and their dates as they are on `today`: GROUP activities a row, each row
    the number of activities it leaves out for want of a start known to the day, then
    its elements, each ended by a line feed. An activity whose kept texts are not still
    true is written as its id between two STALE (worked_statement() writes those).

    It reads no linked row: at a million activities a chunk took two fifths of the time
    of a statement that also worked out the stale elements (when there were none). Rows
    of GROUP elements, rather than one each, halve the time Python takes to receive them.
    """
    site = site_address(context.base)
    _, dates, _ = element_parts(site, today)
    element = concat("kept.iati_head", dates, f"replace(kept.iati_tail, {literal(SITE)}, {site})")
    still_true = kept.still_true("activity.id", "activity.links_changed_at", "activity.changed_at")
    group = f"(chunk.place - 1) / {GROUP}"
    return (
        f"SELECT count(*) FILTER (WHERE kept.iati_head IS NOT NULL AND NOT ({COMPLETE})), "
        f"string_agg(CASE WHEN kept.iati_head IS NULL "
        f"THEN {literal(STALE)} || activity.id || {literal(STALE)} "
        f"WHEN {COMPLETE} THEN {element} || E'\\n' END, '' ORDER BY chunk.place) "
        "FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS chunk (id, place) "
        f"JOIN {table(Activity)} activity ON activity.id = chunk.id "
        # Its kept texts, if still true: an index probe an activity.
        f"LEFT JOIN LATERAL (SELECT kept.iati_head, kept.iati_tail FROM {kept.TABLE} kept "
        f"WHERE {still_true} LIMIT 1) kept ON true "
        f"GROUP BY {group} ORDER BY {group}"
    )


def worked_statement(context, today):
    """
    The SQL that writes the id and the element of each of the activities `ids` as
    kept_statement() does, without its line feed (a row each in their order, the id and
    the element as COPY's columns), each worked out from its own row and its linked rows,
    none read as kept.
    """
    site = site_address(context.base)
    head, dates, tail = element_parts(site, today)
    linked = linked_rows(site)
    return (
        "WITH chosen AS MATERIALIZED (SELECT chunk.place, activity.* "
        "FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS chunk (id, place) "
        f"JOIN {table(Activity)} activity ON activity.id = chunk.id "
        "WHERE activity.id = ANY(%(ids)s::bigint[])), "
        + ", ".join(link.cte("{key} = ANY(%(ids)s::bigint[])") for link in linked)
        + f" SELECT activity.id, CASE WHEN {COMPLETE} THEN {concat(head, dates, tail)} "
        f"ELSE {literal(LEFT_OUT)} END "
        f"FROM chosen activity {TEXTS} {linked_joins(linked)} ORDER BY activity.place"
    )


#: What COPY writes in place of an activity left out, and around the id of an activity
#: whose kept texts are stale: characters that no element holds, as XML cannot
#: (exports.NOT_IN_XML).
LEFT_OUT, STALE = "\x03", "\x05"
LEFT_OUT_BYTES, STALE_BYTES = LEFT_OUT.encode(), STALE.encode()
#: The id of a stale activity in the text of kept_statement().
STALE_ID = re.compile(rb"\x05([0-9]+)\x05")
#: How a binary COPY begins: its signature, then flags and the length of an extension
#: (PostgreSQL's documentation of COPY, "Binary Format").
SIGNATURE, HEADER = b"PGCOPY\n\xff\r\n\x00", 19
#: How each row of a number and a text begins: two columns, the first of eight bytes.
ROW_START = b"\x00\x02\x00\x00\x00\x08"


def copy_statement(statement):
    """
    `statement` (kept_statement or worked_statement) as a binary COPY: its rows as the
    database holds them, texts in UTF-8, without making them Python's text and back. In
    CSV the database looked through every text for characters to quote, a quarter of a
    chunk's time in JSON.
    """
    return f"COPY ({statement}) TO STDOUT (FORMAT binary)"


def numbers_and_texts(copy):
    """
    (number, text) of each row of `copy`, a binary COPY of rows of a bigint and a text.
    The database sends each row in a message of its own, the first after the header; the
    text, the last column, runs to the end of its message, kept as the driver's buffer.
    """
    for message in copy:
        if message[: len(SIGNATURE)] == SIGNATURE:
            message = message[HEADER + int.from_bytes(message[HEADER - 4 : HEADER], "big") :]
        if message[:2] == b"\xff\xff" or not message:  # The end, or a header on its own.
            continue
        if message[: len(ROW_START)] != ROW_START:
            raise ValueError("A row of COPY is not a number and a text.")
        yield int.from_bytes(message[6:14], "big", signed=True), message[18:]


def copied(alias, statements, parameters, ids):
    """
    (number, pieces, worked) of the COPY `statements` (copy_statement()) run with
    `parameters` for the activities `ids`. The first writes, for each group of activities,
    a number and their texts, with STALE, the id and STALE in place of each activity it
    cannot write from kept texts; the second writes the id and the text of each of those.
    `number` sums the first's numbers; `pieces` are its texts joined and cut at STALE_ID,
    the ids at odd places; `worked` holds the second's texts by id. An activity deleted
    since its id was read has no text in `worked`.
    """
    kept_sql, worked_sql = statements
    number, pieces = 0, []
    with statement_cursor(alias) as cursor:
        with cursor.copy(kept_sql, {**parameters, "ids": ids}) as copy:
            for count, text in numbers_and_texts(copy):
                number += count
                pieces.append(text)
        text = b"".join(pieces)
        if STALE_BYTES not in text:
            return number, [text], {}
        pieces = STALE_ID.split(text)
        stale = {**parameters, "ids": [int(pk) for pk in pieces[1::2]]}
        with cursor.copy(worked_sql, stale) as copy:
            worked = {pk: bytes(text) for pk, text in numbers_and_texts(copy)}
    return number, pieces, worked


def copied_elements(alias, statements, ids):
    """
    (UTF-8, left out) of the activities `ids`: their iati-activity elements as the COPY
    `statements` write them (copied()), and how many activities they leave out.
    """
    left_out, pieces, worked = copied(alias, statements, {}, ids)
    for place in range(1, len(pieces), 2):
        element = worked.get(int(pieces[place]))
        if element == LEFT_OUT_BYTES:
            left_out, element = left_out + 1, None
        pieces[place] = b"" if element is None else element + b"\n"
    return b"".join(pieces), left_out


class Written:
    """
    The iati-activity elements of `rows` (a queryset of activities or a search.Ranked),
    written by PostgreSQL a chunk at a time: at most `context.limit` activities,
    `truncated` if the list has more, `left_out` those without a start known to the day.
    Outside a transaction, the chunks are written through the connections of
    parallel.in_order(); inside one, through the request's own, one after another.
    """

    def __init__(self, rows, context, today):
        self.rows, self.context, self.today = rows, context, today
        self.left_out, self.truncated = 0, False

    def __iter__(self):
        alias = database(self.rows)
        statements = (
            copy_statement(kept_statement(self.context, self.today)),
            copy_statement(worked_statement(self.context, self.today)),
        )
        ids, self.truncated = listed_ids(self.rows, self.context.limit)
        read = functools.partial(copied_elements, alias, statements)
        width = None if parallel.usable(alias) else 1
        for text, left_out in parallel.by_chunks(alias, read, ids, CHUNK, width):
            self.left_out += left_out
            if text:
                yield text

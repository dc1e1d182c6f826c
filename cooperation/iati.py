"""
Activities as IATI Activity Standard 2.03 XML (https://iatistandard.org/en/iati-standard/203/).

The tracker publishes what others reported, so each activity names it as a secondary
reporter (settings.IATI_REPORTING_ORGANISATION). An activity's iati-identifier is that
organisation's identifier, a hyphen and the activity's number (as in its public address;
its slug is staff only). An activity without a description is described by the first quote
of its evidence. Areas are tags and regions recipient regions, both in the
reporting organisation's own vocabulary (99) with the address of the list that defines
them; each citation is a document link to its source, with the quote as its description.

IATI needs an activity's start to the day: activities whose start is unknown or known only
to the month or year are left out, and the file ends with a comment that counts them.

element() builds an activity's XML in Python, from the rows exports.Table.chunks() reads
(Built): the writer on SQLite, and the reference for PostgreSQL, where the database writes
the same elements itself, a chunk of activities a query (iati_sql.py), in about half the
time.
"""

import datetime
import functools
import re

from django.conf import settings
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from .dates import Precision
from .exports import WRITE_SIZE, Capped, aware, database, truncation_note, xml_text
from .models import IATI_ORGANISATION_TYPE, ActivityStatus, Role

VERSION = "2.03"
#: IATI's codes of the tracker's roles and statuses, by their values in the database.
ROLE_CODES = {role.value: role.iati_code for role in Role}
STATUS_CODES = {status.value: status.iati_code for status in ActivityStatus}
#: ActivityDateType codes.
PLANNED_START, ACTUAL_START, PLANNED_END, ACTUAL_END = "1", "2", "3", "4"
#: DescriptionType "General"; DocumentCategory "Activity web page"; the vocabulary code of
#: the reporting organisation's own tags and regions (TagVocabulary, RegionVocabulary).
GENERAL, WEB_PAGE, OWN_VOCABULARY = "1", "A12", "99"


#: The addresses of the lists that define the tracker's vocabularies: reversed once.
reverse_cached = functools.cache(reverse)


def identifier(pk):
    return f"{settings.IATI_REPORTING_ORGANISATION['ref']}-{pk}"


#: What escaped() or quoted_attribute() changes; most texts hold none of it.
TO_ESCAPE = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f]")
TO_QUOTE = re.compile(r'[&<>"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f]')


def escaped(text):
    """`text` as XML character data, escaped as lxml does (so CR survives a parser)."""
    if not TO_ESCAPE.search(text):
        return text
    return (
        xml_text(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", "&#13;")
    )


def quoted_attribute(text):
    """`text` as an XML attribute's value in double quotes, whitespace kept as lxml does."""
    if not TO_QUOTE.search(text):
        return text
    return escaped(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def tag(name, attributes, content=""):
    """The element `name` with `attributes` (a dict of str) around `content`, markup."""
    opened = name + "".join(f' {key}="{quoted_attribute(v)}"' for key, v in attributes.items())
    return f"<{opened}>{content}</{name}>" if content else f"<{opened}/>"


def narrative(name, text, **attributes):
    return tag(name, attributes, tag("narrative", {}, escaped(text)))


def document_link(url, title, description, day):
    return tag(
        "document-link",
        {"url": url, "format": "text/html"},
        narrative("title", title)
        + (narrative("description", description) if description else "")
        + tag("category", {"code": WEB_PAGE})
        + (tag("document-date", {"iso-date": day.isoformat()}) if day else ""),
    )


def dates(activity, today):
    """(ActivityDateType, day) of the activity's start and, when known to the day, end."""
    pipeline = activity["status"] == ActivityStatus.PIPELINE
    started = not pipeline and activity["start_date"] <= today
    found = [(ACTUAL_START if started else PLANNED_START, activity["start_date"])]
    end = activity["end_date"]
    if end and activity["end_date_precision"] == Precision.DAY:
        found.append((ACTUAL_END if not pipeline and end <= today else PLANNED_END, end))
    return found


def described(activity):
    """
    The activity's description. IATI requires one: failing that, the first quote of its
    evidence, which a published activity has, rather than words of the tracker's own.
    """
    if activity["description"]:
        return activity["description"]
    citations = activity["citations"]
    return quoted(citations[0]) if citations else activity["title"]


def quoted(citation):
    quote, note, *_ = citation
    return f"“{quote}”" + (f" ({note})" if note else "")


@functools.cache
def reporting_org(name, ref, kind):
    """The reporting-org of every activity: the tracker, as a secondary reporter."""
    return narrative("reporting-org", name, ref=ref, type=kind, **{"secondary-reporter": "1"})


def element(activity, context, today):
    """One iati-activity (a row of exports.TABLES' activities), in the schema's order."""
    url = context.url("activity-detail", activity["pk"])
    reporter = settings.IATI_REPORTING_ORGANISATION
    parts = [
        tag("iati-identifier", {}, escaped(identifier(activity["pk"]))),
        reporting_org(reporter["name"], reporter["ref"], reporter["type"]),
        narrative("title", activity["title"]),
        narrative("description", described(activity), type=GENERAL),
    ]
    for role, name, kind, iati_identifier in activity["participations"]:
        attributes = {"role": ROLE_CODES[role], "type": IATI_ORGANISATION_TYPE[kind]}
        if iati_identifier:
            attributes["ref"] = iati_identifier
        parts.append(narrative("participating-org", name, **attributes))
    parts.append(tag("activity-status", {"code": STATUS_CODES[activity["status"]]}))
    for kind, day in dates(activity, today):
        parts.append(tag("activity-date", {"type": kind, "iso-date": day.isoformat()}))
    for code, name in activity["countries"]:
        parts.append(narrative("recipient-country", name, code=code))
    own = {"vocabulary": OWN_VOCABULARY}
    regions = {**own, "vocabulary-uri": context.base + reverse_cached("cooperation:region-list")}
    for name, slug in activity["regions"]:
        parts.append(narrative("recipient-region", name, code=slug, **regions))
    areas = {**own, "vocabulary-uri": context.base + reverse_cached("cooperation:area-list")}
    for name, slug in activity["areas"]:
        parts.append(narrative("tag", name, code=slug, **areas))
    parts.append(document_link(url, activity["title"], "", None))
    for citation in activity["citations"]:
        _, _, title, published_on, source_url = citation
        parts.append(document_link(source_url or url, title, quoted(citation), published_on))
    updated = aware(activity["changed_at"]).isoformat(timespec="seconds")
    return tag(
        "iati-activity", {"last-updated-datetime": updated, "xml:lang": "en"}, "".join(parts)
    )


def document(table, rows, context):
    """
    The IATI XML of the activities `rows` of `table`, a piece at a time: on PostgreSQL
    written by the database (iati_sql), elsewhere element by element in Python (Built).
    """
    from . import iati_sql

    reporter = settings.IATI_REPORTING_ORGANISATION
    generated = timezone.now().isoformat(timespec="seconds")
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<iati-activities version="{VERSION}" generated-datetime="{generated}">\n'
        f"<!-- Published by {xml_comment(reporter['name'])} as a secondary reporter. -->\n"
    )
    today = datetime.date.today()
    if connections[database(rows)].vendor == "postgresql":
        written = iati_sql.Written(rows, context, today)
    else:
        written = Built(table, rows, context, today)
    yield from written
    if written.left_out:
        yield (
            f"<!-- {written.left_out:,} activities of this list are left out: IATI needs the "
            "day an activity starts, and their start is unknown or known only to the month "
            "or the year. -->\n"
        )
    if written.truncated:
        yield f"<!-- {xml_comment(truncation_note(context))} -->\n"
    yield "</iati-activities>\n"


class Built:
    """
    The iati-activity elements of `rows` of `table`, built in Python by element(), about
    WRITE_SIZE characters a piece; `left_out` and `truncated` as iati_sql.Written.
    """

    def __init__(self, table, rows, context, today):
        self.capped = Capped(table, rows, context.limit, "related")
        self.context, self.today, self.left_out = context, today, 0

    @property
    def truncated(self):
        return self.capped.truncated

    def __iter__(self):
        batch, size = [], 0
        for activity in self.capped:
            start = activity["start_date"]
            if start is None or activity["start_date_precision"] != Precision.DAY:
                self.left_out += 1
                continue
            batch.append(element(activity, self.context, self.today) + "\n")
            size += len(batch[-1])
            if size >= WRITE_SIZE:
                yield "".join(batch)
                batch, size = [], 0
        if batch:
            yield "".join(batch)


def xml_comment(text):
    """`text` fit for an XML comment, which may not hold "--"."""
    return xml_text(text).replace("--", "- -")

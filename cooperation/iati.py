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
"""

import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from .dates import Precision
from .exports import ROWS_PER_WRITE, Capped, truncation_note, xml_text
from .models import IATI_ORGANISATION_TYPE, ActivityStatus, Role

VERSION = "2.03"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: ActivityDateType codes.
PLANNED_START, ACTUAL_START, PLANNED_END, ACTUAL_END = "1", "2", "3", "4"
#: DescriptionType "General"; DocumentCategory "Activity web page"; the vocabulary code of
#: the reporting organisation's own tags and regions (TagVocabulary, RegionVocabulary).
GENERAL, WEB_PAGE, OWN_VOCABULARY = "1", "A12", "99"


def identifier(pk):
    return f"{settings.IATI_REPORTING_ORGANISATION['ref']}-{pk}"


def narrative(parent, tag, text, **attributes):
    element = etree.SubElement(parent, tag, **attributes)
    etree.SubElement(element, "narrative").text = xml_text(text)
    return element


def document_link(parent, url, title, description, day):
    link = etree.SubElement(parent, "document-link", url=url, format="text/html")
    narrative(link, "title", title)
    if description:
        narrative(link, "description", description)
    etree.SubElement(link, "category", code=WEB_PAGE)
    if day:
        etree.SubElement(link, "document-date", **{"iso-date": day.isoformat()})


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


def element(activity, context, today):
    """One iati-activity (a row of exports.TABLES' activities), in the schema's order."""
    url = context.url("activity-detail", activity["pk"])
    reporter = settings.IATI_REPORTING_ORGANISATION
    root = etree.Element(
        "iati-activity",
        {"last-updated-datetime": activity["changed_at"].isoformat(timespec="seconds")},
    )
    root.set(XML_LANG, "en")
    etree.SubElement(root, "iati-identifier").text = identifier(activity["pk"])
    narrative(
        root,
        "reporting-org",
        reporter["name"],
        ref=reporter["ref"],
        type=reporter["type"],
        **{"secondary-reporter": "1"},
    )
    narrative(root, "title", activity["title"])
    narrative(root, "description", described(activity), type=GENERAL)
    for role, name, kind, iati_identifier in activity["participations"]:
        attributes = {"role": Role(role).iati_code, "type": IATI_ORGANISATION_TYPE[kind]}
        if iati_identifier:
            attributes["ref"] = iati_identifier
        narrative(root, "participating-org", name, **attributes)
    etree.SubElement(root, "activity-status", code=ActivityStatus(activity["status"]).iati_code)
    for kind, day in dates(activity, today):
        etree.SubElement(root, "activity-date", type=kind, **{"iso-date": day.isoformat()})
    for code, name in activity["countries"]:
        narrative(root, "recipient-country", name, code=code)
    own = {"vocabulary": OWN_VOCABULARY}
    regions_uri = context.base + reverse("cooperation:region-list")
    for name, slug in activity["regions"]:
        narrative(
            root, "recipient-region", name, code=slug, **own, **{"vocabulary-uri": regions_uri}
        )
    areas_uri = context.base + reverse("cooperation:area-list")
    for name, slug in activity["areas"]:
        narrative(root, "tag", name, code=slug, **own, **{"vocabulary-uri": areas_uri})
    document_link(root, url, activity["title"], "", None)
    for citation in activity["citations"]:
        _, _, title, published_on, source_url = citation
        document_link(root, source_url or url, title, quoted(citation), published_on)
    return root


def document(table, rows, context):
    """The IATI XML of the activities `rows` of `table`, a piece at a time."""
    reporter = settings.IATI_REPORTING_ORGANISATION
    generated = timezone.now().isoformat(timespec="seconds")
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<iati-activities version="{VERSION}" generated-datetime="{generated}">\n'
        f"<!-- Published by {xml_comment(reporter['name'])} as a secondary reporter. -->\n"
    )
    today = datetime.date.today()
    capped, left_out, batch = Capped(table, rows, context.limit), 0, []
    for activity in capped:
        if activity["start_date"] is None or activity["start_date_precision"] != Precision.DAY:
            left_out += 1
            continue
        batch.append(etree.tostring(element(activity, context, today), encoding="unicode"))
        if len(batch) == ROWS_PER_WRITE:
            yield "\n".join(batch) + "\n"
            batch = []
    if batch:
        yield "\n".join(batch) + "\n"
    if left_out:
        yield (
            f"<!-- {left_out:,} activities of this list are left out: IATI needs the day "
            "an activity starts, and their start is unknown or known only to the month "
            "or the year. -->\n"
        )
    if capped.truncated:
        yield f"<!-- {xml_comment(truncation_note(context))} -->\n"
    yield "</iati-activities>\n"


def xml_comment(text):
    """`text` fit for an XML comment, which may not hold "--"."""
    return xml_text(text).replace("--", "- -")

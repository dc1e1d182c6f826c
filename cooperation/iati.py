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
from .exports import Capped, truncation_note, xml_text
from .models import ActivityStatus, Role

VERSION = "2.03"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: ActivityDateType codes.
PLANNED_START, ACTUAL_START, PLANNED_END, ACTUAL_END = "1", "2", "3", "4"
#: DescriptionType "General"; DocumentCategory "Activity web page"; the vocabulary code of
#: the reporting organisation's own tags and regions (TagVocabulary, RegionVocabulary).
GENERAL, WEB_PAGE, OWN_VOCABULARY = "1", "A12", "99"


def identifier(activity):
    return f"{settings.IATI_REPORTING_ORGANISATION['ref']}-{activity.pk}"


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
    pipeline = activity.status == ActivityStatus.PIPELINE
    started = not pipeline and activity.start_date <= today
    found = [(ACTUAL_START if started else PLANNED_START, activity.start_date)]
    if activity.end_date and activity.end_date_precision == Precision.DAY:
        ended = not pipeline and activity.end_date <= today
        found.append((ACTUAL_END if ended else PLANNED_END, activity.end_date))
    return found


def described(activity):
    """
    The activity's description. IATI requires one: failing that, the first quote of its
    evidence, which a published activity has, rather than words of the tracker's own.
    """
    if activity.description:
        return activity.description
    citations = activity.export_citations
    return quoted(citations[0]) if citations else activity.title


def quoted(citation):
    note = f" ({citation.note})" if citation.note else ""
    return f"“{citation.quote}”{note}"


def element(activity, context, today):
    """One iati-activity, its elements in the order the schema sets."""
    url = context.url(activity)
    reporter = settings.IATI_REPORTING_ORGANISATION
    root = etree.Element(
        "iati-activity",
        {"last-updated-datetime": activity.changed_at.isoformat(timespec="seconds")},
    )
    root.set(XML_LANG, "en")
    etree.SubElement(root, "iati-identifier").text = identifier(activity)
    narrative(
        root,
        "reporting-org",
        reporter["name"],
        ref=reporter["ref"],
        type=reporter["type"],
        **{"secondary-reporter": "1"},
    )
    narrative(root, "title", activity.title)
    narrative(root, "description", described(activity), type=GENERAL)
    for participation in activity.export_participations:
        organisation = participation.organisation
        attributes = {"role": Role(participation.role).iati_code, "type": organisation.iati_type}
        if organisation.iati_identifier:
            attributes["ref"] = organisation.iati_identifier
        narrative(root, "participating-org", organisation.name, **attributes)
    etree.SubElement(root, "activity-status", code=ActivityStatus(activity.status).iati_code)
    for kind, day in dates(activity, today):
        etree.SubElement(root, "activity-date", type=kind, **{"iso-date": day.isoformat()})
    for country in activity.countries.all():
        narrative(root, "recipient-country", country.name, code=country.code)
    regions_uri = context.base + reverse("cooperation:region-list")
    for region in activity.regions.all():
        narrative(
            root,
            "recipient-region",
            region.name,
            code=region.slug,
            vocabulary=OWN_VOCABULARY,
            **{"vocabulary-uri": regions_uri},
        )
    areas_uri = context.base + reverse("cooperation:area-list")
    for area in activity.areas.all():
        narrative(
            root,
            "tag",
            area.name,
            code=area.slug,
            vocabulary=OWN_VOCABULARY,
            **{"vocabulary-uri": areas_uri},
        )
    document_link(root, url, activity.title, "", None)
    for citation in activity.export_citations:
        source = citation.source
        document_link(root, source.url or url, source.title, quoted(citation), source.published_on)
    return root


def document(rows, context):
    """The IATI XML of the activities `rows`, a piece at a time."""
    reporter = settings.IATI_REPORTING_ORGANISATION
    generated = timezone.now().isoformat(timespec="seconds")
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<iati-activities version="{VERSION}" generated-datetime="{generated}">\n'
        f"<!-- Published by {xml_comment(reporter['name'])} as a secondary reporter. -->\n"
    )
    today = datetime.date.today()
    capped, left_out = Capped(rows, context.limit), 0
    for activity in capped:
        if activity.start_date is None or activity.start_date_precision != Precision.DAY:
            left_out += 1
            continue
        yield etree.tostring(element(activity, context, today), encoding="unicode") + "\n"
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

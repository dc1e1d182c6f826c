import codecs
import csv
import datetime
import io
import json
from operator import itemgetter
from pathlib import Path
from urllib.parse import urlencode
from xml.etree import ElementTree

import hxl
import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.test import override_settings
from lxml import etree

from cooperation import exports
from cooperation.dates import Precision
from cooperation.models import ActivityStatus, Organisation, OrganisationKind, Publication, Role
from cooperation.search import Ranked

from .factories import (
    ActivityFactory,
    AgreementFactory,
    AreaFactory,
    CitationFactory,
    OrganisationFactory,
    ParticipationFactory,
    RegionFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

IATI = Path(__file__).parent / "iati-2.03"


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.getvalue()


def csv_rows(response):
    """The rows of a CSV export, which starts with UTF-8's byte order mark."""
    content = body(response)
    assert content.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def activity(title, organisations=(), areas=(), **fields):
    """A published activity with its organisations (in roles) and areas, cited once."""
    made = ActivityFactory(title=title, areas=list(areas), **fields)
    for organisation, role in organisations:
        ParticipationFactory(activity=made, organisation=organisation, role=role)
    CitationFactory(
        activity=made, source=SourceFactory(title="Press release", url="https://example.org/r")
    )
    return made


@pytest.fixture
def listed():
    """Two organisations and an area; three published activities and a draft."""
    iom = OrganisationFactory(name="International Organization for Migration", slug="iom")
    easo = OrganisationFactory(name="Asylum Support Office", slug="easo")
    area = AreaFactory(name="Training", slug="training")
    pair = [(iom, Role.FUNDING), (easo, Role.IMPLEMENTING)]
    return {
        "old": activity(
            "Old", pair, [area], start_date=datetime.date(2019, 1, 2), countries=["FR"]
        ),
        "new": activity("New", pair, [area], start_date=datetime.date(2021, 5, 6)),
        "other": activity(
            "Other area", pair, [AreaFactory()], start_date=datetime.date(2020, 1, 1)
        ),
        "draft": activity(
            "Draft",
            pair,
            [area],
            start_date=datetime.date(2022, 1, 1),
            publication=Publication.DRAFT,
        ),
    }


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ("+41 22", "'+41 22"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "'=x"),
        ("a=b", "a=b"),
        (" =x", " =x"),
        ("", ""),
        ("“quote”", "“quote”"),
    ],
)
def test_escape_formula_adds_one_apostrophe_to_formula_starts_only(text, escaped):
    assert exports.escape_formula(text) == escaped


def test_csv_has_the_filtered_rows_in_the_list_order_without_drafts(client, listed):
    page = client.get("/activities/?area=training")
    response = client.get("/activities.csv?area=training")

    rows = csv_rows(response)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert rows[0][:4] == ["url", "title", "status", "start"]
    titles = [row[1] for row in rows[1:]]
    assert titles == [a.title for a in page.context["object_list"]] == ["New", "Old"]
    old = dict(zip(rows[0], rows[2], strict=True))
    assert old["url"] == f"http://testserver/activities/{listed['old'].pk}/"
    assert old["funding"] == "International Organization for Migration"
    assert old["implementing"] == "Asylum Support Office"
    assert old["countries"] == "FR"
    assert old["start"] == "2019-01-02"
    assert old["citations"] == "“work together on training” (Press release)"


def test_csv_starts_with_a_byte_order_mark_so_spreadsheets_read_accents(client, listed):
    activity("Coopération à Genève")

    content = body(client.get("/activities.csv"))
    dumped = body(client.get("/organisations.csv"))

    assert content.startswith(codecs.BOM_UTF8 + b"url,title,")
    assert content.count(codecs.BOM_UTF8) == 1
    assert "Coopération à Genève" in content.decode("utf-8-sig")
    assert dumped.startswith(codecs.BOM_UTF8 + b"url,")


def test_csv_of_a_search_is_in_the_order_of_relevance_as_the_page(client, listed):
    activity("Training of guards", description="Nothing else.")
    activity("Reception", description="Includes training.")

    page = client.get("/activities/?q=training")
    rows = csv_rows(client.get("/activities.csv?q=training"))

    assert page.context["filter"].search_order == "relevance"
    assert [row[1] for row in rows[1:]] == [a.title for a in page.context["object_list"]]
    assert [row[1] for row in rows[1:]][:1] == ["Training of guards"]


def test_csv_follows_the_chosen_sort(client, listed):
    rows = csv_rows(client.get("/activities.csv?sort=title"))

    assert [row[1] for row in rows[1:]] == ["New", "Old", "Other area"]


def test_csv_escapes_formulas_and_keeps_the_rest_verbatim(client):
    activity('=HYPERLINK("http://evil")', description="-1 and a = b, “quoted”\nsecond line")

    rows = csv_rows(client.get("/activities.csv"))

    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["title"] == '\'=HYPERLINK("http://evil")'
    assert record["description"] == "'-1 and a = b, “quoted”\nsecond line"


def test_linked_names_and_citations_join_in_their_order_in_one_cell(client):
    zeta, alpha = OrganisationFactory(name="Zeta Office"), OrganisationFactory(name="Alpha Agency")
    made = activity(
        "Joined",
        [(zeta, Role.IMPLEMENTING), (alpha, Role.IMPLEMENTING), (zeta, Role.FUNDING)],
        [AreaFactory(name="Training", slug="t"), AreaFactory(name="Reception", slug="r")],
        countries=["FR", "BE"],
    )
    made.citations.all().delete()
    for title, day, note in [
        ("Undated", None, ""),
        ("Older", datetime.date(2019, 7, 22), "First"),
        ("Newer", datetime.date(2021, 1, 5), ""),
    ]:
        source = SourceFactory(title=title, published_on=day, text="They met in Geneva.")
        CitationFactory(activity=made, source=source, quote="met in Geneva", note=note)

    record = dict(zip(*csv_rows(client.get("/activities.csv")), strict=True))
    sheet = openpyxl.load_workbook(io.BytesIO(body(client.get("/activities.xlsx")))).active
    cells = dict(zip(*sheet.iter_rows(values_only=True), strict=True))

    assert record["implementing"] == "Alpha Agency; Zeta Office"
    assert record["funding"] == "Zeta Office"
    assert record["accountable"] == ""
    assert record["areas"] == "Reception; Training"
    assert record["countries"] == "BE; FR"
    assert record["citations"] == (
        "“met in Geneva” (Newer, 2021-01-05)\n"
        "“met in Geneva” (Older, 2019-07-22) [First]\n"
        "“met in Geneva” (Undated)"
    )
    assert cells["implementing"] == record["implementing"]
    assert cells["citations"] == record["citations"]


def test_dates_are_exported_as_precisely_as_known(client):
    activity(
        "Dated",
        start_date=datetime.date(2012, 3, 1),
        start_date_precision=Precision.MONTH,
        end_date=datetime.date(2013, 12, 31),
        end_date_precision=Precision.YEAR,
    )

    record = dict(zip(*csv_rows(client.get("/activities.csv")), strict=True))

    assert (record["start"], record["end"]) == ("2012-03", "2013")


def test_xlsx_cells_are_strings_as_they_are(client, listed):
    activity("=1+1", start_date=datetime.date(2023, 1, 1), description="#N/A")
    activity("-2", start_date=datetime.date(2024, 1, 1), description="12")

    response = client.get("/activities.xlsx?sort=-title")

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[1] for row in rows] == ["title", "Other area", "Old", "New", "=1+1", "-2"]
    formula, error = itemgetter(1, 5)(next(sheet.iter_rows(min_row=5, max_row=5)))
    assert (formula.data_type, formula.value) == ("s", "=1+1")
    assert (error.data_type, error.value) == ("s", "#N/A")
    number, twelve = itemgetter(1, 5)(next(sheet.iter_rows(min_row=6, max_row=6)))
    assert (number.data_type, number.value, twelve.value) == ("s", "-2", "12")


def test_organisation_and_agreement_and_area_exports(client, listed):
    iom = listed["old"].participations.get(role=Role.FUNDING).organisation
    agreement = AgreementFactory(title="Working arrangement", parties=[iom])
    AgreementFactory(title="Unpublished", parties=[iom], publication=Publication.DRAFT)

    organisations = csv_rows(client.get("/organisations.csv?q=migration"))
    agreements = csv_rows(client.get("/agreements.csv"))
    areas = csv_rows(client.get("/areas.csv?q=train"))

    assert [row[1] for row in organisations[1:]] == ["International Organization for Migration"]
    assert [row[:2] for row in agreements[1:]] == [
        [f"http://testserver/agreements/{agreement.pk}/", "Working arrangement"]
    ]
    assert [row[:2] for row in areas[1:]] == [["http://testserver/areas/training/", "Training"]]


def test_exports_hold_no_private_data(client, listed):
    # The factories' source text holds an address; a person's citation is staff only.
    organisation = listed["old"].participations.first().organisation
    CitationFactory(organisation=organisation, note="Public note")

    for url in ["/activities.csv", "/activities.iati.xml", "/organisations.hxl.csv"]:
        text = body(client.get(url)).decode()
        assert "someone@example.org" not in text, url
        assert "Draft" not in text, url
    assert "Public note" in body(client.get("/organisations.csv")).decode()


@pytest.mark.parametrize(
    "url",
    [
        "/activities.csv?start_date_after=yesterday",
        "/activities.iati.xml?organisation=nobody",
        "/organisations.hxl.csv?kind=planet",
        "/agreements.xlsx?area=nowhere",
        "/areas.csv?kind=planet",
    ],
)
def test_bad_filters_answer_400_with_the_error(client, listed, url):
    response = client.get(url)

    assert response.status_code == 400
    assert b"This download cannot be made" in response.content
    assert b"<li>" in response.content


def test_a_format_a_list_lacks_is_not_found(client):
    assert client.get("/areas.iati.xml").status_code == 404
    assert client.get("/agreements.hxl.csv").status_code == 404


def test_an_export_stops_at_its_limit_and_says_where_the_rest_is(client, listed, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_LIMIT", 2)
    monkeypatch.setattr(exports, "XLSX_LIMIT", 1)

    rows = csv_rows(client.get("/activities.csv"))
    sheet = openpyxl.load_workbook(io.BytesIO(body(client.get("/activities.xlsx")))).active
    xml = body(client.get("/activities.iati.xml")).decode()

    assert [row[1] for row in rows[1:3]] == ["New", "Other area"]
    assert rows[3] == [
        "This export stops at 2 rows; the list has more. The full list, rebuilt every "
        "night: http://testserver/exports/activities.csv"
    ]
    assert len(rows) == 4
    values = [row[1] for row in sheet.iter_rows(values_only=True)]
    assert values[:2] == ["title", "New"]
    assert sheet.max_row == 3
    assert "http://testserver/exports/activities.xlsx" in xml or "stops at 2 rows" in xml
    assert xml.count("<iati-activity ") == 2


def test_an_export_within_its_limit_has_no_note(client, listed, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_LIMIT", 3)

    rows = csv_rows(client.get("/activities.csv"))

    assert len(rows) == 4
    assert "stops at" not in rows[-1][0]


def test_hxl_export_reads_back_with_libhxl(client, listed):
    content = body(client.get("/activities.hxl.csv?area=training"))

    dataset = hxl.data(io.BytesIO(content), hxl.InputOptions(allow_local=True))
    tags = [str(column) for column in dataset.columns]
    rows = list(dataset)
    assert not content.startswith(codecs.BOM_UTF8)  # libhxl would keep it in a header
    assert dataset.columns[0].header == "url"
    assert {"#activity+title", "#org+name+implementing", "#country+code", "#sector"} <= set(tags)
    assert "#date+start" in tags
    assert [row.get("#activity+title") for row in rows] == ["New", "Old"]
    assert rows[1].get("#org+name+implementing") == "Asylum Support Office"
    assert rows[1].get("#country+code") == "FR"
    assert rows[1].get("#date+start") == "2019-01-02"
    assert rows[1].get("#sector") == "Training"


def test_organisations_hxl_export_reads_back_with_libhxl(client, listed):
    content = body(client.get("/organisations.hxl.csv?q=migration"))

    dataset = hxl.data(io.BytesIO(content), hxl.InputOptions(allow_local=True))
    rows = list(dataset)
    assert [row.get("#org+name") for row in rows] == ["International Organization for Migration"]
    assert rows[0].get("#org+type+code") == "40"


def iati_export(client, url="/activities.iati.xml"):
    response = client.get(url)
    assert response.status_code == 200
    return body(response)


@override_settings(
    IATI_REPORTING_ORGANISATION={"ref": "XI-IATI-TEST", "type": "80", "name": "Tracker"}
)
def test_iati_export_validates_against_the_2_03_schema(client, listed):
    region = RegionFactory(slug="sahel")
    listed["old"].regions.set([region])
    Organisation.objects.filter(slug="iom").update(iati_identifier="XM-DAC-47066")
    listed["new"].end_date = datetime.date(2030, 1, 1)
    listed["new"].save()

    document = etree.fromstring(iati_export(client))

    schema = etree.XMLSchema(etree.parse(str(IATI / "iati-activities-schema.xsd")))
    schema.assertValid(document)
    assert document.get("version") == "2.03"
    first = document.find("iati-activity")
    assert first.findtext("iati-identifier") == f"XI-IATI-TEST-{listed['new'].pk}"
    reporter = first.find("reporting-org")
    assert (reporter.get("ref"), reporter.get("secondary-reporter")) == ("XI-IATI-TEST", "1")
    old = document.findall("iati-activity")[2]
    assert old.find("participating-org[@role='1']").get("ref") == "XM-DAC-47066"
    assert old.find("recipient-region").get("code") == "sahel"
    assert old.find("tag").get("code") == "training"
    assert old.find("document-link/description/narrative").text == "“work together on training”"


def test_iati_export_keeps_markup_and_whitespace_of_text_and_addresses_as_written(client):
    title = 'Tom & "Jerry" <b>x</b>\r\n\ttab\x01'
    made = activity(title, start_date=datetime.date(2020, 1, 1))
    source = SourceFactory(title="A < B", url='https://example.org/?a=1&b="2"\t')
    CitationFactory(activity=made, source=source, quote="x > y")

    found = etree.fromstring(iati_export(client)).find("iati-activity")

    assert found.findtext("title/narrative") == title.replace("\x01", "")
    (link,) = [link for link in found.iter("document-link") if link.get("url") == source.url]
    assert link.findtext("title/narrative") == "A < B"
    assert link.findtext("description/narrative") == "“x > y”"


def codes(name):
    tree = ElementTree.parse(IATI / "codelists" / f"{name}.xml")
    return {item.findtext("code") for item in tree.iter("codelist-item")}


#: Each coded attribute of the export and the 2.03 codelist it takes its codes from.
CODED = {
    "reporting-org/@type": "OrganisationType",
    "participating-org/@role": "OrganisationRole",
    "participating-org/@type": "OrganisationType",
    "activity-status/@code": "ActivityStatus",
    "activity-date/@type": "ActivityDateType",
    "description/@type": "DescriptionType",  # Undescribed activities' too.
    "recipient-country/@code": "Country",
    "recipient-region/@vocabulary": "RegionVocabulary",
    "tag/@vocabulary": "TagVocabulary",
    "document-link/@format": "FileFormat",
    "document-link/category/@code": "DocumentCategory",
}


def test_iati_export_codes_are_in_the_2_03_codelists(client, listed):
    kinds = list(OrganisationKind)
    for number, (kind, status) in enumerate(zip(kinds, list(ActivityStatus) * 2, strict=False)):
        made = activity(
            f"Coded {number}",
            [(OrganisationFactory(kind=kind), list(Role)[number % len(Role)])],
            [AreaFactory()],
            status=status,
            start_date=datetime.date(2020, 1, 1),
            end_date=datetime.date(2020 + number, 1, 1),
            countries=["DE", "ML", "SN"][number % 3 : number % 3 + 1],
            description="Described" if number % 2 else "",
        )
        made.regions.set([RegionFactory()])

    document = etree.fromstring(iati_export(client))

    used = {}
    for path, codelist in CODED.items():
        element_path, attribute = path.split("/@")
        found = {e.get(attribute) for e in document.iterfind(f"iati-activity/{element_path}")}
        assert found, path
        assert found <= codes(codelist), (path, found - codes(codelist))
        used[path] = found
    assert used["participating-org/@role"] == {"1", "2", "3", "4"}
    assert len(used["activity-status/@code"]) == len(ActivityStatus)


def test_iati_export_leaves_out_activities_without_a_day_and_counts_them(client, listed):
    activity("Year only", start_date=datetime.date(2012, 1, 1), start_date_precision=Precision.YEAR)
    activity("Undated")

    xml = iati_export(client).decode()

    assert xml.count("<iati-activity ") == 3
    assert "<!-- 2 activities of this list are left out" in xml
    assert "Year only" not in xml


#: Text that XML must escape, or cannot hold (the controls), with accents and a quote.
NASTY = 'Tom & "Jerry\'s" <b>\r\n\tcafé ünïcode ✓\x01\x08\x0b\x1f'


@pytest.fixture
def varied():
    """Activities with nasty texts, every kind of link and date, some left out of IATI."""
    day, month, year = Precision.DAY, Precision.MONTH, Precision.YEAR
    tricky = OrganisationFactory(name=f"{NASTY} org", iati_identifier='XM-DAC-1&"2\t')
    plain = OrganisationFactory(name="Ängström Institute", kind=OrganisationKind.ACADEMIC)
    area = AreaFactory(name=f"{NASTY} area", slug='a&"<')
    region = RegionFactory(name=f"{NASTY} region")
    sources = [
        SourceFactory(title=f"{NASTY} source", url='https://example.org/?a=1&b="2"\t'),
        SourceFactory(title="Undated", url="", published_on=None),
        SourceFactory(title="Dated", published_on=datetime.date(2019, 7, 22)),
    ]
    dates = [
        (datetime.date(2019, 3, 4), day, datetime.date(2020, 5, 6), day),
        (datetime.date(2019, 3, 4), day, datetime.date(2031, 1, 1), day),
        (datetime.date(2031, 3, 4), day, datetime.date(2032, 1, 1), month),
        (datetime.date(2018, 1, 1), month, None, day),
        (datetime.date(2017, 1, 1), year, None, day),
        (None, day, None, day),
    ]
    made = []
    for number in range(12):
        start, start_precision, end, end_precision = dates[number % len(dates)]
        activity = ActivityFactory(
            title=f"{NASTY} {number}" if number % 3 else f"Plain {number}",
            description=["", NASTY, "Described."][number % 3],
            status=list(ActivityStatus)[number % len(ActivityStatus)],
            start_date=start,
            start_date_precision=start_precision,
            end_date=end,
            end_date_precision=end_precision,
            countries=[["CI", "FR"], [], ["DE"]][number % 3],
            areas=[area] if number % 2 else [],
        )
        if number % 4 == 0:
            activity.regions.set([region])
        for organisation, role in [(tricky, Role.FUNDING), (plain, Role.IMPLEMENTING)][
            : 1 + number % 2
        ]:
            ParticipationFactory(activity=activity, organisation=organisation, role=role)
        if number % 3 == 1:
            ParticipationFactory(activity=activity, organisation=tricky, role=Role.ACCOUNTABLE)
        for source in sources[: number % 4]:
            CitationFactory(
                activity=activity,
                source=source,
                quote=f"{NASTY} quote {number}",
                note=NASTY if number % 2 else "",
            )
        made.append(activity)
    return made


def canonical_elements(pieces):
    """Each iati-activity of the text `pieces` (str or UTF-8) as canonical XML (C14N), in order."""
    text = "".join(p.decode() if isinstance(p, bytes) else p for p in pieces)
    root = etree.fromstring(f"<iati-activities>{text}</iati-activities>")
    return [etree.tostring(element, method="c14n") for element in root]


def written_and_built(query, limit=None):
    """The activities of the list filtered by `query` as the database and Python write them."""
    from cooperation import iati, iati_sql

    table = exports.TABLES["activity-list"]
    context = exports.Context("http://testserver", limit, "http://testserver/exports/x")
    today = datetime.date(2026, 1, 15)
    found = []
    query = QueryDict(urlencode(query))
    for writer in [
        iati_sql.Written(table.filterset(query).qs, context, today),
        iati.Built(table, table.filterset(query).qs, context, today),
    ]:
        found.append((canonical_elements(writer), writer.left_out, writer.truncated))
    return found


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL writes IATI XML itself."
)


@postgresql_only
@override_settings(
    IATI_REPORTING_ORGANISATION={"ref": 'XI-"&<', "type": "80", "name": "100% Träcker\n\t'&'"}
)
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"sort": "title"},
        {"sort": "-start"},
        {"q": "Jerry"},
        {"area": 'a&"<'},
        {"role": "funding"},
    ],
)
def test_iati_xml_the_database_writes_is_what_python_builds(varied, query):
    written, built = written_and_built(query)

    assert written == built
    assert len(written[0]) >= 2
    rows = exports.TABLES["activity-list"].filterset(QueryDict(urlencode(query))).qs
    assert isinstance(rows, Ranked) == ("q" in query)  # A search is read by its ids.
    if not query:
        assert (len(written[0]), written[1]) == (6, 6)


@postgresql_only
def test_iati_xml_the_database_writes_stops_at_the_limit_as_python_does(varied, monkeypatch):
    from cooperation import iati_sql

    monkeypatch.setattr(iati_sql, "CHUNK", 2)  # Several queries, the limit within one.
    written, built = written_and_built({}, limit=5)

    assert written == built
    assert written[2] is True
    assert len(written[0]) + written[1] == 5


@postgresql_only
@override_settings(
    IATI_REPORTING_ORGANISATION={"ref": "XI-IATI-TEST", "type": "80", "name": "100% <Tracker>"}
)
def test_iati_xml_the_database_writes_validates_with_nasty_texts(client, varied):
    document = etree.fromstring(iati_export(client))

    schema = etree.XMLSchema(etree.parse(str(IATI / "iati-activities-schema.xsd")))
    schema.assertValid(document)
    titles = [e.findtext("title/narrative") for e in document.iterfind("iati-activity")]
    assert NASTY.replace("\r\n", "\n")[:10] not in titles  # lxml reads CR as written.
    assert f"{NASTY} 1".translate(dict.fromkeys([1, 8, 11, 31])) in titles


def test_list_pages_link_to_their_exports_with_the_filters(client, listed):
    response = client.get("/activities/?area=training&page=1")

    links = dict(response.context["export_links"])
    assert links == {
        "CSV": "/activities.csv?area=training",
        "XLSX": "/activities.xlsx?area=training",
        "IATI XML": "/activities.iati.xml?area=training",
        "HXL": "/activities.hxl.csv?area=training",
        "JSON": "/activities.json?area=training&page=all",
    }
    assert b'href="/activities.iati.xml?area=training"' in response.content
    assert b"gets one ' before it" in response.content
    assert b"byte order mark" in response.content
    areas = client.get("/areas/")
    assert [label for label, _ in areas.context["export_links"]] == ["CSV", "XLSX", "JSON"]


def test_each_download_of_a_filtered_list_holds_the_rows_of_its_page(client, listed):
    """A newcomer's clicks: every link of the downloads line, from one area and one organisation."""
    activity("Elsewhere", [(Organisation.objects.get(slug="iom"), Role.FUNDING)], [AreaFactory()])
    page = client.get("/activities/", {"area": "training", "organisation": "iom"})
    shown = [a.title for a in page.context["object_list"]]

    def titles(label, content):
        if label in ("CSV", "HXL"):
            rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
            return [row[1] for row in rows[2 if label == "HXL" else 1 :]]
        if label == "XLSX":
            sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
            return [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
        if label == "IATI XML":
            document = etree.fromstring(content)
            return document.xpath("iati-activity/title/narrative/text()")
        return [row["title"] for row in json.loads(content)["results"]]

    downloaded = {}
    for label, url in page.context["export_links"]:
        response = client.get(url)
        assert response.status_code == 200, url
        downloaded[label] = titles(label, body(response))

    assert shown == ["New", "Old"]
    assert downloaded == dict.fromkeys(["CSV", "XLSX", "IATI XML", "HXL", "JSON"], shown)


def test_dump_exports_writes_every_format_and_the_site_serves_it(client, listed, tmp_path):
    with override_settings(EXPORTS_DIR=tmp_path, PUBLIC_URL="https://tracker.example.org"):
        assert client.get("/exports/activities.csv").status_code == 404
        call_command("dump_exports", stdout=io.StringIO())
        response = client.get("/exports/activities.csv")
        served = body(response).decode()
        dumped = client.get("/exports/activities.json")
        listed_json = body(client.get("/activities.json", {"page": "all"}))

    assert dumped["Content-Type"] == "application/json"
    # Every published activity, as the list's JSON writes it, with the site's public address.
    assert json.loads(body(dumped)) == json.loads(
        listed_json.replace(b"http://testserver/", b"https://tracker.example.org/")
    )
    assert json.loads(listed_json)["count"] == len(listed) - 1

    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(exports.DUMP_NAMES)
    assert response.status_code == 200
    assert f"https://tracker.example.org/activities/{listed['old'].pk}/" in served
    assert "Draft" not in served
    assert client.get("/exports/secrets.txt").status_code == 404


@pytest.mark.parametrize("value", ["XM-DAC-47066", "GB-COH-01234567", "XI-IATI-EC_DEVCO"])
def test_iati_identifier_takes_identifiers(value):
    OrganisationFactory.build(iati_identifier=value).full_clean(exclude=["slug", "name"])


@pytest.mark.parametrize("value", ["47066", "xm-dac-47066", "XM-DAC 47066", "XM-DAC-1/2"])
def test_iati_identifier_refuses_what_is_not_one(value):
    with pytest.raises(ValidationError, match="IATI organisation identifier"):
        OrganisationFactory.build(iati_identifier=value).full_clean(exclude=["slug", "name"])


def test_csv_line_quotes_as_postgresql_copy_does():
    cells = ["plain", "", None, 'say "yes"', "a,b", "line\nfeed", "carriage\rreturn", "\\."]

    line = exports.csv_line(cells)

    assert line == ('plain,"",,"say ""yes""","a,b","line\nfeed","carriage\rreturn",\\.\n')
    assert next(csv.reader(io.StringIO(line, newline=""))) == [c or "" for c in cells]


#: Texts that CSV must quote, escape or keep as they are.
NASTY_CELLS = [
    'He said "yes", then left',
    "two\nlines",
    "carriage\r\nreturn",
    "=SUM(A1)",
    "+41 22",
    "-2",
    "@home",
    "\ttabbed",
    "\\.",
    "Coopération à Genève — 東京",
    "back\\slash, comma",
]


def test_csv_through_copy_is_byte_for_byte_the_csv_written_in_python(monkeypatch):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's.")
    for number, text in enumerate(NASTY_CELLS):
        made = ActivityFactory(
            title=text,
            description=NASTY_CELLS[-number - 1] if number % 3 else "",
            start_date=datetime.date(2020, 1, 1 + number),
            countries=["FR"] if number % 2 else [],
        )
        organisation = OrganisationFactory(name=f"{text} {number}", acronym=text)
        ParticipationFactory(activity=made, organisation=organisation, role=Role.FUNDING)
        made.areas.set([AreaFactory(name=text.replace("\r", ""))])
        source = SourceFactory(title=text.replace("\r", ""), text=f"It said: {text}.")
        CitationFactory(activity=made, source=source, quote=text.replace("\r", ""), note=text)
    ActivityFactory(title="Oldest, left out", start_date=datetime.date(2019, 1, 1))
    table = exports.TABLES["activity-list"]
    context = exports.Context("http://testserver", len(NASTY_CELLS), "http://testserver/a.csv")

    def written(hxl):
        pieces = list(exports.csv_lines(table, table.filterset(None).qs, context, hxl))
        kinds = {type(piece) for piece in pieces}
        content = b"".join(p.encode() if isinstance(p, str) else p for p in pieces)
        return content, kinds

    copied = [written(hxl) for hxl in (False, True)]
    monkeypatch.setattr(exports.Cells, "copied", False)
    fetched = [written(hxl) for hxl in (False, True)]

    assert [kinds for _, kinds in copied] == [{str, bytes}] * 2
    assert [kinds for _, kinds in fetched] == [{str}] * 2
    assert [content for content, _ in copied] == [content for content, _ in fetched]
    rows = list(csv.reader(io.StringIO(copied[0][0].decode("utf-8-sig"), newline="")))
    assert [row[1] for row in rows[1:-1]] == [exports.escape_formula(t) for t in NASTY_CELLS[::-1]]
    assert rows[-1] == [
        f"This export stops at {len(NASTY_CELLS)} rows; the list has more. "
        "The full list, rebuilt every night: http://testserver/a.csv"
    ]
    assert [len(row) for row in rows[:-1]] == [len(table.columns)] * (len(NASTY_CELLS) + 1)
    assert b',"carriage\r\nreturn",' in copied[0][0]
    assert copied[0][0].split(b"\n")[0].endswith(b",citations")  # LF ends a line, as in COPY.

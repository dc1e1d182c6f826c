"""
The public lists taken away: each filtered list in CSV and XLSX, activities and
organisations in HXL-tagged CSV, and activities in IATI XML (iati.py). An export is the
list's own URL with a format suffix and the same query string (`/activities/?area=x` →
`/activities.csv?area=x`), filtered and sorted by the list's own FilterSet and queryset.

CSV, HXL and XML stream: the header goes out before the first query, and the rows are read
EXPORT_CHUNK at a time with their related rows prefetched per chunk. An export stops at
EXPORT_LIMIT rows (XLSX, written whole, at XLSX_LIMIT) and says so in a last row, pointing
to the full export that `manage.py dump_exports` writes every night into EXPORTS_DIR.

Every row carries its record's absolute public address and its citations. Cells of CSV and
HXL that a spreadsheet would run as a formula get one leading apostrophe (escape_formula);
XLSX cells are written as strings, and XML carries the text as it is.
"""

import csv
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import F, Prefetch, QuerySet
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, register_converter, reverse
from django.views import View

from . import views
from .dates import Precision
from .filters import PAGE_PARAMETERS
from .models import Agreement, Citation, Participation, Role

#: The most rows one export holds; the full list is in the nightly dump.
EXPORT_LIMIT = 100_000
#: The most rows one XLSX export holds: it is written whole before it is sent.
XLSX_LIMIT = 50_000
#: The most rows a spreadsheet program opens: the limit of the full XLSX dump.
XLSX_DUMP_LIMIT = 1_048_575
#: Rows read, and their related rows prefetched, at a time.
EXPORT_CHUNK = 2_000
#: Rows written to the response at a time.
ROWS_PER_WRITE = 200

#: What starts a formula in a spreadsheet program (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Characters XML 1.0, and so XLSX, cannot hold: C0 controls but tab, LF and CR.
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Between two citations in one cell of CSV, HXL or XLSX.
CITATION_SEPARATOR = "\n"
#: Between two names in one cell.
NAME_SEPARATOR = "; "


def escape_formula(text):
    """`text` with one apostrophe before it if a spreadsheet would read it as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def xml_text(text):
    """`text` without the control characters XML cannot hold (nothing else changes)."""
    return NOT_IN_XML.sub("", text)


def iso_date(day, precision=Precision.DAY):
    """`day` in ISO 8601, no more precisely than known: 2026-01-22, 2026-01 or 2026."""
    if day is None:
        return ""
    if precision == Precision.YEAR:
        return f"{day.year:04d}"
    if precision == Precision.MONTH:
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


@dataclass
class Context:
    """What a row needs beyond its record: the site's address and the export's limit."""

    base: str
    limit: int | None = EXPORT_LIMIT
    dump_url: str = ""

    def url(self, record):
        return self.base + record.get_absolute_url()


def citation_text(citation):
    """One citation in words: “quote” (Source title, 2019-07-22)."""
    source = citation.source
    when = f", {source.published_on.isoformat()}" if source.published_on else ""
    note = f" [{citation.note}]" if citation.note else ""
    return f"“{citation.quote}” ({source.title}{when}){note}"


def citations_cell(record, context):
    return CITATION_SEPARATOR.join(citation_text(c) for c in record.export_citations)


def export_citations():
    """A record's citations with their sources' title, date and address, never full text."""
    citations = (
        Citation.objects.select_related("source")
        .only(
            *["quote", "note", "activity", "agreement", "organisation", "area"],
            *["source__title", "source__published_on", "source__url"],
        )
        .order_by(F("source__published_on").desc(nulls_last=True), "source__title", "pk")
    )
    return Prefetch("citations", queryset=citations, to_attr="export_citations")


def names(records):
    return NAME_SEPARATOR.join(str(record) for record in records)


def participants_in(role):
    def value(activity, context):
        return names(p.organisation for p in activity.export_participations if p.role == role)

    return value


@dataclass
class Column:
    name: str
    hxl: str
    value: object  # (record, context) -> str

    @classmethod
    def of(cls, name, hxl, value=None):
        """A column; by default the record's attribute `name`, as text."""
        return cls(name, hxl, value or (lambda record, context: str(getattr(record, name))))


URL = Column.of("url", "#meta+url", lambda record, context: context.url(record))
CITATIONS = Column.of("citations", "#meta+citations", citations_cell)


def choice(name):
    return lambda record, context: getattr(record, f"get_{name}_display")()


def precise(name):
    return lambda record, context: iso_date(
        getattr(record, name), getattr(record, f"{name}_precision")
    )


ACTIVITY_COLUMNS = [
    URL,
    Column.of("title", "#activity+title"),
    Column.of("status", "#status", choice("status")),
    Column.of("start", "#date+start", precise("start_date")),
    Column.of("end", "#date+end", precise("end_date")),
    Column.of("description", "#activity+description"),
    *[Column.of(role.value, f"#org+name+{role.value}", participants_in(role)) for role in Role],
    Column.of("areas", "#sector", lambda a, c: names(a.areas.all())),
    Column.of(
        "countries",
        "#country+code",
        lambda a, c: NAME_SEPARATOR.join(country.code for country in a.countries.all()),
    ),
    Column.of("regions", "#region+name", lambda a, c: names(a.regions.all())),
    Column.of(
        "agreement",
        "#meta+agreement",
        lambda a, c: a.public_agreement.title if a.public_agreement else "",
    ),
    Column.of(
        "agreement_url",
        "#meta+agreement+url",
        lambda a, c: c.url(a.public_agreement) if a.public_agreement else "",
    ),
    CITATIONS,
]

ORGANISATION_COLUMNS = [
    URL,
    Column.of("name", "#org+name"),
    Column.of("acronym", "#org+acronym"),
    Column.of("kind", "#org+type", choice("kind")),
    Column.of("iati_type", "#org+type+code", lambda o, c: o.iati_type),
    Column.of("iati_identifier", "#org+code"),
    Column.of(
        "parent", "#org+name+parent", lambda o, c: o.parent.name if o.parent_is_public else ""
    ),
    Column.of(
        "parent_url",
        "#meta+parent+url",
        lambda o, c: c.url(o.parent) if o.parent_is_public else "",
    ),
    Column.of("city", "#loc+name"),
    Column.of("country", "#country+code", lambda o, c: o.country.code or ""),
    Column.of("website", "#meta+website"),
    Column.of("description", "#org+description"),
    CITATIONS,
]

AGREEMENT_COLUMNS = [
    URL,
    Column.of("title", "#meta+title"),
    Column.of("kind", "#meta+kind", choice("kind")),
    Column.of("signed", "#date+signed", precise("signed_on")),
    Column.of("city", "#loc+name"),
    Column.of("country", "#country+code", lambda a, c: a.country.code or ""),
    Column.of("parties", "#org+name", lambda a, c: names(a.parties.all())),
    Column.of("areas", "#sector", lambda a, c: names(a.areas.all())),
    Column.of("summary", "#description"),
    CITATIONS,
]

AREA_COLUMNS = [
    URL,
    Column.of("name", "#sector+name"),
    Column.of("kind", "#sector+type", choice("kind")),
    Column.of("description", "#description"),
    CITATIONS,
]


@dataclass
class Table:
    """One public list as an export: its page's view, the columns, and its formats."""

    name: str  # The list's path and the dump's file names: "activities".
    list_name: str  # The list's URL name: "activity-list".
    view: type
    columns: list
    prefetches: list
    formats: list = field(default_factory=lambda: ["csv", "xlsx"])

    def queryset(self):
        """The list's queryset with what the export needs prefetched instead of the page's."""
        queryset = self.view.queryset.prefetch_related(None)
        return queryset.prefetch_related(*self.prefetches, export_citations())

    def filterset(self, data):
        return self.view.filterset_class(data or None, queryset=self.queryset())

    def header(self):
        return [column.name for column in self.columns]

    def cells(self, record, context):
        return [column.value(record, context) for column in self.columns]


TABLES = {
    table.list_name: table
    for table in [
        Table(
            "activities",
            "activity-list",
            views.ActivityListView,
            ACTIVITY_COLUMNS,
            [
                Prefetch(
                    "participations",
                    queryset=Participation.objects.select_related("organisation").only(
                        "activity",
                        "role",
                        "organisation__name",
                        "organisation__kind",
                        "organisation__iati_identifier",
                    ),
                    to_attr="export_participations",
                ),
                "areas",
                "countries",
                "regions",
                Prefetch("agreement", queryset=Agreement.objects.only("title", "publication")),
            ],
            ["csv", "xlsx", "iati.xml", "hxl.csv"],
        ),
        Table(
            "organisations",
            "organisation-list",
            views.OrganisationListView,
            ORGANISATION_COLUMNS,
            [],
            ["csv", "xlsx", "hxl.csv"],
        ),
        Table(
            "agreements",
            "agreement-list",
            views.AgreementListView,
            AGREEMENT_COLUMNS,
            ["parties", "areas"],
        ),
        Table("areas", "area-list", views.AreaListView, AREA_COLUMNS, []),
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
}


class Capped:
    """
    The rows of a list, read in chunks, stopping at `limit`; `truncated` once the rows run
    past it. A search in relevance order is a sequence of ids (search.Ranked), sliced.
    """

    def __init__(self, rows, limit):
        self.rows, self.limit, self.truncated = rows, limit, False

    def __iter__(self):
        for number, record in enumerate(self.chunked()):
            if self.limit is not None and number == self.limit:
                self.truncated = True
                return
            yield record

    def chunked(self):
        rows = self.rows
        if isinstance(rows, QuerySet):
            if self.limit is not None:
                rows = rows[: self.limit + 1]
            return rows.iterator(chunk_size=EXPORT_CHUNK)
        return (
            record
            for start in range(0, len(rows), EXPORT_CHUNK)
            for record in rows[start : start + EXPORT_CHUNK]
        )


def truncation_note(context):
    return (
        f"This export stops at {context.limit:,} rows; the list has more. "
        f"The full list, rebuilt every night: {context.dump_url}"
    )


class Echo:
    """A file that hands back what is written to it, for csv.writer in a stream."""

    def write(self, value):
        return value


def csv_lines(table, rows, context, hxl=False):
    """The CSV of `rows`, a few rows a string; with `hxl`, HXL's hashtag row under the header."""
    writer = csv.writer(Echo())

    def line(cells):
        return writer.writerow([escape_formula(cell) for cell in cells])

    yield line(table.header())
    if hxl:
        yield line([column.hxl for column in table.columns])
    capped, batch = Capped(rows, context.limit), []
    for record in capped:
        batch.append(line(table.cells(record, context)))
        if len(batch) == ROWS_PER_WRITE:
            yield "".join(batch)
            batch = []
    if capped.truncated:
        batch.append(line([truncation_note(context)]))
    yield "".join(batch)


def write_xlsx(table, rows, context, file):
    """The XLSX of `rows`, written to `file`: every cell a string, none a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.name)

    def append(values):
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, xml_text(value))
            cell.data_type = "s"  # Text as it is, never a formula or a number.
            cells.append(cell)
        sheet.append(cells)

    append(table.header())
    capped = Capped(rows, context.limit)
    for record in capped:
        append(table.cells(record, context))
    if capped.truncated:
        append([truncation_note(context)])
    workbook.save(file)


def iati_chunks(table, rows, context):
    from . import iati

    return iati.document(rows, context)


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
    with path.open("w", encoding="utf-8", newline="") as file:
        file.writelines(STREAMS[export_format](table, rows, context))


def dump_path(name):
    return Path(settings.EXPORTS_DIR) / name


DUMP_NAMES = {
    file_name(table, export_format) for table in TABLES.values() for export_format in table.formats
}


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
    """(label, address) of each format of the list `list_name`, with its current filters."""
    table = TABLES.get(list_name)
    if table is None:
        return []
    query = request.GET.copy()
    for name in PAGE_PARAMETERS:
        query.pop(name, None)
    query_string = f"?{query.urlencode()}" if query else ""
    base = request.path.rstrip("/")
    formats = [*table.formats[:2], "json", *table.formats[2:]]
    return [(LABELS[f], f"{base}.{f}{query_string}") for f in formats]

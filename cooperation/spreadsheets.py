"""
CSV and XLSX files, read strictly and written safely.

Cells that a spreadsheet must not run as formulas:

A spreadsheet program opening a CSV file runs a cell that begins with `=`, `+`, `-` or `@`
as a formula (a tab or a carriage return first can hide such a start), so every CSV file the
tracker writes gives such a cell one leading `'`, which spreadsheets read as "text follows",
and changes nothing else. An import of a CSV file takes that one `'` away again. XLSX cells
are written as strings and need neither.

Files are read whole, and refused with a message for staff (UnreadableFile) when they are not
what they claim: not UTF-8, not well-formed CSV, not a workbook, NUL characters, too many rows.
"""

import codecs
import csv
import datetime
import io

import tablib
from import_export.formats import base_formats

#: What a cell may not begin with in a CSV file unless escaped.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def escape_formula(text):
    """`text` with one `'` before it if it begins as a formula would; anything else as it is."""
    if isinstance(text, str) and text.startswith(FORMULA_STARTS):
        return ESCAPE + text
    return text


def unescape_formula(text):
    """The text that escape_formula() turned into `text`: one leading `'` less, if it added one."""
    if isinstance(text, str) and text.startswith(ESCAPE) and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


#: The most rows a file may have: a preview of this many activities takes some seconds.
MAX_ROWS = 500
SAVE_AS_UTF8 = "Save it as “CSV UTF-8” and import it again."


class UnreadableFile(ValueError):
    """A file that cannot be read as the format chosen; the message says why, for staff."""


# Formats


def decoded(data):
    """The text of a CSV file's bytes, which must be UTF-8 (a byte-order mark is allowed)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFile(f"This file is UTF-16 text, not UTF-8. {SAVE_AS_UTF8}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UnreadableFile(
            f"This file is not UTF-8 text: line {line} holds the byte "
            f"0x{data[error.start]:02X}, which UTF-8 does not write there (the file may be "
            f"Latin-1 or Windows-1252). {SAVE_AS_UTF8}"
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise UnreadableFile(
            f"This file holds NUL characters (the first on line {line}): it is not CSV text, "
            f"or it is UTF-16. {SAVE_AS_UTF8}"
        )
    return text


def read_csv(text):
    """The rows of CSV `text`, read strictly: a stray quote mark is an error, not a guess."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
    except csv.Error as error:
        raise UnreadableFile(
            f"Line {reader.line_num} is not well-formed CSV ({error}). A cell that holds a "
            "comma, a line break or a double quote must be in double quotes, each double "
            'quote inside it doubled: "She said ""yes"", then left".'
        ) from None
    if not rows:
        raise UnreadableFile("This file is empty.")
    (_, header), *body = rows
    for line, row in body:
        if len(row) != len(header):
            raise UnreadableFile(
                f"Line {line} has {len(row)} cells; the header line has {len(header)}. "
                "Check that cells holding commas are in double quotes."
            )
    return header, [row for _, row in body]


def cell_text(value):
    """A spreadsheet cell as the text a CSV file would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def checked_dataset(header, rows):
    """A dataset of `rows` under `header`, once they are known to be few and free of NUL."""
    if len(rows) > MAX_ROWS:
        raise UnreadableFile(
            f"This file has {len(rows):,} rows; an import takes at most {MAX_ROWS:,}. "
            "Split it into smaller files."
        )
    names = [cell_text(name).strip() for name in header]
    if len(set(names)) != len(names) or "" in names:
        raise UnreadableFile("Every column needs a name in the header line, each once.")
    for number, row in enumerate(rows, 1):
        if any("\x00" in cell_text(cell) for cell in row):
            raise UnreadableFile(f"Row {number} holds a NUL character.")
    return tablib.Dataset(*[tuple(row) for row in rows], headers=names)


class CSV(base_formats.CSV):
    """
    UTF-8 CSV, read from its bytes (so that the encoding and the line endings inside cells
    are checked here, not guessed), with cells escaped against formulas (see spreadsheets.py)
    and a byte-order mark for spreadsheet programs.
    """

    CONTENT_TYPE = "text/csv; charset=utf-8"

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream):
        header, rows = read_csv(decoded(in_stream))
        return checked_dataset(
            [unescape_formula(name) for name in header],
            [[unescape_formula(cell) for cell in row] for row in rows],
        )

    def export_data(self, dataset, **kwargs):
        escaped = tablib.Dataset(
            *[[escape_formula(cell) for cell in row] for row in dataset],
            headers=dataset.headers,
        )
        return ("\ufeff" + escaped.export("csv")).encode()


class XLSX(base_formats.XLSX):
    """The first sheet of a workbook; every cell is written as text, never as a formula."""

    def create_dataset(self, in_stream):
        try:
            dataset = super().create_dataset(in_stream)
        except Exception:  # openpyxl raises many kinds for a file that is no workbook
            raise UnreadableFile(
                "This file cannot be read as an XLSX workbook. Choose the format it has, "
                "or save it from the spreadsheet program as “Excel Workbook (.xlsx)”."
            ) from None
        rows = [[cell_text(cell) for cell in row] for row in dataset]
        return checked_dataset(dataset.headers, rows)

    def export_data(self, dataset, **kwargs):
        from openpyxl import Workbook
        from openpyxl.utils.exceptions import IllegalCharacterError

        book = Workbook()
        sheet = book.active
        try:
            for row in [dataset.headers, *dataset]:
                sheet.append(row)
        except IllegalCharacterError:
            raise ValueError(
                "A text holds a control character that an XLSX file cannot hold: export "
                "CSV instead."
            ) from None
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # openpyxl would make "=…" a formula
        output = io.BytesIO()
        book.save(output)
        return output.getvalue()


FORMATS = [CSV, XLSX]

"""CSV and .xlsx for download, with every cell that a spreadsheet would run as a formula neutralised.

Uploaded tables are read by ``courses.bulk.files`` (one decoder for the whole service)."""

from __future__ import annotations

import csv
import io

# A cell that begins with one of these is a formula (or becomes one) when Excel or LibreOffice opens
# the file: =HYPERLINK(...) in a learner's name would run on the desk of whoever opens the roster.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell that would start a formula, with a leading ' (shown as text); numbers as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unsafe_again(text: str) -> str:
    """Undo `spreadsheet_safe` on a cell read back from a file the service wrote."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def write_csv(header: list[str], rows: list[list[object]], encoding: str = "utf-8") -> bytes:
    """CSV bytes for Excel: UTF-8 with a BOM, or CP932 (characters it lacks become '?').

    Every text cell goes through `spreadsheet_safe`; this is the service's one CSV writer.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(h) for h in header])
    writer.writerows([spreadsheet_safe(v) for v in row] for row in rows)
    if encoding == "cp932":
        return out.getvalue().encode("cp932", errors="replace")
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(header: list[str], rows: list[list[object]], title: str = "一覧") -> bytes:
    """A workbook of one sheet: a bold, frozen header, then the rows. Text cells are stored as text,
    so one that begins with '=' never runs as a formula; numbers and dates stay numbers and dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    table: list[list[object]] = [list(header), *rows]
    for r, values in enumerate(table, start=1):
        for c, value in enumerate(values, start=1):
            if value is None or value == "":
                continue
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            if r == 1:
                cell.font = Font(bold=True)
    for c, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = max(10, min(40, len(str(name)) * 2 + 4))
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

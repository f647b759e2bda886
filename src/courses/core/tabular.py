"""CSV for download, with every cell that a spreadsheet would run as a formula neutralised.

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

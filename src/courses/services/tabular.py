"""Uploaded tables for the staff console's imports, and CSV for download.

Decoding (UTF-8 with or without BOM, CP932 as Excel writes it, .xlsx) is the chamber upload's
(``courses.services.bulk_file``), so the service has one decoder; this module keys the rows by header.
"""

from __future__ import annotations

import csv
import io

from courses.errors import FieldError, InvalidInput


def read_grid(content: bytes) -> list[list[str]]:
    """The cells of an uploaded CSV or .xlsx file, refused with a reason if it is not a table."""
    from courses.services import bulk_file

    if len(content) > bulk_file.MAX_BYTES:
        raise bulk_file.FileTooLarge("ファイルが大きすぎます（上限5MB）。", "The file is larger than 5 MB.")
    if not content.strip():
        raise InvalidInput(
            "ファイルが空です。",
            "The file is empty.",
            errors=[FieldError("file", "ファイルが空です。", "Empty file.")],
        )
    if content.startswith(b"PK\x03\x04"):
        return bulk_file._xlsx_rows(content)
    grid, _ = bulk_file._csv_rows(content)
    return grid


def read_rows(content: bytes, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, cells by header) of every non-blank row; the header is row 1."""
    grid = read_grid(content)
    header = [h.strip().lstrip("\ufeff") for h in grid[0]]
    missing = [c for c in required if c not in header]
    if missing:
        ja = f"見出し行（1行目）に必要な列がありません: {', '.join(missing)}"
        raise InvalidInput(
            ja, f"Missing columns: {', '.join(missing)}", errors=[FieldError("file", ja, ja, row=1)]
        )
    rows = []
    for number, values in enumerate(grid[1:], start=2):
        if any(v.strip() for v in values):
            rows.append(
                (
                    number,
                    {
                        h: unsafe_again(values[i].strip()) if i < len(values) else ""
                        for i, h in enumerate(header)
                    },
                )
            )
    return rows


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

"""Hostile files at every upload: bombs, truncations, encodings, lengths.

Each answer must be a clear 400/413 (or a correct reading) within 2 s, the parse must stay under
100 MB of Python allocations, and the service must keep answering meanwhile. The uploads are the
chambers' bulk registration and the staff console's CSV imports (instructors, practicum sites).
"""

from __future__ import annotations

import asyncio
import io
import time
import tracemalloc
import zipfile
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import Workbook

from courses.bulk import files as bulk_file
from courses.core.db import Database
from tests.courses import builders as b
from tests.courses.bulk import test_bulk_api as bulk
from tests.courses.console import test_console_api as console

MB = 1024 * 1024


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rezip(base: bytes, replace: dict[str, bytes]) -> bytes:
    """A copy of a real workbook with some members swapped for hostile ones (compressed small)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, replace.pop(item.filename, src.read(item.filename)))
        for name, data in replace.items():
            dst.writestr(name, data)
    return out.getvalue()


def _sheet(body: bytes, dimension: str = "A1:B2") -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<dimension ref="' + dimension.encode() + b'"/><sheetData>' + body + b"</sheetData></worksheet>"
    )


BASE = _xlsx(
    [
        ["開催回コード", "氏名", "フリガナ", "メールアドレス"],
        ["X", "山田 太郎", "ヤマダ タロウ", "a@example.jp"],
    ]
)
SHEET = "xl/worksheets/sheet1.xml"

BOMBS: dict[str, Callable[[], bytes]] = {
    # 20 MB of shared strings in a file of tens of kilobytes (openpyxl would load them all)
    "shared strings bomb": lambda: _rezip(
        BASE,
        {
            "xl/sharedStrings.xml": b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + b"<si><t>"
            + b"A" * (20 * MB)
            + b"</t></si></sst>"
        },
    ),
    # a million empty cells in one row (a 15-million-cell sheet in miniature)
    "cells bomb": lambda: _rezip(
        BASE, {SHEET: _sheet(b'<row r="1">' + b"<c/>" * 10 + b'<c t="n"/>' * 1_000_000 + b"</row>")}
    ),
    # a sheet that unpacks to 100 MB of whitespace
    "sheet bomb": lambda: _rezip(BASE, {SHEET: _sheet(b" " * (100 * MB))}),
    # 200,000 rows, all of them blank
    "rows bomb": lambda: _rezip(
        BASE, {SHEET: _sheet(b"".join(b'<row r="%d"/>' % i for i in range(1, 200_001)))}
    ),
    "truncated workbook": lambda: BASE[: len(BASE) // 2],
    "zip that is no workbook": lambda: _rezip(_xlsx([["a"]]), {}).replace(b"xl/", b"zz/"),
    "image named .xlsx": lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 4096,
    "CSV of one endless row": lambda: ("開催回コード,氏名\r\n" + "," * 2 * MB).encode(),
    "CSV of endless blank lines": lambda: (
        "開催回コード,氏名,フリガナ,メールアドレス\r\n" + "\r\n" * 100_000
    ).encode(),
    "undecodable text": lambda: bytes(range(128, 256)) * 100,
    "empty file": lambda: b"",
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_each_hostile_file_is_refused_quickly_and_in_little_memory(name: str) -> None:
    content = BOMBS[name]()
    assert len(content) < bulk_file.MAX_BYTES, "the bomb must pass the size check on the wire"
    tracemalloc.start()
    started = time.perf_counter()
    try:
        for reader in (
            lambda: bulk_file.read_table("list.xlsx", content),
            lambda: bulk_file.read_rows(content, ["id"]),
        ):
            with pytest.raises(Exception) as refused:
                reader()
            assert getattr(refused.value, "status", None) in (400, 413, 422), repr(refused.value)
            assert refused.value.detail_ja  # a reason a person can act on
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - started < 2 * 2  # both readers, 2 s each
    assert peak < 100 * MB, f"{name}: {peak / MB:.0f} MB"


def test_a_wide_stated_dimension_reads_only_the_table() -> None:
    """A sheet that claims A1:XFD1048576 but holds a small table is read as that table."""
    real = _xlsx(
        [
            ["開催回コード", "氏名", "フリガナ", "メールアドレス"],
            ["X", "山田 太郎", "ヤマダ タロウ", "a@example.jp"],
        ]
    )
    with zipfile.ZipFile(io.BytesIO(real)) as z:
        sheet = z.read(SHEET)
    lying = _rezip(real, {SHEET: sheet.replace(b'ref="A1:D2"', b'ref="A1:XFD1048576"')})
    started = time.perf_counter()
    table = bulk_file.read_table("list.xlsx", lying)
    assert time.perf_counter() - started < 2
    assert [n for n, _ in table.rows] == [2] and table.rows[0][1]["email"] == "a@example.jp"


def test_blank_lines_in_the_middle_never_cut_the_rows_after_them() -> None:
    """5,100 blank lines used to end the reading silently; every row after them is read."""
    head = ["開催回コード,氏名,フリガナ,メールアドレス"]
    first = [f"X,山田 太郎,ヤマダ タロウ,p{i}@example.jp" for i in range(10)]
    last = [f"X,佐藤 花子,サトウ ハナコ,q{i}@example.jp" for i in range(10)]
    content = "\r\n".join(head + first + [""] * 5_100 + last).encode()
    table = bulk_file.read_table("list.csv", content)
    assert len(table.rows) == 20
    assert table.rows[-1][0] == 1 + 10 + 5_100 + 10  # the spreadsheet row number of the last person
    xlsx = _xlsx(
        [h.split(",") for h in head]
        + [r.split(",") for r in first]
        + [[""]] * 5_100
        + [r.split(",") for r in last]
    )
    assert len(bulk_file.read_table("list.xlsx", xlsx).rows) == 20


def test_one_row_over_the_limit_is_refused_not_cut() -> None:
    rows = ["開催回コード,氏名,フリガナ,メールアドレス"] + [
        f"X,山田 太郎,ヤマダ タロウ,p{i}@example.jp" for i in range(bulk_file.MAX_ROWS + 1)
    ]
    with pytest.raises(bulk_file.TooManyRows):
        bulk_file.read_table("list.csv", "\r\n".join(rows).encode())
    assert len(bulk_file.read_table("list.csv", "\r\n".join(rows[:-1]).encode()).rows) == bulk_file.MAX_ROWS


async def _health_while(client: AsyncTestClient[Litestar], upload: asyncio.Task[object]) -> float:
    """The slowest /health answer while the upload is being handled."""
    slowest = 0.0
    while not upload.done():
        started = time.perf_counter()
        assert (await client.get("/health")).status_code == 200
        slowest = max(slowest, time.perf_counter() - started)
        await asyncio.sleep(0.01)
    return slowest


@pytest.mark.parametrize("name", ["cells bomb", "shared strings bomb", "CSV of endless blank lines"])
async def test_bulk_registration_refuses_bombs_and_stays_responsive(
    client: AsyncTestClient[Litestar], db: Database, name: str
) -> None:
    w = await bulk.org_world(db)
    content = BOMBS[name]()
    started = time.perf_counter()
    upload = asyncio.ensure_future(bulk.upload(client, w, content, filename="list.xlsx"))
    slowest = await _health_while(client, upload)
    r = upload.result()
    assert time.perf_counter() - started < 2
    assert r.status_code in (400, 413), r.text[:300]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"]
    assert slowest < 1.0


@pytest.mark.parametrize("name", ["cells bomb", "rows bomb", "CSV of one endless row"])
async def test_console_import_refuses_bombs_and_stays_responsive(
    client: AsyncTestClient[Litestar], db: Database, name: str
) -> None:
    w = await console.world(db)
    started = time.perf_counter()
    upload = asyncio.ensure_future(
        client.post(
            "/api/console/sites/import",
            files={"file": ("sites.xlsx", BOMBS[name](), "application/octet-stream")},
            data={"dry_run": "true"},
            headers=w.staff,
        )
    )
    slowest = await _health_while(client, upload)
    r = upload.result()
    assert time.perf_counter() - started < 2
    assert r.status_code in (400, 413), r.text[:300]
    assert r.json()["detail"]
    assert slowest < 1.0


@pytest.mark.parametrize("name", ["cells bomb", "shared strings bomb", "CSV of one endless row"])
async def test_bank_statement_import_refuses_bombs_and_stays_responsive(
    client: AsyncTestClient[Litestar], db: Database, name: str
) -> None:
    async with db.write() as s:
        campus = await b.campus(s)
        token = await b.token(s, await b.user(s, role="staff", campuses=[campus]))
    started = time.perf_counter()
    upload = asyncio.ensure_future(
        client.post(
            f"/api/billing/campuses/{campus.id}/transfers",
            files={"file": ("meisai.xlsx", BOMBS[name](), "application/octet-stream")},
            headers=b.bearer(token),
        )
    )
    slowest = await _health_while(client, upload)
    r = upload.result()
    assert time.perf_counter() - started < 2
    assert r.status_code in (400, 413), r.text[:300]
    assert r.json()["detail"]
    assert slowest < 1.0


async def test_shift_jis_file_is_read(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await bulk.org_world(db)
    r = await bulk.upload(client, w, bulk.csv_file(bulk.sme_row(w.sme, 1), encoding="cp932"))
    assert r.status_code == 200, r.text
    assert r.json()["rows"][0]["status"] == "confirmed"

"""After a preview with errors, the uploaded file comes back with a first column 「エラー」 holding each
row's messages (API and the preview page), as CSV (UTF-8 with BOM) or .xlsx; nothing is written."""

from __future__ import annotations

import csv
import io

from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import Workbook, load_workbook
from sqlmodel import select

from courses.core.db import Database
from courses.models import Enrollment
from courses.models.bulk import BulkBatch, RegistrationInvitation
from tests.courses import builders as b
from tests.courses.bulk.test_bulk_api import HEADER, Org, csv_file, org_world, sme_row
from tests.courses.bulk.test_org_pages import _hidden, sign_in


async def _marked(
    client: AsyncTestClient[Litestar],
    w: Org,
    content: bytes,
    fmt: str,
    *,
    filename: str = "名簿.csv",
    token: str | None = None,
    lang: str = "ja",
):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/api/organizations/{w.id}/bulk-registrations/errors.{fmt}",
        files={"file": (filename, content, "application/octet-stream")},
        headers={**b.bearer(token or w.token), "Accept-Language": lang},
    )


def _read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, whatever the upload was
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


async def _nothing_written(db: Database) -> None:
    async with db.read() as s:
        assert list(await s.exec(select(Enrollment))) == []
        assert list(await s.exec(select(BulkBatch))) == []
        assert list(await s.exec(select(RegistrationInvitation))) == []


async def test_shift_jis_csv_comes_back_marked_as_utf8(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db)
    rows = [
        sme_row(w.sme, 0),  # 2: fine
        sme_row(w.sme, 1, email="broken"),  # 3: bad email
        ",,,,,,,,",  # 4: blank, kept in its place
        sme_row("NOPE-1", 2, kana="Yamada"),  # 5: two errors
        sme_row(w.sme, 3, name='=HYPERLINK("http://x")'),  # 6: fine, and must not become a formula
    ]
    content = csv_file(*rows, encoding="cp932")
    r = await _marked(client, w, content, "csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"] and ".csv" in r.headers["content-disposition"]
    grid = _read_csv(r.content)
    assert grid[0] == ["エラー", *HEADER.split(",")]
    assert len(grid) == 6  # header and five rows, each at its own row number
    assert grid[1][0] == "" and grid[1][1:] == rows[0].split(",")
    assert "「メールアドレス」" in grid[2][0] and "形式が正しくありません" in grid[2][0]
    assert grid[3] == [""] * 10
    assert "「開催回コード」" in grid[4][0] and "「フリガナ」" in grid[4][0] and " ／ " in grid[4][0]
    assert grid[5][0] == "" and grid[5][2] == '\'=HYPERLINK("http://x")'  # neutralised for Excel
    await _nothing_written(db)
    # the marked file uploads as it is (the エラー column is ignored): the same errors on the same rows
    again = await client.post(
        f"/api/organizations/{w.id}/bulk-registrations",
        files={"file": ("名簿_エラー.csv", r.content, "text/csv")},
        headers=b.bearer(w.token),
    )
    body = again.json()
    assert sorted({e["row"] for e in body["errors"]}) == [3, 5]
    assert body["rows"][-1]["name"] == '=HYPERLINK("http://x")'  # read back as it was written
    # in English
    en = _read_csv((await _marked(client, w, content, "csv", lang="en")).content)
    assert en[0][0] == "エラー" and "Not a valid email address" in en[2][0]


async def test_xlsx_comes_back_marked_as_xlsx(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await org_world(db)
    book = Workbook()
    sheet = book.active
    sheet.append(["メモ", *HEADER.split(",")])  # an extra column of the coordinator's own
    sheet.append(["a", *sme_row(w.sme, 0).split(",")[:6], 40, 10000000, "有"])
    sheet.append(["b", *sme_row(w.closed, 1, name="=1+2").split(",")])
    sheet["C3"].data_type = "s"  # a name typed as text that looks like a formula
    buf = io.BytesIO()
    book.save(buf)
    r = await _marked(client, w, buf.getvalue(), "xlsx", filename="名簿.xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    marked = load_workbook(io.BytesIO(r.content)).worksheets[0]
    values = [[c.value for c in row] for row in marked.iter_rows()]
    assert values[0] == ["エラー", "メモ", *HEADER.split(",")]
    assert values[1][0] is None and values[1][1:3] == ["a", w.sme] and values[1][8] == "40"
    assert "「開催回コード」" in values[2][0] and "申込受付は" in values[2][0]
    assert values[2][3] == "=1+2" and marked["D3"].data_type == "s"  # text, never a formula
    await _nothing_written(db)


async def test_marked_file_is_refused_like_the_upload(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db, members=0)
    not_a_table = await _marked(client, w, b"\x89PNG\r\n\x1a\n\x00\x00", "csv")
    assert not_a_table.status_code == 400
    good = csv_file(sme_row(w.sme, 0))
    assert (await _marked(client, w, good, "csv", token=w.other_token)).status_code == 404
    assert (await _marked(client, w, good, "xlsx", token=w.learner_token)).status_code == 403
    ok = _read_csv((await _marked(client, w, good, "csv")).content)
    assert [row[0] for row in ok] == ["エラー", ""]


async def test_preview_page_offers_the_marked_file(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await org_world(db)
    csrf = await sign_in(client, "coord@example.jp")
    content = csv_file(sme_row(w.sme, 0), sme_row(w.sme, 1, email="broken"), encoding="cp932")
    page = await client.post(
        f"/org/{w.id}/upload",
        files={"file": ("名簿.csv", content, "text/csv")},
        data={"mode": "all_or_nothing", "_csrf_token": csrf},
    )
    assert page.status_code == 200
    assert (
        f'action="/org/{w.id}/errors.xlsx"' in page.text
        and f'formaction="/org/{w.id}/errors.csv"' in page.text
    )
    form = {
        "file_b64": _hidden(page.text, "file_b64"),
        "filename": _hidden(page.text, "filename"),
        "mode": _hidden(page.text, "mode"),
        "_csrf_token": csrf,
    }
    r = await client.post(f"/org/{w.id}/errors.csv", files={"none": ("", b"")}, data=form)
    assert r.status_code == 200, r.text[:300]
    grid = _read_csv(r.content)
    assert [row[0] == "" for row in grid[1:]] == [True, False] and "メールアドレス" in grid[2][0]
    r = await client.post(f"/org/{w.id}/errors.xlsx", files={"none": ("", b"")}, data=form)
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert sheet["A1"].value == "エラー" and "メールアドレス" in str(sheet["A3"].value)
    # without the CSRF token, or for another organisation, or without the file: refused
    no_csrf = await client.post(
        f"/org/{w.id}/errors.csv", files={"none": ("", b"")}, data={**form, "_csrf_token": "x"}
    )
    assert no_csrf.status_code == 403
    assert (
        await client.post(f"/org/{w.id + 1}/errors.csv", files={"none": ("", b"")}, data=form)
    ).status_code == 404
    empty = await client.post(
        f"/org/{w.id}/errors.csv", files={"none": ("", b"")}, data={**form, "file_b64": ""}
    )
    assert empty.status_code == 400
    await _nothing_written(db)
    # a good file's preview offers no such button
    good = await client.post(
        f"/org/{w.id}/upload",
        files={"file": ("名簿.csv", csv_file(sme_row(w.sme, 0)), "text/csv")},
        data={"mode": "all_or_nothing", "_csrf_token": csrf},
    )
    assert "errors.xlsx" not in good.text

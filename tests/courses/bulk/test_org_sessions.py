"""Where a coordinator chooses sessions: the open sessions with their codes (API and /org), templates
pre-filled with the chosen codes."""

from __future__ import annotations

import csv
import io
from datetime import date

from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from courses.bulk import files as bulk_file
from courses.core.db import Database
from tests.courses import builders as b
from tests.courses.bulk.test_bulk_api import Org, org_world
from tests.courses.bulk.test_org_pages import sign_in


async def _more_sessions(db: Database) -> tuple[str, str]:
    """A draft and a session whose applications open later: neither is offered."""
    async with db.write() as s:
        annex = await b.campus(s, "annex")
        course = await b.course(s, "ZAI09", fee_yen=10000)
        draft = await b.session(s, course, annex, start=date(2026, 6, 5), status="draft")
        later = await b.session(s, course, annex, start=date(2026, 12, 1))
    return draft.code, later.code


async def test_open_sessions_soonest_first_with_codes_and_campus_filter(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db, members=0)
    draft, later = await _more_sessions(db)
    auth = b.bearer(w.token)
    r = await client.get(f"/api/organizations/{w.id}/sessions", headers=auth)
    assert r.status_code == 200, r.text
    listed = r.json()
    # TODAY is 2026-05-15: the session whose window closed on 05-10, the draft and the one opening in
    # August are not offered; the others come soonest first
    assert [x["code"] for x in listed] == [w.sme, w.support, w.nolodging]
    assert listed[0]["start_date"] == "2026-06-10" and listed[0]["campus"] == "tokyo"
    assert listed[0]["seats_left"] == 30 and listed[0]["course_title"]
    assert draft not in {x["code"] for x in listed} and later not in {x["code"] for x in listed}
    kyushu = (await client.get(f"/api/organizations/{w.id}/sessions?campus=kyushu", headers=auth)).json()
    assert [x["code"] for x in kyushu] == [w.nolodging]
    bad = await client.get(f"/api/organizations/{w.id}/sessions?campus=nowhere", headers=auth)
    assert bad.status_code == 400 and "nowhere" in bad.text
    # another organisation's coordinator: 404; a learner: 403
    assert (
        await client.get(f"/api/organizations/{w.id}/sessions", headers=b.bearer(w.other_token))
    ).status_code == 404
    assert (
        await client.get(f"/api/organizations/{w.id}/sessions", headers=b.bearer(w.learner_token))
    ).status_code == 403
    assert (
        await client.get(f"/api/organizations/{w.id}/sessions", headers=b.bearer(w.admin_token))
    ).status_code == 200


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def test_api_templates_prefilled_with_the_chosen_codes(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db, members=0)
    auth = b.bearer(w.token)
    base = f"/api/organizations/{w.id}/bulk-registrations"
    r = await client.get(
        f"{base}/template.csv?session={w.support}&session={w.sme}&session={w.support}", headers=auth
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = _csv_rows(r.content)
    assert rows[0] == [c.header for c in bulk_file.COLUMNS]
    assert rows[1:] == [[w.support] + [""] * (len(rows[0]) - 1), [w.sme] + [""] * (len(rows[0]) - 1)]
    r = await client.get(f"{base}/template.xlsx?session={w.sme.lower()}", headers=auth)
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content))["申込者一覧"]
    assert sheet["A2"].value == w.sme and all(c.value is None for c in sheet[2][1:])
    assert sheet["A3"].value is None
    # without sessions: the empty template, as before
    empty = await client.get(f"{base}/template.csv", headers=auth)
    assert _csv_rows(empty.content) == [[c.header for c in bulk_file.COLUMNS]]
    unknown = await client.get(f"{base}/template.csv?session=NOPE-1", headers=auth)
    assert unknown.status_code == 400 and "NOPE-1" in unknown.text
    other = await client.get(f"{base}/template.csv?session={w.sme}", headers=b.bearer(w.other_token))
    assert other.status_code == 404


async def test_a_prefilled_template_reads_back_only_the_rows_filled_in(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db, members=0)
    content = bulk_file.template_xlsx([w.sme, w.support])
    book = load_workbook(io.BytesIO(content))
    sheet = book["申込者一覧"]
    for col, value in zip(
        "BCDEFGHI",
        ["山田 太郎", "ヤマダ タロウ", "q1@example.jp", "株式会社山田製作所", "", "", "E 製造業", 40],
        strict=True,
    ):
        sheet[f"{col}2"] = value
    sheet["J2"] = 10000000
    buf = io.BytesIO()
    book.save(buf)
    table = bulk_file.read_table("t.xlsx", buf.getvalue())
    # row 3 holds only the support session's code: an unused line, skipped like a blank row
    assert [n for n, _ in table.rows] == [2]
    r = await client.post(
        f"/api/organizations/{w.id}/bulk-registrations",
        files={"file": ("t.xlsx", buf.getvalue(), "application/octet-stream")},
        headers=b.bearer(w.token),
    )
    assert r.status_code == 200, r.text
    assert r.json()["errors"] == [] and [x["status"] for x in r.json()["rows"]] == ["invited"]


async def test_org_page_lists_open_sessions_and_downloads_the_chosen(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w: Org = await org_world(db, members=0)
    await sign_in(client, "coord@example.jp")
    page = await client.get("/org")
    assert page.status_code == 200
    html = page.text
    assert "受付中の開催回" in html
    for code in (w.sme, w.support, w.nolodging):
        assert f'name="session" value="{code}"' in html
    assert w.closed not in html
    assert html.index(w.sme) < html.index(w.support) < html.index(w.nolodging)  # soonest first
    assert f'action="/org/{w.id}/template.xlsx"' in html and f'formaction="/org/{w.id}/template.csv"' in html
    kyushu = await client.get(f"/org?org={w.id}&campus=kyushu")
    assert f'value="{w.nolodging}"' in kyushu.text and f'value="{w.sme}"' not in kyushu.text
    r = await client.get(f"/org/{w.id}/template.csv?session={w.sme}&session={w.nolodging}")
    assert r.status_code == 200
    assert [row[0] for row in _csv_rows(r.content)] == ["開催回コード", w.sme, w.nolodging]
    r = await client.get(f"/org/{w.id}/template.xlsx?session={w.support}")
    assert r.status_code == 200
    assert load_workbook(io.BytesIO(r.content))["申込者一覧"]["A2"].value == w.support
    # another organisation's pages are not the coordinator's
    other_id = w.id + 1
    assert (await client.get(f"/org/{other_id}/template.csv?session={w.sme}")).status_code == 404

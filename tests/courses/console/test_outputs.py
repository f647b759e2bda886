"""What the service writes: formulas neutralised, one charset, file names that cannot break a header."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.core import tabular
from courses.core.db import Database
from courses.core.downloads import attachment
from courses.enrollment import service as enrollment
from courses.models import CourseSession
from courses.models.resources import PracticumSite
from tests.courses import builders as b
from tests.courses.console import test_console_api as console

Client = AsyncTestClient[Litestar]
HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+81-3-1234", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def _cells(content: bytes, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode(encoding), newline="")))


def test_every_formula_start_is_neutralised_and_read_back() -> None:
    written = tabular.write_csv(["name", "n"], [[h, -5] for h in HOSTILE] + [["山田 太郎", 3]])
    rows = _cells(written)[1:]
    assert [r[0] for r in rows[:-1]] == ["'" + h for h in HOSTILE]
    assert [r[1] for r in rows] == ["-5"] * len(HOSTILE) + ["3"]  # numbers stay numbers
    assert rows[-1][0] == "山田 太郎"
    assert [tabular.unsafe_again(r[0]) for r in rows] == [*HOSTILE, "山田 太郎"]
    assert tabular.unsafe_again("'plain") == "'plain"  # an apostrophe the user typed stays


async def test_roster_csv_neutralises_names_and_has_one_charset(client: Client, db: Database) -> None:
    w = await console.world(db, capacity=5)
    async with db.write() as s:
        learner = await b.user(s)
        learner.name = HOSTILE[0]
        learner.name_kana = "=1+1"
        s.add(learner)
        await s.flush()
        sess = await s.get(CourseSession, w.session_id)
        assert sess is not None
        sess.code = 'コース"2026\r\nX-Injected: 1'
        s.add(sess)
        await s.run_sync(
            enrollment.enroll,
            user=learner,
            session_id=w.session_id,
            lodging=False,
            now=datetime(2026, 5, 1, tzinfo=UTC),
            check_window=False,
            notify=False,
        )
    r = await client.get(f"/api/staff/sessions/{w.session_id}/roster.csv", headers=w.staff)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    names = {row[3] for row in _cells(r.content)[1:]}
    assert "'" + HOSTILE[0] in names
    assert "x-injected" not in r.headers
    disposition = r.headers["content-disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert "filename*=UTF-8''roster-%E3%82%B3" in disposition
    assert disposition.split(";")[1].strip().startswith('filename="roster-')


async def test_console_export_neutralises_and_reimports_what_it_wrote(client: Client, db: Database) -> None:
    w = await console.world(db)
    async with db.write() as s:
        site = (await s.exec(select(PracticumSite))).one()
        site.name = "+1 工場"
        s.add(site)
    r = await client.get("/api/console/sites/export.csv", headers=w.staff)
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="sites.csv"' in r.headers["content-disposition"]
    rows = _cells(r.content)
    assert rows[1][rows[0].index("name")] == "'+1 工場"
    sjis = await client.get("/api/console/sites/export.csv", params={"encoding": "cp932"}, headers=w.staff)
    assert sjis.headers["content-type"] == "text/csv; charset=shift_jis"
    # the exported file goes back in unchanged: the name is +1 工場 again, not '+1 工場
    files = {"file": ("sites.csv", r.content, "text/csv")}
    back = await client.post(
        "/api/console/sites/import", files=files, data={"dry_run": "false"}, headers=w.staff
    )
    assert back.status_code == 200, back.text
    async with db.read() as s:
        assert (await s.exec(select(PracticumSite.name))).all() == ["+1 工場"]


async def test_session_codes_with_control_characters_are_refused(client: Client, db: Database) -> None:
    w = await console.world(db)
    body = {
        "campus": "tokyo",
        "course": "ZAI01",
        "code": "2026-TOK\r\nX-Injected: 1",
        "capacity": 20,
        "lodging": True,
        "blocks": "2026-10-05..2026-10-06",
        "application_opens": "2026-06-01",
        "application_closes": "2026-09-28",
    }
    r = await client.post("/api/console/sessions", json=body, headers=w.staff)
    assert r.status_code == 400
    assert "制御文字" in console.field_messages(r)["code"]
    r = await client.post(
        "/api/console/sessions", json={**body, "code": "2026-東京-財務-01"}, headers=w.staff
    )
    assert r.status_code == 201, r.text


def test_attachment_names_follow_rfc_6266() -> None:
    assert attachment("sites.csv") == "attachment; filename=\"sites.csv\"; filename*=UTF-8''sites.csv"
    value = attachment('名簿"a\r\n.csv')
    assert value.startswith('attachment; filename="a.csv"')
    assert "\r" not in value and "\n" not in value and value.count('"') == 2
    assert "filename*=UTF-8''%E5%90%8D%E7%B0%BF%22a.csv" in value

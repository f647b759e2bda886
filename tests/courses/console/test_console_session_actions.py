"""The session page offers only the status changes its state allows."""

from __future__ import annotations

from datetime import date

from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core.db import Database
from tests.courses import builders as b


async def test_buttons_follow_the_status(client: AsyncTestClient[Litestar], db: Database) -> None:
    async with db.write() as s:
        await b.category(s, "finance")
        campus = await b.campus(s, "tokyo")
        course = await b.course(s, "ZAI01")
        published = await b.session(s, course, campus, start=date(2026, 6, 10))
        draft = await b.session(s, course, campus, start=date(2026, 7, 10), status="draft")
        cancelled = await b.session(s, course, campus, start=date(2026, 8, 10), status="cancelled")
        token = await b.token(s, await b.user(s, role="staff", campuses=[campus]))
    pages = {}
    for name, row in (("published", published), ("draft", draft), ("cancelled", cancelled)):
        r = await client.get(f"/console/sessions/{row.id}", headers=b.bearer(token))
        assert r.status_code == 200, r.text[:200]
        pages[name] = r.text
    assert ">公開する</button>" not in pages["published"] and ">受付を終了する</button>" in pages["published"]
    assert ">公開する</button>" in pages["draft"] and ">受付を終了する</button>" not in pages["draft"]
    assert "中止する（申込者全員に連絡）</button>" not in pages["cancelled"]
    assert ">翌年度へコピー</button>" in pages["cancelled"]

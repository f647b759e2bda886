"""The catalog opens on what a person can apply for, says truly where each session stands, finds
courses by their reading in kana, and the session page answers before the button who may apply."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.core.db import Database
from courses.models import Course, CourseSession, User
from tests.conftest import TODAY
from tests.courses import builders as b
from tests.courses.bulk.test_org_pages import sign_in

DAY = timedelta(days=1)


async def _catalog(client: AsyncTestClient[Litestar], db: Database) -> dict[str, int]:
    """Sessions in every state an applicant meets, and a learner."""
    async with db.write() as s:
        campus = await b.campus(s, "tokyo")
        await b.category(s, "finance")
        zai = await b.course(s, "ZAI01", title_ja="財務諸表の読み方")
        zai.title_kana = "ザイムショヒョウノヨミカタ"
        mkt = await b.course(s, "MKT01", title_ja="営業管理者研修", category="finance")
        support = await b.course(s, "SHI01", title_ja="創業支援研修", audience="support")
        out = {
            "open": await b.session(s, zai, campus, start=TODAY + 40 * DAY, opens=TODAY - DAY),
            "open_later": await b.session(s, mkt, campus, start=TODAY + 60 * DAY, opens=TODAY - DAY),
            "full": await b.session(s, mkt, campus, start=TODAY + 50 * DAY, capacity=1, opens=TODAY - DAY),
            "upcoming": await b.session(s, zai, campus, start=TODAY + 90 * DAY, opens=TODAY + 10 * DAY),
            "closed": await b.session(s, mkt, campus, start=TODAY + 5 * DAY, closes=TODAY - DAY),
            "cancelled": await b.session(s, zai, campus, start=TODAY + 30 * DAY, status="cancelled"),
            "support": await b.session(s, support, campus, start=TODAY + 45 * DAY, opens=TODAY - DAY),
        }
        ids = {k: int(v.id or 0) for k, v in out.items()}
        learner = await b.user(s, "learner@example.jp")
        filler = await b.user(s, "filler@example.jp")
        ids["learner"], ids["filler"] = int(learner.id or 0), int(filler.id or 0)
    await _enroll(client, db, ids["filler"], ids["full"])
    return ids


async def _enroll(client: AsyncTestClient[Litestar], db: Database, user_id: int, session_id: int) -> None:
    async with db.write() as s:
        user = await s.get(User, user_id)
        assert user is not None
        token = await b.token(s, user)
    r = await client.post(
        f"/api/sessions/{session_id}/enrollments", json={"lodging": False}, headers=b.bearer(token)
    )
    assert r.status_code == 201, r.text


def _cards(html: str) -> dict[str, str]:
    """The badges of each card, by session code."""
    cards = re.findall(r'<li class="session-card">(.*?)</li>', html, re.S)
    out = {}
    for card in cards:
        code = re.search(r"<code>([^<]+)</code>", card).group(1)  # type: ignore[union-attr]
        out[code] = " ".join(re.findall(r'class="badge badge-(?:app-\w+|full)">([^<]+)<', card))
    return out


def _code(db_ids: dict[str, int], codes: dict[int, str], name: str) -> str:
    return codes[db_ids[name]]


async def _codes(db: Database, ids: dict[str, int]) -> dict[str, str]:
    async with db.read() as s:
        return {
            name: (await s.get(CourseSession, sid)).code
            for name, sid in ids.items()
            if name not in {"learner", "filler"}
        }  # type: ignore[union-attr]


async def test_the_catalog_opens_on_sessions_open_for_application_soonest_first(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    ids = await _catalog(client, db)
    code = await _codes(db, ids)
    r = await client.get("/")
    assert r.status_code == 200
    cards = _cards(r.text)
    shown = list(cards)
    assert shown == [code["open"], code["support"], code["full"], code["open_later"]]
    assert all(badges.startswith("受付中") for badges in cards.values())
    assert cards[code["full"]] == "受付中 満席・キャンセル待ち受付中"
    # every session still to begin, each with the badge of where it stands today
    cards = _cards((await client.get("/", params={"show": "upcoming"})).text)
    assert cards[code["upcoming"]].startswith("受付前")
    assert cards[code["closed"]] == "受付終了"
    assert cards[code["cancelled"]] == "中止"
    assert cards[code["open"]] == "受付中"
    # seats left only
    cards = _cards((await client.get("/", params={"seats": "1"})).text)
    assert code["full"] not in cards and code["open"] in cards


async def test_the_api_filters_on_open_applications_and_seats(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    ids = await _catalog(client, db)
    r = await client.get("/api/sessions", params={"accepting": "true", "has_seats": "true"})
    assert r.status_code == 200
    got = {item["id"] for item in r.json()["items"]}
    assert got == {ids["open"], ids["open_later"], ids["support"]}
    assert {item["application"] for item in r.json()["items"]} == {"open"}
    r = await client.get("/api/sessions", params={"accepting": "maybe"})
    assert r.status_code == 400


async def test_a_search_in_hiragana_or_katakana_finds_the_course_by_its_reading(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    ids = await _catalog(client, db)
    code = await _codes(db, ids)
    for q in ("ざいむ", "ザイム", "ｻﾞｲﾑ", "ざいむ しょひょう"):
        cards = _cards((await client.get("/", params={"q": q})).text)
        assert code["open"] in cards, q
        assert code["open_later"] not in cards, q
    assert _cards((await client.get("/", params={"q": "えいぎょう"})).text) == {}  # no reading given


async def test_the_month_filter_offers_only_months_with_sessions(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    await _catalog(client, db)
    html = (await client.get("/")).text
    months = re.findall(r'<option value="(\d{4}-\d{2})"', html)
    starts = {TODAY + n * DAY for n in (5, 30, 40, 45, 50, 60, 90)}
    wanted = sorted({f"{d.year:04d}-{d.month:02d}" for d in starts})
    assert months == wanted


async def test_the_session_page_says_who_may_apply_before_the_button(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    ids = await _catalog(client, db)
    page = (await client.get(f"/sessions/{ids['closed']}")).text
    assert "受付終了" in page and "受付中" not in page and "/apply" not in page
    page = (await client.get(f"/sessions/{ids['open']}")).text
    assert "中小企業の経営者・管理者の方" in page and "/apply" in page
    await sign_in(client, "learner@example.jp")
    page = (await client.get(f"/sessions/{ids['support']}")).text
    assert 'id="not-eligible"' in page and "支援機関職員向け" in page
    assert f"/sessions/{ids['support']}/apply" not in page
    await _enroll(client, db, ids["learner"], ids["open"])
    page = (await client.get(f"/sessions/{ids['open']}")).text
    assert "お申し込み済みです" in page and f"/sessions/{ids['open']}/apply" not in page
    # another session of the same course: the button stays, with a warning
    async with db.write() as s:
        campus = await b.campus(s, "osaka")
        zai = (await s.exec(select(Course).where(Course.code == "ZAI01"))).one()
        again = await b.session(s, zai, campus, start=TODAY + 70 * DAY, opens=TODAY - DAY)
    page = (await client.get(f"/sessions/{again.id}")).text
    assert 'id="same-course"' in page and f"/sessions/{again.id}/apply" in page


async def test_a_visitors_cached_page_never_outlives_a_write(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    ids = await _catalog(client, db)
    code = await _codes(db, ids)
    first = (await client.get("/")).text
    assert (await client.get("/")).text == first  # served again
    await _enroll(client, db, ids["learner"], ids["open"])  # a seat is taken
    cards_before = re.search(code["open"] + r".*?残席</dt><dd[^>]*>([^<]+)", first, re.S)
    after = (await client.get("/")).text
    cards_after = re.search(code["open"] + r".*?残席</dt><dd[^>]*>([^<]+)", after, re.S)
    assert cards_before and cards_after
    assert cards_before.group(1) != cards_after.group(1)


async def test_a_stale_page_is_rendered_once_however_many_visitors_ask_at_once(
    client: AsyncTestClient[Litestar], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from courses.catalog import pages

    ids = await _catalog(client, db)
    renders = 0
    real = pages.render

    def counted(request: Any, template: Any) -> bytes:
        nonlocal renders
        renders += 1
        return real(request, template)

    monkeypatch.setattr(pages, "render", counted)
    first = await asyncio.gather(*(client.get("/") for _ in range(20)))
    assert {r.status_code for r in first} == {200} and len({r.text for r in first}) == 1
    assert renders == 1  # one rendered; nineteen waited for it
    await _enroll(client, db, ids["learner"], ids["open"])  # a write by this instance: the page is stale
    again = await asyncio.gather(*(client.get("/") for _ in range(20)))
    assert {r.status_code for r in again} == {200}
    assert renders == 2  # one rendered the fresh page; the others were given the previous one meanwhile


async def test_a_campus_month_calendar_shows_each_session_on_the_days_it_meets(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    ids = await _catalog(client, db)
    code = await _codes(db, ids)
    start = TODAY + timedelta(days=40)  # the open ZAI01 session: two days from here
    month = f"{start.year:04d}-{start.month:02d}"
    r = await client.get("/campuses/tokyo/calendar", params={"month": month})
    assert r.status_code == 200
    cells = re.findall(r"<td[^>]*>(.*?)</td>", r.text, re.S)
    days = {
        int(m.group(1)): cell
        for cell in cells
        if (m := re.search(r'<span class="day-number">(\d+)</span>', cell))
    }
    link = f'href="/sessions/{ids["open"]}"'
    assert link in days[start.day] and link in days[(start + timedelta(days=1)).day]
    assert all(link not in cell for d, cell in days.items() if d not in (start.day, start.day + 1))
    assert "受付中" in days[start.day]
    assert f"month={month}" in (await client.get("/", params={"campus": "tokyo", "month": month})).text
    assert (await client.get("/campuses/atlantis/calendar")).status_code == 404
    assert (await client.get("/campuses/tokyo/calendar", params={"month": "2026-13"})).status_code == 400
    english = await client.get(
        "/campuses/tokyo/calendar", params={"month": month}, headers={"Accept-Language": "en"}
    )
    assert "Mon" in english.text and "sessions in" in english.text
    assert code["open"]

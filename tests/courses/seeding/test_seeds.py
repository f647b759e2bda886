"""The seed files load into a consistent catalog laid out on the current fiscal year."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date

from sqlmodel import col, func, select

from courses.core.db import Database
from courses.models import Campus, Classroom, Course, CourseSession, DormRoom, SessionBlock
from courses.seeding import seeds as seeding
from tests.conftest import TODAY


async def test_seed_integrity(seeded: Database) -> None:
    async with seeded.read() as s:
        campuses = {c.id: c for c in await s.exec(select(Campus))}
        courses = {c.id: c for c in await s.exec(select(Course))}
        sessions = list(await s.exec(select(CourseSession)))
        rooms = list(await s.exec(select(DormRoom)))
        blocks = list(
            await s.exec(select(SessionBlock).order_by(col(SessionBlock.session_id), col(SessionBlock.seq)))
        )
        classrooms = (await s.exec(select(func.count()).select_from(Classroom))).one()

    assert {c.code for c in campuses.values()} == {
        "asahikawa",
        "sendai",
        "tokyo",
        "sanjo",
        "seto",
        "kansai",
        "hiroshima",
        "kyushu",
        "hitoyoshi",
    }
    assert classrooms >= 9 * 4
    # every session's campus and course exist; lodging only where the campus has it
    assert 650 <= len(sessions) <= 750
    for sess in sessions:
        assert sess.campus_id in campuses and sess.course_id in courses
        if sess.lodging:
            assert campuses[sess.campus_id].has_lodging
    per_campus = Counter(campuses[sess.campus_id].code for sess in sessions)
    assert 100 <= per_campus["tokyo"] <= 120
    audiences = Counter(courses[sess.course_id].audience for sess in sessions)
    assert 550 <= audiences["sme"] <= 650 and 80 <= audiences["support"] <= 120
    # dormitory rooms only on campuses with lodging; each such campus has rooms, twins, accessible rooms,
    # and a women's zone
    by_campus: dict[int, list[DormRoom]] = {}
    for room in rooms:
        assert campuses[room.campus_id].has_lodging
        by_campus.setdefault(room.campus_id, []).append(room)
    for cid, campus in campuses.items():
        if not campus.has_lodging:
            assert cid not in by_campus
            continue
        mine = by_campus[cid]
        assert 20 <= len(mine) <= 220
        assert any(r.kind == "twin" for r in mine) and any(r.zone == "women" for r in mine)
        floors = {r.floor for r in mine}
        assert {r.floor for r in mine if r.accessible} == floors
    # courses: 2 to 20 days, realistic fees and capacities
    for course in courses.values():
        assert 2 <= course.days <= 20
        assert 10_000 <= course.fee_yen <= 300_000
        assert 20 <= course.default_capacity <= 45
    # blocks: inside the fiscal year, ordered, covering the session's dates, as many days as the course
    fy_start = seeding.fiscal_year_start(TODAY)
    by_session: dict[int, list[SessionBlock]] = {}
    for block in blocks:
        by_session.setdefault(block.session_id, []).append(block)
    for sess in sessions:
        mine = by_session[sess.id or 0]
        assert mine[0].start_date == sess.start_date and mine[-1].end_date == sess.end_date
        assert fy_start <= sess.start_date and sess.end_date < date(fy_start.year + 1, 4, 1)
        assert sum((b.end_date - b.start_date).days + 1 for b in mine) == courses[sess.course_id].days
        assert all(a.end_date < b.start_date for a, b in itertools.pairwise(mine))
        assert sess.application_opens < sess.application_closes < sess.start_date
    # spread over the months, and the coming months are open for enrollment
    assert len({sess.start_date.month for sess in sessions}) == 12
    open_now = [
        s
        for s in sessions
        if s.status == "published" and s.application_opens <= TODAY <= s.application_closes
    ]
    assert len(open_now) >= 100


async def test_layout_follows_the_fiscal_year_of_the_day(db: Database) -> None:
    async with db.write() as s:
        report = await seeding.load_catalog(s, date(2031, 2, 10))
    assert report.sessions > 0
    async with db.read() as s:
        first = (await s.exec(select(func.min(CourseSession.start_date)))).one()
        last = (await s.exec(select(func.max(CourseSession.end_date)))).one()
    assert date(2030, 4, 1) <= first and last <= date(2031, 3, 31)
    assert seeding.fiscal_year_start(date(2027, 3, 31)) == date(2026, 4, 1)
    assert seeding.fiscal_year_start(date(2027, 4, 1)) == date(2027, 4, 1)


async def test_seeded_catalog_through_the_api(seeded: Database, client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/sessions", params={"per_page": 100})
    body = r.json()
    assert 650 <= body["total"] <= 750 and len(body["items"]) == 100
    r = await client.get("/api/sessions", params={"campus": "kyushu", "per_page": 100})
    assert all(i["lodging"] is False for i in r.json()["items"])

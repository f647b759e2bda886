"""The annual report on a known dataset: sessions held in the fiscal year (3/31 and 4/1 on either
side), completion by the attendance rule (practicum days included), a cancelled session and one not
ended left out, usefulness from the survey, and each member of staff's campuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from courses.accounts.guards import SESSION_COOKIE
from courses.accounts.service import issue_token
from courses.attendance import service as attendance
from courses.core.db import Database
from courses.models import Campus, Course, CourseSession, Enrollment, SessionStatus, User
from courses.models.attendance import AttendanceMark
from courses.models.surveys import SurveyResponse
from courses.reports import annual
from courses.surveys.results import Scope
from tests.conftest import JST, TODAY
from tests.courses import builders as b

NOW = datetime.combine(TODAY, time(10, 0), tzinfo=JST)


@dataclass
class World:
    users: dict[str, User]
    sessions: dict[str, CourseSession]


def _days(sess: CourseSession) -> list[date]:
    return [sess.start_date + timedelta(days=i) for i in range((sess.end_date - sess.start_date).days + 1)]


async def _learners(
    s: Any, sess: CourseSession, attended: list[int], staff: User, *, cancelled: int = 0, late: bool = False
) -> None:
    """One confirmed learner per entry of ``attended``, present in that many half-days from the first
    (``late``: from the second, so the first morning is missed); ``cancelled`` places more."""
    halves = [(d, h) for d in _days(sess) for h in ("am", "pm")]
    for n in attended:
        user = await b.user(s)
        row = Enrollment(
            session_id=sess.id or 0, user_id=user.id or 0, status="confirmed", created_at=NOW, updated_at=NOW
        )
        s.add(row)
        await s.flush()
        chosen = halves[1 : n + 1] if late else halves[:n]
        for d, h in chosen:
            s.add(
                AttendanceMark(
                    session_id=sess.id or 0,
                    enrollment_id=row.id or 0,
                    day=d,
                    half=h,
                    present=True,
                    source="staff",
                    marked_by=staff.id or 0,
                    marked_at=NOW,
                )
            )
    for _ in range(cancelled):
        user = await b.user(s)
        s.add(
            Enrollment(
                session_id=sess.id or 0,
                user_id=user.id or 0,
                status="cancelled",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    await s.flush()


async def _answers(s: Any, sess: CourseSession, usefulness: list[int]) -> None:
    for u in usefulness:
        s.add(SurveyResponse(session_id=sess.id or 0, usefulness=u))
    await s.flush()


async def _world(db: Database) -> World:
    async with db.write() as s:
        await b.category(s, "finance")
        tokyo = await b.campus(s, "tokyo")
        sendai = await b.campus(s, "sendai")
        users = {
            "staff": await b.user(s, role="staff", campuses=[tokyo]),
            "sendai_staff": await b.user(s, role="staff", campuses=[sendai]),
            "admin": await b.user(s, role="admin"),
        }
        staff = users["admin"]
        sme = await b.course(s, "SME3", days=3)  # 6 half-days; 80 %: 5 complete, 4 do not
        support = await b.course(s, "SUP3", audience="support", days=3)
        practicum = await b.course(s, "PRA3", days=3, has_practicum=True)
        practicum.practicum_days = 1  # the last day: both of its half-days are required
        s.add(practicum)
        sessions = {
            # ends 2026-03-31: fiscal year 2025
            "march": await b.session(s, sme, tokyo, start=date(2026, 3, 29)),
            # ends 2026-04-01: fiscal year 2026
            "april": await b.session(s, sme, tokyo, start=date(2026, 3, 30)),
            "support": await b.session(s, support, tokyo, start=date(2026, 5, 8)),
            "practicum": await b.session(s, practicum, tokyo, start=date(2026, 4, 20)),
            "called_off": await b.session(
                s, sme, tokyo, start=date(2026, 4, 27), status=SessionStatus.CANCELLED
            ),
            "not_ended": await b.session(s, sme, tokyo, start=date(2026, 5, 14)),  # ends 5/16
            "sendai": await b.session(s, sme, sendai, start=date(2026, 4, 14)),
        }
        await _learners(s, sessions["march"], [6, 5], staff)
        await _learners(s, sessions["april"], [6, 5, 4, 0], staff, cancelled=2)
        await _learners(s, sessions["support"], [6, 6, 3], staff)
        # all 6 half-days; 5 missing the last afternoon (a practicum half-day: not completed); 5
        # missing the first morning (completed)
        await _learners(s, sessions["practicum"], [6, 5], staff)
        await _learners(s, sessions["practicum"], [5], staff, late=True)
        await _learners(s, sessions["called_off"], [6, 6], staff)
        await _learners(s, sessions["not_ended"], [2], staff)
        await _learners(s, sessions["sendai"], [6], staff)
        await _answers(s, sessions["march"], [5])
        await _answers(s, sessions["april"], [5, 4, 3])
        await _answers(s, sessions["support"], [2, 4])
        await _answers(s, sessions["called_off"], [5, 5])
        await _answers(s, sessions["sendai"], [1])
    return World(users, sessions)


def _line(data: dict[str, Any], audience: str, campus: str) -> dict[str, Any]:
    return next(x for x in data["lines"] if x["audience"] == audience and x["campus"] == campus)


async def test_annual_report_counted_by_hand(db: Database, client: AsyncTestClient[Litestar]) -> None:
    w = await _world(db)
    async with db.write() as s:
        admin = await b.token(s, w.users["admin"])
    r = await client.get("/api/staff/annual-report", params={"fy": 2026}, headers=b.bearer(admin))
    assert r.status_code == 200, r.text
    data = r.json()
    assert (data["from"], data["to"]) == ("2026-04-01", "2027-03-31")
    # SME at Tokyo: 'april' (4 confirmed: 6 and 5 half-days complete; 4 and 0 do not) and
    # 'practicum' (3 confirmed: the two present all of the last day complete); not 'march'
    # (FY2025), the cancelled session nor the one that has not ended
    sme = _line(data, "sme", "tokyo")
    assert (sme["sessions"], sme["confirmed"], sme["completed"]) == (2, 7, 4)
    assert sme["completion_rate"] == round(4 / 7, 4)
    assert (sme["answers"], sme["useful_rate"]) == (3, round(2 / 3, 4))
    support = _line(data, "support", "tokyo")
    assert (support["sessions"], support["confirmed"], support["completed"], support["completion_rate"]) == (
        1,
        3,
        2,
        round(2 / 3, 4),
    )
    assert (support["answers"], support["useful_rate"]) == (2, 0.5)
    sendai = _line(data, "sme", "sendai")
    assert (sendai["sessions"], sendai["confirmed"], sendai["completed"], sendai["useful_rate"]) == (
        1,
        1,
        1,
        0.0,
    )
    assert [x["campus"] for x in data["lines"]] == ["tokyo", "sendai", "tokyo"]  # SME first, then support
    assert data["total"] == {
        "audience": "all",
        "campus": "all",
        "campus_name": "合計",
        "sessions": 4,
        "confirmed": 11,
        "completed": 7,
        "completion_rate": round(7 / 11, 4),
        "answers": 6,
        "useful_rate": 0.5,
    }
    # the fiscal year before: only the session that ended on 31 March
    last_year = (
        await client.get("/api/staff/annual-report", params={"fy": 2025}, headers=b.bearer(admin))
    ).json()
    assert [
        (x["audience"], x["campus"], x["sessions"], x["confirmed"], x["completed"])
        for x in last_year["lines"]
    ] == [("sme", "tokyo", 1, 2, 2)]


async def test_completion_agrees_with_the_attendance_rule(db: Database) -> None:
    """The set-based count gives what the attendance page's rule gives, learner by learner."""
    w = await _world(db)
    expected: dict[tuple[str, int], int] = {}
    async with db.read() as s:
        for name in ("april", "support", "practicum", "sendai"):
            sess = w.sessions[name]
            course = await s.get(Course, sess.course_id)
            assert course is not None
            done = sum(p.completed for p in (await attendance.progress(s, sess.id or 0)).values())
            key = (course.audience, sess.campus_id)
            expected[key] = expected.get(key, 0) + done
        campuses = list(await s.exec(select(Campus).order_by(col(Campus.sort_order))))
        report = await annual.annual_report(s, Scope(2026, campuses, TODAY))
    by_code = {c.code: c.id for c in campuses}
    assert {(x.audience, by_code[x.campus_code]): x.completed for x in report.lines} == expected
    assert sum(expected.values()) == 7


async def test_annual_report_pages_and_scoping(db: Database, client: AsyncTestClient[Litestar]) -> None:
    w = await _world(db)
    async with db.write() as s:
        cookie = await issue_token(s, w.users["staff"], "web", datetime.now(JST))
        other = await b.token(s, w.users["sendai_staff"])
    api = "/api/staff/annual-report"
    assert (await client.get(api, params={"campus": "tokyo"}, headers=b.bearer(other))).status_code == 403
    assert (await client.get(api, params={"fy": 1900}, headers=b.bearer(other))).status_code == 400
    own = (await client.get(api, params={"fy": 2026}, headers=b.bearer(other))).json()
    assert [x["campus"] for x in own["lines"]] == ["sendai"]
    client.cookies.set(SESSION_COOKIE, cookie)
    page = await client.get("/staff/annual-report", params={"fy": 2026})
    assert page.status_code == 200
    assert (
        "年度実績報告（2026年度）" in page.text
        and "中小企業者向け" in page.text
        and "支援機関向け" in page.text
    )
    assert "sendai" not in page.text and "<svg" in page.text
    csv = (await client.get("/staff/annual-report.csv", params={"fy": 2026})).content.decode("utf-8-sig")
    lines = csv.splitlines()
    assert (
        lines[0]
        == "対象,キャンパスコード,キャンパス,開催回数,受講決定者数,修了者数,修了率(%),アンケート回答数,役に立った率(%)"
    )
    assert "中小企業者向け,tokyo,中小企業大学校 tokyo校,2,7,4,57.1,3,66.7" in lines
    assert "支援機関向け,tokyo,中小企業大学校 tokyo校,1,3,2,66.7,2,50.0" in lines
    assert lines[-1] == "全体,all,合計,3,10,6,60.0,5,60.0"
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    assert (await client.get("/staff/annual-report", params={"campus": "sendai"})).status_code == 403
    dashboard = await client.get("/staff")
    assert (
        'href="/staff/surveys?campus=tokyo"' in dashboard.text
        and 'href="/staff/annual-report"' in dashboard.text
    )

"""The published campus timetable, read: plans' rows with names, compare, the staff grid, and the
instructors' and learners' views.

The job built from the database is in ``courses.planning.timetable_job``; solving it, in
``courses.planning.timetable_solve``.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.service import staff_campus_ids
from courses.core.errors import Forbidden, not_found
from courses.models import Campus, Classroom, Course, CourseSession, Enrollment, SessionStatus
from courses.models.plans import PlanVersion
from courses.models.resources import Instructor
from courses.models.timetable import CourseModule, InstructorLink, PlannedModule
from courses.planning.timetable_job import _days, campus_key, latest_published_rows
from courses.planning.timetable_modules import KIND_LABELS

HALF_LABELS = {0: "午前", 1: "午後"}


@dataclass
class Slot:
    """One placed module with everything a page shows."""

    plan_id: int
    session_id: int
    session_code: str
    course_title: str
    module_title: str
    kind: str
    day: date
    half: int
    half_days: int
    classroom_id: int
    classroom: str
    campus_code: str
    campus_name: str
    instructor_id: int | None
    instructor: str

    @property
    def halves(self) -> list[int]:
        return list(range(self.half, self.half + self.half_days))

    @property
    def time_label(self) -> str:
        return "終日" if self.half_days == 2 else HALF_LABELS[self.half]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


async def _slots(s: AsyncSession, pairs: list[tuple[PlannedModule, PlanVersion]]) -> list[Slot]:
    if not pairs:
        return []
    rows = [r for r, _ in pairs]
    sessions = {
        x.id: (x, c, k)
        for x, c, k in await s.exec(
            select(CourseSession, Course, Campus)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .join(Campus, col(Campus.id) == CourseSession.campus_id)
            .where(col(CourseSession.id).in_({r.session_id for r in rows}))
        )
    }
    mods = {
        m.id: m
        for m in await s.exec(
            select(CourseModule).where(col(CourseModule.id).in_({r.course_module_id for r in rows}))
        )
    }
    rooms = {
        r.id: r.name
        for r in await s.exec(select(Classroom).where(col(Classroom.id).in_({r.classroom_id for r in rows})))
    }
    iids = {r.instructor_id for r in rows if r.instructor_id is not None}
    names = (
        {i.id: i.name for i in await s.exec(select(Instructor).where(col(Instructor.id).in_(iids)))}
        if iids
        else {}
    )
    out = []
    for r in rows:
        sess, course, campus = sessions[r.session_id]
        m = mods[r.course_module_id]
        out.append(
            Slot(
                r.plan_id,
                r.session_id,
                sess.code,
                course.title_ja,
                m.title,
                m.kind,
                r.day,
                r.half,
                r.half_days,
                r.classroom_id,
                rooms.get(r.classroom_id, ""),
                campus.code,
                campus_key(campus),
                r.instructor_id,
                names.get(r.instructor_id or 0, ""),
            )
        )
    out.sort(key=lambda x: (x.day, x.half, x.campus_code, x.classroom, x.session_code))
    return out


async def plan_slots(
    s: AsyncSession, plan_id: int, date_from: date | None = None, date_to: date | None = None
) -> list[Slot]:
    """The modules one plan places (any plan: staff preview before publishing)."""
    plan = await s.get(PlanVersion, plan_id)
    if plan is None:
        raise not_found("計画", "Plan", plan_id)
    stmt = select(PlannedModule).where(PlannedModule.plan_id == plan_id)
    if date_from:
        stmt = stmt.where(col(PlannedModule.day) >= date_from)
    if date_to:
        stmt = stmt.where(col(PlannedModule.day) <= date_to)
    return await _slots(s, [(r, plan) for r in await s.exec(stmt)])


async def published_campus_slots(
    s: AsyncSession, campus_id: int, date_from: date, date_to: date
) -> list[Slot]:
    """The published timetable of a campus between two dates (both included)."""
    pairs = await latest_published_rows(
        s,
        PlanVersion.campus_id == campus_id,
        col(PlannedModule.day) >= date_from,
        col(PlannedModule.day) <= date_to,
    )
    return await _slots(s, pairs)


async def published_session_slots(s: AsyncSession, session_id: int) -> list[Slot]:
    """A session's daily timetable once published (nothing before)."""
    return await _slots(s, await latest_published_rows(s, PlannedModule.session_id == session_id))


async def published_instructor_slots(
    s: AsyncSession, instructor_id: int, date_from: date | None = None
) -> list[Slot]:
    """An instructor's own assignments across campuses in published timetables."""
    conditions: list[Any] = [PlannedModule.instructor_id == instructor_id]
    if date_from:
        conditions.append(col(PlannedModule.day) >= date_from)
    return await _slots(s, await latest_published_rows(s, *conditions))


@dataclass
class Grid:
    """A week of one campus: days × classrooms, each cell the module in the morning/afternoon."""

    days: list[date]
    classrooms: list[Classroom]
    cells: dict[tuple[date, int, int], Slot]  # (day, half, classroom id)
    unassigned_instructor: int


async def campus_grid(s: AsyncSession, campus_id: int, week_start: date, plan_id: int | None = None) -> Grid:
    days = _days(week_start, week_start + timedelta(6))
    if plan_id is not None:
        slots = await plan_slots(s, plan_id, days[0], days[-1])
    else:
        slots = await published_campus_slots(s, campus_id, days[0], days[-1])
    rooms = list(
        await s.exec(
            select(Classroom)
            .where(Classroom.campus_id == campus_id)
            .order_by(col(Classroom.seats).desc(), col(Classroom.id))
        )
    )
    cells: dict[tuple[date, int, int], Slot] = {}
    for x in slots:
        for h in x.halves:
            cells[x.day, h, x.classroom_id] = x
    used_days = {x.day for x in slots}
    shown = [d for d in days if d.weekday() < 5 or d in used_days]
    return Grid(
        shown,
        [r for r in rooms if not r.archived or any(k[2] == r.id for k in cells)],
        cells,
        sum(1 for x in slots if x.instructor_id is None),
    )


@dataclass
class ModuleMove:
    """A module whose period, classroom or instructor changes against the published plan."""

    enrollment_id: int  # unused for timetables (kept for the shared plan page); the module row id
    learner: str  # the module: session code and title
    session_code: str
    before: str
    after: str


async def compare(s: AsyncSession, plan: PlanVersion, current: PlanVersion) -> list[ModuleMove]:
    new = {(x.session_id, x.module_title): x for x in await plan_slots(s, plan.id or 0)}
    old = {(x.session_id, x.module_title): x for x in await plan_slots(s, current.id or 0)}

    def text(x: Slot) -> str:
        return f"{x.day.isoformat()} {x.time_label} {x.classroom} {x.instructor or '講師未定'}"

    out = []
    for k in sorted(new.keys() & old.keys(), key=lambda k: (new[k].day, new[k].half, k)):
        if text(new[k]) != text(old[k]):
            out.append(ModuleMove(0, new[k].module_title, new[k].session_code, text(old[k]), text(new[k])))
    return out


async def instructor_token(s: AsyncSession, instructor_id: int, now: datetime) -> str:
    """The instructor's private link secret, created on first use (inside a write transaction)."""
    link = await s.get(InstructorLink, instructor_id)
    if link is None:
        link = InstructorLink(instructor_id=instructor_id, token=secrets.token_urlsafe(32), created_at=now)
        s.add(link)
        await s.flush()
    return link.token


async def instructor_by_token(s: AsyncSession, token: str) -> Instructor:
    link = (await s.exec(select(InstructorLink).where(InstructorLink.token == token))).first()
    instructor = await s.get(Instructor, link.instructor_id) if link else None
    if instructor is None:
        raise not_found("講師の予定", "Instructor schedule", "?")
    return instructor


async def get_instructor(s: AsyncSession, instructor_id: int) -> Instructor:
    row = await s.get(Instructor, instructor_id)
    if row is None:
        raise not_found("講師", "Instructor", instructor_id)
    return row


async def session_is_public(s: AsyncSession, session_id: int) -> CourseSession:
    sess = await s.get(CourseSession, session_id)
    if sess is None or sess.status == SessionStatus.DRAFT:
        raise not_found("開催回", "Session", session_id)
    return sess


def ics(instructor: Instructor, slots: list[Slot]) -> bytes:
    """The instructor's assignments as iCalendar (morning 9:30–12:30, afternoon 13:30–16:30 JST)."""
    times = {0: ("093000", "123000"), 1: ("133000", "163000")}
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//SMRJ//timetable//JA", "CALSCALE:GREGORIAN"]
    for x in slots:
        d = x.day.strftime("%Y%m%d")
        start, end = times[x.half][0], times[x.half + x.half_days - 1][1]
        lines += [
            "BEGIN:VEVENT",
            f"UID:tt-{x.plan_id}-{x.session_id}-{x.day.isoformat()}-{x.half}@smrj.example.jp",
            f"DTSTART;TZID=Asia/Tokyo:{d}T{start}",
            f"DTEND;TZID=Asia/Tokyo:{d}T{end}",
            "SUMMARY:" + _ics_text(f"{x.module_title}（{x.course_title}）"),
            "LOCATION:" + _ics_text(f"{x.campus_name} {x.classroom}"),
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _ics_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


async def ensure_instructor_visible(
    s: AsyncSession, user: Any, instructor: Instructor, slots: list[Slot]
) -> None:
    """Staff see an instructor's schedule when the instructor belongs to or teaches at one of
    their campuses (administrators: every instructor)."""

    mine = await staff_campus_ids(s, user)
    codes = {c.code for c in await s.exec(select(Campus).where(col(Campus.id).in_(mine)))} if mine else set()
    if instructor.home_campus_id in mine or any(x.campus_code in codes for x in slots):
        return
    raise Forbidden("この講師の予定を見る権限がありません。", "You may not see this instructor's schedule.")


async def session_slots_by_enrollment(s: AsyncSession, enrollment_ids: list[int]) -> dict[int, list[Slot]]:
    """Each enrollment's session timetable once published (for the learner's page)."""

    if not enrollment_ids:
        return {}
    pairs = list(
        await s.exec(
            select(Enrollment.id, Enrollment.session_id).where(col(Enrollment.id).in_(enrollment_ids))
        )
    )
    rows = await latest_published_rows(s, col(PlannedModule.session_id).in_({sid for _, sid in pairs}))
    by_session: dict[int, list[Slot]] = defaultdict(list)
    for x in await _slots(s, rows):
        by_session[x.session_id].append(x)
    return {int(eid or 0): by_session[sid] for eid, sid in pairs if by_session.get(sid)}

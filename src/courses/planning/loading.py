"""Reading what every planning stage needs of a campus (its sessions and their blocks), and the
picklable outcome a worker process hands back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.models import Course, CourseSession, Enrollment, SessionBlock, SessionStatus, User


def _overlapping(date_from: date, date_to: date) -> Any:
    return (col(CourseSession.end_date) >= date_from) & (col(CourseSession.start_date) <= date_to)


async def _sessions(
    s: AsyncSession, campus_id: int, date_from: date, date_to: date
) -> list[tuple[CourseSession, Course]]:
    rows = await s.exec(
        select(CourseSession, Course)
        .join(Course, col(Course.id) == CourseSession.course_id)
        .where(
            CourseSession.campus_id == campus_id,
            col(CourseSession.status).in_([SessionStatus.PUBLISHED, SessionStatus.CLOSED]),
            _overlapping(date_from, date_to),
        )
        .order_by(col(CourseSession.start_date), col(CourseSession.id))
    )
    return list(rows)


async def _blocks(s: AsyncSession, session_ids: list[int]) -> dict[int, list[SessionBlock]]:
    out: dict[int, list[SessionBlock]] = defaultdict(list)
    if session_ids:
        rows = await s.exec(
            select(SessionBlock)
            .where(col(SessionBlock.session_id).in_(session_ids))
            .order_by(col(SessionBlock.seq))
        )
        for block in rows:
            out[block.session_id].append(block)
    return out


@dataclass
class SolveOutcome:
    """What a worker process hands back for one kind of plan (picklable)."""

    kind: str
    status: str
    objective: float
    best_bound: float
    gap: float
    moved: int
    solve_seconds: float
    breakdown: dict[str, dict[str, float]]
    unassigned: list[dict[str, Any]]
    messages: list[str]
    violations: list[dict[str, Any]]
    rooms: list[tuple[int, int, int, int]]  # session, enrollment, block, room
    sites: list[tuple[int, int, int]]  # session, enrollment, site
    # timetable: session, course module, day, half, half days, classroom, instructor (or None)
    modules: list[tuple[int, int, date, int, int, int, int | None]] = field(default_factory=list)


@dataclass(frozen=True)
class Person:
    """How a plan's views name an enrollment: the learner, and the session and course."""

    name: str
    session_code: str
    course_title: str


async def people_of(s: AsyncSession, enrollment_ids: Iterable[int]) -> dict[int, Person]:
    """The learner's name, session code and course title of each enrollment, 500 ids a query."""
    ids = sorted(set(enrollment_ids))
    out: dict[int, Person] = {}
    for part in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for eid, name, code, title in await s.exec(
            select(Enrollment.id, User.name, CourseSession.code, Course.title_ja)
            .join(User, col(User.id) == Enrollment.user_id)
            .join(CourseSession, col(CourseSession.id) == Enrollment.session_id)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .where(col(Enrollment.id).in_(part))
        ):
            out[int(eid or 0)] = Person(name, code, title)
    return out

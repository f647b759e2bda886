"""The campus officer's overview: the coming weeks' sessions with their fill and waiting lists, the
dormitory's demand against its beds night by night, and what needs attention."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.models import (
    Course,
    CourseSession,
    DormRoom,
    Enrollment,
    EnrollmentStatus,
    SessionStatus,
)
from courses.models.plans import PlanKind
from courses.models.resources import Instructor, RoomOutage
from courses.models.timetable import PlannedModule
from courses.planning.loading import _blocks
from courses.planning.plans import published_plan
from courses.planning.timetable_job import latest_published_rows

WEEKS = 8
NEARLY_FULL = 0.9


@dataclass
class SessionLine:
    session: CourseSession
    course: Course
    waiting: int

    @property
    def fill(self) -> float:
        return self.session.confirmed_count / self.session.capacity if self.session.capacity else 0.0


@dataclass
class NightLoad:
    night: date
    demand: int  # confirmed learners asking for lodging
    beds: int  # beds in service


@dataclass
class Overview:
    sessions: list[SessionLine]
    nights: list[NightLoad]
    warnings: list[str] = field(default_factory=list)

    @property
    def peak(self) -> int:
        return max([1, *(n.demand for n in self.nights), *(n.beds for n in self.nights)])


async def overview(s: AsyncSession, campus_id: int, today: date) -> Overview:
    until = today + timedelta(weeks=WEEKS)
    rows = list(
        await s.exec(
            select(CourseSession, Course)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .where(
                CourseSession.campus_id == campus_id,
                col(CourseSession.end_date) >= today,
                col(CourseSession.start_date) <= until,
                CourseSession.status != SessionStatus.CANCELLED,
            )
            .order_by(col(CourseSession.start_date), col(CourseSession.code))
        )
    )
    ids = [sess.id or 0 for sess, _ in rows]
    waiting: dict[int, int] = {}
    lodging: dict[int, int] = {}
    if ids:
        waiting = dict(
            (
                await s.exec(
                    select(Enrollment.session_id, func.count())
                    .where(
                        col(Enrollment.session_id).in_(ids), Enrollment.status == EnrollmentStatus.WAITLISTED
                    )
                    .group_by(col(Enrollment.session_id))
                )
            ).all()
        )
        lodging = dict(
            (
                await s.exec(
                    select(Enrollment.session_id, func.count())
                    .where(
                        col(Enrollment.session_id).in_(ids),
                        Enrollment.status == EnrollmentStatus.CONFIRMED,
                        col(Enrollment.lodging).is_(True),
                    )
                    .group_by(col(Enrollment.session_id))
                )
            ).all()
        )
    lines = [SessionLine(sess, course, int(waiting.get(sess.id or 0, 0))) for sess, course in rows]
    blocks = await _blocks(s, ids)
    demand: dict[date, int] = defaultdict(int)
    for sid, count in lodging.items():
        for b in blocks.get(sid, []):
            night = b.start_date
            while night < b.end_date:
                if today <= night < until:
                    demand[night] += int(count)
                night += timedelta(days=1)
    rooms = list(
        await s.exec(
            select(DormRoom).where(DormRoom.campus_id == campus_id, col(DormRoom.archived).is_(False))
        )
    )
    beds_of = {r.id: 2 if r.kind == "twin" else 1 for r in rooms}
    out: dict[date, int] = defaultdict(int)
    for o in await s.exec(
        select(RoomOutage).where(
            RoomOutage.campus_id == campus_id,
            col(RoomOutage.dorm_room_id).is_not(None),
            col(RoomOutage.end_date) >= today,
            col(RoomOutage.start_date) <= until,
        )
    ):
        day = max(o.start_date, today)
        while day <= min(o.end_date, until):
            out[day] += beds_of.get(o.dorm_room_id, 0)
            day += timedelta(days=1)
    total_beds = sum(beds_of.values())
    nights = [
        NightLoad(
            today + timedelta(days=k),
            demand.get(today + timedelta(days=k), 0),
            total_beds - out.get(today + timedelta(days=k), 0),
        )
        for k in range(WEEKS * 7)
    ]
    view = Overview(lines, nights)
    for line in lines:
        if line.fill >= NEARLY_FULL and line.waiting:
            view.warnings.append(
                f"{line.course.title_ja}（{line.session.code}）: 定員の{line.fill:.0%}が埋まり、キャンセル待ちが{line.waiting}名います。"
            )
    short = [n for n in nights if n.demand > n.beds and (rooms or n.demand)]
    if short:
        first, worst = short[0], max(short, key=lambda n: n.demand - n.beds)
        view.warnings.append(
            f"宿泊希望がベッド数を超える夜が{len(short)}夜あります（最初は{first.night.month}月{first.night.day}日、"
            f"最大は{worst.night.month}月{worst.night.day}日の{worst.demand}名に対し{worst.beds}床）。"
        )
    plan = await published_plan(s, campus_id, PlanKind.ROOMS)
    if plan is not None and ids:
        changed = (
            await s.exec(
                select(func.count()).where(
                    col(Enrollment.session_id).in_(ids),
                    col(Enrollment.lodging).is_(True),
                    Enrollment.status != EnrollmentStatus.WAITLISTED,  # a waiting place needs no room
                    col(Enrollment.updated_at) > plan.created_at,
                )
            )
        ).one()
        if changed:
            view.warnings.append(
                f"公開中の部屋割り（計画 #{plan.id}）の作成後に、宿泊のある申込・キャンセルが{changed}件あります。再計算してください。"
            )
    view.warnings += await instructor_overloads(s, campus_id, today, until)
    return view


async def instructor_overloads(s: AsyncSession, campus_id: int, today: date, until: date) -> list[str]:
    """Instructors teaching at this campus in the coming weeks whose published timetables, at every
    campus, give them more コマ (half days) in a month than their monthly maximum."""
    first = today.replace(day=1)
    last = (until.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    rows = await latest_published_rows(
        s,
        col(PlannedModule.instructor_id).is_not(None),
        col(PlannedModule.day) >= first,
        col(PlannedModule.day) <= last,
    )
    here = {
        row.instructor_id for row, plan in rows if plan.campus_id == campus_id and today <= row.day <= until
    }
    load: dict[tuple[int, int, int], int] = defaultdict(int)
    for row, _ in rows:
        if row.instructor_id in here:
            load[(row.instructor_id or 0, row.day.year, row.day.month)] += row.half_days
    instructors = {
        i.id: i for i in await s.exec(select(Instructor).where(col(Instructor.id).in_(list(here) or [0])))
    }
    out = []
    for (iid, year, month), half_days in sorted(load.items()):
        person = instructors.get(iid)
        if person is not None and half_days > person.max_modules_per_month:
            out.append(
                f"講師 {person.name}: {year}年{month}月の担当が{half_days}コマあり、"
                f"月の上限{person.max_modules_per_month}コマを超えています（公開中の時間割、全キャンパス）。"
            )
    return out

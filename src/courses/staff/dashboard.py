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
from courses.models.resources import RoomOutage
from courses.planning.loading import _blocks
from courses.planning.plans import published_plan

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
    return view

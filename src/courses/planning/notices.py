"""Publishing tells people: each learner whose room or practicum site is new or changed gets one
message with the dates, the room or the host company (address and travel time), and each instructor
whose modules under a timetable are new, changed or withdrawn gets the list of what they teach, through
the outbox in the transaction that publishes the plan. A learner's message is in the language they
read (``courses.core.mail``); an instructor's is Japanese."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core import mail, notifications
from courses.core.i18n import N_
from courses.core.web import ja_date
from courses.enrollment.recipients import Recipient, recipients
from courses.models import (
    Campus,
    Classroom,
    Course,
    CourseSession,
    DormRoom,
    Enrollment,
    EnrollmentStatus,
)
from courses.models.plans import PlanKind, PlannedRoom, PlannedSite, PlanVersion
from courses.models.resources import Instructor, PracticumSite
from courses.models.timetable import CourseModule, PlannedModule
from courses.planning.loading import _blocks

ZONE_JA = {"women": N_("女性用"), "men": N_("男性用"), "any": N_("共用")}  # also the occupancy view's


async def _rooms_of(s: AsyncSession, plan_id: int | None) -> dict[int, dict[int, int]]:
    """enrollment -> block -> room under a plan."""
    out: dict[int, dict[int, int]] = defaultdict(dict)
    if plan_id is not None:
        for r in await s.exec(select(PlannedRoom).where(PlannedRoom.plan_id == plan_id)):
            out[r.enrollment_id][r.block_seq] = r.dorm_room_id
    return out


async def _sites_of(s: AsyncSession, plan_id: int | None) -> dict[int, int]:
    if plan_id is None:
        return {}
    return {
        r.enrollment_id: r.site_id
        for r in await s.exec(select(PlannedSite).where(PlannedSite.plan_id == plan_id))
    }


async def _people(s: AsyncSession, enrollment_ids: list[int]) -> dict[int, Recipient]:
    """enrollment -> its learner, session, course and campus, of the places still confirmed."""
    out: dict[int, Recipient] = {}
    for part in (enrollment_ids[i : i + 500] for i in range(0, len(enrollment_ids), 500)):
        for r in await recipients(
            s, col(Enrollment.id).in_(part), Enrollment.status == EnrollmentStatus.CONFIRMED
        ):
            out[r.enrollment.id or 0] = r
    return out


def _about(to: Recipient) -> dict[str, Any]:
    return {"course": to.course, "campus": to.campus, "session": to.session}


async def tell_learners(s: AsyncSession, plan: PlanVersion, before: PlanVersion | None, now: datetime) -> int:
    """Queue one message per learner whose placement under ``plan`` differs from ``before`` (the plan
    published until now); returns how many were queued."""
    if plan.kind == PlanKind.ROOMS:
        return await _tell_rooms(s, plan, before, now)
    if plan.kind == PlanKind.PRACTICUM:
        return await _tell_sites(s, plan, before, now)
    if plan.kind == PlanKind.TIMETABLE:
        return await _tell_instructors(s, plan, before, now)
    return 0


Teaching = tuple[date, int, int, int, int, int]  # day, half, half days, session, module, classroom


async def _teachings_of(s: AsyncSession, plan_id: int | None) -> dict[int, list[Teaching]]:
    """instructor -> what they teach under a plan, in date order."""
    out: dict[int, list[Teaching]] = defaultdict(list)
    if plan_id is not None:
        for m in await s.exec(
            select(PlannedModule).where(
                PlannedModule.plan_id == plan_id, col(PlannedModule.instructor_id).is_not(None)
            )
        ):
            out[m.instructor_id or 0].append(
                (m.day, m.half, m.half_days, m.session_id, m.course_module_id, m.classroom_id)
            )
    return {k: sorted(v) for k, v in out.items()}


async def _tell_instructors(
    s: AsyncSession, plan: PlanVersion, before: PlanVersion | None, now: datetime
) -> int:
    new, old = await _teachings_of(s, plan.id), await _teachings_of(s, before.id if before else None)
    changed = sorted(i for i in set(new) | set(old) if new.get(i, []) != old.get(i, []))
    if not changed:
        return 0
    rows = [t for i in changed for t in new.get(i, [])]
    instructors = {i.id: i for i in await s.exec(select(Instructor).where(col(Instructor.id).in_(changed)))}
    sessions = {
        sess.id: (sess, course)
        for sess, course in await s.exec(
            select(CourseSession, Course)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .where(col(CourseSession.id).in_({t[3] for t in rows} or {0}))
        )
    }
    modules = {
        m.id: m
        for m in await s.exec(
            select(CourseModule).where(col(CourseModule.id).in_({t[4] for t in rows} or {0}))
        )
    }
    rooms = {
        c.id: c
        for c in await s.exec(select(Classroom).where(col(Classroom.id).in_({t[5] for t in rows} or {0})))
    }
    campus = await s.get(Campus, plan.campus_id)
    where = campus.name_ja if campus else ""
    sent = 0
    for iid in changed:
        person = instructors.get(iid)
        if person is None or not person.email:
            continue
        lines = []
        for day, half, half_days, sid, mid, cid in new.get(iid, []):
            sess, course = sessions[sid]
            when = "終日" if half_days == 2 else ("午前" if half == 0 else "午後")
            room = rooms.get(cid)
            lines.append(
                f"・{ja_date(day)} {when}: 「{course.title_ja}」（{sess.code}）"
                f"{modules[mid].title}／{room.name if room else ''}"
            )
        if lines:
            body = (
                f"{person.name} 先生\n\n{where}の時間割が公開され、ご担当いただく講義が次のとおり決まりました。\n\n"
                + "\n".join(lines)
                + "\n\n時間は 午前 9:30〜12:30、午後 13:30〜16:30 です。"
                + ("\n（先にお知らせした内容から変更になりました。）" if iid in old else "")
            )
            subject = f"【ご担当の講義】{where}"
        else:
            body = (
                f"{person.name} 先生\n\n{where}の時間割が改めて公開され、先にお知らせしたご担当の講義は"
                "なくなりました。ご調整いただいていた場合は申し訳ありません。"
            )
            subject = f"【ご担当の講義の取り消し】{where}"
        notifications.queue_to(s, person.email, None, subject, body, now)
        sent += 1
    return sent


async def _tell_rooms(s: AsyncSession, plan: PlanVersion, before: PlanVersion | None, now: datetime) -> int:
    new, old = await _rooms_of(s, plan.id), await _rooms_of(s, before.id if before else None)
    changed = sorted(e for e, blocks in new.items() if blocks != old.get(e))
    if not changed:
        return 0
    people = await _people(s, changed)
    blocks = await _blocks(s, sorted({r.session.id or 0 for r in people.values()}))
    room_ids = {r for e in changed for r in new[e].values()}
    rooms = {r.id: r for r in await s.exec(select(DormRoom).where(col(DormRoom.id).in_(room_ids)))}
    sent = 0
    for eid in changed:
        if eid not in people:
            continue  # cancelled since the plan was made
        to = people[eid]
        mine = blocks.get(to.session.id or 0, [])
        nights = [  # the first and the last night of each block, and the room
            (mine[seq].start_date, mine[seq].end_date - timedelta(days=1), rooms[room_id])
            for seq, room_id in sorted(new[eid].items())
            if 0 <= seq < len(mine)
        ]
        mail.send(s, to.user, "room.txt", now, **_about(to), nights=nights, zones=ZONE_JA, changed=eid in old)
        sent += 1
    return sent


async def _tell_sites(s: AsyncSession, plan: PlanVersion, before: PlanVersion | None, now: datetime) -> int:
    new, old = await _sites_of(s, plan.id), await _sites_of(s, before.id if before else None)
    changed = sorted(e for e, site in new.items() if old.get(e) != site)
    if not changed:
        return 0
    people = await _people(s, changed)
    sites = {
        x.id: x
        for x in await s.exec(
            select(PracticumSite).where(col(PracticumSite.id).in_({new[e] for e in changed}))
        )
    }
    sent = 0
    for eid in changed:
        if eid not in people:
            continue
        to = people[eid]
        site = sites[new[eid]]
        mail.send(s, to.user, "practicum_site.txt", now, **_about(to), site=site, changed=eid in old)
        sent += 1
    return sent

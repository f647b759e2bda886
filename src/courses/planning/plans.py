"""Plans: turn enrollments into solver problems, store what the solver returns, compare and publish.

Solving itself is pure (``scheduler``) and runs in a worker process (``courses.planning.runner``);
this module only reads and writes the database.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core import audit
from courses.core.errors import Conflict, not_found
from courses.models import (
    CourseSession,
    DormRoom,
    Enrollment,
    EnrollmentStatus,
    LearnerProfile,
    SessionBlock,
    User,
)
from courses.models.plans import PlanKind, PlannedRoom, PlannedSite, PlanVersion, SolverRun
from courses.models.resources import PracticumSite, PracticumSiteAvailability, RoomOutage
from courses.models.timetable import PlannedModule
from courses.planning import notices, timetable
from courses.planning.loading import SolveOutcome, _blocks, _sessions, people_of
from scheduler import practicum as pr
from scheduler import rooms as rm


async def _confirmed(
    s: AsyncSession, session_ids: list[int], *, lodging_only: bool
) -> list[tuple[Enrollment, LearnerProfile | None]]:
    if not session_ids:
        return []
    stmt = (
        select(Enrollment, LearnerProfile)
        .join(LearnerProfile, col(LearnerProfile.user_id) == Enrollment.user_id, isouter=True)
        .where(col(Enrollment.session_id).in_(session_ids), Enrollment.status == EnrollmentStatus.CONFIRMED)
        .order_by(col(Enrollment.id))
    )
    if lodging_only:
        stmt = stmt.where(col(Enrollment.lodging).is_(True))
    return list(await s.exec(stmt))


async def published_plan(s: AsyncSession, campus_id: int, kind: str) -> PlanVersion | None:
    """The plan learners see now: the latest published of its campus and kind."""
    return (
        await s.exec(
            select(PlanVersion)
            .where(
                PlanVersion.campus_id == campus_id,
                PlanVersion.kind == kind,
                col(PlanVersion.published_at).is_not(None),
            )
            .order_by(col(PlanVersion.published_at).desc(), col(PlanVersion.id).desc())
            .limit(1)
        )
    ).first()


def _clipped_outages(outages: list[RoomOutage], blocks: list[SessionBlock]) -> list[rm.RoomOutage]:
    """Outages cut to the nights the sessions stay, so that a far-off end date (one stored before
    the console bounded dates) costs the solver nothing; outages outside those nights are left out."""
    if not blocks:
        return []
    first = min(b.start_date for b in blocks)
    last = max(b.end_date for b in blocks)
    return [
        rm.RoomOutage(o.dorm_room_id or 0, max(o.start_date, first), min(o.end_date, last))
        for o in outages
        if o.start_date <= last and o.end_date >= first
    ]


async def build_rooms_problem(
    s: AsyncSession, campus_id: int, date_from: date, date_to: date, *, pin_published: bool
) -> rm.RoomsProblem:
    """Every confirmed lodging learner of the campus's sessions meeting in the range, with the
    campus's rooms, their outages and (for minimal change) the published assignment."""
    sessions = [
        (sess, course) for sess, course in await _sessions(s, campus_id, date_from, date_to) if sess.lodging
    ]
    ids = [sess.id or 0 for sess, _ in sessions]
    blocks = await _blocks(s, ids)
    rooms = list(
        await s.exec(
            select(DormRoom).where(DormRoom.campus_id == campus_id, col(DormRoom.archived).is_(False))
        )
    )
    room_ids = {r.id for r in rooms}
    outages = [
        o
        for o in await s.exec(
            select(RoomOutage).where(
                RoomOutage.campus_id == campus_id,
                col(RoomOutage.dorm_room_id).is_not(None),
                col(RoomOutage.end_date) >= date_from - timedelta(days=200),
            )
        )
        if o.dorm_room_id in room_ids
    ]
    lodgers = await _confirmed(s, ids, lodging_only=True)
    previous: list[rm.RoomAssignment] = []
    pins: list[rm.RoomAssignment] = []
    plan = await published_plan(s, campus_id, PlanKind.ROOMS)
    if plan is not None:
        enrolled = {e.id for e, _ in lodgers}
        out_nights = {(o.dorm_room_id, o.start_date, o.end_date) for o in outages}
        for row in await s.exec(select(PlannedRoom).where(PlannedRoom.plan_id == plan.id)):
            if row.enrollment_id not in enrolled or row.dorm_room_id not in room_ids:
                continue
            assignment = rm.RoomAssignment(row.session_id, row.enrollment_id, row.block_seq, row.dorm_room_id)
            previous.append(assignment)
            session_blocks = blocks.get(row.session_id, [])
            # the solver numbers a session's blocks from 0, in date order
            block = session_blocks[row.block_seq] if 0 <= row.block_seq < len(session_blocks) else None
            blocked = block is not None and any(
                rid == row.dorm_room_id
                and first <= block.end_date - timedelta(days=1)
                and block.start_date <= last
                for rid, first, last in out_nights
            )
            if pin_published and not blocked:
                pins.append(assignment)
    return rm.RoomsProblem(
        rooms=[
            rm.DormRoom(r.id or 0, campus_id, r.room_number, r.floor, r.kind, r.zone, r.accessible)
            for r in rooms
        ],
        sessions=[
            rm.LodgingSession(
                sess.id or 0,
                campus_id,
                tuple(rm.StayBlock(b.start_date, b.end_date) for b in blocks[sess.id or 0]),
                audience="sme" if course.audience == "sme" else "general",
                title=course.title_ja,
            )
            for sess, course in sessions
        ],
        lodgers=[
            rm.Lodger(e.id or 0, e.session_id, p.gender if p else None, bool(p and p.needs_accessible_room))
            for e, p in lodgers
        ],
        outages=_clipped_outages(outages, [b for bs in blocks.values() for b in bs]),
        pins=pins,
        previous=previous,
    )


def practicum_days(blocks: list[SessionBlock], days: int) -> tuple[date, ...]:
    """The practicum is held on the last ``days`` days of the session's last block."""
    last = blocks[-1]
    span = [last.start_date + timedelta(days=i) for i in range((last.end_date - last.start_date).days + 1)]
    return tuple(span[-max(1, days) :])


def _lines(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.splitlines() if x.strip())


async def build_practicum_problem(
    s: AsyncSession, campus_id: int, date_from: date, date_to: date, *, pin_published: bool
) -> pr.PracticumProblem:
    sessions = [(sess, c) for sess, c in await _sessions(s, campus_id, date_from, date_to) if c.has_practicum]
    ids = [sess.id or 0 for sess, _ in sessions]
    blocks = await _blocks(s, ids)
    p_sessions = [
        pr.PracticumSession(
            sess.id or 0,
            campus_id,
            practicum_days(blocks[sess.id or 0], course.practicum_days),
            course.practicum_group_min,
            course.practicum_group_max,
        )
        for sess, course in sessions
    ]
    needed = {d for ps in p_sessions for d in ps.days}
    sites = list(
        await s.exec(
            select(PracticumSite).where(
                PracticumSite.campus_id == campus_id, col(PracticumSite.archived).is_(False)
            )
        )
    )
    available: dict[int, set[date]] = defaultdict(set)
    if sites:
        for a in await s.exec(
            select(PracticumSiteAvailability).where(
                col(PracticumSiteAvailability.site_id).in_([x.id for x in sites])
            )
        ):
            available[a.site_id] |= {d for d in needed if a.start_date <= d <= a.end_date}
    learners = await _confirmed(s, ids, lodging_only=False)
    previous: list[pr.PracticumPlacement] = []
    pins: list[pr.PracticumPlacement] = []
    plan = await published_plan(s, campus_id, PlanKind.PRACTICUM)
    if plan is not None:
        enrolled = {e.id for e, _ in learners}
        site_ids = {x.id for x in sites}
        for row in await s.exec(select(PlannedSite).where(PlannedSite.plan_id == plan.id)):
            if row.enrollment_id in enrolled and row.site_id in site_ids:
                placement = pr.PracticumPlacement(row.session_id, row.enrollment_id, row.site_id)
                previous.append(placement)
                if pin_published:
                    pins.append(placement)
    return pr.PracticumProblem(
        sites=[
            pr.PracticumSite(
                x.id or 0,
                campus_id,
                x.name,
                x.company_name,
                x.industry,
                x.travel_minutes,
                x.capacity_per_day,
                tuple(sorted(available[x.id or 0])),
                _lines(x.excluded_companies),
            )
            for x in sites
        ],
        sessions=p_sessions,
        learners=[
            pr.PracticumLearner(
                e.id or 0,
                e.session_id,
                p.company if p else "",
                p.industry if p else None,
                _lines(p.competitors) if p else (),
            )
            for e, p in learners
        ],
        pins=pins,
        previous=previous,
    )


async def save_plan(s: AsyncSession, run: SolverRun, outcome: SolveOutcome, now: datetime) -> PlanVersion:
    plan = PlanVersion(
        run_id=run.id or 0,
        campus_id=run.campus_id,
        kind=outcome.kind,
        date_from=run.date_from,
        date_to=run.date_to,
        status=outcome.status,
        objective=outcome.objective,
        best_bound=outcome.best_bound,
        gap=outcome.gap,
        moved=outcome.moved,
        solve_seconds=outcome.solve_seconds,
        breakdown_json=json.dumps(outcome.breakdown, ensure_ascii=False),
        unassigned_json=json.dumps(outcome.unassigned, ensure_ascii=False, default=str),
        messages_json=json.dumps(outcome.messages, ensure_ascii=False),
        violations_json=json.dumps(outcome.violations, ensure_ascii=False, default=str),
        created_at=now,
    )
    s.add(plan)
    await s.flush()
    # A year's rooms plan has some 15,000 rows: one core bulk insert, not an ORM object per row.
    if outcome.rooms:
        await s.exec(
            insert(PlannedRoom),
            params=[
                {
                    "plan_id": plan.id,
                    "session_id": sid,
                    "enrollment_id": eid,
                    "block_seq": block,
                    "dorm_room_id": room,
                }
                for sid, eid, block, room in outcome.rooms
            ],
        )
    if outcome.sites:
        await s.exec(
            insert(PlannedSite),
            params=[
                {"plan_id": plan.id, "session_id": sid, "enrollment_id": eid, "site_id": site}
                for sid, eid, site in outcome.sites
            ],
        )
    if outcome.modules:
        await s.exec(
            insert(PlannedModule),
            params=[
                {
                    "plan_id": plan.id,
                    "session_id": sid,
                    "course_module_id": cmid,
                    "day": day,
                    "half": half,
                    "half_days": half_days,
                    "classroom_id": room,
                    "instructor_id": instructor,
                }
                for sid, cmid, day, half, half_days, room, instructor in outcome.modules
            ],
        )
    return plan


async def get_plan(s: AsyncSession, plan_id: int) -> PlanVersion:
    plan = await s.get(PlanVersion, plan_id)
    if plan is None:
        raise not_found("計画", "Plan", plan_id)
    return plan


@dataclass
class Move:
    enrollment_id: int
    learner: str
    session_code: str
    before: str
    after: str


async def compare_with_published(
    s: AsyncSession, plan: PlanVersion
) -> tuple[PlanVersion | None, list[Move] | list[timetable.ModuleMove]]:
    """Who would move if this plan replaced the published one (learners of both plans)."""
    current = await published_plan(s, plan.campus_id, plan.kind)
    if current is None or current.id == plan.id:
        return current, []
    if plan.kind == PlanKind.TIMETABLE:
        return current, await timetable.compare(s, plan, current)
    new, old = await _placements_of(s, plan), await _placements_of(s, current)
    moved_ids = sorted(e for e in new.keys() & old.keys() if new[e] != old[e])
    names = await _names(s, moved_ids)
    return current, [
        Move(e, names.get(e, ("", ""))[0], names.get(e, ("", ""))[1], old[e], new[e]) for e in moved_ids
    ]


async def _placements_of(s: AsyncSession, plan: PlanVersion) -> dict[int, str]:
    out: dict[int, str] = {}
    if plan.kind == PlanKind.ROOMS:
        rows = await s.exec(
            select(PlannedRoom, DormRoom)
            .join(DormRoom, col(DormRoom.id) == PlannedRoom.dorm_room_id)
            .where(PlannedRoom.plan_id == plan.id)
            .order_by(col(PlannedRoom.block_seq))
        )
        for room_row, room in rows:
            out[room_row.enrollment_id] = (
                out.get(room_row.enrollment_id, "") + " " + room.room_number
            ).strip()
    else:
        for site_row, site in await s.exec(
            select(PlannedSite, PracticumSite)
            .join(PracticumSite, col(PracticumSite.id) == PlannedSite.site_id)
            .where(PlannedSite.plan_id == plan.id)
        ):
            out[site_row.enrollment_id] = site.name
    return out


async def _names(s: AsyncSession, enrollment_ids: list[int]) -> dict[int, tuple[str, str]]:
    return {e: (p.name, p.session_code) for e, p in (await people_of(s, enrollment_ids)).items()}


async def publish(s: AsyncSession, plan: PlanVersion, user: User, now: datetime) -> PlanVersion:
    if plan.published_at is not None:
        raise Conflict("この計画は既に公開されています。", "This plan is already published.")
    if plan.status not in ("optimal", "feasible"):
        raise Conflict(
            "解が得られていない計画は公開できません。条件を見直して再実行してください。",
            "A plan without a solution cannot be published; adjust and run again.",
        )
    if json.loads(plan.violations_json):
        raise Conflict(
            "検証で違反が見つかった計画は公開できません。",
            "A plan that failed the independent validation cannot be published.",
        )
    before = await published_plan(s, plan.campus_id, plan.kind)
    plan.published_at = now
    plan.published_by = user.id
    s.add(plan)
    told = await notices.tell_learners(s, plan, before, now)
    await audit.record(
        s,
        user,
        "publish",
        "plan",
        plan.id or 0,
        plan.campus_id,
        {"published_at": None, "replaces": before.id if before else None},
        {"published_at": now.isoformat(), "kind": plan.kind, "status": plan.status, "learners_told": told},
        now,
    )
    return plan


async def placements_for(s: AsyncSession, enrollment_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Room numbers and practicum sites of these enrollments in the latest published plans, and
    (key ``timetable``) their session's daily timetable once published."""
    out: dict[int, dict[str, Any]] = defaultdict(dict)
    if not enrollment_ids:
        return out
    rooms = await s.exec(
        select(
            PlannedRoom.enrollment_id, PlannedRoom.block_seq, DormRoom.room_number, PlanVersion.published_at
        )
        .join(PlanVersion, col(PlanVersion.id) == PlannedRoom.plan_id)
        .join(DormRoom, col(DormRoom.id) == PlannedRoom.dorm_room_id)
        .where(col(PlannedRoom.enrollment_id).in_(enrollment_ids), col(PlanVersion.published_at).is_not(None))
        .order_by(col(PlanVersion.published_at), col(PlannedRoom.block_seq))
    )
    latest: dict[int, Any] = {}
    per_block: dict[int, dict[int, str]] = defaultdict(dict)
    for eid, seq, number, published in rooms:
        if latest.get(eid) is None or published >= latest[eid]:
            if latest.get(eid) is not None and published > latest[eid]:
                per_block[eid].clear()
            latest[eid] = published
            per_block[eid][seq] = number
    for eid, blocks in per_block.items():
        numbers = [blocks[k] for k in sorted(blocks)]
        out[eid]["room"] = numbers[0] if len(set(numbers)) == 1 else "・".join(numbers)
    sites = await s.exec(
        select(PlannedSite.enrollment_id, PracticumSite.name, PlanVersion.published_at)
        .join(PlanVersion, col(PlanVersion.id) == PlannedSite.plan_id)
        .join(PracticumSite, col(PracticumSite.id) == PlannedSite.site_id)
        .where(col(PlannedSite.enrollment_id).in_(enrollment_ids), col(PlanVersion.published_at).is_not(None))
        .order_by(col(PlanVersion.published_at))
    )
    for eid, name, _published in sites:
        out[eid]["site"] = name
    for eid, slots in (await timetable.session_slots_by_enrollment(s, enrollment_ids)).items():
        out[eid]["timetable"] = slots
    return out


async def unassigned_names(
    s: AsyncSession, unassigned: list[dict[str, Any]], kind: str
) -> tuple[dict[Any, str], dict[Any, str]]:
    """Session codes and learners' names for a plan's unassigned list (which holds ids only)."""
    session_ids = sorted({u["session_id"] for u in unassigned if isinstance(u.get("session_id"), int)})
    codes: dict[Any, str] = {}
    if session_ids:
        rows = await s.exec(
            select(CourseSession.id, CourseSession.code).where(col(CourseSession.id).in_(session_ids))
        )
        codes = {i: c for i, c in rows}
    names: dict[Any, str] = {}
    if kind != PlanKind.TIMETABLE:
        ids = sorted({u["learner_id"] for u in unassigned if isinstance(u.get("learner_id"), int)})
        names = {e: n for e, (n, _code) in (await _names(s, ids)).items()}
    return codes, names

"""The campus timetable job: the problem built from the database for the worker process, and the
instructor problem it gives once its modules are placed.

Unit mapping from the instructor table (the console calls a module a コマ, a half day):
``max_modules_per_month`` → ``max_load_per_month`` in half days; ``fee_per_module_yen`` → fee per
half day (a full-day module costs twice); ``travel_cost_yen`` → travel per teaching day, 0 when
the campus is in the instructor's home prefecture. An instructor without availability rows is not
available. Instructors are year-wide: for a campus run, days they teach at another campus in a
published timetable, and the day before and after (travel), are removed from their availability,
and their monthly maximum is lowered by the half days they teach elsewhere in the busiest month
of the range (conservative: one maximum per instructor).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core.errors import not_found
from courses.core.reference import prefecture_code
from courses.models import Campus, Classroom
from courses.models.plans import PlanKind, PlanVersion
from courses.models.resources import Instructor, InstructorAvailability, RoomOutage
from courses.models.timetable import PlannedModule
from courses.planning.loading import _blocks, _sessions
from courses.planning.timetable_modules import modules_by_course
from scheduler import instructors as ins
from scheduler import timetable as tt


@dataclass(frozen=True)
class ModuleKey:
    session_id: int
    course_module_id: int
    label: str  # session code and module title, for explanations


@dataclass
class TimetableJob:
    """Everything the worker process needs (picklable): the timetable problem, the instructors
    and how the solver's string ids map back to rows."""

    timetable: tt.TimetableProblem
    instructors: tuple[ins.Instructor, ...]
    campus: str
    campus_prefecture: dict[str, str]
    keys: dict[str, ModuleKey]
    subjects: dict[str, str]  # module id -> subject
    previous_instructor: dict[str, str] = field(default_factory=dict)
    pinned_instructor: dict[str, str] = field(default_factory=dict)
    previous_period: dict[str, tt.Period] = field(default_factory=dict)
    busy_elsewhere: int = 0  # instructor-days removed for teaching at other campuses


def campus_key(campus: Campus) -> str:
    """The campus as the solvers name it: its short Japanese name (shown in explanations)."""
    return campus.name_ja.replace("中小企業大学校 ", "").strip() or campus.code


def module_id(session_id: int, course_module_id: int) -> str:
    return f"{session_id}:{course_module_id}"


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


async def latest_published_rows(s: AsyncSession, *conditions: Any) -> list[tuple[PlannedModule, PlanVersion]]:
    """Planned modules of published timetable plans matching ``conditions``, keeping for each
    session only the latest published plan that places it (a later run of another date range
    does not hide an earlier one)."""
    rows = list(
        await s.exec(
            select(PlannedModule, PlanVersion)
            .join(PlanVersion, col(PlanVersion.id) == PlannedModule.plan_id)
            .where(
                PlanVersion.kind == PlanKind.TIMETABLE,
                col(PlanVersion.published_at).is_not(None),
                *conditions,
            )
        )
    )
    if not rows:
        return rows
    session_ids = list({r.session_id for r, _ in rows})
    latest: dict[int, tuple[Any, int]] = {}
    for sid, published_at, plan_id in await s.exec(
        select(PlannedModule.session_id, PlanVersion.published_at, PlanVersion.id)
        .join(PlanVersion, col(PlanVersion.id) == PlannedModule.plan_id)
        .where(
            PlanVersion.kind == PlanKind.TIMETABLE,
            col(PlanVersion.published_at).is_not(None),
            col(PlannedModule.session_id).in_(session_ids),
        )
        .distinct()
    ):
        if sid not in latest or (published_at, plan_id) > latest[sid]:
            latest[sid] = (published_at, plan_id or 0)
    return [(r, p) for r, p in rows if latest[r.session_id][1] == p.id]


async def build_timetable_job(
    s: AsyncSession, campus_id: int, date_from: date, date_to: date, *, pin_published: bool
) -> TimetableJob:
    """The campus's sessions meeting in the range with their modules, the classrooms and their
    outages, the instructors (busy elsewhere removed) and, for minimal change, the published
    timetable's periods, classrooms and instructors."""
    campus = await s.get(Campus, campus_id)
    if campus is None:
        raise not_found("キャンパス", "Campus", campus_id)
    ckey = campus_key(campus)
    sessions = await _sessions(s, campus_id, date_from, date_to)
    ids = [sess.id or 0 for sess, _ in sessions]
    blocks = await _blocks(s, ids)
    modules = await modules_by_course(s, list({c.id or 0 for _, c in sessions}))
    keys: dict[str, ModuleKey] = {}
    subjects: dict[str, str] = {}
    p_sessions = []
    all_days: set[date] = set()
    for sess, course in sessions:
        sid = sess.id or 0
        p_blocks = tuple(tt.DateBlock(b.start_date, b.end_date) for b in blocks.get(sid, []))
        if not p_blocks:
            p_blocks = (tt.DateBlock(sess.start_date, sess.end_date),)
        n_days = sum((b.end - b.start).days + 1 for b in p_blocks)
        all_days |= {d for b in p_blocks for d in b.days()}
        p_modules = []
        before = 0  # half days of the curriculum before this module
        for cm in modules.get(course.id or 0, []):
            mid = module_id(sid, cm.id or 0)
            keys[mid] = ModuleKey(sid, cm.id or 0, f"{sess.code} {cm.title}")
            subjects[mid] = cm.subject
            p_modules.append(
                tt.Module(
                    mid,
                    cm.subject,
                    cm.kind,
                    cm.half_days,
                    cm.seq,
                    min(before // 2, max(0, n_days - 1)),
                )
            )
            before += cm.half_days
        if p_modules:
            p_sessions.append(tt.Session(sess.code, ckey, sess.capacity, p_blocks, tuple(p_modules)))
    first = min(all_days, default=date_from)
    last = max(all_days, default=date_to)
    rooms = list(
        await s.exec(
            select(Classroom).where(Classroom.campus_id == campus_id, col(Classroom.archived).is_(False))
        )
    )
    closed: dict[int, set[tt.Period]] = defaultdict(set)
    for o in await s.exec(
        select(RoomOutage).where(
            RoomOutage.campus_id == campus_id,
            col(RoomOutage.classroom_id).is_not(None),
            col(RoomOutage.end_date) >= first,
            col(RoomOutage.start_date) <= last,
        )
    ):
        for d in _days(max(o.start_date, first), min(o.end_date, last)):
            closed[o.classroom_id or 0] |= {tt.Period(d, tt.MORNING), tt.Period(d, tt.AFTERNOON)}
    classrooms = tuple(
        tt.Classroom(str(r.id), ckey, r.seats, frozenset(closed.get(r.id or 0, ()))) for r in rooms
    )
    # Minimal change and pins: the published timetable of these sessions.
    previous: list[tt.Placement] = []
    pins: list[tt.Pin] = []
    prev_instr: dict[str, str] = {}
    prev_period: dict[str, tt.Period] = {}
    code_of = {sess.id or 0: sess.code for sess, _ in sessions}
    room_ids = {r.id for r in rooms}
    if ids:
        for row, _plan in await latest_published_rows(s, col(PlannedModule.session_id).in_(ids)):
            mid = module_id(row.session_id, row.course_module_id)
            if mid not in keys or row.classroom_id not in room_ids:
                continue
            start = tt.Period(row.day, row.half)
            placement = tt.Placement(
                mid, code_of[row.session_id], start, str(row.classroom_id), row.half_days
            )
            previous.append(placement)
            prev_period[mid] = start
            if row.instructor_id is not None:
                prev_instr[mid] = str(row.instructor_id)
            if pin_published and not any(p in closed.get(row.classroom_id, ()) for p in placement.periods()):
                pins.append(tt.Pin(mid, start, str(row.classroom_id)))
    instructors, busy = await _instructors(s, campus, ckey, set(subjects.values()), first, last)
    known = {i.id for i in instructors}
    prev_instr = {m: i for m, i in prev_instr.items() if i in known}
    return TimetableJob(
        timetable=tt.TimetableProblem(
            sessions=tuple(p_sessions), classrooms=classrooms, pins=tuple(pins), previous=tuple(previous)
        ),
        instructors=instructors,
        campus=ckey,
        campus_prefecture={ckey: prefecture_code(campus.prefecture) or campus.prefecture},
        keys=keys,
        subjects=subjects,
        previous_instructor=prev_instr,
        pinned_instructor=dict(prev_instr) if pin_published else {},
        previous_period=prev_period,
        busy_elsewhere=busy,
    )


async def _instructors(
    s: AsyncSession, campus: Campus, ckey: str, subjects: set[str], first: date, last: date
) -> tuple[tuple[ins.Instructor, ...], int]:
    """Instructors who teach a subject in demand, available within [first, last], minus the days
    they teach at other campuses in published timetables (and the travel days around them)."""
    rows = [
        i
        for i in await s.exec(select(Instructor).where(col(Instructor.archived).is_(False)))
        if subjects & {x.strip() for x in i.subjects.split(",") if x.strip()}
    ]
    if not rows:
        return (), 0
    by_id = {i.id or 0: i for i in rows}
    available: dict[int, set[date]] = defaultdict(set)
    for a in await s.exec(
        select(InstructorAvailability).where(
            col(InstructorAvailability.instructor_id).in_(list(by_id)),
            col(InstructorAvailability.end_date) >= first,
            col(InstructorAvailability.start_date) <= last,
        )
    ):
        available[a.instructor_id] |= set(_days(max(a.start_date, first), min(a.end_date, last)))
    other_load: dict[int, dict[tuple[int, int], int]] = defaultdict(lambda: defaultdict(int))
    busy = 0
    elsewhere = await latest_published_rows(
        s,
        PlanVersion.campus_id != campus.id,
        col(PlannedModule.instructor_id).in_(list(by_id)),
        col(PlannedModule.day) >= first - timedelta(1),
        col(PlannedModule.day) <= last + timedelta(1),
    )
    for row, _plan in elsewhere:
        iid = row.instructor_id or 0
        for d in (row.day - timedelta(1), row.day, row.day + timedelta(1)):
            if d in available[iid]:
                available[iid].discard(d)
                busy += 1
        other_load[iid][(row.day.year, row.day.month)] += row.half_days
    home = prefecture_code(campus.prefecture) or campus.prefecture
    out = []
    for iid, i in sorted(by_id.items()):
        if not available[iid]:
            continue
        cap = i.max_modules_per_month - max(other_load[iid].values(), default=0)
        if cap <= 0:
            continue
        out.append(
            ins.Instructor(
                str(iid),
                frozenset(x.strip() for x in i.subjects.split(",") if x.strip()),
                frozenset(available[iid]),
                cap,
                i.fee_per_module_yen,
                i.home_prefecture,
                {ckey: 0 if i.home_prefecture == home else i.travel_cost_yen},
            )
        )
    return tuple(out), busy


def teachings_of(job: TimetableJob, placements: list[tt.Placement]) -> tuple[ins.Teaching, ...]:
    return tuple(
        ins.Teaching(
            p.module_id,
            p.session_id,
            job.campus,
            job.subjects[p.module_id],
            p.start.day,
            p.start.half,
            p.half_days,
        )
        for p in sorted(placements, key=lambda p: (p.start, p.module_id))
    )


def instructor_problem(
    job: TimetableJob, placements: list[tt.Placement], time_limit: float, *, with_pins: bool = True
) -> ins.InstructorProblem:
    """Instructors for the placed modules. A published instructor is pinned only where the module
    kept its period and the instructor can still teach it; elsewhere it is a preference."""
    teachings = teachings_of(job, placements)
    by_id = {i.id: i for i in job.instructors}
    pins = {}
    if with_pins:
        for t in teachings:
            iid = job.pinned_instructor.get(t.module_id)
            same = job.previous_period.get(t.module_id) == tt.Period(t.day, t.half)
            if iid in by_id and same and ins.qualified_available(t, by_id[iid]):
                pins[t.module_id] = iid
    return ins.InstructorProblem(
        teachings=teachings,
        instructors=job.instructors,
        campus_prefecture=job.campus_prefecture,
        pins=pins,
        previous={
            m: i for m, i in job.previous_instructor.items() if any(t.module_id == m for t in teachings)
        },
        time_limit=time_limit,
    )

"""The campus timetable with instructors: build the problem from the database, solve it (in the
worker process), save, compare, and read the published timetable for staff, instructors and learners.

One run of kind ``timetable`` places every module of the campus's sessions in a period and a
classroom (``scheduler.timetable``), then gives each placed module an instructor
(``scheduler.instructors``), and has both re-checked by ``scheduler.timetable_validate``.

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

import dataclasses
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.service import staff_campus_ids
from courses.core.errors import Forbidden, not_found
from courses.core.reference import prefecture_code
from courses.models import Campus, Classroom, Course, CourseSession, Enrollment, SessionStatus
from courses.models.plans import PlanKind, PlanVersion
from courses.models.resources import Instructor, InstructorAvailability, RoomOutage
from courses.models.timetable import CourseModule, InstructorLink, PlannedModule
from courses.planning.loading import SolveOutcome, _blocks, _sessions
from courses.planning.timetable_modules import KIND_LABELS, modules_by_course
from scheduler import instructors as ins
from scheduler import timetable as tt
from scheduler.timetable_validate import validate_timetable

HALF_LABELS = {0: "午前", 1: "午後"}
NO_SLOT = "空いている時限と教室の組み合わせが残っていません（教室・開講回の他のモジュールと重なります）"
TIMETABLE_SHARE = 0.35  # of a run's time limit; the instructor stage gets the rest


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


def instructor_bound(problem: ins.InstructorProblem, seconds: float = 5.0) -> float:
    """A lower bound of the instructor objective: the LP relaxation of the pruned model without
    the travel-day rule (assignment, one place at a time, monthly maximum, load above target,
    pins, change). No row of it spans two months, so it is the sum of the month LPs the solver
    itself builds (``scheduler.instructors._lp_guide``). Falls back to the cheapest candidate per
    module if an LP fails or the months take longer than ``seconds``."""
    w = problem.weights
    cands = ins.candidates(problem)
    simple = 0.0
    for t in problem.teachings:
        costs = [
            w.cost * ins.price(problem, t, i) + ins._non_local(problem, t, i) for i in cands[t.module_id]
        ]
        simple += min([*costs, w.unassigned])
    started = time.monotonic()
    total = 0.0
    for month in ins._months(list(problem.teachings)):
        guide = ins._lp_guide(problem, month, cands, ins._Board())
        if guide is None or time.monotonic() - started > seconds:
            return simple
        total += guide[1]
    return max(simple, total - 1e-6 * abs(total))


def overlap_groups(problem: tt.TimetableProblem) -> list[tt.TimetableProblem]:
    """Split a campus timetable into groups of sessions that share a day (transitively).

    Nothing is lost: sessions on different days never compete for a classroom or a period, and
    every rule of the timetable stays inside one session. Small groups solve to optimality in a
    fraction of the time the whole campus needs."""
    parent = list(range(len(problem.sessions)))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first_on: dict[tuple[str, date], int] = {}
    for k, sess in enumerate(problem.sessions):
        for d in sess.days():
            other = first_on.setdefault((sess.campus, d), k)
            parent[find(k)] = find(other)
    groups: dict[int, list[tt.Session]] = defaultdict(list)
    for k, sess in enumerate(problem.sessions):
        groups[find(k)].append(sess)
    out = []
    for members in groups.values():
        mids = {m.id for sess in members for m in sess.modules}
        out.append(
            dataclasses.replace(
                problem,
                sessions=tuple(members),
                pins=tuple(p for p in problem.pins if p.module_id in mids),
                previous=tuple(p for p in problem.previous if p.module_id in mids),
            )
        )
    return out


def greedy_timetable(problem: tt.TimetableProblem) -> list[tt.Placement]:
    """A constructive timetable (milliseconds): pins first, then each session's modules in
    curriculum order on its consecutive half days, kept in one classroom where one is free; a
    module of the previous plan stays where it was when that is still possible.

    Used as the answer of last resort and as a yardstick: for each group the better of this and
    the CP-SAT answer (by the independent validator's penalties) is kept."""
    rooms = sorted(problem.classrooms, key=lambda r: (r.capacity, r.id))
    room_busy: set[tuple[str, tt.Period]] = set()
    session_busy: set[tuple[str, tt.Period]] = set()
    out: list[tt.Placement] = []
    pins = {p.module_id: p for p in problem.pins}
    previous = {p.module_id: p for p in problem.previous}

    def free(sess: tt.Session, room: tt.Classroom, cover: list[tt.Period]) -> bool:
        return all(
            (room.id, p) not in room_busy and (sess.id, p) not in session_busy and p not in room.unavailable
            for p in cover
        )

    def take(sess: tt.Session, mod: tt.Module, start: tt.Period, room: str) -> None:
        placement = tt.Placement(mod.id, sess.id, start, room, mod.half_days)
        for p in placement.periods():
            room_busy.add((room, p))
            session_busy.add((sess.id, p))
        out.append(placement)

    sessions = sorted(
        problem.sessions, key=lambda s: (s.days()[0] if s.days() else date.min, -s.learners, s.id)
    )
    by_id = {r.id: r for r in rooms}
    for sess in sessions:  # pins are hard: place them before anything else
        for mod in sess.modules:
            pin = pins.get(mod.id)
            if pin is None:
                continue
            cover = tt.Placement(mod.id, sess.id, pin.start, "", mod.half_days).periods()
            choices = [by_id[pin.classroom]] if pin.classroom in by_id else rooms
            room = next((r for r in choices if r.capacity >= sess.learners and free(sess, r, cover)), None)
            if room is not None:
                take(sess, mod, pin.start, room.id)
    done = {p.module_id for p in out}
    for sess in sessions:
        fits = [r for r in rooms if r.capacity >= sess.learners and r.campus == sess.campus]
        periods = [tt.Period(d, h) for d in sess.days() for h in (tt.MORNING, tt.AFTERNOON)]
        todo = [m for m in sorted(sess.modules, key=lambda m: m.order) if m.id not in done]
        for mod in list(todo):  # minimal change: keep what the previous plan had, where still possible
            prev = previous.get(mod.id)
            if prev and prev.classroom in by_id and prev.start in tt.allowed_starts(sess, mod):
                room = by_id[prev.classroom]
                cover = tt.Placement(mod.id, sess.id, prev.start, "", mod.half_days).periods()
                if room.capacity >= sess.learners and free(sess, room, cover):
                    take(sess, mod, prev.start, room.id)
                    todo.remove(mod)
        home = next((r for r in fits if all(free(sess, r, [p]) for p in periods)), None)
        for p in periods:
            if not todo or (sess.id, p) in session_busy:
                continue
            # The next module in curriculum order; in an afternoon, the next half-day module.
            candidates = todo if p.half == tt.MORNING else [m for m in todo if m.half_days == 1]
            for mod in candidates[:2]:
                cover = tt.Placement(mod.id, sess.id, p, "", mod.half_days).periods()
                if mod.half_days == 2 and p.half != tt.MORNING:
                    continue
                choices = ([home] if home else []) + [r for r in fits if r is not home]
                room = next((r for r in choices if free(sess, r, cover)), None)
                if room is not None:
                    take(sess, mod, p, room.id)
                    todo.remove(mod)
                    break
    return out


def solve_in_groups(problem: tt.TimetableProblem) -> tt.TimetableSolution:
    """``scheduler.timetable.solve_timetable`` on each overlap group, the time limit shared in
    proportion to the groups' modules; the parts are merged into one solution."""
    started = time.monotonic()
    parts = sorted(overlap_groups(problem), key=lambda p: -sum(len(s.modules) for s in p.sessions))
    left_modules = sum(len(s.modules) for p in parts for s in p.sessions) or 1
    placements: list[tt.Placement] = []
    unplaced: list[tt.Unplaced] = []
    terms: dict[str, int] = defaultdict(int)
    statuses = []
    for part in parts:
        size = sum(len(s.modules) for s in part.sessions)
        budget = max(0.2, (problem.time_limit - (time.monotonic() - started)) * size / left_modules)
        left_modules -= size
        sol = tt.solve_timetable(dataclasses.replace(part, time_limit=budget))
        greedy = greedy_timetable(part)
        g_report = validate_timetable(part, greedy)
        chosen, status = sol.placements, sol.status
        solver_penalty = sum(validate_timetable(part, sol.placements).penalties.values())
        use_greedy = (
            g_report.ok
            and not (sol.status == "infeasible" and part.pins)  # a broken pin is explained, not hidden
            and (sol.status == "timed_out" or sum(g_report.penalties.values()) < solver_penalty)
        )
        if use_greedy:
            chosen, status = greedy, "feasible"
        statuses.append(status)
        placements += chosen
        reasons = {u.id: u.reason for u in sol.unplaced}
        placed = {p.module_id for p in chosen}
        for sess in part.sessions:
            for mod in sess.modules:
                if mod.id not in placed:
                    unplaced.append(tt.Unplaced(mod.id, reasons.get(mod.id, NO_SLOT)))
        for name, value in validate_timetable(part, chosen).penalties.items():
            terms[name] += value
    order = ["infeasible", "timed_out", "feasible", "optimal"]
    status = min(statuses, key=order.index) if statuses else "optimal"
    objective = sum(terms.values())
    shares = {k: (v / objective if objective else 0.0) for k, v in terms.items()}
    return tt.TimetableSolution(
        status, placements, unplaced, objective, dict(terms), shares, time.monotonic() - started
    )


def solve_job(job: TimetableJob, time_limit: float, progress: Callable[[float, float], None]) -> SolveOutcome:
    """Runs in the worker process: timetable, then instructors, then the independent validator."""
    from scheduler.timetable_validate import validate_instructors, validate_timetable

    started = time.monotonic()
    messages: list[str] = []
    problem = dataclasses.replace(job.timetable, time_limit=max(1.0, time_limit * TIMETABLE_SHARE))
    tsol = solve_in_groups(problem)
    if tsol.status == "infeasible" and problem.pins:
        messages.append(
            "公開済みの時間割の固定が守れないため、固定を外して（変更は最小限にして）計算し直しました："
            + "；".join(f"{job.keys[u.id].label}: {u.reason}" for u in tsol.unplaced[:5] if u.id in job.keys)
        )
        problem = dataclasses.replace(problem, pins=())
        tsol = solve_in_groups(problem)
    progress(float(tsol.objective), time.monotonic() - started)
    left = max(1.0, time_limit - (time.monotonic() - started))
    iprob = instructor_problem(job, tsol.placements, left)
    isol = ins.assign_instructors(iprob)
    if isol.status == "infeasible" and iprob.pins:
        messages.append("公開済みの講師の固定が守れないため、固定を外して計算し直しました。")
        iprob = dataclasses.replace(
            iprob, pins={}, time_limit=max(1.0, time_limit - (time.monotonic() - started))
        )
        isol = ins.assign_instructors(iprob)
    progress(float(tsol.objective + isol.objective), time.monotonic() - started)
    t_report = validate_timetable(problem, tsol.placements)
    i_report = validate_instructors(iprob, isol.assignment)
    violations = [{"rule": v.rule, "message": v.message, "stage": "timetable"} for v in t_report.violations]
    violations += [
        {"rule": v.rule, "message": v.message, "stage": "instructors"} for v in i_report.violations
    ]
    # The objective reported is the validator's. A solver's own count differs only where it
    # under-counts a soft rule; that is reported, and it is not a hard violation.
    t_obj, i_obj = sum(t_report.penalties.values()), sum(i_report.penalties.values())
    if isol.assignment and i_obj != isol.objective:
        messages.append(
            f"注意: 講師の評価値を独立検証で再計算しました（ソルバー {isol.objective:,} → 検証 {i_obj:,}）。"
        )
    # The solver's bound (the months' bounds, mostly proven by CP-SAT) or the LP's, the higher.
    bound = max(isol.bound, instructor_bound(iprob, seconds=min(10.0, max(1.0, time_limit * 0.2))))
    i_gap = max(0.0, (i_obj - bound) / i_obj) if i_obj else 0.0
    breakdown: dict[str, dict[str, float]] = {}
    tw, iw = dataclasses.asdict(problem.weights), dataclasses.asdict(iprob.weights)
    for stage, terms, weights in (
        ("timetable", t_report.penalties, tw),
        ("instructors", i_report.penalties, iw),
    ):
        total = sum(terms.values())
        for rule, cost in terms.items():
            weight = weights.get(rule, 1) or 1
            breakdown[f"{stage}.{rule}"] = {
                "value": round(cost / weight, 2),
                "weight": weight,
                "cost": cost,
                "share": round(cost / total, 4) if total else 0.0,
            }
    unassigned: list[dict[str, Any]] = []
    for u in tsol.unplaced:
        key = job.keys.get(u.id)
        if key:
            unassigned.append(_unassigned(key, u.id, "timetable", u.reason))
    for ua in isol.unassigned:
        key = job.keys.get(ua.module_id)
        if key:
            unassigned.append(_unassigned(key, ua.module_id, "instructors", ua.reason))
    rows = [
        (
            job.keys[p.module_id].session_id,
            job.keys[p.module_id].course_module_id,
            p.start.day,
            p.start.half,
            p.half_days,
            int(p.classroom),
            int(isol.assignment[p.module_id]) if p.module_id in isol.assignment else None,
        )
        for p in tsol.placements
    ]
    changed_period = {
        p.module_id
        for p in tsol.placements
        if p.module_id in job.previous_period and job.previous_period[p.module_id] != p.start
    }
    changed_instr = {m for m, i in iprob.previous.items() if isol.assignment.get(m) != i}
    moved_periods, moved_instr = len(changed_period), len(changed_instr)
    moved = len(changed_period | changed_instr)
    n_modules = sum(len(x.modules) for x in problem.sessions)
    messages.insert(
        0,
        f"時間割: {len(tsol.placements)}/{n_modules} モジュールを配置（{_status_ja(tsol.status)}、{tsol.seconds:.1f} 秒）"
        f"／講師: {len(isol.assignment)}/{len(iprob.teachings)} を割り当て（{_status_ja(isol.status)}、"
        f"評価値 {i_obj:,}、下界 {bound:,.0f}、ギャップ {100 * i_gap:.1f}%、{isol.seconds:.1f} 秒）",
    )
    if job.previous_period:
        messages.append(f"公開中の時間割から時限の変更 {moved_periods} 件、講師の変更 {moved_instr} 件。")
    if job.busy_elsewhere:
        messages.append(
            f"他キャンパスの公開済み時間割により、講師の担当不可日（移動日を含む）{job.busy_elsewhere} 日を除外しました。"
        )
    order = ["infeasible", "timed_out", "greedy", "feasible", "optimal"]
    worst = min((tsol.status, isol.status if iprob.teachings else "optimal"), key=order.index)
    status = {"greedy": "feasible"}.get(worst, worst)
    t_bound = t_obj if tsol.status == "optimal" else 0
    objective = float(t_obj + i_obj)
    best_bound = float(t_bound + bound)
    return SolveOutcome(
        kind=PlanKind.TIMETABLE,
        status=status,
        objective=objective,
        best_bound=best_bound,
        gap=i_gap,
        moved=moved,
        solve_seconds=round(time.monotonic() - started, 3),
        breakdown=breakdown,
        unassigned=unassigned,
        messages=messages,
        violations=violations,
        rooms=[],
        sites=[],
        modules=rows,
    )


def _unassigned(key: ModuleKey, mid: str, stage: str, reason: str) -> dict[str, Any]:
    return {
        "module_id": mid,
        "session_id": key.session_id,
        "course_module_id": key.course_module_id,
        "stage": stage,
        "label": key.label,
        "reason": reason,
    }


def _status_ja(status: str) -> str:
    return {
        "optimal": "最適解",
        "feasible": "実行可能解",
        "infeasible": "解なし",
        "timed_out": "時間切れ",
        "greedy": "貪欲法による割当",
    }.get(status, status)


# ----------------------------------------------------------------------------------------------
# Reading plans: rows with names, compare, the staff grid, instructors' and learners' views.


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
        return KIND_LABELS.get(self.kind, self.kind)  # type: ignore[call-overload,no-any-return]

    def as_dict(self, *, with_instructor_id: bool = True) -> dict[str, Any]:
        out = {
            "session_id": self.session_id,
            "session_code": self.session_code,
            "course": self.course_title,
            "module": self.module_title,
            "kind": self.kind,
            "day": self.day.isoformat(),
            "half": self.half,
            "half_days": self.half_days,
            "time": self.time_label,
            "campus": self.campus_code,
            "classroom": self.classroom,
            "instructor": self.instructor or None,
        }
        if with_instructor_id:
            out |= {
                "classroom_id": self.classroom_id,
                "instructor_id": self.instructor_id,
                "plan_id": self.plan_id,
            }
        return out


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

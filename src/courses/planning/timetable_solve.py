"""Solving a campus timetable job in the worker process.

One run of kind ``timetable`` places every module of the campus's sessions in a period and a
classroom (``scheduler.timetable``), then gives each placed module an instructor
(``scheduler.instructors``), and has both re-checked by ``scheduler.timetable_validate``.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

from courses.models.plans import PlanKind
from courses.planning.loading import SolveOutcome
from courses.planning.timetable_job import ModuleKey, TimetableJob, instructor_problem
from scheduler import instructors as ins
from scheduler import timetable as tt
from scheduler.timetable_validate import validate_timetable

NO_SLOT = "空いている時限と教室の組み合わせが残っていません（教室・開講回の他のモジュールと重なります）"
TIMETABLE_SHARE = 0.35  # of a run's time limit; the instructor stage gets the rest


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

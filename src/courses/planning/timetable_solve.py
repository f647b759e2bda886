"""Solving a campus timetable job in the worker process.

One run of kind ``timetable`` places every module of the campus's sessions in a period and a
classroom (``scheduler.timetable.solve_timetable``), then gives each placed module an instructor
(``scheduler.instructors``), and has both re-checked by ``scheduler.timetable_validate``. The
solving is the scheduler's; this module turns its answers into what a plan stores.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from courses.models.plans import PlanKind
from courses.planning.loading import SolveOutcome
from courses.planning.timetable_job import ModuleKey, TimetableJob, instructor_problem
from scheduler import instructors as ins
from scheduler.timetable import solve_timetable
from scheduler.timetable_validate import validate_timetable

TIMETABLE_SHARE = 0.35  # of a run's time limit; the instructor stage gets the rest


def solve_job(job: TimetableJob, time_limit: float, progress: Callable[[float, float], None]) -> SolveOutcome:
    """Runs in the worker process: timetable, then instructors, then the independent validator."""
    from scheduler.timetable_validate import validate_instructors

    started = time.monotonic()
    messages: list[str] = []
    problem = dataclasses.replace(job.timetable, time_limit=max(1.0, time_limit * TIMETABLE_SHARE))
    tsol = solve_timetable(problem)
    if tsol.status == "infeasible" and problem.pins:
        messages.append(
            "公開済みの時間割の固定が守れないため、固定を外して（変更は最小限にして）計算し直しました："
            + "；".join(f"{job.keys[u.id].label}: {u.reason}" for u in tsol.unplaced[:5] if u.id in job.keys)
        )
        problem = dataclasses.replace(problem, pins=())
        tsol = solve_timetable(problem)
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
    bound = max(isol.bound, ins.lp_bound(iprob, seconds=min(10.0, max(1.0, time_limit * 0.2))))
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

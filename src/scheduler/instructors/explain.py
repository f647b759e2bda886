"""The solution as returned: why a module has no instructor, infeasible pins, and the greedy answer
of last resort."""

from __future__ import annotations

import time

from scheduler.instructor_types import Instructor, InstructorProblem, InstructorSolution, Teaching, Unassigned
from scheduler.instructors.board import _Board, _greedy_fill
from scheduler.timetable_validate import instructor_penalties


def _reason(problem: InstructorProblem, t: Teaching) -> str:
    qualified = [i for i in problem.instructors if t.subject in i.subjects]
    if not qualified:
        return f"科目「{t.subject}」を担当できる講師が登録されていません"
    if not any(t.day in i.available for i in qualified):
        return f"科目「{t.subject}」の講師は{t.day.isoformat()}に全員都合がつきません"
    return (
        f"科目「{t.subject}」の講師は{t.day.isoformat()}に他の授業・移動日・月間担当上限のため"
        "割り当てられません"
    )


def _pin_infeasible(problem: InstructorProblem, start: float) -> InstructorSolution:
    teaching = {t.module_id for t in problem.teachings}
    bad = [
        Unassigned(
            mid, f"固定された講師{iid}はこのモジュールを担当できません（科目・日程・重複・移動日・上限）"
        )
        for mid, iid in problem.pins.items()
        if mid in teaching
    ]
    return InstructorSolution("infeasible", {}, bad, 0, {}, {}, time.monotonic() - start)


def _solution(
    problem: InstructorProblem,
    status: str,
    assignment: dict[str, str],
    terms: dict[str, int],
    start: float,
    bound: float = 0.0,
) -> InstructorSolution:
    unassigned = [
        Unassigned(t.module_id, _reason(problem, t))
        for t in problem.teachings
        if t.module_id not in assignment
    ]
    objective = sum(terms.values())
    shares = {k: (v / objective if objective else 0.0) for k, v in terms.items()}
    return InstructorSolution(
        status, assignment, unassigned, objective, terms, shares, time.monotonic() - start, bound
    )


def _greedy(
    problem: InstructorProblem, cands: dict[str, list[Instructor]], start: float
) -> InstructorSolution:
    """Last resort: cheapest feasible candidate, module by module in date order."""
    assignment = _greedy_fill(list(problem.teachings), cands, _Board(), problem.pins)
    terms = instructor_penalties(problem, assignment)
    return _solution(problem, "greedy", assignment, terms, start)

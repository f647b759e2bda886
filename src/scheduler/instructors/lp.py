"""The LP relaxation of a month (GLOP): which candidates matter, the month's first bound, and the
reduced-cost floor under the candidates it leaves out."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from scheduler.instructor_types import Instructor, InstructorProblem, Teaching, price
from scheduler.instructors.board import _Board
from scheduler.instructors.pruning import _month, _non_local

LP_EXTRA = 4  # candidates kept per module beyond those the month's LP uses (see _narrow)


def _lp_guide(
    problem: InstructorProblem,
    part: list[Teaching],
    allowed: Mapping[str, list[Instructor]],
    board: _Board,
) -> tuple[dict[tuple[str, str], float], float, dict[tuple[str, str], float]] | None:
    """LP relaxation of one month without the travel day: its values per module × instructor,
    its objective (a lower bound of the month given the board) and the reduced cost of each
    module × instructor. None if the LP failed.

    At this scale the LP is almost integral, so it tells which few candidates matter, and its
    reduced costs which others may (``_floor``). The travel day's rows made GLOP fifteen times
    slower and neither the bound nor the answers better once CP-SAT proves the month. Rows are
    set coefficient by coefficient (``_row``): pywraplp's expression objects took twice as long to
    build a month's LP as GLOP took to solve it.
    """
    from ortools.linear_solver import pywraplp

    lp = pywraplp.Solver.CreateSolver("GLOP")
    if lp is None:
        return None
    w = problem.weights
    by_id = {i.id: i for i in problem.instructors}
    x: dict[tuple[str, str], Any] = {}
    objective: dict[Any, float] = defaultdict(float)
    constant = 0
    at: dict[tuple[str, date, int], list[Any]] = defaultdict(list)
    month: dict[tuple[str, tuple[int, int]], list[tuple[Any, float]]] = defaultdict(list)
    for t in part:
        lits = []
        constant += w.unassigned
        for i in allowed[t.module_id]:
            v = x[t.module_id, i.id] = lp.NumVar(0, 1, "")
            lits.append(v)
            objective[v] += w.cost * price(problem, t, i) + _non_local(problem, t, i) - w.unassigned
            for d, h in t.halves():
                at[i.id, d, h].append(v)
            month[i.id, _month(t.day)].append((v, t.half_days))
        if lits:
            _row(lp, -lp.infinity(), 1, ((v, 1) for v in lits))
        pinned = problem.pins.get(t.module_id)
        if pinned is not None and (t.module_id, pinned) in x:
            x[t.module_id, pinned].SetLb(1)
        prev = problem.previous.get(t.module_id)
        if prev is not None:
            constant += w.change
            if (t.module_id, prev) in x:
                objective[x[t.module_id, prev]] -= w.change
    for lits in at.values():
        if len(lits) > 1:
            _row(lp, -lp.infinity(), 1, ((v, 1) for v in lits))
    for (iid, m), loads in month.items():
        base = board.load[iid, m]
        _row(lp, -lp.infinity(), by_id[iid].max_load_per_month - base, loads)
        if base + len(loads) * 2 > problem.target_load_per_month:
            over = lp.NumVar(0, lp.infinity(), "")
            # over >= sum(loads) + base - target
            _row(lp, -lp.infinity(), problem.target_load_per_month - base, [*loads, (over, -1)])
            objective[over] += w.load_above_target
            # what the board already holds above the target is counted in earlier parts
            constant -= w.load_above_target * max(0, base - problem.target_load_per_month)
    goal = lp.Objective()
    for v, c in objective.items():
        goal.SetCoefficient(v, c)
    goal.SetMinimization()
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    values = {k: v.solution_value() for k, v in x.items()}
    return values, goal.Value() + constant, {k: v.reduced_cost() for k, v in x.items()}


def _row(lp: Any, lo: float, hi: float, terms: Iterable[tuple[Any, float]]) -> None:
    """The LP row ``lo <= sum(coefficient * variable) <= hi``; each variable at most once."""
    ct = lp.Constraint(lo, hi)
    for v, c in terms:
        ct.SetCoefficient(v, c)


def _narrow(
    problem: InstructorProblem,
    part: list[Teaching],
    allowed: Mapping[str, list[Instructor]],
    values: Mapping[tuple[str, str], float],
    reduced: Mapping[tuple[str, str], float],
    below: float,
    extra: int | None = None,
) -> dict[str, list[Instructor]]:
    """Per module: the candidates the LP uses (largest value first), then the ``LP_EXTRA``
    cheapest others (``extra``), any whose reduced cost is below ``below`` (so the month's bound
    can rise that far above the LP's, see ``_floor``) and any pinned or previous instructor, so
    the rounding has room to move."""
    extra = LP_EXTRA if extra is None else extra
    out = {}
    for t in part:
        mid = t.module_id
        used = sorted(
            (i for i in allowed[mid] if values.get((mid, i.id), 0.0) > 1e-6),
            key=lambda i: -values[mid, i.id],
        )
        rest = [i for i in allowed[mid] if i not in used]
        keep = used + rest[:extra]
        keep += [i for i in rest[extra:] if reduced.get((mid, i.id), 0.0) < below]
        for fixed in (problem.pins.get(mid), problem.previous.get(mid)):
            keep += [i for i in rest[extra:] if i.id == fixed]
        out[mid] = keep
    return out


def _floor(
    problem: InstructorProblem,
    allowed: Mapping[str, list[Instructor]],
    offers: Mapping[str, list[Instructor]],
    lp: float,
    reduced: Mapping[tuple[str, str], float],
) -> float:
    """Reduced-cost argument: every answer of the month that uses a candidate the offers leave
    out costs at least the LP bound plus that candidate's reduced cost. (A pinned module's other
    candidates are never used, so they do not count.)"""
    least = math.inf
    for mid, cands in allowed.items():
        if mid in problem.pins:
            continue
        kept = {i.id for i in offers[mid]}
        for i in cands:
            if i.id not in kept:
                least = min(least, reduced.get((mid, i.id), 0.0))
    return lp + least

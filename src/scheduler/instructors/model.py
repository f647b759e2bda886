"""One CP-SAT model per month or group of modules, and the weighted terms of a part's answer."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

from scheduler.instructor_types import Instructor, InstructorProblem, Teaching, price
from scheduler.instructors.board import _Board, _greedy_fill
from scheduler.instructors.pruning import _month, _non_local
from scheduler.instructors.rules import _one_place_at_a_time, _travel_day
from scheduler.timetable_validate import instructor_penalties

MIN_CP_SECONDS = 0.3  # below this a CP-SAT part cannot beat its hint; the greedy fill is kept


def _solve_part(
    problem: InstructorProblem,
    part: list[Teaching],
    cands: Mapping[str, list[Instructor]],
    board: _Board,
    seconds: float,
    hint: dict[str, str] | None = None,
) -> tuple[str, dict[str, str], dict[str, int], float | None]:
    """One month (or one group of it): one boolean per module × candidate the board still allows.

    Returns the status, the assignment, the weighted terms of the part and CP-SAT's lower bound
    of the part over these candidates (None if CP-SAT did not run or found nothing).
    """
    from ortools.sat.python import cp_model

    w = problem.weights
    target = problem.target_load_per_month
    allowed = {t.module_id: [i for i in cands[t.module_id] if board.fits(t, i)] for t in part}
    if seconds < MIN_CP_SECONDS:
        fill = _greedy_fill(part, allowed, board.copy(), problem.pins) if hint is None else hint
        if any(
            fill.get(t.module_id) != problem.pins[t.module_id] for t in part if t.module_id in problem.pins
        ):
            return "infeasible", {}, {}, None  # pins that clash with each other
        return "greedy", fill, _part_terms(problem, part, fill, board), None
    m = cp_model.CpModel()
    a: dict[tuple[str, str], Any] = {}
    # Each term: variables, coefficients and a constant, so its value is read back exactly.
    tv: dict[str, list[Any]] = defaultdict(list)
    tc: dict[str, list[int]] = defaultdict(list)
    const: dict[str, int] = defaultdict(int)
    mine: dict[str, list[tuple[Teaching, Any]]] = defaultdict(list)
    for t in part:
        lits = []
        for i in allowed[t.module_id]:
            lit = a[t.module_id, i.id] = m.new_bool_var(f"teaches[module={t.module_id},instructor={i.id}]")
            lits.append(lit)
            mine[i.id].append((t, lit))
            tv["cost"].append(lit)
            tc["cost"].append(w.cost * price(problem, t, i))
            if _non_local(problem, t, i):
                tv["non_local"].append(lit)
                tc["non_local"].append(w.non_local)
        pinned = problem.pins.get(t.module_id)
        if pinned is not None:
            if (t.module_id, pinned) not in a:
                return "infeasible", {}, {}, None
            m.add(a[t.module_id, pinned] == 1)
        if lits:
            m.add_at_most_one(lits)
        # unassigned = w * (1 - sum(lits))
        const["unassigned"] += w.unassigned
        tv["unassigned"] += lits
        tc["unassigned"] += [-w.unassigned] * len(lits)
        prev = problem.previous.get(t.module_id)
        if prev is not None:
            const["change"] += w.change
            keep = a.get((t.module_id, prev))
            if keep is not None:
                tv["change"].append(keep)
                tc["change"].append(-w.change)
    by_id = {i.id: i for i in problem.instructors}
    teaching = {t.module_id: t for t in part}
    travel: dict[tuple[str, date, str], Any] = {}
    over_of: dict[str, tuple[Any, int]] = {}
    for iid, taught in mine.items():
        _one_place_at_a_time(m, taught)
        travel.update(_travel_day(m, iid, taught))
        # Load per month (a part lies in one month): at most the maximum, penalised above the target.
        load = [t.half_days for t, _ in taught]
        lits = [lit for _, lit in taught]
        month = _month(taught[0][0].day)
        if sum(load) > by_id[iid].max_load_per_month - board.load[iid, month]:
            m.add(
                cp_model.LinearExpr.weighted_sum(lits, load)
                <= by_id[iid].max_load_per_month - board.load[iid, month]
            )
        if sum(load) + board.load[iid, month] > target:
            over = m.new_int_var(
                0, sum(load), f"load_above_target[instructor={iid},month={month[0]}-{month[1]:02d}]"
            )
            m.add(over >= cp_model.LinearExpr.weighted_sum(lits, load) + board.load[iid, month] - target)
            over_of[iid] = (over, board.load[iid, month])
            tv["load_above_target"].append(over)
            tc["load_above_target"].append(w.load_above_target)
    m.minimize(
        cp_model.LinearExpr.weighted_sum([v for n in tv for v in tv[n]], [c for n in tv for c in tc[n]])
        + sum(const.values())
    )
    # A complete answer from the start: the greedy fill of this part, given as a full hint.
    fill = _greedy_fill(part, allowed, board.copy(), problem.pins) if hint is None else hint
    for (mid, iid), lit in a.items():
        m.add_hint(lit, fill.get(mid) == iid)
    where = {(iid, teaching[mid].day, teaching[mid].campus) for mid, iid in fill.items()}
    for (iid, d, c), v in travel.items():
        m.add_hint(v, (iid, d, c) in where)
    month_load: dict[str, int] = defaultdict(int)
    for mid, iid in fill.items():
        month_load[iid] += teaching[mid].half_days
    for iid, (v, base) in over_of.items():
        m.add_hint(v, max(0, month_load[iid] + base - target))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = problem.num_workers
    solver.parameters.random_seed = problem.seed
    solver.parameters.relative_gap_limit = 1e-4
    code = solver.solve(m)
    if code == cp_model.INFEASIBLE:
        return "infeasible", {}, {}, None
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return "greedy", fill, _part_terms(problem, part, fill, board), None
    got = {mid: iid for (mid, iid), lit in a.items() if solver.boolean_value(lit)}
    proved = solver.objective_value <= solver.best_objective_bound + 0.5
    status = "optimal" if proved else "feasible"
    return status, got, _part_terms(problem, part, got, board), solver.best_objective_bound


def _part_terms(
    problem: InstructorProblem, part: list[Teaching], got: dict[str, str], board: _Board
) -> dict[str, int]:
    """Weighted terms of one part's assignment (the load counted with what the board holds)."""
    sub = dataclasses.replace(problem, teachings=tuple(part), pins={})
    values = instructor_penalties(sub, got)
    values["load_above_target"] = _load_above(problem, part, got, board)
    return values


def _load_above(problem: InstructorProblem, part: list[Teaching], fill: dict[str, str], board: _Board) -> int:
    """Weighted half days above the target in the part's month, counting what the board holds."""
    load: dict[tuple[str, tuple[int, int]], int] = defaultdict(int)
    for t in part:
        if t.module_id in fill:
            load[fill[t.module_id], _month(t.day)] += t.half_days
    target = problem.target_load_per_month
    return problem.weights.load_above_target * sum(
        max(0, n + board.load[key] - target) - max(0, board.load[key] - target) for key, n in load.items()
    )

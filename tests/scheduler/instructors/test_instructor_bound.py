"""The instructor solver's lower bound against the true optimum of small random years.

The optimum comes from a model written here from the rules alone (pairwise travel-day conflicts,
no months, no LP), solved to the end by CP-SAT; the answer is re-scored by the validator. The
solver's bound must never exceed that optimum, and should mostly reach it. Variants: candidates
pruned to the 6 cheapest (the bound is over the pruned model, so the optimum is too), a narrowing
that offers only what the LP uses (so the reduced-cost floor decides), and too little time for
CP-SAT (greedy parts, the LP's bound alone, or no bound at all). A third of the years pin two
modules (were the pins impossible, the solver would have to say infeasible).
"""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from ortools.sat.python import cp_model

from scheduler import instructors as ins
from scheduler.instructors import Instructor, InstructorProblem, Teaching, assign_instructors, price
from scheduler.timetable_validate import validate_instructors

PREF = {"tokyo": "東京都", "osaka": "大阪府"}
FIRST = date(2026, 5, 28)  # the year crosses the end of May: the travel day spans two months


def random_year(seed: int) -> InstructorProblem:
    rng = random.Random(seed)
    days = [FIRST + timedelta(n) for n in range(8)]
    teachings = []
    for k in range(16):
        half_days = rng.choice((1, 1, 2))
        teachings.append(
            Teaching(
                f"m{k}",
                f"s{k % 3}",
                rng.choice(("tokyo", "osaka")),
                "finance",
                rng.choice(days),
                0 if half_days == 2 else rng.choice((0, 1)),
                half_days,
            )
        )
    people = []
    for k in range(12):
        people.append(
            Instructor(
                f"p{k}",
                frozenset({"finance"}),
                frozenset(d for d in days if rng.random() < 0.7),
                rng.choice((2, 3, 4)),
                rng.randrange(5, 40) * 1000,
                rng.choice(tuple(PREF.values())),
                {"tokyo": rng.choice((0, 0, 8000)), "osaka": rng.choice((0, 0, 8000))},
            )
        )
    previous = {f"m{k}": f"p{rng.randrange(12)}" for k in range(0, 16, 5)}
    pins = {}
    if seed % 3 == 0:
        for t in rng.sample(teachings, 2):
            able = [i.id for i in people if t.day in i.available]
            if able:
                pins[t.module_id] = rng.choice(able)
    return InstructorProblem(
        tuple(teachings),
        tuple(people),
        PREF,
        target_load_per_month=2,
        previous=previous,
        pins=pins,
        time_limit=5,
    )


def optimum(problem: InstructorProblem) -> int | None:
    """The true optimum from the rules as stated, over every qualified, available instructor or,
    with fewer than 12 candidates a module, over the pruned ones. None if the pins rule it out."""
    w = problem.weights
    kept = {mid: {i.id for i in cands} for mid, cands in ins.candidates(problem).items()}
    m = cp_model.CpModel()
    x: dict[tuple[str, str], cp_model.IntVar] = {}
    cost = []
    for t in problem.teachings:
        here = []
        for i in problem.instructors:
            if problem.candidates_per_module < 12 and i.id not in kept[t.module_id]:
                continue
            if t.subject in i.subjects and t.day in i.available and t.half_days <= i.max_load_per_month:
                v = x[t.module_id, i.id] = m.new_bool_var("")
                here.append(v)
                local = PREF[t.campus] == i.home_prefecture
                cost.append((w.cost * price(problem, t, i) + (0 if local else w.non_local)) * v)
                if problem.previous.get(t.module_id) == i.id:
                    cost.append(-w.change * v)
        m.add(sum(here) <= 1)
        pinned = problem.pins.get(t.module_id)
        if pinned is not None:
            if (t.module_id, pinned) not in x:
                return None
            m.add(x[t.module_id, pinned] == 1)
        cost.append(w.unassigned * (1 - sum(here)))
        if t.module_id in problem.previous:
            cost.append(w.change)
    for i in problem.instructors:
        mine = [t for t in problem.teachings if (t.module_id, i.id) in x]
        for a in mine:
            for b in mine:
                if a.module_id >= b.module_id:
                    continue
                overlap = set(a.halves()) & set(b.halves())
                travel = a.campus != b.campus and abs((a.day - b.day).days) <= 1
                if overlap or travel:
                    m.add(x[a.module_id, i.id] + x[b.module_id, i.id] <= 1)
        months: dict[tuple[int, int], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for t in mine:
            months[t.day.year, t.day.month].append((t.half_days, x[t.module_id, i.id]))
        for terms in months.values():
            load = sum(h * v for h, v in terms)
            m.add(load <= i.max_load_per_month)
            over = m.new_int_var(0, 20, "")
            m.add(over >= load - problem.target_load_per_month)
            cost.append(w.load_above_target * over)
    m.minimize(sum(cost))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = 60
    code = solver.solve(m)
    if code == cp_model.INFEASIBLE:
        return None
    assert code == cp_model.OPTIMAL
    return round(solver.objective_value)


# 200 random years solved as they come, and 60 of them in each variant
CASES = [(seed, "plain") for seed in range(200)] + [
    (seed, variant) for variant in ("pruned", "narrow", "short", "no time") for seed in range(60)
]


@pytest.mark.parametrize(("seed", "variant"), CASES)
def test_bound_never_exceeds_the_optimum(seed: int, variant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    problem = random_year(seed)
    if variant == "pruned":
        problem = dataclasses.replace(problem, candidates_per_module=6)
    elif variant == "narrow":
        # patched where they are read: the narrowing in ``lp``, the widening step in ``assign``
        monkeypatch.setattr("scheduler.instructors.lp.LP_EXTRA", 0)
        monkeypatch.setattr("scheduler.instructors.assign.RC_STEP", 1)
    elif variant == "short":  # the LPs, then greedy parts
        problem = dataclasses.replace(problem, time_limit=0.05)
    elif variant == "no time":  # not even the LPs: greedy parts in price order
        problem = dataclasses.replace(problem, time_limit=0.0)
    sol = assign_instructors(problem)
    best = optimum(problem)
    if best is None:
        assert sol.status == "infeasible" and sol.unassigned
        return
    report = validate_instructors(problem, sol.assignment)
    assert report.ok, report.violations
    assert sum(report.penalties.values()) == sol.objective
    assert sol.bound <= best + 1e-6 < sol.objective + 1
    assert sol.status != "optimal" or sol.objective == best


def test_answer_and_bound_mostly_reach_the_optimum_and_the_floor_is_exercised() -> None:
    # The random years are small enough that the solver should solve and prove most of them, and
    # large enough that the LP narrowing leaves candidates out, so the reduced-cost floor is used.
    reached, solved, dropped = 0, 0, 0
    for seed in range(24):
        problem = random_year(seed)
        sol = assign_instructors(problem)
        best = optimum(problem)
        if best is None:
            continue
        reached += sol.bound >= best - 1
        solved += sol.objective == best
        cands = ins.candidates(problem)
        for month in ins._months(list(problem.teachings)):
            allowed = {t.module_id: cands[t.module_id] for t in month}
            guide = ins._lp_guide(problem, month, allowed, ins._Board())
            assert guide is not None
            offers = ins._narrow(problem, month, allowed, guide[0], guide[2], ins.RC_STEP)
            dropped += sum(len(allowed[k]) - len(offers[k]) for k in allowed)
    assert reached >= 18 and solved >= 20 and dropped > 0

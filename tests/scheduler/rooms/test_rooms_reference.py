"""The solvers against exact reference models written from docs/scheduler-json.md (reference_models.py).

On a few hundred seeded tiny instances, with pins, previous plans, twins, zones, outages and long
courses: whenever a solver says ``optimal`` its objective is the reference optimum, its ``best_bound``
never exceeds that optimum, and every plan passes the independent validator.
"""

from __future__ import annotations

import random

import pytest

from scheduler.practicum import solve_practicum
from scheduler.rooms import solve_rooms
from scheduler.validate import rooms_cost, validate_practicum, validate_rooms
from tests.scheduler.rooms.reference_models import (
    practicum_reference,
    random_practicum_problem,
    random_rooms_problem,
    rooms_reference,
)

SEEDS = range(240)


def check(solution_status: str, objective: int, bound: float, optimum: int) -> None:
    assert bound <= optimum + 1e-6, f"bound {bound} above the true optimum {optimum}"
    assert objective >= optimum, f"a valid plan cannot cost {objective} below the optimum {optimum}"
    if solution_status == "optimal":
        assert objective == optimum, f"'optimal' {objective} but a valid plan costs {optimum}"


def test_rooms_solver_agrees_with_the_exact_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    optimal = 0
    for seed in SEEDS:
        problem = random_rooms_problem(random.Random(seed))
        reference = rooms_reference(problem)
        assert reference.proven, f"seed {seed}: the reference did not prove its optimum"
        # the full solver (exact model on small parts), the counts alone (bound from the relaxation), and a
        # solve with no time at all (greedy plan)
        for exact_cells, limit in ((4000, 2.0), (0, 2.0), (4000, 0.0)):
            monkeypatch.setattr("scheduler.rooms.solve.EXACT_CELLS", exact_cells)
            if limit == 0.0 and seed % 8:
                continue
            solution = solve_rooms(problem, time_limit=limit, num_workers=1)
            assert validate_rooms(problem, solution) == [], f"seed {seed}"
            assert rooms_cost(problem, solution.assignments) == solution.objective, f"seed {seed}"
            check(solution.status, solution.objective, solution.best_bound, reference.optimum)
            optimal += solution.status == "optimal" and exact_cells > 0 and limit > 0
    assert optimal >= len(SEEDS) * 0.9  # small parts are settled by the exact model


def test_practicum_solver_agrees_with_the_exact_reference() -> None:
    optimal = 0
    for seed in SEEDS:
        problem = random_practicum_problem(random.Random(seed))
        reference = practicum_reference(problem)
        assert reference.proven
        solution = solve_practicum(problem, time_limit=2.0, num_workers=1)
        assert validate_practicum(problem, solution) == [], f"seed {seed}"
        check(solution.status, solution.objective, solution.best_bound, reference.optimum)
        optimal += solution.status == "optimal"
    assert optimal >= len(SEEDS) * 0.9

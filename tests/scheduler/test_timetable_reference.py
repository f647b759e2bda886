"""The timetable solver's claims against an exact reference written from docs/timetable.md.

On 200 random small campuses, solved with every classroom on offer and with each session's two
smallest only (as the solver prunes at year scale): every plan passes the validator, costs what the solver says (the
validator's count), never less than the reference optimum, and exactly that whenever the solver says
"optimal". Contradictory pins must be reported as infeasible.
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from scheduler.timetable import solve_timetable
from scheduler.timetable_validate import validate_timetable
from tests.scheduler.timetable_reference import random_timetable_problem, timetable_reference

SEEDS = range(200)


@pytest.mark.parametrize("pruned", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_timetable_solver_agrees_with_the_exact_reference(
    seed: int, pruned: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = random_timetable_problem(random.Random(seed))
    if pruned:  # as at year scale: each session is offered only its two smallest classrooms
        monkeypatch.setattr("scheduler.timetable.EXACT_CELLS", 0)
        problem = dataclasses.replace(problem, rooms_per_session=2)
    reference = timetable_reference(problem)
    assert reference.proven, f"seed {seed}: the reference did not prove its optimum"
    solution = solve_timetable(problem)
    if reference.optimum is None:
        assert solution.status == "infeasible", f"seed {seed}: the pins cannot be kept"
        return
    report = validate_timetable(problem, solution.placements)
    assert report.violations == [], f"seed {seed}: {report.violations}"
    assert sum(report.penalties.values()) == solution.objective
    assert solution.objective >= reference.optimum, f"seed {seed}: below the optimum?"
    if solution.status == "optimal":
        assert solution.objective == reference.optimum, (
            f"seed {seed}: 'optimal' {solution.objective} but a valid timetable costs {reference.optimum}"
        )


def test_most_small_campuses_are_solved_to_proven_optimality() -> None:
    optimal = 0
    for seed in SEEDS:
        problem = random_timetable_problem(random.Random(seed))
        optimal += solve_timetable(problem).status in ("optimal", "infeasible")
    assert optimal >= len(SEEDS) * 0.8

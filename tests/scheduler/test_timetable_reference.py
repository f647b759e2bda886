"""The timetable solver's claims against an exact reference written from docs/timetable.md.

On 300 random small campuses (issue #15 asks for at least 200), solved with every classroom on
offer and with each session's two smallest only (as the solver prunes at year scale): every plan
passes the validator and costs what the solver says (the validator's count, term by term), never
less than the reference optimum, and exactly that whenever the solver says "optimal"; the
reference's own timetable passes the validator at the reference's cost.
Contradictory pins must be reported as infeasible, never as an "optimal" plan. The timetable
reports no bound, so there is no bound to hold against the optimum.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from datetime import date

import pytest

from scheduler.timetable import (
    MORNING,
    Classroom,
    DateBlock,
    Module,
    Period,
    Pin,
    Session,
    TimetableProblem,
    solve_timetable,
)
from scheduler.timetable_validate import validate_timetable
from tests.scheduler.timetable_reference import random_timetable_problem, timetable_reference

SEEDS = range(300)


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
    if reference.optimum is not None:  # the two scorers written from the page agree
        own = validate_timetable(problem, list(reference.placements))
        assert own.violations == [], f"seed {seed}: the reference breaks {own.violations}"
        assert sum(own.penalties.values()) == reference.optimum, f"seed {seed}: {own.penalties}"
    solution = solve_timetable(problem)
    if reference.optimum is None:
        everything = len(solution.placements) == sum(len(s.modules) for s in problem.sessions)
        assert not (solution.status == "optimal" and everything), f"seed {seed}: pins cannot be kept"
        assert solution.status == "infeasible", f"seed {seed}: the pins cannot be kept"
        return
    report = validate_timetable(problem, solution.placements)
    assert report.violations == [], f"seed {seed}: {report.violations}"
    assert report.penalties == solution.terms, f"seed {seed}: terms are not the validator's"
    assert sum(report.penalties.values()) == solution.objective
    assert solution.objective >= reference.optimum, f"seed {seed}: below the optimum?"
    if solution.status == "optimal":
        assert solution.objective == reference.optimum, (
            f"seed {seed}: 'optimal' {solution.objective} but a valid timetable costs {reference.optimum}"
        )


def test_most_small_campuses_are_solved_to_proven_optimality() -> None:
    """Not vacuous: at least 90% of the feasible instances come back "optimal", and every soft
    rule is at stake (non-zero at the optimum) in some of them."""
    statuses: Counter[str] = Counter()
    at_stake: Counter[str] = Counter()
    feasible = 0
    for seed in SEEDS:
        problem = random_timetable_problem(random.Random(seed))
        solution = solve_timetable(problem)
        statuses[solution.status] += 1
        if solution.status != "infeasible":
            feasible += 1
        if solution.status == "optimal":
            at_stake.update(rule for rule, v in solution.terms.items() if v)
    assert statuses["optimal"] >= 0.9 * feasible, statuses
    assert feasible >= 0.8 * len(SEEDS), statuses
    for rule in ("unplaced", "curriculum_order", "spread", "session_room", "change"):
        assert at_stake[rule] >= 0.05 * len(SEEDS), (rule, at_stake)


def test_a_pin_without_classroom_is_kept_when_the_smallest_classrooms_are_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by the reference (seed 573 of a longer run, pruned): the session's smallest classroom
    is closed at the pinned time, so the pruned model could not keep the pin and the campus was
    called infeasible, although the pin holds in a bigger classroom."""
    monkeypatch.setattr("scheduler.timetable.EXACT_CELLS", 0)
    day = date(2026, 6, 1)
    morning = Period(day, MORNING)
    session = Session(
        "s0",
        "tokyo",
        30,
        (DateBlock(day, day),),
        (Module("m0", "finance", order=0), Module("m1", "finance", order=1)),
    )
    problem = TimetableProblem(
        (session,),
        (
            Classroom("small", "tokyo", 30, frozenset({morning})),
            Classroom("big", "tokyo", 60),
        ),
        pins=(Pin("m0", morning),),
        rooms_per_session=1,
        time_limit=2.0,
        num_workers=1,
    )
    reference = timetable_reference(problem)
    assert reference.proven and reference.optimum is not None
    solution = solve_timetable(problem)
    assert solution.status != "infeasible"
    assert validate_timetable(problem, solution.placements).violations == []
    assert solution.objective >= reference.optimum
    if solution.status == "optimal":
        assert solution.objective == reference.optimum

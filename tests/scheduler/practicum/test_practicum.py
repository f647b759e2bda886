"""Practicum sites: each rule on tiny cases, the validator on broken plans, re-solves and explanations."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from scheduler.practicum import (
    PracticumGroup,
    PracticumLearner,
    PracticumPlacement,
    PracticumProblem,
    PracticumSession,
    PracticumSite,
    PracticumSolution,
    UnplacedLearner,
    solve_practicum,
)
from scheduler.solvekit import ProblemError
from scheduler.validate import validate_practicum

DAYS = (date(2025, 6, 10), date(2025, 6, 11))


def site(
    site_id: int,
    industry: str = "E",
    travel: int = 20,
    capacity: int = 8,
    days: tuple[date, ...] = DAYS,
    excluded: tuple[str, ...] = (),
) -> PracticumSite:
    name = f"会社{site_id}"
    return PracticumSite(site_id, 1, name, name, industry, travel, capacity, days, excluded)


def learners(count: int, session_id: int = 10, industry: str = "E", start: int = 1) -> list[PracticumLearner]:
    return [
        PracticumLearner(i, session_id, f"受講者の会社{i}", industry) for i in range(start, start + count)
    ]


def session(
    session_id: int = 10, low: int = 4, high: int = 8, days: tuple[date, ...] = DAYS
) -> PracticumSession:
    return PracticumSession(session_id, 1, days, low, high)


def solve(problem: PracticumProblem) -> PracticumSolution:
    solution = solve_practicum(problem, time_limit=5)
    assert validate_practicum(problem, solution) == []
    return solution


def sites_of(solution: PracticumSolution) -> dict[int, int]:
    return {p.learner_id: p.site_id for p in solution.placements}


def test_groups_respect_size_limits_and_balance() -> None:
    problem = PracticumProblem([site(1), site(2), site(3)], [session()], learners(10))
    solution = solve(problem)
    assert solution.status == "optimal" and solution.unplaced == []
    assert sorted(len(g.learner_ids) for g in solution.groups) == [5, 5]


def test_industry_match_and_short_travel_are_preferred() -> None:
    problem = PracticumProblem(
        [site(1, "I", travel=10), site(2, "E", travel=30), site(3, "E", travel=90)], [session()], learners(6)
    )
    solution = solve(problem)
    assert set(sites_of(solution).values()) == {2}
    assert solution.breakdown["industry_mismatch"].value == 0


def test_never_own_company_competitor_or_excluded() -> None:
    people = [
        PracticumLearner(1, 10, "会社1", "E"),
        PracticumLearner(2, 10, "X社", "E", competitors=("会社1",)),
        PracticumLearner(3, 10, "Y社", "E"),
        *learners(5, start=4),
    ]
    problem = PracticumProblem(
        [site(1, travel=5), site(2, travel=50, excluded=("Y社",))], [session()], people
    )
    solution = solve(problem)
    got = sites_of(solution)
    assert got[1] == 2 and got[2] == 2 and got[3] == 1


def test_site_capacity_per_day_shared_by_sessions() -> None:
    problem = PracticumProblem(
        [site(1, capacity=6), site(2, travel=60, capacity=6)],
        [session(10), session(11)],
        learners(5, 10) + learners(5, 11, start=20),
    )
    solution = solve(problem)
    assert {len(g.learner_ids) for g in solution.groups} == {5}
    assert len({g.site_id for g in solution.groups}) == 2


def test_site_unavailable_on_a_practicum_day_is_refused() -> None:
    problem = PracticumProblem(
        [site(1, travel=5, days=DAYS[:1]), site(2, travel=50)], [session()], learners(4)
    )
    solution = solve(problem)
    assert set(sites_of(solution).values()) == {2}


def test_too_few_learners_for_a_group_are_unplaced_and_explained() -> None:
    problem = PracticumProblem([site(1)], [session(low=4)], learners(3))
    solution = solve(problem)
    assert solution.placements == []
    assert {u.code for u in solution.unplaced} == {"too_few_learners"}
    assert "最小グループ人数4名" in solution.unplaced[0].reason


def test_capacity_shortage_explained_with_the_day() -> None:
    problem = PracticumProblem([site(1, capacity=8)], [session()], learners(10))
    solution = solve(problem)
    assert len(solution.placements) == 8 and len(solution.unplaced) == 2
    assert solution.breakdown["unplaced"].value == 2
    assert any("6月10日" in m and "2名分不足" in m for m in solution.messages)


def test_no_allowed_site_explained() -> None:
    people = [PracticumLearner(1, 10, "会社1", "E"), *learners(4, start=2)]
    problem = PracticumProblem([site(1)], [session()], people)
    solution = solve(problem)
    assert [u.code for u in solution.unplaced] == ["no_site"]
    assert "自社" in solution.unplaced[0].reason


def test_pins_are_kept() -> None:
    problem = PracticumProblem(
        [site(1, travel=5), site(2, travel=80)],
        [session()],
        learners(8),
        pins=[PracticumPlacement(10, 1, 2), PracticumPlacement(10, 2, 2)],
    )
    solution = solve(problem)
    assert sites_of(solution)[1] == 2 and sites_of(solution)[2] == 2


def test_impossible_pin_is_an_input_error() -> None:
    people = [PracticumLearner(1, 10, "会社1", "E"), *learners(4, start=2)]
    problem = PracticumProblem([site(1)], [session()], people, pins=[PracticumPlacement(10, 1, 1)])
    with pytest.raises(ProblemError, match="own company"):
        solve_practicum(problem)


def test_bad_group_limits_are_input_errors() -> None:
    with pytest.raises(ProblemError, match="min_group_size"):
        solve_practicum(PracticumProblem([site(1)], [session(low=5, high=3)], learners(4)))


def test_minimal_change_re_solve_moves_few() -> None:
    sites = [site(i, "E" if i % 2 else "I", travel=10 * i, capacity=10) for i in range(1, 7)]
    people = learners(12, industry="E") + learners(12, industry="I", start=13)
    first = solve(PracticumProblem(sites, [session()], people))
    assert first.unplaced == []
    before = sites_of(first)
    # Two cancel, one joins late, and the busiest site drops out.
    busiest = max(first.groups, key=lambda g: len(g.learner_ids))
    remaining = [s for s in sites if s.site_id != busiest.site_id]
    changed = [p for p in people if p.learner_id not in (3, 20)] + learners(1, start=40)
    again = solve(PracticumProblem(remaining, [session()], changed, previous=first.placements))
    after = sites_of(again)
    moved = [x for x in before if x in after and after[x] != before[x]]
    assert len(moved) <= len(busiest.learner_ids)
    assert again.moved == len([x for x in before if x not in (3, 20) and after.get(x) != before[x]])
    scratch = solve(PracticumProblem(remaining, [session()], changed))
    assert scratch.objective <= again.objective - again.breakdown["moved"].cost


def plan(placements: list[tuple[int, int]], unplaced: tuple[int, ...] = ()) -> PracticumSolution:
    solution = solve_practicum(PracticumProblem([], [], []))
    solution.placements = [PracticumPlacement(10, learner, s) for learner, s in placements]
    solution.groups = [PracticumGroup(10, 1, tuple(x for x, _ in placements))]
    solution.unplaced = [UnplacedLearner(10, x, "capacity", "理由") for x in unplaced]
    return solution


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"capacity": 3}, "site_capacity"),
        ({"days": DAYS[:1]}, "site_unavailable"),
        ({"excluded": ("受講者の会社1",)}, "excluded_company"),
    ],
)
def test_validator_detects_site_rules(change: dict[str, object], expected: str) -> None:
    problem = PracticumProblem([site(1, **change)], [session()], learners(4))  # type: ignore[arg-type]
    kinds = {v.kind for v in validate_practicum(problem, plan([(1, 1), (2, 1), (3, 1), (4, 1)]))}
    assert expected in kinds


def test_validator_detects_people_rules() -> None:
    people = [
        PracticumLearner(1, 10, "会社1", "E"),
        PracticumLearner(2, 10, "Q", "E", ("会社1",)),
        *learners(3, start=3),
    ]
    problem = PracticumProblem([site(1)], [session()], people, pins=[PracticumPlacement(10, 5, 2)])
    broken = plan([(1, 1), (2, 1), (3, 1), (4, 1), (4, 1)])
    kinds = {v.kind for v in validate_practicum(problem, broken)}
    assert kinds == {"own_company", "competitor", "duplicate", "pin", "unreported_unplaced"}


def test_validator_detects_group_size_and_passes_a_sound_plan() -> None:
    problem = PracticumProblem([site(1), site(2)], [session()], learners(5))
    sound = plan([(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)])
    assert validate_practicum(problem, sound) == []
    uneven = plan([(1, 1), (2, 1), (3, 1), (4, 1), (5, 2)])
    assert {v.kind for v in validate_practicum(problem, uneven)} == {"group_size"}
    assert validate_practicum(replace(problem, sessions=[session(low=1)]), uneven) == []

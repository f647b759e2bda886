"""Campus timetable rules: each accepted, penalised and refused on tiny cases, checked by the validator."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from scheduler.timetable import (
    AFTERNOON,
    MORNING,
    Classroom,
    DateBlock,
    Module,
    Period,
    Pin,
    Placement,
    Session,
    TimetableProblem,
    TimetableSolution,
    solve_timetable,
)
from scheduler.timetable_validate import validate_timetable

D1, D2, D3 = date(2026, 4, 6), date(2026, 4, 7), date(2026, 4, 8)


def session(
    sid: str = "s1", learners: int = 20, days: int = 2, modules: int = 3, campus: str = "tokyo"
) -> Session:
    mods = tuple(Module(f"{sid}-m{k}", subject=f"subject{k}", order=k) for k in range(modules))
    return Session(sid, campus, learners, (DateBlock(D1, date(2026, 4, 5 + days)),), mods)


def rooms(*caps: int, campus: str = "tokyo") -> tuple[Classroom, ...]:
    return tuple(Classroom(f"r{k}", campus, c) for k, c in enumerate(caps))


def solve(problem: TimetableProblem) -> tuple[TimetableSolution, dict[str, int]]:
    sol = solve_timetable(problem)
    rep = validate_timetable(problem, sol.placements)
    assert rep.ok, rep.violations
    assert sum(rep.penalties.values()) == sol.objective  # the solver's sums agree with the checker
    return sol, rep.penalties


def test_all_modules_placed_in_order_in_one_room() -> None:
    s = session(modules=3)
    s = replace(s, modules=(*s.modules[:2], Module("s1-full", "case", "exercise", half_days=2, order=5)))
    sol, pen = solve(TimetableProblem((s,), rooms(30, 25), time_limit=5))
    assert sol.status == "optimal" and not sol.unplaced
    assert sum(pen.values()) == 0
    full = next(p for p in sol.placements if p.module_id == "s1-full")
    assert full.start.half == MORNING and len(full.periods()) == 2


def test_no_room_big_enough_is_explained() -> None:
    sol, pen = solve(TimetableProblem((session(learners=40),), rooms(30), time_limit=5))
    assert len(sol.unplaced) == 3 and not sol.placements
    assert "定員40名以上の教室がありません" in sol.unplaced[0].reason
    assert pen["unplaced"] == 3 * 100_000
    assert sol.shares["unplaced"] == 1.0


def test_too_many_modules_for_the_blocks_is_explained() -> None:
    sol, _ = solve(TimetableProblem((session(days=1, modules=3),), rooms(30), time_limit=5))
    assert len(sol.placements) == 2 and len(sol.unplaced) == 1
    assert "コマ" in sol.unplaced[0].reason


def test_classroom_is_never_double_booked_between_sessions() -> None:
    a, b = session("a", days=1, modules=2), session("b", days=1, modules=2)
    sol, _ = solve(TimetableProblem((a, b), rooms(30), time_limit=5))
    assert len(sol.placements) == 2 and len(sol.unplaced) == 2
    sol, _ = solve(TimetableProblem((a, b), rooms(30, 30), time_limit=5))
    assert not sol.unplaced


def test_curriculum_order_penalised_when_a_pin_forces_it() -> None:
    pins = (Pin("s1-m2", Period(D1, MORNING)),)
    sol, pen = solve(TimetableProblem((session(modules=3),), rooms(30), pins=pins, time_limit=5))
    assert pen["curriculum_order"] == 200  # m2 before m1; m0 -> m1 stays in order
    assert next(p for p in sol.placements if p.module_id == "s1-m2").start == Period(D1, MORNING)


def test_spread_puts_a_module_on_its_intended_day_or_pays_per_day() -> None:
    s = session(days=3, modules=1)
    s = replace(s, modules=(replace(s.modules[0], target_day=2),))
    sol, pen = solve(TimetableProblem((s,), rooms(30), time_limit=5))
    assert pen["spread"] == 0 and sol.placements[0].start.day == D3
    closed = frozenset({Period(D3, MORNING), Period(D3, AFTERNOON)})
    room = (Classroom("r0", "tokyo", 30, unavailable=closed),)
    sol, pen = solve(TimetableProblem((s,), room, time_limit=5))
    assert pen["spread"] == 20 and sol.placements[0].start.day == D2


def test_session_stays_in_one_room_unless_it_cannot() -> None:
    s = session(days=1, modules=2)
    sol, pen = solve(TimetableProblem((s,), rooms(30, 30), time_limit=5))
    assert pen["session_room"] == 0
    r0 = Classroom("r0", "tokyo", 30, frozenset({Period(D1, AFTERNOON)}))
    r1 = Classroom("r1", "tokyo", 30, frozenset({Period(D1, MORNING)}))
    sol, pen = solve(TimetableProblem((s,), (r0, r1), time_limit=5))
    assert not sol.unplaced and pen["session_room"] == 50


def test_minimal_change_keeps_the_previous_plan() -> None:
    s = session(days=2, modules=2)
    previous = (
        Placement("s1-m0", "s1", Period(D1, AFTERNOON), "r1"),
        Placement("s1-m1", "s1", Period(D2, AFTERNOON), "r1"),
    )
    sol, pen = solve(TimetableProblem((s,), rooms(30, 30), previous=previous, time_limit=5))
    assert pen["change"] == 0
    assert set(sol.placements) == set(previous)


def test_contradictory_pins_are_infeasible_and_explained() -> None:
    pins = (Pin("s1-m0", Period(D1, MORNING)), Pin("s1-m1", Period(D1, MORNING)))
    sol = solve_timetable(TimetableProblem((session(),), rooms(30), pins=pins, time_limit=5))
    assert sol.status == "infeasible"
    assert "固定" in sol.unplaced[0].reason


def test_validator_finds_every_broken_rule() -> None:
    s = session(learners=25, days=1, modules=3)
    other = session("s2", days=1, modules=1)
    small = Classroom("small", "tokyo", 10)
    closed = Classroom("closed", "tokyo", 30, frozenset({Period(D1, AFTERNOON)}))
    osaka = Classroom("osaka", "osaka", 30)
    problem = TimetableProblem(
        (s, other), (*rooms(30), small, closed, osaka), pins=(Pin("s2-m0", Period(D1, AFTERNOON)),)
    )
    broken = [
        Placement("s1-m0", "s1", Period(D1, MORNING), "r0"),
        Placement("s1-m1", "s1", Period(D1, MORNING), "small"),  # session twice, too small
        Placement("s1-m2", "s1", Period(D2, MORNING), "osaka"),  # outside block, other campus
        Placement("s2-m0", "s2", Period(D1, MORNING), "r0"),  # room twice, pin broken
        Placement("s2-m0", "s2", Period(D1, AFTERNOON), "closed"),  # placed twice, room closed
        Placement("nope", "s1", Period(D1, MORNING), "r0"),
    ]
    rules = validate_timetable(problem, broken).rules()
    for rule in (
        "session_double_booked",
        "capacity",
        "outside_blocks",
        "wrong_campus",
        "classroom_double_booked",
        "pin_broken",
        "placed_twice",
        "classroom_closed",
        "unknown",
    ):
        assert rules[rule] >= 1, rule


def test_only_the_smallest_fitting_classrooms_are_considered() -> None:
    problem = TimetableProblem(
        (session(learners=20, days=1, modules=2),), rooms(100, 25, 30), rooms_per_session=1
    )
    sol, pen = solve(replace(problem, time_limit=5))
    assert {p.classroom for p in sol.placements} == {"r1"} and pen["session_room"] == 0


def test_greedy_fill_when_the_solver_finds_nothing_in_time() -> None:
    from scheduler.timetable import _greedy_campus

    s = session(days=2, modules=3)
    problem = TimetableProblem((s,), rooms(30, 25), pins=(Pin("s1-m1", Period(D2, MORNING)),))
    status, placements, unplaced, terms = _greedy_campus(problem, [s], list(problem.classrooms), {})
    rep = validate_timetable(problem, placements)
    assert status == "timed_out" and rep.ok and not unplaced
    assert rep.penalties == terms


def test_sessions_on_different_days_are_solved_apart() -> None:
    from scheduler.timetable import overlap_groups

    a, b = session("a", days=2), session("b", days=1, modules=2)  # b shares 6 April with a
    c = replace(session("c", modules=2), blocks=(DateBlock(D3, D3),))
    groups = overlap_groups([a, b, c])
    assert sorted(sorted(s.id for s in g) for g in groups) == [["a", "b"], ["c"]]
    sol, _ = solve(TimetableProblem((a, b, c), rooms(30, 30), time_limit=5))
    assert not sol.unplaced


def test_a_larger_classroom_is_used_when_the_smallest_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    # At year scale the model offers each session only its smallest classroom (r0), which cannot
    # hold both; the constructive plan over every classroom that fits places everything, and is kept.
    monkeypatch.setattr("scheduler.timetable.EXACT_CELLS", 0)
    a, b = session("a", days=2, modules=3), session("b", days=2, modules=3)
    sol, pen = solve(TimetableProblem((a, b), rooms(25, 30), rooms_per_session=1, time_limit=5))
    assert not sol.unplaced and pen["unplaced"] == 0 and sol.status == "feasible"
    assert {p.classroom for p in sol.placements} == {"r0", "r1"}

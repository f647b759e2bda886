"""The independent validator catches each kind of broken dormitory plan."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from scheduler.rooms import (
    DormRoom,
    Lodger,
    LodgingSession,
    RoomAssignment,
    RoomOutage,
    RoomsProblem,
    RoomsSolution,
    StayBlock,
    UnhousedLearner,
    solve_rooms,
)
from scheduler.validate import validate_rooms

ROOMS = [
    DormRoom(1, 1, "101", 1, "single", "women"),
    DormRoom(2, 1, "102", 1, "single", "men"),
    DormRoom(3, 1, "201", 2, "twin", "any"),
    DormRoom(4, 1, "202", 2, "single", "any", accessible=True),
    DormRoom(5, 2, "K01", 1, "single", "any"),
]
SESSIONS = [
    LodgingSession(10, 1, (StayBlock(date(2025, 6, 9), date(2025, 6, 12)),)),
    LodgingSession(11, 1, (StayBlock(date(2025, 6, 10), date(2025, 6, 13)),)),
]
LODGERS = [
    Lodger(1, 10, "female"),
    Lodger(2, 10, "male"),
    Lodger(3, 11, "male"),
    Lodger(4, 11, "female", needs_accessible=True),
    Lodger(5, 10, None),
]


def plan(*assignments: tuple[int, int, int], unhoused: tuple[tuple[int, int], ...] = ()) -> RoomsSolution:
    """A hand-made plan: (session, learner, room) for block 0, and learners reported unhoused."""
    solution = solve_rooms(RoomsProblem([], [], []))
    solution.assignments = [RoomAssignment(s, learner, 0, r) for s, learner, r in assignments]
    solution.unhoused = [UnhousedLearner(s, learner, 0, "men", "理由") for s, learner in unhoused]
    return solution


def kinds(problem: RoomsProblem, solution: RoomsSolution) -> set[str]:
    return {v.kind for v in validate_rooms(problem, solution)}


def test_a_sound_plan_passes() -> None:
    problem = RoomsProblem(ROOMS, SESSIONS, LODGERS)
    good = plan((10, 1, 1), (10, 2, 2), (11, 3, 3), (11, 4, 4), unhoused=((10, 5),))
    assert validate_rooms(problem, good) == []


@pytest.mark.parametrize(
    ("assignments", "expected"),
    [
        (((10, 1, 1), (10, 2, 3), (11, 3, 3), (11, 4, 4)), "twin_sharing"),
        (((10, 1, 1), (10, 2, 2), (11, 3, 2), (11, 4, 4)), "double_booking"),
        (((10, 1, 2), (10, 2, 3), (11, 3, 3), (11, 4, 4)), "zone"),
        (((10, 1, 1), (10, 2, 1), (11, 3, 3), (11, 4, 4)), "zone"),
        (((10, 1, 1), (10, 2, 2), (11, 3, 3), (11, 4, 3)), "accessibility"),
        (((10, 1, 1), (10, 2, 2), (11, 3, 3), (11, 4, 4), (10, 5, 3)), "zone"),
        (((10, 1, 1), (10, 2, 2), (11, 3, 3), (11, 4, 4), (10, 5, 5)), "campus"),
        (((10, 1, 1), (10, 2, 2), (11, 3, 3), (11, 4, 4), (10, 9, 2)), "unknown"),
        (((10, 1, 1), (10, 2, 2), (11, 3, 3)), "unreported_unhoused"),
    ],
)
def test_each_broken_rule_is_detected(assignments: tuple[tuple[int, int, int], ...], expected: str) -> None:
    problem = RoomsProblem(ROOMS, SESSIONS, LODGERS)
    solution = plan(*assignments, unhoused=((10, 5),) if len(assignments) < 5 else ())
    assert expected in kinds(problem, solution)


def test_twin_shared_by_two_genders_is_detected() -> None:
    lodgers = [*LODGERS, Lodger(6, 11, "female")]
    problem = RoomsProblem(ROOMS, SESSIONS, lodgers)
    solution = plan((10, 1, 1), (10, 2, 2), (11, 3, 3), (11, 6, 3), (11, 4, 4), unhoused=((10, 5),))
    assert kinds(problem, solution) == {"twin_sharing"}


def test_two_rooms_in_one_block_is_detected() -> None:
    problem = RoomsProblem(ROOMS, SESSIONS, LODGERS)
    solution = plan((10, 1, 1), (10, 2, 2), (10, 2, 3), (11, 3, 3), (11, 4, 4), unhoused=((10, 5),))
    assert "same_room_whole_block" in kinds(problem, solution)


def test_out_of_service_room_is_detected() -> None:
    problem = RoomsProblem(
        ROOMS, SESSIONS, LODGERS, outages=[RoomOutage(1, date(2025, 6, 11), date(2025, 6, 11))]
    )
    solution = plan((10, 1, 1), (10, 2, 2), (11, 3, 3), (11, 4, 4), unhoused=((10, 5),))
    violations = validate_rooms(problem, solution)
    assert [(v.kind, v.day) for v in violations] == [("out_of_service", date(2025, 6, 11))]
    assert "6月11日の夜" in violations[0].message


def test_broken_pin_is_detected() -> None:
    problem = RoomsProblem(ROOMS, SESSIONS, LODGERS, pins=[RoomAssignment(11, 3, 0, 2)])
    solution = plan((10, 1, 1), (11, 3, 3), (11, 4, 4), unhoused=((10, 5), (10, 2)))
    assert kinds(problem, solution) == {"pin"}
    assert kinds(replace(problem, pins=[]), solution) == set()

"""Simulated annealing of the CB-CTT solver: its incremental cost always equals the independent scorer's."""

from __future__ import annotations

import random

from scheduler.itc2007 import reader
from scheduler.itc2007.cost import score
from scheduler.itc2007.local_search import Timetable, anneal
from scheduler.itc2007.writer import Lecture
from tests.scheduler.itc2007.itc2007_data import BENCH, TINY, needs_bench


def lectures(
    inst: reader.Instance, tt: Timetable, lp: list[int] | None = None, lr: list[int] | None = None
) -> list[Lecture]:
    periods, room = tt.solution(lp, lr)
    ppd = inst.periods_per_day
    return [
        Lecture(inst.courses[c].name, inst.rooms[room[c, p]].name, p // ppd, p % ppd)
        for c, ps in enumerate(periods)
        for p in ps
    ]


def tiny_timetable() -> tuple[reader.Instance, Timetable]:
    """c1 in A at day 0 slot 0 and day 1 slot 0, c2 in B at day 0 slot 1, c3 in B at day 1 slot 1."""
    inst = reader.parse(TINY)
    # Periods: day * 2 + slot. Rooms: A (10 seats) = 0, B (5 seats) = 1.
    periods = [{0, 2}, {1}, {3}]
    room = {(0, 0): 0, (0, 2): 0, (1, 1): 1, (2, 3): 1}
    return inst, Timetable(inst, periods, room)


def test_initial_cost_is_the_scorers() -> None:
    inst, tt = tiny_timetable()
    # c2 (6 students) in B (5 seats): 1; c1 on day 1 alone in its curriculum: isolated, 2.
    assert tt.cost == score(inst, lectures(inst, tt)).soft == 3


def test_move_into_a_bigger_room_is_kept() -> None:
    inst, tt = tiny_timetable()
    # c2 (one lecture) into room A, free at day 0 slot 1: its one seat short goes away.
    delta = tt.try_move(2, 1, 0, accept=0)  # lecture 2 is c2's
    assert delta == -1
    assert tt.cost == score(inst, lectures(inst, tt)).soft == 2


def test_worse_move_is_refused_and_undone() -> None:
    inst, tt = tiny_timetable()
    before = lectures(inst, tt)
    # c1's day-1 lecture into room B: 3 seats short and a second room.
    assert tt.try_move(1, 2, 1, accept=0) is None
    assert sorted(lectures(inst, tt)) == sorted(before) and tt.cost == 3


def test_moves_that_break_a_hard_constraint_are_not_tried() -> None:
    _, tt = tiny_timetable()
    assert tt.try_move(2, 0, 1, accept=100) is None  # c2 beside c1 (same curriculum) at period 0
    assert tt.try_move(3, 0, 1, accept=100) is None  # c3 unavailable at day 0 slot 0 (and same teacher)
    assert tt.try_move(0, 2, 1, accept=100) is None  # c1 already holds period 2


def test_swap_keeps_the_cost_exact() -> None:
    inst, tt = tiny_timetable()
    # c2 (period 1, room B) onto c3's place (period 3, room B): c3 takes period 1 — a swap.
    delta = tt.try_move(2, 3, 1, accept=100)
    assert delta is not None
    s = score(inst, lectures(inst, tt))
    assert s.hard == 0 and tt.cost == s.soft


def test_kempe_chain_swaps_the_clashing_lectures() -> None:
    inst, tt = tiny_timetable()
    # c2 (period 1) to period 0 clashes with c1 there (curriculum q1), so c1 goes to period 1.
    delta = tt.try_kempe(2, 0, accept=100)
    assert delta is not None
    periods, _ = tt.solution()
    assert periods[0] == {1, 2} and periods[1] == {0}
    s = score(inst, lectures(inst, tt))
    assert s.hard == 0 and tt.cost == s.soft


def test_kempe_chain_respects_availability() -> None:
    _, tt = tiny_timetable()
    # c3 (period 3) to period 2 would send c1 (same teacher) to 3 - allowed; to period 0 is not (c3 unavailable).
    assert tt.try_kempe(3, 0, accept=100) is None


def test_course_room_move_swaps_rooms_within_each_period() -> None:
    inst = reader.parse(TINY)
    # c2 (6 students) in B (5 seats) and c3 in A, both at day 0 slot 1.
    tt = Timetable(inst, [{0, 2}, {1}, {1}], {(0, 0): 0, (0, 2): 0, (1, 1): 1, (2, 1): 0})
    delta = tt.try_course_room(1, 0, accept=0)  # all of c2 into A: c3 takes B
    assert delta == -1
    _, room = tt.solution()
    assert room[1, 1] == 0 and room[2, 1] == 1
    s = score(inst, lectures(inst, tt))
    assert s.hard == 0 and tt.cost == s.soft


def test_course_room_move_refused_is_undone() -> None:
    inst, tt = tiny_timetable()
    before = sorted(lectures(inst, tt))
    assert tt.try_course_room(0, 1, accept=0) is None  # c1 (8 students) into B (5 seats): worse
    assert sorted(lectures(inst, tt)) == before and tt.cost == 3


def test_anneal_reaches_the_tiny_optimum() -> None:
    inst, tt = tiny_timetable()
    best, lp, lr, tries = anneal(tt, random.Random(0), 0.2, 2.0, 0.05)
    assert tries > 0
    s = score(inst, lectures(inst, tt, lp, lr))
    assert s.hard == 0 and best == s.soft == 2


@needs_bench
def test_random_moves_on_comp01_keep_the_cost_exact() -> None:
    inst = reader.read(BENCH / "comp01.ctt")
    from scheduler.itc2007.solver import solve

    start = solve(inst, time_limit=2.0, seed=1, anneal_share=0, polish_every=0)
    ppd = inst.periods_per_day
    periods: list[set[int]] = [set() for _ in inst.courses]
    room: dict[tuple[int, int], int] = {}
    for x in start.lectures:
        c, p = inst.course_index[x.course], x.day * ppd + x.period
        periods[c].add(p)
        room[c, p] = inst.room_index[x.room]
    tt = Timetable(inst, periods, room)
    rng = random.Random(2)
    kempe = 0
    for _ in range(3000):
        tt.try_move(rng.randrange(len(tt.lc)), rng.randrange(tt.P), rng.randrange(tt.R), accept=3)
        kempe += tt.try_kempe(rng.randrange(len(tt.lc)), rng.randrange(tt.P), accept=3) is not None
        tt.try_course_room(rng.randrange(len(inst.courses)), rng.randrange(tt.R), accept=3)
    assert kempe > 0
    s = score(inst, lectures(inst, tt))
    assert s.hard == 0, s.details
    assert tt.cost == s.soft


def test_a_chain_in_another_process_numbers_lectures_as_the_caller_does() -> None:
    import time

    from scheduler.itc2007.local_search import anneal_from

    inst, tt = tiny_timetable()
    periods, room = tt.solution()
    found = anneal_from(inst, periods, room, 5, time.monotonic() + 0.2, 2.0, 0.05, 0.3, 0.05)
    s = score(inst, lectures(inst, tt, found.periods, found.rooms))  # read through the caller's numbering
    assert s.hard == 0 and s.soft == found.best == 2

"""An exact reference model of the campus timetable, written from docs/timetable.md only.

It shares nothing with the solver but the input dataclasses: one boolean per module x allowed start x
classroom (every classroom of the campus that is big enough, not only the few the solver considers),
each documented hard rule stated period by period, and the documented objective as the validator
counts it. Fit only for tiny instances, which is what it is for: its proven optimum is the yardstick
for the solver's "optimal".
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from ortools.sat.python import cp_model

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
    TimetableWeights,
)

DAY0 = date(2026, 6, 1)


@dataclass(frozen=True)
class Reference:
    optimum: int | None  # None: the pins cannot all be kept
    proven: bool
    placements: tuple[Placement, ...] = ()  # a timetable at that cost, for the validator to recount


def _days(session: Session) -> list[date]:
    return sorted({b.start + timedelta(n) for b in session.blocks for n in range((b.end - b.start).days + 1)})


def _starts(session: Session, module: Module) -> list[Period]:
    """A module starts inside its session's blocks; a full-day module in the morning."""
    halves = (MORNING,) if module.half_days == 2 else (MORNING, AFTERNOON)
    return [Period(d, h) for d in _days(session) for h in halves]


def _covers(start: Period, half_days: int) -> list[Period]:
    return [start] if half_days == 1 else [Period(start.day, MORNING), Period(start.day, AFTERNOON)]


def timetable_reference(problem: TimetableProblem, seconds: float = 20.0) -> Reference:
    """The optimum of the documented objective over every timetable the documented hard rules allow."""
    w = problem.weights
    m = cp_model.CpModel()
    x: dict[tuple[str, Period, str], cp_model.IntVar] = {}
    room_use: dict[tuple[str, Period], list[cp_model.IntVar]] = defaultdict(list)
    session_use: dict[tuple[str, Period], list[cp_model.IntVar]] = defaultdict(list)
    cost: list[cp_model.LinearExprT] = []
    placed: dict[str, cp_model.LinearExprT] = {}
    position: dict[str, cp_model.LinearExprT] = {}  # 2 x day index + half, when placed
    for s in problem.sessions:
        days = _days(s)
        used = {}
        for mod in s.modules:
            options = []
            for start in _starts(s, mod):
                for room in problem.classrooms:
                    if room.campus != s.campus or room.capacity < s.learners:
                        continue
                    periods = _covers(start, mod.half_days)
                    if any(p in room.unavailable for p in periods):
                        continue
                    v = m.new_bool_var("")
                    x[(mod.id, start, room.id)] = v
                    options.append((v, start, room.id))
                    for p in periods:
                        room_use[(room.id, p)].append(v)
                        session_use[(s.id, p)].append(v)
                    if room.id not in used:
                        used[room.id] = m.new_bool_var("")
                    m.add_implication(v, used[room.id])
                    if mod.target_day is not None:
                        cost.append(w.spread * abs(days.index(start.day) - mod.target_day) * v)
            m.add(sum(v for v, _, _ in options) <= 1)
            placed[mod.id] = sum(v for v, _, _ in options)
            position[mod.id] = sum((2 * days.index(st.day) + st.half) * v for v, st, _ in options)
            cost.append(w.unplaced * (1 - placed[mod.id]))
        # session_room: classrooms beyond the first
        extra = m.new_int_var(0, len(problem.classrooms), "")
        m.add(extra >= sum(used.values()) - 1)
        cost.append(w.session_room * extra)
        # curriculum_order: consecutive modules (by order, ties excepted) where the later starts
        # before the earlier one ends
        chain = sorted(s.modules, key=lambda mod: mod.order)
        for a, b in itertools.pairwise(chain):
            if a.order == b.order:
                continue
            late = m.new_bool_var("")
            both = m.new_bool_var("")
            m.add(both >= placed[a.id] + placed[b.id] - 1)
            # if both are placed and b starts before a ends, late is 1
            big = 2 * len(days) + 2
            m.add(position[b.id] >= position[a.id] + a.half_days - big * (1 - both) - big * late)
            cost.append(w.curriculum_order * late)
    for group in (room_use, session_use):
        for vs in group.values():
            m.add(sum(vs) <= 1)
    for pin in problem.pins:
        keep = [
            v
            for (mid, start, room), v in x.items()
            if mid == pin.module_id and start == pin.start and pin.classroom in (None, room)
        ]
        if not keep:
            return Reference(None, True)
        m.add(sum(keep) == 1)
    for prev in problem.previous:
        v = x.get((prev.module_id, prev.start, prev.classroom))
        cost.append(w.change * (1 - v) if v is not None else w.change)
    m.minimize(sum(cost))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = seconds
    code = solver.solve(m)
    if code == cp_model.INFEASIBLE:
        return Reference(None, True)
    session_of = {mod.id: (s.id, mod.half_days) for s in problem.sessions for mod in s.modules}
    plan = tuple(
        Placement(mid, session_of[mid][0], start, room, session_of[mid][1])
        for (mid, start, room), v in x.items()
        if solver.value(v)
    )
    return Reference(round(solver.objective_value), code == cp_model.OPTIMAL, plan)


def random_timetable_problem(rng: random.Random) -> TimetableProblem:
    """One or two campuses, 1-3 sessions of 1-3 days (sometimes a second block), 2-6 modules each
    (some full-day, some sharing a curriculum position, most with an intended day), 1-5 classrooms
    per campus (some too small, some closed at times), sometimes 1-2 pins (now and then
    contradictory), a previous plan (now and then stale: a start the session no longer has) and
    weights other than the defaults (even an `unplaced` cheaper than the soft rules)."""
    campuses = ["tokyo"] if rng.random() < 0.7 else ["tokyo", "osaka"]
    sessions = []
    for k in range(rng.randint(1, 3)):
        first = DAY0 + timedelta(rng.randint(0, 3))
        length = rng.choice((1, 1, 2, 2, 3))
        blocks = [DateBlock(first, first + timedelta(length - 1))]
        if rng.random() < 0.25:
            again = blocks[0].end + timedelta(rng.randint(2, 4))
            blocks.append(DateBlock(again, again))
        n_days = sum((b.end - b.start).days + 1 for b in blocks)
        modules = []
        for i in range(rng.randint(2, 6)):
            modules.append(
                Module(
                    f"s{k}m{i}",
                    rng.choice(("finance", "law")),
                    kind=rng.choice(("lecture", "exercise", "practicum")),
                    half_days=rng.choice((1, 1, 1, 2)),
                    order=i if rng.random() < 0.85 else max(0, i - 1),
                    target_day=rng.randrange(n_days) if rng.random() < 0.6 else None,
                )
            )
        if rng.random() < 0.2:  # the curriculum positions need not follow the tuple's order
            rng.shuffle(modules)
        sessions.append(
            Session(f"s{k}", rng.choice(campuses), rng.randint(10, 40), tuple(blocks), tuple(modules))
        )
    all_days = sorted({d for s in sessions for d in _days(s)})
    classrooms = []
    for campus in campuses:
        for r in range(rng.randint(1, 5)):
            closed = frozenset(
                Period(d, h) for d in all_days for h in (MORNING, AFTERNOON) if rng.random() < 0.12
            )
            classrooms.append(
                Classroom(f"{campus}-{r}", campus, rng.choice((15, 25, 30, 40, 60, 80)), closed)
            )
    pins = []
    pinned: set[str] = set()
    for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
        s = rng.choice(sessions)
        mod = rng.choice([mod for mod in s.modules if mod.id not in pinned] or [None])
        if mod is None:
            continue
        pinned.add(mod.id)
        start = rng.choice(_starts(s, mod))
        rooms = [c for c in classrooms if c.campus == s.campus]
        if rng.random() < 0.8:  # mostly a classroom that fits and is open then
            rooms = [
                c
                for c in rooms
                if c.capacity >= s.learners and not set(_covers(start, mod.half_days)) & c.unavailable
            ]
        room = rng.choice([c.id for c in rooms] + [None])
        pins.append(Pin(mod.id, start, room))
    previous = []
    if rng.random() < 0.35:
        for s in sessions:
            rooms = [c.id for c in classrooms if c.campus == s.campus]
            for mod in s.modules:
                if rng.random() < 0.5:
                    start = rng.choice(_starts(s, mod))
                    if rng.random() < 0.1:  # the session's dates or the module changed since
                        start = Period(start.day + timedelta(rng.choice((-7, 7, 0))), AFTERNOON)
                    previous.append(Placement(mod.id, s.id, start, rng.choice(rooms), mod.half_days))
    weights = TimetableWeights()
    if rng.random() < 0.3:
        weights = TimetableWeights(
            unplaced=rng.choice((100_000, 1_000, 150)),
            curriculum_order=rng.choice((0, 200, 1_000)),
            spread=rng.choice((0, 20, 300)),
            session_room=rng.choice((0, 50, 400)),
            change=rng.choice((0, 500, 3_000)),
        )
    return TimetableProblem(
        tuple(sessions),
        tuple(classrooms),
        tuple(pins),
        tuple(previous),
        weights=weights,
        time_limit=2.0,
        num_workers=1,
        seed=0,
    )

"""Independent checker of campus timetables and instructor assignments.

Recomputes every hard rule and every weighted penalty from the problem and the answer alone,
without the solvers' variables, so tests can assert through it.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from scheduler.instructor_types import InstructorProblem, price
from scheduler.timetable_types import Period, Placement, TimetableProblem, allowed_starts


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    penalties: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    def rules(self) -> Counter[str]:
        return Counter(v.rule for v in self.violations)


def validate_timetable(problem: TimetableProblem, placements: list[Placement]) -> Report:
    """Check a timetable: hard rules as violations, soft rules as weighted penalties."""
    rep = Report()
    bad = rep.violations.append
    sessions = {s.id: s for s in problem.sessions}
    modules = {mod.id: (s, mod) for s in problem.sessions for mod in s.modules}
    rooms = {r.id: r for r in problem.classrooms}
    seen: Counter[str] = Counter(p.module_id for p in placements)
    room_use: dict[tuple[str, Period], list[str]] = defaultdict(list)
    session_use: dict[tuple[str, Period], list[str]] = defaultdict(list)
    good: dict[str, Placement] = {}
    for p in placements:
        if p.module_id not in modules or p.classroom not in rooms:
            bad(Violation("unknown", f"unknown module or classroom in {p}"))
            continue
        s, mod = modules[p.module_id]
        if seen[p.module_id] > 1:
            bad(Violation("placed_twice", f"module {mod.id} placed {seen[p.module_id]} times"))
        if p.session_id != s.id or p.half_days != mod.half_days:
            bad(Violation("unknown", f"placement {p} does not match module {mod.id}"))
        room = rooms[p.classroom]
        if p.start not in allowed_starts(s, mod):
            bad(
                Violation(
                    "outside_blocks", f"module {mod.id} at {p.start.label()} is outside its session's blocks"
                )
            )
        if room.campus != s.campus:
            bad(
                Violation(
                    "wrong_campus", f"module {mod.id} in {room.id} on campus {room.campus}, not {s.campus}"
                )
            )
        if room.capacity < s.learners:
            bad(Violation("capacity", f"classroom {room.id} holds {room.capacity} < {s.learners} learners"))
        full = Placement(mod.id, s.id, p.start, p.classroom, mod.half_days).periods()
        for period in full:
            if period in room.unavailable:
                bad(Violation("classroom_closed", f"classroom {room.id} is closed at {period.label()}"))
            room_use[room.id, period].append(mod.id)
            session_use[s.id, period].append(mod.id)
        good[mod.id] = p
    for (rid, period), mids in room_use.items():
        if len(mids) > 1:
            bad(Violation("classroom_double_booked", f"classroom {rid} at {period}: {sorted(mids)}"))
    for (sid, period), mids in session_use.items():
        if len(mids) > 1:
            bad(Violation("session_double_booked", f"session {sid} at {period}: {sorted(mids)}"))
    for pin in problem.pins:
        got = [p for p in placements if p.module_id == pin.module_id]
        if not got or any(
            p.start != pin.start or (pin.classroom and p.classroom != pin.classroom) for p in got
        ):
            bad(Violation("pin_broken", f"module {pin.module_id} is not where it was pinned"))

    w = problem.weights
    pen: dict[str, int] = {"unplaced": 0, "curriculum_order": 0, "spread": 0, "session_room": 0, "change": 0}
    pen["unplaced"] = w.unplaced * sum(1 for mid in modules if mid not in good)
    for s in sessions.values():
        days = s.days()

        def index(p: Placement, days: list[date] = days) -> int:
            return 2 * days.index(p.start.day) + p.start.half if p.start.day in days else 0

        chain = sorted(s.modules, key=lambda mod: mod.order)
        for a, b in itertools.pairwise(chain):
            both = a.order != b.order and a.id in good and b.id in good
            if both and index(good[b.id]) < index(good[a.id]) + a.half_days:
                pen["curriculum_order"] += w.curriculum_order
        for mod in s.modules:
            if mod.target_day is not None and mod.id in good and good[mod.id].start.day in days:
                pen["spread"] += w.spread * abs(days.index(good[mod.id].start.day) - mod.target_day)
        used = {good[mod.id].classroom for mod in s.modules if mod.id in good}
        pen["session_room"] += w.session_room * max(0, len(used) - 1)
    for prev in problem.previous:
        now = good.get(prev.module_id)
        if now is None or (now.start, now.classroom) != (prev.start, prev.classroom):
            pen["change"] += w.change
    rep.penalties = pen
    return rep


def instructor_penalties(problem: InstructorProblem, assignment: dict[str, str]) -> dict[str, int]:
    """Weighted soft penalties of an instructor assignment, recomputed from scratch."""
    w = problem.weights
    by_id = {i.id: i for i in problem.instructors}
    pen = {"unassigned": 0, "cost": 0, "non_local": 0, "load_above_target": 0, "change": 0}
    load: Counter[tuple[str, tuple[int, int]]] = Counter()
    for t in problem.teachings:
        iid = assignment.get(t.module_id)
        if iid is None or iid not in by_id:
            pen["unassigned"] += w.unassigned
        else:
            i = by_id[iid]
            pen["cost"] += w.cost * price(problem, t, i)
            if problem.campus_prefecture.get(t.campus) != i.home_prefecture:
                pen["non_local"] += w.non_local
            load[iid, (t.day.year, t.day.month)] += t.half_days
        prev = problem.previous.get(t.module_id)
        if prev is not None and iid != prev:
            pen["change"] += w.change
    pen["load_above_target"] = w.load_above_target * sum(
        max(0, n - problem.target_load_per_month) for n in load.values()
    )
    return pen


def validate_instructors(problem: InstructorProblem, assignment: dict[str, str]) -> Report:
    """Check an instructor assignment: qualification, availability, overlaps, travel days, load."""
    rep = Report()
    bad = rep.violations.append
    by_id = {i.id: i for i in problem.instructors}
    teachings = {t.module_id: t for t in problem.teachings}
    at: dict[tuple[str, date, int], list[str]] = defaultdict(list)
    campuses_on: dict[tuple[str, date], set[str]] = defaultdict(set)
    load: Counter[tuple[str, tuple[int, int]]] = Counter()
    for mid, iid in assignment.items():
        t = teachings.get(mid)
        i = by_id.get(iid)
        if t is None or i is None:
            bad(Violation("unknown", f"unknown module {mid} or instructor {iid}"))
            continue
        if t.subject not in i.subjects:
            bad(Violation("not_qualified", f"{iid} does not teach {t.subject} ({mid})"))
        if t.day not in i.available:
            bad(Violation("not_available", f"{iid} is not available on {t.day} ({mid})"))
        for d, h in t.halves():
            at[iid, d, h].append(mid)
        campuses_on[iid, t.day].add(t.campus)
        load[iid, (t.day.year, t.day.month)] += t.half_days
    for (iid, d, h), mids in at.items():
        if len(mids) > 1:
            bad(Violation("instructor_double_booked", f"{iid} at {d} half {h}: {sorted(mids)}"))
    for (iid, d), here in campuses_on.items():
        if len(here) > 1:
            bad(Violation("no_travel_day", f"{iid} at campuses {sorted(here)} on {d}"))
        nxt = campuses_on.get((iid, d + timedelta(1)), set())
        if nxt and nxt != here:
            bad(Violation("no_travel_day", f"{iid} at {sorted(here)} on {d} and {sorted(nxt)} the next day"))
    for (iid, month), n in load.items():
        if n > by_id[iid].max_load_per_month:
            bad(Violation("over_max_load", f"{iid} teaches {n} half days in {month}"))
    for mid, iid in problem.pins.items():
        if assignment.get(mid) != iid:
            bad(Violation("pin_broken", f"module {mid} is not taught by pinned {iid}"))
    rep.penalties = instructor_penalties(problem, assignment)
    return rep

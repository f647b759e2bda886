"""The campus timetable stage as the service runs it, over ``scheduler.timetable``.

``solve_campus`` solves each group of sessions that share a day on its own (``split_by_day``) and
keeps, for each group, the better of the CP-SAT answer and a constructive timetable
(``constructive_timetable``), as the independent validator scores them. Pure: problem in, solution
out; the service only builds the problem from its database and stores the answer.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from datetime import date

from scheduler import timetable as tt
from scheduler.timetable_validate import validate_timetable

NO_SLOT = "空いている時限と教室の組み合わせが残っていません（教室・開講回の他のモジュールと重なります）"


def split_by_day(problem: tt.TimetableProblem) -> list[tt.TimetableProblem]:
    """Split a campus timetable into groups of sessions that share a day (transitively).

    Nothing is lost: sessions on different days never compete for a classroom or a period, and
    every rule of the timetable stays inside one session. Small groups solve to optimality in a
    fraction of the time the whole campus needs."""
    parent = list(range(len(problem.sessions)))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first_on: dict[tuple[str, date], int] = {}
    for k, sess in enumerate(problem.sessions):
        for d in sess.days():
            other = first_on.setdefault((sess.campus, d), k)
            parent[find(k)] = find(other)
    groups: dict[int, list[tt.Session]] = defaultdict(list)
    for k, sess in enumerate(problem.sessions):
        groups[find(k)].append(sess)
    out = []
    for members in groups.values():
        mids = {m.id for sess in members for m in sess.modules}
        out.append(
            dataclasses.replace(
                problem,
                sessions=tuple(members),
                pins=tuple(p for p in problem.pins if p.module_id in mids),
                previous=tuple(p for p in problem.previous if p.module_id in mids),
            )
        )
    return out


def constructive_timetable(problem: tt.TimetableProblem) -> list[tt.Placement]:
    """A constructive timetable (milliseconds): pins first, then each session's modules in
    curriculum order on its consecutive half days, kept in one classroom where one is free; a
    module of the previous plan stays where it was when that is still possible.

    Used as the answer of last resort and as a yardstick: for each group the better of this and
    the CP-SAT answer (by the independent validator's penalties) is kept."""
    rooms = sorted(problem.classrooms, key=lambda r: (r.capacity, r.id))
    room_busy: set[tuple[str, tt.Period]] = set()
    session_busy: set[tuple[str, tt.Period]] = set()
    out: list[tt.Placement] = []
    pins = {p.module_id: p for p in problem.pins}
    previous = {p.module_id: p for p in problem.previous}

    def free(sess: tt.Session, room: tt.Classroom, cover: list[tt.Period]) -> bool:
        return all(
            (room.id, p) not in room_busy and (sess.id, p) not in session_busy and p not in room.unavailable
            for p in cover
        )

    def take(sess: tt.Session, mod: tt.Module, start: tt.Period, room: str) -> None:
        placement = tt.Placement(mod.id, sess.id, start, room, mod.half_days)
        for p in placement.periods():
            room_busy.add((room, p))
            session_busy.add((sess.id, p))
        out.append(placement)

    sessions = sorted(
        problem.sessions, key=lambda s: (s.days()[0] if s.days() else date.min, -s.learners, s.id)
    )
    by_id = {r.id: r for r in rooms}
    for sess in sessions:  # pins are hard: place them before anything else
        for mod in sess.modules:
            pin = pins.get(mod.id)
            if pin is None:
                continue
            cover = tt.Placement(mod.id, sess.id, pin.start, "", mod.half_days).periods()
            choices = [by_id[pin.classroom]] if pin.classroom in by_id else rooms
            room = next((r for r in choices if r.capacity >= sess.learners and free(sess, r, cover)), None)
            if room is not None:
                take(sess, mod, pin.start, room.id)
    done = {p.module_id for p in out}
    for sess in sessions:
        fits = [r for r in rooms if r.capacity >= sess.learners and r.campus == sess.campus]
        periods = [tt.Period(d, h) for d in sess.days() for h in (tt.MORNING, tt.AFTERNOON)]
        todo = [m for m in sorted(sess.modules, key=lambda m: m.order) if m.id not in done]
        for mod in list(todo):  # minimal change: keep what the previous plan had, where still possible
            prev = previous.get(mod.id)
            if prev and prev.classroom in by_id and prev.start in tt.allowed_starts(sess, mod):
                room = by_id[prev.classroom]
                cover = tt.Placement(mod.id, sess.id, prev.start, "", mod.half_days).periods()
                if room.capacity >= sess.learners and free(sess, room, cover):
                    take(sess, mod, prev.start, room.id)
                    todo.remove(mod)
        home = next((r for r in fits if all(free(sess, r, [p]) for p in periods)), None)
        for p in periods:
            if not todo or (sess.id, p) in session_busy:
                continue
            # The next module in curriculum order; in an afternoon, the next half-day module.
            candidates = todo if p.half == tt.MORNING else [m for m in todo if m.half_days == 1]
            for mod in candidates[:2]:
                cover = tt.Placement(mod.id, sess.id, p, "", mod.half_days).periods()
                if mod.half_days == 2 and p.half != tt.MORNING:
                    continue
                choices = ([home] if home else []) + [r for r in fits if r is not home]
                room = next((r for r in choices if free(sess, r, cover)), None)
                if room is not None:
                    take(sess, mod, p, room.id)
                    todo.remove(mod)
                    break
    return out


def solve_campus(problem: tt.TimetableProblem) -> tt.TimetableSolution:
    """``scheduler.timetable.solve_timetable`` on each group of sessions sharing a day, the time
    limit shared in proportion to the groups' modules; for each group the constructive timetable
    replaces the CP-SAT answer when the independent validator scores it lower, or when CP-SAT ran out
    of time (never where a pin is broken: that is explained, not hidden). The parts are merged into
    one solution whose terms are the validator's."""
    started = time.monotonic()
    parts = sorted(split_by_day(problem), key=lambda p: -sum(len(s.modules) for s in p.sessions))
    left_modules = sum(len(s.modules) for p in parts for s in p.sessions) or 1
    placements: list[tt.Placement] = []
    unplaced: list[tt.Unplaced] = []
    terms: dict[str, int] = defaultdict(int)
    statuses = []
    for part in parts:
        size = sum(len(s.modules) for s in part.sessions)
        budget = max(0.2, (problem.time_limit - (time.monotonic() - started)) * size / left_modules)
        left_modules -= size
        sol = tt.solve_timetable(dataclasses.replace(part, time_limit=budget))
        greedy = constructive_timetable(part)
        g_report = validate_timetable(part, greedy)
        chosen, status = sol.placements, sol.status
        solver_penalty = sum(validate_timetable(part, sol.placements).penalties.values())
        use_greedy = (
            g_report.ok
            and not (sol.status == "infeasible" and part.pins)  # a broken pin is explained, not hidden
            and (sol.status == "timed_out" or sum(g_report.penalties.values()) < solver_penalty)
        )
        if use_greedy:
            chosen, status = greedy, "feasible"
        statuses.append(status)
        placements += chosen
        reasons = {u.id: u.reason for u in sol.unplaced}
        placed = {p.module_id for p in chosen}
        for sess in part.sessions:
            for mod in sess.modules:
                if mod.id not in placed:
                    unplaced.append(tt.Unplaced(mod.id, reasons.get(mod.id, NO_SLOT)))
        for name, value in validate_timetable(part, chosen).penalties.items():
            terms[name] += value
    order = ["infeasible", "timed_out", "feasible", "optimal"]
    status = min(statuses, key=order.index) if statuses else "optimal"
    objective = sum(terms.values())
    shares = {k: (v / objective if objective else 0.0) for k, v in terms.items()}
    return tt.TimetableSolution(
        status, placements, unplaced, objective, dict(terms), shares, time.monotonic() - started
    )

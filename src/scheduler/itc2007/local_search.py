"""Simulated annealing over single lectures, with incremental (delta) cost evaluation.

The move takes one lecture to another period and room; if a lecture of another course already
holds that room at that period, the two swap places. Only moves that keep the timetable free of
hard violations are tried. The state keeps, per course, its lectures per day and per room, and
per curriculum its lectures per period, so a move costs a few dozen operations instead of a full
re-scoring: a single move or swap is costed from these counters without changing anything (most
are refused, and then there is nothing to undo); Kempe chains and whole-course room moves are
applied, costed, and undone when refused. Pure Python; it runs between the CP-SAT neighbourhoods
of the solver and sees every soft cost exactly. ``anneal_from`` runs one chain in a process of its
own, so that the solver can run several at once.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from typing import NamedTuple

from scheduler.itc2007.reader import Instance

MWD_WEIGHT = 5
COMPACTNESS_WEIGHT = 2


class Timetable:
    """A complete, hard-feasible timetable with the counters its soft cost is built from."""

    def __init__(self, inst: Instance, periods: list[set[int]], room: dict[tuple[int, int], int]) -> None:
        C = len(inst.courses)
        self.P = P = inst.num_periods
        self.R = R = len(inst.rooms)
        self.ppd = inst.periods_per_day
        self.days = inst.days
        self.students = [c.students for c in inst.courses]
        self.mwd = [c.min_working_days for c in inst.courses]
        self.caps = [r.capacity for r in inst.rooms]
        unavailable = inst.unavailable
        self.avail = [[p not in unavailable[c] for p in range(P)] for c in range(C)]
        self.curricula_of = inst.curricula_of
        by_teacher: dict[str, list[int]] = {}
        for i, course in enumerate(inst.courses):
            by_teacher.setdefault(course.teacher, []).append(i)
        groups = [[inst.course_index[n] for n in q.courses] for q in inst.curricula]
        groups += list(by_teacher.values())
        # Conflict groups (curricula and teachers): at most one lecture of a group per period.
        self.groups_of: list[list[int]] = [[] for _ in range(C)]
        for k, g in enumerate(groups):
            for member in g:
                self.groups_of[member].append(k)
        self.conflicts = [set(cs) | {c} for c, cs in enumerate(inst.conflicts)]
        self.gcnt = [[0] * P for _ in groups]
        self.qcnt = [[0] * P for _ in inst.curricula]
        self.cday = [[0] * self.days for _ in range(C)]
        self.cwd = [0] * C
        self.cat = [[False] * P for _ in range(C)]  # course holds a lecture at period
        self.croom = [[0] * R for _ in range(C)]
        self.at = [[-1] * R for _ in range(P)]  # lecture in each period and room
        self.lc: list[int] = []
        self.lp: list[int] = []
        self.lr: list[int] = []
        self.cost = sum(MWD_WEIGHT * m for m in self.mwd) - sum(1 for c in range(C) if periods[c])
        self.lectures_of: list[list[int]] = [[] for _ in range(C)]
        for c in range(C):
            for p in sorted(periods[c]):
                lecture = len(self.lc)
                self.lectures_of[c].append(lecture)
                self.lc.append(c)
                self.lp.append(-1)
                self.lr.append(-1)
                self.cost += self._insert(lecture, p, room[c, p])

    # ------------------------------------------------------------ primitives

    def _lonely(self, qc: list[int], p: int) -> int:
        """Change of the isolated lectures of a curriculum when it gains a lecture at an empty ``p``.

        ``qc`` holds the curriculum's lectures per period; the change on losing that lecture is the
        negative, counted after it left.
        """
        s = p % self.ppd
        last = self.ppd - 1
        left = s > 0 and qc[p - 1]
        right = s < last and qc[p + 1]
        change = 0 if left or right else 1
        if left and not (s > 1 and qc[p - 2]):
            change -= 1  # the left neighbour was isolated and is no more
        if right and not (s < last - 1 and qc[p + 2]):
            change -= 1
        return change

    def _remove(self, lecture: int) -> int:
        """Take a lecture out of the timetable; return the change of the soft cost."""
        c, p, r = self.lc[lecture], self.lp[lecture], self.lr[lecture]
        delta = -max(0, self.students[c] - self.caps[r])
        self.at[p][r] = -1
        self.cat[c][p] = False
        for g in self.groups_of[c]:
            self.gcnt[g][p] -= 1
        cr = self.croom[c]
        cr[r] -= 1
        if cr[r] == 0:
            delta -= 1
        cd = self.cday[c]
        day = p // self.ppd
        cd[day] -= 1
        if cd[day] == 0:
            if self.cwd[c] <= self.mwd[c]:
                delta += MWD_WEIGHT
            self.cwd[c] -= 1
        qcnt = self.qcnt
        for q in self.curricula_of[c]:
            qc = qcnt[q]
            qc[p] -= 1
            delta -= COMPACTNESS_WEIGHT * self._lonely(qc, p)
        self.lp[lecture] = -1
        return delta

    def _insert(self, lecture: int, p: int, r: int) -> int:
        """Put a lecture at period ``p`` in room ``r``; return the change of the soft cost."""
        c = self.lc[lecture]
        delta = max(0, self.students[c] - self.caps[r])
        self.at[p][r] = lecture
        self.cat[c][p] = True
        for g in self.groups_of[c]:
            self.gcnt[g][p] += 1
        cr = self.croom[c]
        if cr[r] == 0:
            delta += 1
        cr[r] += 1
        cd = self.cday[c]
        day = p // self.ppd
        if cd[day] == 0:
            self.cwd[c] += 1
            if self.cwd[c] <= self.mwd[c]:
                delta -= MWD_WEIGHT
        cd[day] += 1
        qcnt = self.qcnt
        for q in self.curricula_of[c]:
            qc = qcnt[q]
            delta += COMPACTNESS_WEIGHT * self._lonely(qc, p)
            qc[p] += 1
        self.lp[lecture] = p
        self.lr[lecture] = r
        return delta

    def _fits(self, c: int, p: int, other: int) -> bool:
        """Whether course ``c`` may take period ``p`` once course ``other`` (or -1) has left it."""
        if not self.avail[c][p]:
            return False
        others = self.groups_of[other] if other >= 0 else ()
        for g in self.groups_of[c]:  # noqa: SIM110 - a plain loop is faster than all() on the hot path
            if self.gcnt[g][p] - (1 if g in others else 0) > 0:
                return False
        return True

    # ------------------------------------------------------------ moves

    def try_move(self, lecture: int, p2: int, r2: int, accept: float) -> int | None:
        """Move a lecture to (p2, r2), swapping with the lecture there; keep it if delta <= accept.

        Returns the delta when the move was kept, None when it was refused or not allowed.
        """
        c, p1, r1 = self.lc[lecture], self.lp[lecture], self.lr[lecture]
        other = self.at[p2][r2]
        if other == lecture:
            return None
        c2 = self.lc[other] if other >= 0 else -1
        if c2 == c:
            return None
        if p1 != p2:
            # Conflict groups count course c itself at p1, not at p2; c must not be at p2 already.
            if self.cat[c][p2] or not self._fits(c, p2, c2):
                return None
            if other >= 0 and (self.cat[c2][p1] or not self._fits(c2, p1, c)):
                return None
        if other >= 0:
            delta = self._shift_delta(c, p1, r1, p2, r2, self.curricula_of[c2])
            delta += self._shift_delta(c2, p2, r2, p1, r1, self.curricula_of[c])
        else:
            delta = self._shift_delta(c, p1, r1, p2, r2, ())
        if delta > accept:
            return None  # costed without touching the timetable: nothing to undo
        self._remove(lecture)
        if other >= 0:
            self._remove(other)
            self._insert(other, p1, r1)
        self._insert(lecture, p2, r2)
        self.cost += delta
        return delta

    def _shift_delta(self, c: int, p1: int, r1: int, p2: int, r2: int, skip: Sequence[int]) -> int:
        """Change of the soft cost if one lecture of course ``c`` went from (p1, r1) to (p2, r2),
        counted on the current state without changing it.

        Curricula in ``skip`` are left out: they hold the swap partner too, which goes the other
        way, so their busy periods stay the same. Period ``p2`` is free for every other curriculum
        of ``c`` (the caller checked the conflicts).
        """
        delta = 0
        if r1 != r2:
            students, caps = self.students[c], self.caps
            delta += max(0, students - caps[r2]) - max(0, students - caps[r1])
            used = self.croom[c]
            if used[r1] == 1:
                delta -= 1  # its last lecture in r1
            if used[r2] == 0:
                delta += 1  # a room it did not use
        if p1 != p2:
            d1, d2 = p1 // self.ppd, p2 // self.ppd
            if d1 != d2:
                days, cwd, mwd = self.cday[c], self.cwd[c], self.mwd[c]
                after = cwd - (days[d1] == 1) + (days[d2] == 0)
                delta += MWD_WEIGHT * (max(0, mwd - after) - max(0, mwd - cwd))
            lonely = self._lonely
            for q in self.curricula_of[c]:
                if q in skip:
                    continue
                qc = self.qcnt[q]
                qc[p1] -= 1  # looked at without p1 for a moment, then put back
                delta += COMPACTNESS_WEIGHT * (lonely(qc, p2) - lonely(qc, p1))
                qc[p1] += 1
        return delta

    def try_kempe(self, lecture: int, p2: int, accept: float) -> int | None:
        """Kempe-chain move: the lecture goes to ``p2``, and every lecture it would then clash with
        (same course, curriculum or teacher) goes the other way, transitively.

        Each moved lecture keeps its room if that room is free in its new period, else takes the
        free room that costs least. Keeps the move if its delta is at most ``accept``.
        """
        p1 = self.lp[lecture]
        if p1 == p2:
            return None
        at, lc, conflicts = self.at, self.lc, self.conflicts
        chain = {lecture}
        going = {p1: [lecture], p2: []}  # lectures leaving each period
        frontier = [(lecture, p2)]
        while frontier:
            moving, target = frontier.pop()
            clash = conflicts[lc[moving]]
            back = p1 if target == p2 else p2
            for x in at[target]:
                if x >= 0 and x not in chain and lc[x] in clash:
                    chain.add(x)
                    going[target].append(x)
                    frontier.append((x, back))
        one, two = going[p1], going[p2]
        if not two:
            return None  # a plain move: try_move covers it
        if any(not self.avail[lc[x]][p2] for x in one) or any(not self.avail[lc[x]][p1] for x in two):
            return None
        busy1 = sum(1 for x in at[p1] if x >= 0)
        busy2 = sum(1 for x in at[p2] if x >= 0)
        if busy2 - len(two) + len(one) > self.R or busy1 - len(one) + len(two) > self.R:
            return None
        old = [(x, self.lp[x], self.lr[x]) for x in one + two]
        delta = 0
        for x in one + two:
            delta += self._remove(x)
        for moved, target in ((one, p2), (two, p1)):
            for x in sorted(moved, key=lambda x: -self.students[lc[x]]):
                delta += self._insert(x, target, self._room_for(x, target, self.lr[x]))
        return self._settle(delta, accept, old)

    def try_course_room(self, c: int, r: int, accept: float) -> int | None:
        """Put every lecture of course ``c`` in room ``r``, swapping rooms with whatever is there.

        Lectures of other courses only change room within their period, so no hard constraint can
        break. Keeps the move if its delta is at most ``accept``.
        """
        at, lp, lr = self.at, self.lp, self.lr
        old: list[tuple[int, int, int]] = []
        delta = 0
        for lecture in self.lectures_of[c]:
            p, r1 = lp[lecture], lr[lecture]
            if r1 == r:
                continue
            other = at[p][r]
            old.append((lecture, p, r1))
            delta += self._remove(lecture)
            if other >= 0:
                old.append((other, p, r))
                delta += self._remove(other)
                delta += self._insert(other, p, r1)
            delta += self._insert(lecture, p, r)
        if not old:
            return None
        return self._settle(delta, accept, old)

    def _settle(self, delta: int, accept: float, old: list[tuple[int, int, int]]) -> int | None:
        """Keep a move whose delta is at most ``accept``; else put the ``old`` (lecture, period,
        room) places back. Returns the delta when kept."""
        if delta <= accept:
            self.cost += delta
            return delta
        for x, _p, _r in old:
            self._remove(x)
        for x, p, r in old:
            self._insert(x, p, r)
        return None

    def _room_for(self, lecture: int, p: int, previous: int) -> int:
        """The room a lecture takes at period ``p``: ``previous`` if free, else the cheapest free one."""
        row = self.at[p]
        if row[previous] < 0:
            return previous
        c = self.lc[lecture]
        students, caps, used = self.students[c], self.caps, self.croom[c]
        best, best_cost = -1, 1 << 30
        for r in range(self.R):
            if row[r] < 0:
                cost = max(0, students - caps[r]) + (0 if used[r] else 1)
                if cost < best_cost:
                    best, best_cost = r, cost
        return best

    # ------------------------------------------------------------ export

    def solution(
        self, lp: list[int] | None = None, lr: list[int] | None = None
    ) -> tuple[list[set[int]], dict[tuple[int, int], int]]:
        """Periods per course and room per (course, period), of this state or of saved ``lp``/``lr``."""
        lp = self.lp if lp is None else lp
        lr = self.lr if lr is None else lr
        periods: list[set[int]] = [set() for _ in self.cwd]
        room: dict[tuple[int, int], int] = {}
        for lecture, c in enumerate(self.lc):
            periods[c].add(lp[lecture])
            room[c, lp[lecture]] = lr[lecture]
        return periods, room


class Annealed(NamedTuple):
    best: int
    periods: list[int]  # of every lecture, at the best
    rooms: list[int]
    tries: int


def anneal(
    tt: Timetable,
    rng: random.Random,
    seconds: float,
    t_start: float,
    t_end: float,
    kempe_share: float = 0.0,
    room_share: float = 0.0,
) -> Annealed:
    """Simulated annealing for ``seconds``, cooling geometrically from ``t_start`` to ``t_end``.

    Returns the best cost seen, the periods and rooms of every lecture at that point, and how many
    moves were tried; ``tt`` is left at the last accepted state. A share ``kempe_share`` of the moves are Kempe chains and
    a share ``room_share`` put all lectures of a course in one room.
    """
    start = time.monotonic()
    best = tt.cost
    best_p, best_r = list(tt.lp), list(tt.lr)
    n, P, R, courses = len(tt.lc), tt.P, tt.R, len(tt.lectures_of)
    random_ = rng.random  # int(random_() * n) draws an index three times faster than randrange
    t = t_start
    ratio = t_end / t_start
    i = 0
    while True:
        i += 1
        if i & 1023 == 0:
            share = (time.monotonic() - start) / seconds
            if share >= 1:
                break
            t = t_start * ratio**share
        # Accept a worsening delta with probability exp(-delta / t): draw the threshold first.
        u = random_()
        accept = -t * math.log(u) if u > 0 else 0.0
        kind = random_()
        if kind < kempe_share:
            delta = tt.try_kempe(int(random_() * n), int(random_() * P), accept)
        elif kind < kempe_share + room_share:
            delta = tt.try_course_room(int(random_() * courses), int(random_() * R), accept)
        else:
            delta = tt.try_move(int(random_() * n), int(random_() * P), int(random_() * R), accept)
        if delta is not None and tt.cost < best:
            best = tt.cost
            best_p, best_r = list(tt.lp), list(tt.lr)
    return Annealed(best, best_p, best_r, i)


def anneal_from(
    inst: Instance,
    periods: list[set[int]],
    room: dict[tuple[int, int], int],
    seed: int,
    until: float,
    t_start: float,
    t_end: float,
    kempe_share: float,
    room_share: float,
) -> Annealed:
    """One annealing chain from a given timetable until the monotonic clock reads ``until``: the
    unit of work of a chain in another process (its lecture numbers match the caller's, which
    builds its ``Timetable`` from the same timetable)."""
    tt = Timetable(inst, periods, room)
    seconds = max(0.0, until - time.monotonic())
    return anneal(tt, random.Random(seed), seconds, t_start, t_end, kempe_share, room_share)

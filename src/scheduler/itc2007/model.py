"""The CB-CTT model the search works on: the instance's index view, the period model (CP-SAT), room
matching (Hungarian) and the cost of a timetable.

The steps themselves are described in :mod:`scheduler.itc2007.solver`.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

from scheduler.itc2007.reader import Instance
from scheduler.itc2007.writer import Lecture

MWD_WEIGHT = 5
COMPACTNESS_WEIGHT = 2


class _Data:
    """Index-based view of an instance, precomputed once."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.C = len(inst.courses)
        self.P = inst.num_periods
        self.R = len(inst.rooms)
        self.ppd = inst.periods_per_day
        self.days = inst.days
        self.lectures = [c.lectures for c in inst.courses]
        self.mwd = [c.min_working_days for c in inst.courses]
        self.students = [c.students for c in inst.courses]
        self.caps = [r.capacity for r in inst.rooms]
        unavailable = inst.unavailable
        self.avail = [[p for p in range(self.P) if p not in unavailable[c]] for c in range(self.C)]
        self.avail_set = [set(a) for a in self.avail]
        self.curricula = [[inst.course_index[n] for n in q.courses] for q in inst.curricula]
        self.curricula_of = inst.curricula_of
        by_teacher: dict[str, list[int]] = {}
        for i, c in enumerate(inst.courses):
            by_teacher.setdefault(c.teacher, []).append(i)
        # Conflict groups: at most one lecture of a group per period.
        self.groups = [g for g in self.curricula if len(g) > 1] + [
            g for g in by_teacher.values() if len(g) > 1
        ]
        self.groups_of: list[list[int]] = [[] for _ in range(self.C)]
        for k, g in enumerate(self.groups):
            for member in g:
                self.groups_of[member].append(k)
        # Capacity intervals: (weight, courses with more students, rooms that hold them).
        values = sorted(set(self.caps) | set(self.students))
        self.intervals: list[tuple[int, list[int], int]] = []
        for lo, hi in itertools.pairwise(values):
            big = [c for c in range(self.C) if self.students[c] >= hi]
            rooms = sum(1 for k in self.caps if k >= hi)
            if len(big) > rooms:
                self.intervals.append((hi - lo, big, rooms))
        self.intervals_of: list[list[int]] = [[] for _ in range(self.C)]
        for i, (_, big, _) in enumerate(self.intervals):
            for member in big:
                self.intervals_of[member].append(i)

    def day(self, p: int) -> int:
        return p // self.ppd

    def neighbours(self, p: int) -> list[int]:
        s = p % self.ppd
        return [q for q, ok in ((p - 1, s > 0), (p + 1, s < self.ppd - 1)) if ok]


# ---------------------------------------------------------------- periods (CP-SAT)


def _period_model(
    d: _Data,
    free: set[int],
    free_periods: list[int],
    cur: list[set[int]],
    room: dict[tuple[int, int], int] | None,
    hint: bool,
    keep_periods: bool = False,
) -> tuple[Any, dict[tuple[int, int], Any], dict[tuple[int, int, int], Any]]:
    """Build the model of the free courses × free periods, everything else fixed at ``cur``.

    With all courses and periods free and ``room`` None it is the full period model, with room
    capacity aggregated per threshold. Given the current ``room`` of every lecture, the free
    lectures also choose a room among those the fixed lectures leave, and the model sees room
    capacity and room stability exactly; with ``keep_periods`` only rooms change. The objective holds only the terms the free part can change.
    """
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    fp = set(free_periods)
    with_rooms = room is not None

    def fixed(c: int, p: int) -> bool:
        return p in cur[c] and not (c in free and p in fp)

    fixed_at: list[list[int]] = [[] for _ in range(d.P)]
    for c in range(d.C):
        for p in cur[c]:
            if fixed(c, p):
                fixed_at[p].append(c)
    x: dict[tuple[int, int], Any] = {}
    xr: dict[tuple[int, int, int], Any] = {}
    objective: list[Any] = []
    useful: dict[int, list[int]] = {}
    if room is not None:
        # Rooms worth trying: those big enough, the smallest-excess others, and the ones in use.
        for c in free:
            big = [r for r in range(d.R) if d.caps[r] >= d.students[c]]
            small = sorted((r for r in range(d.R) if d.caps[r] < d.students[c]), key=lambda r: -d.caps[r])
            mine = {room[c, p] for p in cur[c]}
            useful[c] = sorted(set(big) | set(small[: max(0, 3 - len(big))]) | mine)
    for c in sorted(free):
        for p in free_periods:
            if p not in d.avail_set[c] or (keep_periods and p not in cur[c]):
                continue
            if with_rooms:
                assert room is not None
                taken = {room[f, p] for f in fixed_at[p]}
                rooms = [r for r in useful[c] if r not in taken]
                if not rooms:
                    continue
                v = x[c, p] = m.new_bool_var(f"x[c={c},p={p}]")
                lits = []
                for r in rooms:
                    lit = xr[c, p, r] = m.new_bool_var(f"x[c={c},p={p},r={r}]")
                    lits.append(lit)
                    excess = d.students[c] - d.caps[r]
                    if excess > 0:
                        objective.append(excess * lit)
                    if hint:
                        m.add_hint(lit, room.get((c, p)) == r)
                m.add(sum(lits) == v)
            else:
                v = x[c, p] = m.new_bool_var(f"x[c={c},p={p}]")
            if hint:
                m.add_hint(v, p in cur[c])
    free_at: list[list[int]] = [[] for _ in range(d.P)]
    for c, p in x:
        free_at[p].append(c)

    # Every lecture scheduled (lectures outside the free periods stay where they are).
    for c in free:
        need = d.lectures[c] - len(cur[c] - fp)
        m.add(sum(x[c, p] for p in free_periods if (c, p) in x) == need)
    # Curriculum and teacher conflicts.
    for k in {k for c in free for k in d.groups_of[c]}:
        g = d.groups[k]
        for p in free_periods:
            lits = [x[c, p] for c in g if (c, p) in x]
            if lits:
                m.add(sum(lits) <= 1 - sum(1 for c in g if fixed(c, p)))
    if with_rooms:
        # One lecture per room and period; capacity was priced per lecture above.
        for p in free_periods:
            for r in range(d.R):
                lits = [xr[c, p, r] for c in free_at[p] if (c, p, r) in xr]
                if len(lits) > 1:
                    m.add_at_most_one(lits)
        # Room stability: each room a free course uses beyond those its fixed lectures use.
        for c in free:
            own = {room[c, p] for p in cur[c] - fp} if room is not None else set()
            by_room: dict[int, list[Any]] = {}
            for (c2, _p, r), lit in xr.items():
                if c2 == c and r not in own:
                    by_room.setdefault(r, []).append(lit)
            for r, lits in by_room.items():
                u = m.new_bool_var(f"uses_room[c={c},r={r}]")
                for lit in lits:
                    m.add_implication(lit, u)
                objective.append(u)
    else:
        # Number of rooms and, aggregated exactly per threshold, their capacity.
        for p in free_periods:
            if free_at[p]:
                m.add(sum(x[c, p] for c in free_at[p]) <= d.R - len(fixed_at[p]))
            fixed_big = Counter(i for c in fixed_at[p] for i in d.intervals_of[c])
            free_big: dict[int, list[Any]] = {}
            for c in free_at[p]:
                for i in d.intervals_of[c]:
                    free_big.setdefault(i, []).append(x[c, p])
            for i, lits in free_big.items():
                weight, big, rooms_n = d.intervals[i]
                e = m.new_int_var(0, len(big), f"capacity_excess[p={p},t={i}]")
                m.add(e >= sum(lits) + fixed_big[i] - rooms_n)
                objective.append(weight * e)
    # Minimum working days.
    for c in free:
        fixed_days = {d.day(p) for p in cur[c] - fp}
        short_at_most = d.mwd[c] - len(fixed_days)
        if short_at_most <= 0:
            continue
        ys = []
        for day in sorted({d.day(p) for p in free_periods} - fixed_days):
            lits = [x[c, p] for p in free_periods if d.day(p) == day and (c, p) in x]
            if lits:
                y = m.new_bool_var(f"works[c={c},day={day}]")
                m.add(y <= sum(lits))
                ys.append(y)
        short = m.new_int_var(0, short_at_most, f"days_short[c={c}]")
        m.add(short >= short_at_most - sum(ys))
        objective.append(MWD_WEIGHT * short)
    # Curriculum compactness: isolated lectures.
    touched = set(fp)
    for p in free_periods:
        touched.update(d.neighbours(p))
    for q in {q for c in free for q in d.curricula_of[c]}:
        members = d.curricula[q]
        z: dict[int, tuple[list[Any], int]] = {}

        def busy(
            p: int, members: list[int] = members, z: dict[int, tuple[list[Any], int]] = z
        ) -> tuple[list[Any], int]:
            if p not in z:
                z[p] = ([x[c, p] for c in members if (c, p) in x], sum(1 for c in members if fixed(c, p)))
            return z[p]

        for p in touched:
            lits, const = busy(p)
            around = [busy(n) for n in d.neighbours(p)]
            around_const = sum(k for _, k in around)
            if not lits and const == 0:
                continue  # nothing here to isolate
            if around_const > 0:
                continue  # a fixed neighbour: never isolated
            if not lits and not any(ls for ls, _ in around):
                continue  # constant
            iso = m.new_bool_var(f"isolated[q={q},p={p}]")
            m.add(iso >= sum(lits) + const - sum(lit for ls, _ in around for lit in ls))
            objective.append(COMPACTNESS_WEIGHT * iso)
    m.minimize(sum(objective))
    return m, x, xr


def _solve_periods(
    d: _Data,
    free: set[int],
    free_periods: list[int],
    cur: list[set[int]],
    room: dict[tuple[int, int], int] | None,
    seconds: float,
    seed: int,
    workers: int,
    hint: bool,
    keep_periods: bool = False,
) -> tuple[str, list[set[int]] | None, dict[tuple[int, int], int]]:
    """Solve a (sub-)model; return its status, the new periods and the rooms it chose (if any)."""
    from ortools.sat.python import cp_model

    m, x, xr = _period_model(d, free, free_periods, cur, room, hint, keep_periods)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, seconds)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(m)
    if status == cp_model.INFEASIBLE:
        return "infeasible", None, {}
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return "unknown", None, {}
    fp = set(free_periods)
    new = [set(s) for s in cur]
    for c in free:
        new[c] = (cur[c] - fp) | {p for p in free_periods if (c, p) in x and solver.value(x[c, p])}
    chosen: dict[tuple[int, int], int] = {}
    if room is not None:
        chosen = {(c, p): r for (c, p), r in room.items() if p in new[c] and not (c in free and p in fp)}
        chosen.update({(c, p): r for (c, p, r), lit in xr.items() if solver.value(lit)})
    return ("optimal" if status == cp_model.OPTIMAL else "feasible"), new, chosen


# ---------------------------------------------------------------- rooms (matching)


def hungarian(cost: list[list[int]]) -> list[int]:
    """Minimum-cost assignment of every row to a distinct column (rows <= columns).

    Returns the column of each row. O(rows² · columns); the matrices here are at most ~20 × 20.
    """
    n = len(cost)
    if n == 0:
        return []
    m = len(cost[0])
    inf = float("inf")
    u = [0.0] * (n + 1)
    v = [0.0] * (m + 1)
    p = [0] * (m + 1)
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = [inf] * (m + 1)
        used = [False] * (m + 1)
        while True:
            used[j0] = True
            i0 = p[j0]
            delta = inf
            j1 = 0
            row = cost[i0 - 1]
            for j in range(1, m + 1):
                if not used[j]:
                    reduced = row[j - 1] - u[i0] - v[j]
                    if reduced < minv[j]:
                        minv[j] = reduced
                        way[j] = j0
                    if minv[j] < delta:
                        delta = minv[j]
                        j1 = j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    out = [-1] * n
    for j in range(1, m + 1):
        if p[j]:
            out[p[j] - 1] = j - 1
    return out


def _match_rooms(
    d: _Data, cur: list[set[int]], previous: dict[tuple[int, int], int], sweeps: int = 8
) -> dict[tuple[int, int], int]:
    """Give every lecture a room: keep previous rooms where possible, then re-match period by period."""
    at: list[list[int]] = [[] for _ in range(d.P)]
    for c in range(d.C):
        for p in cur[c]:
            at[p].append(c)
    room: dict[tuple[int, int], int] = {}
    for p in range(d.P):
        taken: set[int] = set()
        rest = []
        for c in at[p]:
            r = previous.get((c, p))
            if r is not None and r not in taken:
                room[c, p] = r
                taken.add(r)
            else:
                rest.append(c)
        free_rooms = sorted((r for r in range(d.R) if r not in taken), key=lambda r: -d.caps[r])
        for c, r in zip(sorted(rest, key=lambda c: -d.students[c]), free_rooms, strict=False):
            room[c, p] = r
    use = [Counter[int]() for _ in range(d.C)]
    for (c, _p), r in room.items():
        use[c][r] += 1
    for _ in range(sweeps):
        changed = False
        for p in range(d.P):
            lectures = at[p]
            if not lectures:
                continue
            for c in lectures:
                use[c][room[c, p]] -= 1
            matrix = [
                [max(0, d.students[c] - d.caps[r]) + (0 if use[c][r] > 0 else 1) for r in range(d.R)]
                for c in lectures
            ]
            before = sum(matrix[i][room[c, p]] for i, c in enumerate(lectures))
            cols = hungarian(matrix)
            after = sum(matrix[i][cols[i]] for i in range(len(lectures)))
            if after < before:
                changed = True
                for i, c in enumerate(lectures):
                    room[c, p] = cols[i]
            for c in lectures:
                use[c][room[c, p]] += 1
        if not changed:
            break
    return room


# ---------------------------------------------------------------- evaluation


def _cost(d: _Data, cur: list[set[int]], room: dict[tuple[int, int], int]) -> int:
    """Soft cost of a complete, hard-feasible solution (the solver's own bookkeeping)."""
    total = 0
    for (c, _p), r in room.items():
        total += max(0, d.students[c] - d.caps[r])
    for c in range(d.C):
        total += MWD_WEIGHT * max(0, d.mwd[c] - len({d.day(p) for p in cur[c]}))
        total += len({room[c, p] for p in cur[c]}) - 1 if cur[c] else 0
    for members in d.curricula:
        busy = set()
        for c in members:
            busy |= cur[c]
        for p in busy:
            if not any(n in busy for n in d.neighbours(p)):
                total += COMPACTNESS_WEIGHT
    return total


def _lectures(d: _Data, cur: list[set[int]], room: dict[tuple[int, int], int]) -> list[Lecture]:
    inst = d.inst
    return sorted(
        Lecture(inst.courses[c].name, inst.rooms[room[c, p]].name, p // d.ppd, p % d.ppd)
        for c in range(d.C)
        for p in cur[c]
    )

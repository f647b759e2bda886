"""CB-CTT solver: periods first (CP-SAT), then rooms (greedy + per-period Hungarian), then
simulated annealing, then LNS.

1. Periods. One boolean per course × available period. Room capacity is aggregated exactly:
   for every capacity threshold t the capacity cost of a period is max(0, lectures with more than
   t students - rooms larger than t), which equals the cost of the best room matching.
2. Rooms. With periods fixed, every period is an assignment problem; the cost of a lecture in a
   room is its capacity excess plus 1 if its course uses that room in no other period. Re-matching
   one period at a time by the Hungarian method converges in a few sweeps.
3. Simulated annealing (``local_search``): single-lecture moves and swaps, and Kempe-chain swaps
   of two periods, each evaluated incrementally; about 130 thousand tries a second per chain in
   pure Python. It sees every soft cost, room stability included, and takes most of the time;
   with ``chains`` > 1 independent chains run at once in processes of their own and the best is
   kept.
4. Large-neighbourhood search. Free one or two days, a few periods, a few curricula, a few random
   courses, or only the rooms of many courses; fix the rest; build a small sub-model of only the
   free part, in which the free lectures also choose among the rooms the fixed ones leave (so the
   sub-model sees room capacity and room stability exactly); re-solve it from a hint for at most
   half a second; re-match rooms; keep the result if its full cost is not worse. Sizes adapt per
   kind (grow while solved to optimality quickly), and kinds that improve are picked more often.
   Short, cool annealings alternate with it.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from scheduler.itc2007.local_search import Timetable, anneal, anneal_from
from scheduler.itc2007.reader import Instance
from scheduler.itc2007.writer import Lecture

MWD_WEIGHT = 5
COMPACTNESS_WEIGHT = 2
# Neighbourhoods small enough to choose rooms inside the sub-model.
ROOM_AWARE = {"curricula", "courses", "rooms", "days", "periods"}
KINDS = ("days", "curricula", "courses", "periods", "rooms")


@dataclass
class SolveResult:
    """Outcome of :func:`solve`.

    ``status`` is ``"feasible"`` when a complete timetable was found (CP-SAT never proves a
    CB-CTT instance optimal here), ``"infeasible"`` when the period model was proved infeasible,
    and ``"timed_out"`` when the time ran out before any timetable was found.
    """

    status: str
    lectures: list[Lecture]
    cost: int | None  # the solver's own estimate; re-score with cost.score for the truth
    iterations: int = 0
    improvements: int = 0
    history: list[tuple[float, int]] = field(default_factory=list)  # (seconds, cost) on improvement
    kinds: dict[str, list[float]] = field(default_factory=dict)  # neighbourhood -> tries, improvements, gain


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


# ---------------------------------------------------------------- LNS


def _pick_kind(rng: random.Random, stats: dict[str, list[float]]) -> str:
    """Pick a neighbourhood kind; kinds that improved more often are picked more often."""
    kinds = list(KINDS)
    weights = [0.05 + (stats.get(k, [0, 0])[1] + 1) / (stats.get(k, [0, 0])[0] + 2) for k in kinds]
    return rng.choices(kinds, weights)[0]


def _neighbourhood(d: _Data, rng: random.Random, kind: str, size: float) -> tuple[set[int], list[int]]:
    """The free part of a kind: some days, curricula, random courses, periods, or only rooms."""
    everyone = set(range(d.C))
    if kind == "rooms":  # periods stay, the rooms of many courses change
        k = max(2, min(d.C, round(d.C * min(1.0, 0.15 * size))))
        return set(rng.sample(range(d.C), k)), list(range(d.P))
    if kind == "days" and d.days > 1:
        days = rng.sample(range(d.days), 2 if size > 1.5 and d.days > 2 else 1)
        return everyone, [p for p in range(d.P) if d.day(p) in days]
    if kind == "periods":
        k = max(2, min(d.P, round(3 * size)))
        return everyone, sorted(rng.sample(range(d.P), k))
    if kind == "curricula" and d.curricula:
        free: set[int] = set()
        q = rng.randrange(len(d.curricula))
        for _ in range(len(d.curricula)):
            if len(free) >= 8 * size:
                break
            free.update(d.curricula[q])
            linked = [q2 for c in d.curricula[q] for q2 in d.curricula_of[c] if q2 != q]
            q = rng.choice(linked) if linked and rng.random() < 0.7 else rng.randrange(len(d.curricula))
        return free, list(range(d.P))
    k = max(2, min(d.C, round(6 * size)))
    return set(rng.sample(range(d.C), k)), list(range(d.P))


def _anneal(
    inst: Instance,
    rng: random.Random,
    result: SolveResult,
    start: float,
    cur: list[set[int]],
    room: dict[tuple[int, int], int],
    best: int,
    seconds: float,
    temperature: tuple[float, float],
    shares: tuple[float, float],
    verbose: bool,
    chains: int = 1,
) -> tuple[int, list[set[int]], dict[tuple[int, int], int]]:
    """Simulated annealing from the best solution; return the best cost, periods and rooms after it.

    With ``chains`` > 1, as many independent chains (other seeds) run at once, each in a process of
    its own but this one, and the best of them is kept: the second core otherwise idles here.
    """
    if seconds <= 0:
        return best, cur, room
    until = time.monotonic() + seconds
    pool, futures = None, []
    if chains > 1:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        # spawn, not fork: this process has run CP-SAT's threads
        pool = ProcessPoolExecutor(chains - 1, mp_context=get_context("spawn"))
        for _ in range(1, chains):
            seed = rng.randrange(1 << 30)
            futures.append(pool.submit(anneal_from, inst, cur, room, seed, until, *temperature, *shares))
    try:
        tt = Timetable(inst, cur, room)
        outcomes = [anneal(tt, rng, seconds, *temperature, kempe_share=shares[0], room_share=shares[1])]
        outcomes += [f.result() for f in futures]
    finally:
        if pool is not None:  # also when this chain failed: no process outlives the solve
            pool.shutdown(cancel_futures=True)
    found, lp, lr, _ = min(outcomes, key=lambda a: a.best)
    tries = sum(a.tries for a in outcomes)
    stats = result.kinds.setdefault("anneal", [0, 0, 0.0])
    stats[0] += 1
    stats[1] += found < best
    stats[2] += best - found
    if found < best:
        result.improvements += 1
        result.history.append((time.monotonic() - start, found))
    if verbose and (found < best or chains > 1):
        rate = tries / seconds / 1000
        each = " ".join(str(a.best) for a in outcomes)
        print(
            f"{time.monotonic() - start:6.1f}s anneal    {seconds:.1f}s ({rate:.0f}k tries/s) "
            f"cost {best} -> {found} (chains: {each})"
        )
    if found > best:
        return best, cur, room
    new, new_room = tt.solution(lp, lr)
    return found, new, new_room


def solve(
    inst: Instance,
    time_limit: float = 60.0,
    seed: int = 0,
    num_workers: int = 2,
    step_seconds: float = 0.5,
    first_share: float = 0.1,
    anneal_share: float = 0.85,
    anneal_temperature: tuple[float, float] = (10.0, 0.1),
    kempe_share: float = 0.3,
    room_share: float = 0.05,
    polish_every: float = 6.0,
    polish_seconds: float = 2.0,
    polish_temperature: tuple[float, float] = (1.0, 0.05),
    chains: int = 1,
    verbose: bool = False,
) -> SolveResult:
    """Solve a CB-CTT instance within ``time_limit`` seconds.

    Args:
        time_limit: wall-clock budget for the whole solve.
        seed: random seed of CP-SAT and of the neighbourhood choice.
        num_workers: CP-SAT workers for every model.
        step_seconds: time limit of one LNS sub-model.
        first_share: share of the time given to the first, full period model (at least 10 s).
        anneal_share: share of the time given to simulated annealing after it (0: none).
        anneal_temperature: start and end temperature of that annealing.
        kempe_share: share of Kempe-chain moves in every annealing.
        room_share: share of moves putting all lectures of a course in one room.
        polish_every: seconds of CP-SAT neighbourhoods between two short annealings (0: none).
        polish_seconds: length of one short annealing.
        polish_temperature: its start and end temperature.
        chains: annealing chains run at once in the long annealing, each in a process of its own
            but one (with two cores, 2 uses both; the CP-SAT models use ``num_workers`` threads).
    """
    start = time.monotonic()
    deadline = start + time_limit
    d = _Data(inst)
    rng = random.Random(seed)
    empty: list[set[int]] = [set() for _ in range(d.C)]
    everyone, all_periods = set(range(d.C)), list(range(d.P))

    cur: list[set[int]] | None = None
    # At least 10 s (or all the time): the full model of the larger instances needs a few seconds.
    first_budget = max(min(10.0, time_limit), first_share * time_limit)
    while cur is None:
        left = deadline - time.monotonic()
        if left <= 0.05:
            return SolveResult("timed_out", [], None)
        status, cur, _ = _solve_periods(
            d, everyone, all_periods, empty, None, min(first_budget, left), seed, num_workers, hint=False
        )
        if status == "infeasible":
            return SolveResult("infeasible", [], None)
        first_budget *= 2
    room = _match_rooms(d, cur, {})
    best = _cost(d, cur, room)
    result = SolveResult("feasible", _lectures(d, cur, room), best)
    result.history.append((time.monotonic() - start, best))
    if verbose:
        print(f"first solution {best} at {time.monotonic() - start:.1f}s")
    shares = (kempe_share, room_share)
    if anneal_share > 0:
        seconds = min(anneal_share * time_limit, deadline - time.monotonic() - 0.2)
        best, cur, room = _anneal(
            inst, rng, result, start, cur, room, best, seconds, anneal_temperature, shares, verbose, chains
        )
    sizes = dict.fromkeys(KINDS, 1.0)
    next_polish = time.monotonic() + polish_every
    while (left := deadline - time.monotonic()) > 0.1:
        if polish_every > 0 and time.monotonic() >= next_polish and left > 0.5:
            seconds = min(polish_seconds, left - 0.2)
            best, cur, room = _anneal(
                inst, rng, result, start, cur, room, best, seconds, polish_temperature, shares, verbose
            )
            next_polish = time.monotonic() + polish_every
            continue
        result.iterations += 1
        step_start = time.monotonic()
        kind = _pick_kind(rng, result.kinds)
        free, free_periods = _neighbourhood(d, rng, kind, sizes[kind])
        status, new, chosen = _solve_periods(
            d,
            free,
            free_periods,
            cur,
            room if kind in ROOM_AWARE else None,
            min(step_seconds, left),
            rng.randrange(1 << 30),
            num_workers,
            hint=True,
            keep_periods=kind == "rooms",
        )
        # Grow the neighbourhood while sub-models are solved to optimality quickly; shrink it otherwise.
        took = time.monotonic() - step_start
        if status == "optimal" and took < 0.4 * step_seconds:
            sizes[kind] = min(4.0, sizes[kind] * 1.1)
        elif status != "optimal":
            sizes[kind] = max(0.3, sizes[kind] / 1.2)
        if new is None:
            continue
        new_room = _match_rooms(d, new, chosen or room)
        cost = _cost(d, new, new_room)
        stats = result.kinds.setdefault(kind, [0, 0, 0.0])
        stats[0] += 1
        stats[1] += cost < best
        stats[2] += best - cost
        if cost <= best:
            if cost < best:
                result.improvements += 1
                result.history.append((time.monotonic() - start, cost))
                if verbose:
                    print(
                        f"{time.monotonic() - start:6.1f}s {kind:9s} size={sizes[kind]:.2f} cost {best} -> {cost}"
                    )
            cur, room, best = new, new_room, cost
    result.lectures = _lectures(d, cur, room)
    result.cost = best
    return result

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

import random
import time
from dataclasses import dataclass, field

from scheduler.itc2007.local_search import Timetable, anneal, anneal_from
from scheduler.itc2007.model import (  # noqa: F401  (the model's names stay importable from here)
    COMPACTNESS_WEIGHT,
    MWD_WEIGHT,
    _cost,
    _Data,
    _lectures,
    _match_rooms,
    _period_model,
    _solve_periods,
    hungarian,
)
from scheduler.itc2007.reader import Instance
from scheduler.itc2007.writer import Lecture

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

"""Benchmark: a hard dormitory year, solved with 10, 30 and 60 s, every answer re-checked independently.

Run ``.venv/bin/python bench/rooms_hard_year.py [--seed N] [--limits 10 30 60]``.

The year (seeded): the synthetic year of ``scheduler_year.py`` with 12 % more courses (about 780
sessions), a third of the lodgers women and 3 % needing an accessible room, then every dormitory cut
down so that its busiest week is 95-99 % full, and 1 % of the rooms out of service for a week in
that busiest week. Women's floors, accessible rooms and the outages make it tight where a plain bed
count would not.

For each time limit it prints the solver's status, objective, bound and gap, and what the independent
validator (``scheduler.validate``) makes of the plan: its hard-rule violations and its own count of
the objective. Unhoused learners are split by the reason given: a shortage the bed count proves, or
the time limit (``timed_out``). Goals: proven optimal or within 1 % at 60 s; at 10 s, nobody left out
for want of time where a room exists.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scheduler_year import CAMPUSES, _dorm, generate_year

from scheduler.rooms import DormRoom, RoomOutage, RoomsProblem, solve_rooms
from scheduler.validate import rooms_cost, validate_rooms

PEAK_WEEK_FULL = 0.99  # the busiest 7 nights of each campus fill this share of its beds, or a little less


def _nightly(problem: RoomsProblem) -> dict[int, Counter[date]]:
    """Lodgers per night on each campus."""
    sessions = {s.session_id: s for s in problem.sessions}
    per_session: Counter[int] = Counter(x.session_id for x in problem.lodgers)
    nights: dict[int, Counter[date]] = defaultdict(Counter)
    for sid, count in per_session.items():
        session = sessions[sid]
        for block in session.blocks:
            for night in block.nights():
                nights[session.campus_id][night] += count
    return nights


def _peak_week(nightly: Counter[date]) -> tuple[date, int]:
    """The first night of the busiest 7-night window, and the lodger-nights in it."""
    best = (min(nightly), 0)
    for start in nightly:
        total = sum(nightly[start + timedelta(days=k)] for k in range(7))
        if total > best[1]:
            best = (start, total)
    return best


def generate_hard_year(seed: int) -> tuple[RoomsProblem, dict[int, float], int]:
    """The hard rooms problem, each campus's busiest-week occupancy, and the number of sessions."""
    campuses = tuple(replace(c, courses=math.ceil(c.courses * 1.12)) for c in CAMPUSES)
    year = generate_year(seed, campuses=campuses, female_weight=33, accessible_rate=0.03)
    problem = year.rooms
    nightly = _nightly(problem)
    rng = random.Random(seed)
    rooms: list[DormRoom] = []
    outages: list[RoomOutage] = []
    occupancy: dict[int, float] = {}
    for campus in campuses:
        if not campus.rooms:
            continue
        start, lodger_nights = _peak_week(nightly[campus.campus_id])
        need = lodger_nights / 7 / PEAK_WEEK_FULL
        size = 20
        while True:  # the smallest dormitory of this layout with the beds the busiest week needs
            layout = _dorm(replace(campus, rooms=size), random.Random(seed), len(rooms) + 1)
            beds = sum(r.beds for r in layout)
            if beds >= need:
                break
            size += 1
        rooms.extend(layout)
        occupancy[campus.campus_id] = lodger_nights / 7 / beds
        for room in rng.sample(layout, max(1, len(layout) // 100)):
            outages.append(RoomOutage(room.room_id, start, start + timedelta(days=6)))
    return replace(problem, rooms=rooms, outages=outages), occupancy, len(year.sessions)


def _row(name: str, *cells: object) -> str:
    return f"| {name:<34} | " + " | ".join(f"{c!s:>10}" for c in cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limits", type=float, nargs="+", default=[10.0, 30.0, 60.0])
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    problem, occupancy, sessions = generate_hard_year(args.seed)
    print(f"hard year generated in {time.perf_counter() - t0:.1f} s (seed {args.seed})")
    print(
        f"  {sessions} sessions, {len(problem.lodgers)} lodgers "
        f"({sum(x.gender == 'female' for x in problem.lodgers)} women, "
        f"{sum(x.needs_accessible for x in problem.lodgers)} needing an accessible room), "
        f"{len(problem.rooms)} rooms ({sum(r.kind == 'twin' for r in problem.rooms)} twins, "
        f"{sum(r.accessible for r in problem.rooms)} accessible), {len(problem.outages)} week-long outages"
    )
    print(
        "  busiest week per campus: "
        + ", ".join(f"{cid}: {share:.0%}" for cid, share in sorted(occupancy.items()))
    )

    results = []
    for limit in args.limits:
        solution = solve_rooms(problem, time_limit=limit, num_workers=args.workers)
        violations = validate_rooms(problem, solution)
        recount = rooms_cost(problem, solution.assignments)
        reasons = Counter(u.code for u in solution.unhoused)
        results.append((limit, solution, violations, recount, reasons))

    print()
    print(_row("time limit (s)", *(f"{r[0]:.0f}" for r in results)))
    print("|" + "-" * 36 + ("|" + "-" * 12) * len(results) + "|")
    print(_row("status", *(r[1].status for r in results)))
    print(_row("wall seconds", *(f"{r[1].wall_seconds:.1f}" for r in results)))
    print(_row("objective", *(r[1].objective for r in results)))
    print(_row("objective recounted by the validator", *(r[3] for r in results)))
    print(_row("best bound", *(f"{r[1].best_bound:.0f}" for r in results)))
    print(_row("gap", *(f"{r[1].gap:.2%}" for r in results)))
    print(_row("learner blocks housed", *(len(r[1].assignments) for r in results)))
    print(_row("unhoused: shortage (bed count)", *(r[4]["shortage"] for r in results)))
    print(_row("unhoused: no suitable room", *(r[4]["no_suitable_room"] for r in results)))
    print(_row("unhoused: no room for whole block", *(r[4]["no_room_whole_block"] for r in results)))
    print(_row("unhoused: timed_out", *(r[4]["timed_out"] for r in results)))
    print(_row("hard-rule violations", *(len(r[2]) for r in results)))
    best = min(r[1].objective for r in results)
    bounds_hold = all(r[1].best_bound <= best + 1e-6 for r in results)
    print()
    print(f"every bound at most the cheapest plan found ({best}): {'yes' if bounds_hold else 'NO'}")
    last = results[-1][1]
    print(
        f"goal at {results[-1][0]:.0f} s, optimal or within 1 %: "
        f"{'met' if last.status == 'optimal' or last.gap <= 0.01 else 'not met'} ({last.status}, gap {last.gap:.2%})"
    )
    print(
        f"goal at {results[0][0]:.0f} s, nobody unhoused for want of time: "
        f"{'met' if not results[0][4]['timed_out'] else 'not met'} ({results[0][4]['timed_out']} timed_out)"
    )
    for message in last.messages[:6]:
        print(f"  {message}")
    print(f"total {time.perf_counter() - t0:.1f} s")
    sound = all(not r[2] and r[3] == r[1].objective for r in results) and bounds_hold
    return 0 if sound else 1


if __name__ == "__main__":
    raise SystemExit(main())

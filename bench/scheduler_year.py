"""Benchmark: a synthetic fiscal year of the SME University, all dormitory rooms and all practicum sites.

Run ``.venv/bin/python bench/scheduler_year.py [--seed N] [--workers N]``. The generator is importable
(``generate_year(seed)``) so that other steps can load the same year into a database.

Shape of the year (seeded): 9 campuses, about 700 sessions (Tokyo about 110 courses, the others 40-50,
some courses run twice or more), 2-20 day sessions, some long courses in several blocks, about 18,000
enrollments of which about 85 % lodge, about 1,300 dormitory rooms on the 8 campuses with lodging
(Kyushu has none), a few twins, an accessible room per floor, women's floors; about 95 practicum
sessions with about 290 host sites.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from scheduler.practicum import (
    PracticumLearner,
    PracticumProblem,
    PracticumSession,
    PracticumSite,
    solve_practicum,
)
from scheduler.rooms import (
    DormRoom,
    Lodger,
    LodgingSession,
    RoomOutage,
    RoomsProblem,
    StayBlock,
    solve_rooms,
)
from scheduler.validate import validate_practicum, validate_rooms

FISCAL_START = date(2025, 4, 1)
INDUSTRIES = "EEEEEIIIDDGHKLMNPR"  # JSIC sections, weighted like SME University participants


@dataclass(frozen=True)
class Campus:
    """A campus of the university; ``rooms`` is the dormitory size (0: no lodging)."""

    campus_id: int
    name: str
    courses: int
    rooms: int


CAMPUSES = (
    Campus(1, "旭川校", 45, 150),
    Campus(2, "仙台校", 48, 170),
    Campus(3, "東京校", 110, 230),
    Campus(4, "三条校", 42, 100),
    Campus(5, "瀬戸校", 46, 160),
    Campus(6, "関西校", 50, 190),
    Campus(7, "広島校", 44, 150),
    Campus(8, "人吉校", 40, 150),
    Campus(9, "九州校", 45, 0),
)


@dataclass(frozen=True)
class SessionInfo:
    """What the generator knows about a session beyond the solver's needs (for loading into a database)."""

    session_id: int
    campus_id: int
    course_no: int
    title: str
    audience: str
    first_day: date
    last_day: date
    enrolled: tuple[int, ...]


@dataclass
class SyntheticYear:
    """One generated fiscal year: the rooms and practicum problems plus the session list behind them."""

    seed: int
    campuses: tuple[Campus, ...]
    sessions: list[SessionInfo]
    rooms: RoomsProblem
    practicum: PracticumProblem
    enrollments: int = 0
    companies: list[str] = field(default_factory=list)


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _dorm(campus: Campus, rng: random.Random, first_id: int) -> list[DormRoom]:
    """Floors of 20-30 rooms; floor 2 is for women, the top floor is shared, the others for men; one
    accessible room per floor; a few twins."""
    rooms: list[DormRoom] = []
    floor, left = 2, campus.rooms
    floors = max(2, round(campus.rooms / 25))
    per_floor = -(-campus.rooms // floors)
    while left > 0:
        count = min(per_floor, left)
        top = left - count <= 0
        zone = "women" if floor == 2 else ("any" if top else "men")
        for i in range(count):
            kind = "twin" if i >= count - max(1, count // 12) and zone != "any" else "single"
            accessible = i == 0
            label = f"{floor}{i + 1:02d}"
            rooms.append(
                DormRoom(first_id + len(rooms), campus.campus_id, label, floor, kind, zone, accessible)
            )
        left -= count
        floor += 1
    rng.shuffle(rooms)
    return sorted(rooms, key=lambda r: r.room_id)


def _blocks(rng: random.Random, long_course: bool, length: int) -> list[StayBlock]:
    """One block of ``length`` days, or 2-4 blocks of 3-5 days weeks apart for a long course."""
    start = _weekday_on_or_after(FISCAL_START + timedelta(days=rng.randrange(0, 340)))
    if not long_course:
        return [StayBlock(start, start + timedelta(days=length - 1))]
    blocks = []
    day = start
    for _ in range(rng.randint(2, 4)):
        blocks.append(StayBlock(day, day + timedelta(days=rng.randint(2, 4))))
        day = _weekday_on_or_after(day + timedelta(days=rng.randint(21, 50)))
    return blocks


def generate_year(
    seed: int = 2025,
    *,
    campuses: tuple[Campus, ...] = CAMPUSES,
    female_weight: int = 25,
    accessible_rate: float = 0.01,
) -> SyntheticYear:
    """A full synthetic fiscal year, deterministic for a seed (and the shape arguments)."""
    rng = random.Random(seed)
    companies = [
        f"{rng.choice('北東西南中新大富日栄')}{rng.choice('和光進精興明昭陽')}{rng.choice(['工業', '商事', '製作所', '建設', '食品', '電機', '物産'])}{n}"
        for n in range(4000)
    ]
    industry_of = {c: rng.choice(INDUSTRIES) for c in companies}
    infos: list[SessionInfo] = []
    solver_sessions: list[LodgingSession] = []
    lodgers: list[Lodger] = []
    rooms: list[DormRoom] = []
    sid = 0
    learner_id = 0
    learners_of: dict[int, list[tuple[int, str]]] = {}
    for campus in campuses:
        campus_rooms = _dorm(campus, rng, len(rooms) + 1) if campus.rooms else []
        rooms.extend(campus_rooms)
        beds = sum(r.beds for r in campus_rooms)
        women_beds = sum(r.beds for r in campus_rooms if r.zone in ("women", "any"))
        men_beds = sum(r.beds for r in campus_rooms if r.zone in ("men", "any"))
        booked: dict[date, list[int]] = {}  # night -> [women, men, all]
        for course in range(campus.courses):
            runs = rng.choices([1, 2, 3], weights=[60, 30, 10])[0]
            long_course = rng.random() < 0.05
            audience = "sme" if rng.random() < 0.6 else "support"
            length = rng.choice([2, 3, 3, 4, 5, 5, 5, 8, 10, 12, 15, 20])
            for _ in range(runs):
                sid += 1
                size = rng.randint(14, 38)
                enrolled = tuple(range(learner_id + 1, learner_id + size + 1))
                learner_id += size
                people = []
                for person in enrolled:
                    lodges = bool(campus.rooms) and rng.random() < 0.85
                    gender = rng.choices(
                        ["male", "female", None], weights=[99 - female_weight, female_weight, 1]
                    )[0]
                    people.append(
                        (person, rng.choice(companies), lodges, gender, rng.random() < accessible_rate)
                    )
                need = [
                    sum(1 for p in people if p[2] and p[3] == "female"),
                    sum(1 for p in people if p[2] and p[3] != "female"),
                    sum(1 for p in people if p[2]),
                ]
                # Like the real timetable, look for dates the dormitory can take (a few tries, then the least bad).
                best: tuple[float, list[StayBlock]] | None = None
                for _ in range(25):
                    blocks = _blocks(rng, long_course, length)
                    load = max(
                        (
                            max(
                                (booked.get(n, [0, 0, 0])[0] + need[0]) / max(1, women_beds * 0.7),
                                (booked.get(n, [0, 0, 0])[1] + need[1]) / max(1, men_beds * 0.8),
                                (booked.get(n, [0, 0, 0])[2] + need[2]) / max(1, beds * 0.8),
                            )
                            for b in blocks
                            for n in b.nights()
                        ),
                        default=0.0,
                    )
                    if best is None or load < best[0]:
                        best = (load, blocks)
                    if load <= 1.0 or not campus.rooms:
                        break
                assert best is not None
                blocks = best[1]
                for b in blocks:
                    for n in b.nights():
                        counts = booked.setdefault(n, [0, 0, 0])
                        for i in range(3):
                            counts[i] += need[i]
                title = f"{campus.name}コース{course + 1}"
                infos.append(
                    SessionInfo(
                        sid,
                        campus.campus_id,
                        course + 1,
                        title,
                        audience,
                        blocks[0].first_day,
                        blocks[-1].last_day,
                        enrolled,
                    )
                )
                solver_sessions.append(LodgingSession(sid, campus.campus_id, tuple(blocks), audience, title))
                learners_of[sid] = [(p[0], p[1]) for p in people]
                lodgers.extend(Lodger(p[0], sid, p[3], p[4]) for p in people if p[2])
    rooms_problem = RoomsProblem(rooms, solver_sessions, lodgers)
    practicum = _practicum(rng, infos, learners_of, companies, industry_of)
    return SyntheticYear(seed, campuses, infos, rooms_problem, practicum, learner_id, companies)


def _practicum(
    rng: random.Random,
    infos: list[SessionInfo],
    learners_of: dict[int, list[tuple[int, str]]],
    companies: list[str],
    industry_of: dict[str, str],
) -> PracticumProblem:
    """About 95 sessions of 3+ days with 1-2 practicum days, and about 32 host sites near each campus."""
    sites: list[PracticumSite] = []
    for campus in CAMPUSES:
        for _ in range(rng.randint(28, 36)):
            company = rng.choice(companies)
            days = []
            day = FISCAL_START
            while day < FISCAL_START + timedelta(days=365):
                if day.weekday() < 5 and rng.random() < 0.75:
                    days.append(day)
                day += timedelta(days=1)
            excluded = tuple(rng.sample(companies, 2)) if rng.random() < 0.2 else ()
            sites.append(
                PracticumSite(
                    len(sites) + 1,
                    campus.campus_id,
                    f"{company}（{campus.name}近郊）",
                    company,
                    industry_of[company],
                    rng.randint(10, 90),
                    rng.choice([6, 8, 8, 10, 12, 16]),
                    tuple(days),
                    excluded,
                )
            )
    sessions: list[PracticumSession] = []
    learners: list[PracticumLearner] = []
    eligible = [s for s in infos if (s.last_day - s.first_day).days >= 3]
    by_campus_sites: dict[int, list[PracticumSite]] = {}
    for site in sites:
        by_campus_sites.setdefault(site.campus_id, []).append(site)
    for info in sorted(rng.sample(eligible, 95), key=lambda s: s.session_id):
        first = info.first_day + timedelta(days=rng.randint(1, 2))
        days = tuple(_weekday_on_or_after(first + timedelta(days=k)) for k in range(rng.choice([1, 2, 2])))
        low, high = rng.choice([(4, 8), (4, 8), (3, 6), (5, 10)])
        sessions.append(
            PracticumSession(info.session_id, info.campus_id, tuple(sorted(set(days))), low, high)
        )
        local = [s.company for s in by_campus_sites[info.campus_id]]
        for person, company in learners_of[info.session_id]:
            competitors = tuple(rng.sample(local, rng.randint(1, 2))) if rng.random() < 0.25 else ()
            learners.append(
                PracticumLearner(person, info.session_id, company, industry_of[company], competitors)
            )
    return PracticumProblem(sites, sessions, learners)


# ---------------------------------------------------------------------------------------------------
# Late changes for the minimal-change scenario
# ---------------------------------------------------------------------------------------------------


def late_changes(year: SyntheticYear, previous: list, seed: int) -> tuple[RoomsProblem, str]:
    """Six cancellations, five late adds, and one busy room out of service for a week."""
    rng = random.Random(seed + 1)
    problem = year.rooms
    cancelled = set(rng.sample(range(len(problem.lodgers)), 6))
    lodgers = [x for i, x in enumerate(problem.lodgers) if i not in cancelled]
    sessions = {s.session_id: s for s in problem.sessions}
    lodging = sorted({x.session_id for x in lodgers})
    next_id = max(x.learner_id for x in lodgers) + 1
    for k in range(5):
        lodgers.append(Lodger(next_id + k, rng.choice(lodging), rng.choice(["male", "female"])))
    busy = rng.choice(previous)
    block = sessions[busy.session_id].blocks[busy.block]
    outage = RoomOutage(busy.room_id, block.first_day, block.first_day + timedelta(days=6))
    changed = replace(problem, lodgers=lodgers, outages=[*problem.outages, outage], previous=list(previous))
    return (
        changed,
        f"6 cancellations, 5 late adds, room {busy.room_id} out {outage.first_night}..{outage.last_night}",
    )


# ---------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------


def _row(name: str, *cells: object) -> str:
    return f"| {name:<30} | " + " | ".join(f"{c!s:>12}" for c in cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rooms-limit", type=float, default=20.0)
    parser.add_argument("--practicum-limit", type=float, default=30.0)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    year = generate_year(args.seed)
    rooms_problem, practicum_problem = year.rooms, year.practicum
    lodging_campuses = len({r.campus_id for r in rooms_problem.rooms})
    print(f"generated in {time.perf_counter() - t0:.2f} s (seed {args.seed})")
    print(
        f"  {len(year.sessions)} sessions on {len(year.campuses)} campuses, {year.enrollments} enrollments, "
        f"{len(rooms_problem.lodgers)} lodging, {len(rooms_problem.rooms)} rooms on {lodging_campuses} campuses "
        f"({sum(r.kind == 'twin' for r in rooms_problem.rooms)} twins, "
        f"{sum(r.accessible for r in rooms_problem.rooms)} accessible)"
    )
    print(
        f"  {len(practicum_problem.sessions)} practicum sessions, {len(practicum_problem.learners)} learners, "
        f"{len(practicum_problem.sites)} sites"
    )

    rooms = solve_rooms(rooms_problem, time_limit=args.rooms_limit, num_workers=args.workers)
    rooms_violations = validate_rooms(rooms_problem, rooms)
    changed, what = late_changes(year, rooms.assignments, args.seed)
    again = solve_rooms(changed, time_limit=10, num_workers=args.workers)
    again_violations = validate_rooms(changed, again)
    practicum = solve_practicum(practicum_problem, time_limit=args.practicum_limit, num_workers=args.workers)
    practicum_violations = validate_practicum(practicum_problem, practicum)

    print()
    print(_row("", "rooms", "rooms re-solve", "practicum"))
    print("|" + "-" * 32 + ("|" + "-" * 14) * 3 + "|")
    print(_row("status", rooms.status, again.status, practicum.status))
    print(
        _row(
            "solve seconds (CP-SAT only)",
            f"{rooms.solve_seconds:.2f}",
            f"{again.solve_seconds:.2f}",
            f"{practicum.solve_seconds:.2f}",
        )
    )
    print(
        _row(
            "wall seconds (with model build)",
            f"{rooms.wall_seconds:.2f}",
            f"{again.wall_seconds:.2f}",
            f"{practicum.wall_seconds:.2f}",
        )
    )
    print(_row("parts", rooms.parts, again.parts, practicum.parts))
    print(_row("objective", rooms.objective, again.objective, practicum.objective))
    print(
        _row(
            "best bound", f"{rooms.best_bound:.0f}", f"{again.best_bound:.0f}", f"{practicum.best_bound:.0f}"
        )
    )
    print(_row("gap", f"{rooms.gap:.2%}", f"{again.gap:.2%}", f"{practicum.gap:.2%}"))
    print(_row("placed", len(rooms.assignments), len(again.assignments), len(practicum.placements)))
    print(_row("left without", len(rooms.unhoused), len(again.unhoused), len(practicum.unplaced)))
    print(_row("moved vs previous", "-", again.moved, "-"))
    print(
        _row("validator violations", len(rooms_violations), len(again_violations), len(practicum_violations))
    )
    print()
    print(f"re-solve: {what}")
    for title, breakdown in (("rooms", rooms.breakdown), ("practicum", practicum.breakdown)):
        parts = ", ".join(f"{k} {v.value}x{v.weight}" for k, v in breakdown.items())
        print(f"{title} objective by rule: {parts}")
    for message in (rooms.messages + practicum.messages)[:8]:
        print(f"  {message}")
    print(f"total {time.perf_counter() - t0:.1f} s")
    sound = not (rooms_violations or again_violations or practicum_violations)
    return 0 if sound else 1


if __name__ == "__main__":
    raise SystemExit(main())

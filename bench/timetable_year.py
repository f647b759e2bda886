"""Full-year campus timetable with instructors, from the seeds (``make bench``).

Loads the seed catalog (9 campuses, ~700 sessions, their course modules, 300 instructors) into a
temporary SQLite database, builds each campus's timetable problem exactly as a solver run does
(``courses.planning.timetable_job``), solves the timetables campus by campus, then assigns instructors in
one year-wide model, and re-checks everything with ``scheduler.timetable_validate``. The seeds hold
only demo learners, so the dormitory rooms and practicum sites of the complete year are measured on
the synthetic full year of ``bench/year_pipeline.py`` (15,000 learners), through a SQLite database.

Prints: the time to a first complete timetable with instructors (short instructor limit), the
objective and gap after the instructor time limit (gap against the best lower bound: the solver's
own, or the year's LP relaxation, the higher), the validator's verdict, and the complete year:
timetables + instructors + rooms + practicum, each through the validator.
Run: ``.venv/bin/python bench/timetable_year.py [--limit 15]``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import year_pipeline
from sqlmodel import select

from courses.core.db import Database
from courses.core.migrate import upgrade
from courses.models import Campus
from courses.planning import timetable_job as svc
from courses.seeding import seeds as seeding
from scheduler import instructors as ins
from scheduler.instructors import lp_bound
from scheduler.timetable import solve_timetable
from scheduler.timetable_validate import validate_instructors, validate_timetable

FY_FROM, FY_TO = date(2026, 4, 1), date(2027, 3, 31)


BUILD_SECONDS: list[float] = []  # building the campus problems from the database (after seeding)


async def load_jobs(url: str) -> list[svc.TimetableJob]:
    upgrade(url)
    db = Database.connect(url)
    async with db.write() as s:
        await seeding.load_catalog(s, FY_FROM)
    jobs = []
    started = time.perf_counter()
    async with db.read() as s:
        for campus in await s.exec(select(Campus).order_by(Campus.sort_order)):  # type: ignore[arg-type]
            jobs.append(await svc.build_timetable_job(s, campus.id or 0, FY_FROM, FY_TO, pin_published=False))
    BUILD_SECONDS.append(time.perf_counter() - started)
    await db.engine.dispose()
    return jobs


def year_instructors(jobs: list[svc.TimetableJob]) -> tuple[ins.Instructor, ...]:
    """One instructor record for the whole year: availability and travel costs of every campus."""
    merged: dict[str, ins.Instructor] = {}
    for job in jobs:
        for i in job.instructors:
            old = merged.get(i.id)
            if old is None:
                merged[i.id] = i
            else:
                merged[i.id] = dataclasses.replace(
                    old,
                    available=old.available | i.available,
                    travel_cost={**old.travel_cost, **i.travel_cost},
                )
    return tuple(merged[k] for k in sorted(merged, key=int))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=float, default=15.0, help="instructor time limit (s)")
    ap.add_argument("--timetable-limit", type=float, default=1.0, help="per campus (s)")
    args, _ = ap.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        jobs = asyncio.run(load_jobs(f"sqlite+aiosqlite:///{tmp}/year.db"))
        print(
            f"seed + build: {time.perf_counter() - t0:.1f} s (of which building the problems {BUILD_SECONDS[-1]:.1f} s)"
        )
    n_sessions = sum(len(j.timetable.sessions) for j in jobs)
    n_modules = sum(len(x.modules) for j in jobs for x in j.timetable.sessions)
    print(f"{len(jobs)} campuses, {n_sessions} sessions, {n_modules} modules")
    started = time.perf_counter()
    placed: list[ins.Teaching] = []
    t_violations, unplaced, t_penalty = 0, 0, 0
    for job in jobs:
        problem = dataclasses.replace(job.timetable, time_limit=args.timetable_limit)
        sol = solve_timetable(problem)
        report = validate_timetable(problem, sol.placements)
        t_violations += len(report.violations)
        t_penalty += sum(report.penalties.values())
        unplaced += len(sol.unplaced)
        placed += svc.teachings_of(job, sol.placements)
    t_seconds = time.perf_counter() - started
    print(
        f"timetables: {len(placed)}/{n_modules} placed, {unplaced} unplaced, penalty {t_penalty:,}, "
        f"{t_violations} violations, {t_seconds:.1f} s"
    )
    teachings = tuple(sorted(placed, key=lambda t: (t.day, t.half, t.module_id)))
    prefectures = {k: v for job in jobs for k, v in job.campus_prefecture.items()}
    base = ins.InstructorProblem(
        teachings=teachings, instructors=year_instructors(jobs), campus_prefecture=prefectures
    )
    print(f"instructors: {len(base.instructors)} for {len(teachings)} modules")
    for label, limit in (("first", 5.0), ("full", args.limit)):
        problem = dataclasses.replace(base, time_limit=limit)
        t = time.perf_counter()
        sol = ins.assign_instructors(problem)
        seconds = time.perf_counter() - t
        report = validate_instructors(problem, sol.assignment)
        objective = sum(report.penalties.values())
        complete = not sol.unassigned and not unplaced
        if label == "first":
            print(
                f"first complete timetable with instructors: {t_seconds + seconds:.1f} s "
                f"(timetables {t_seconds:.1f} s + instructors {seconds:.1f} s, status {sol.status}, "
                f"complete={complete}, {len(report.violations)} violations; objective {objective:,}, "
                f"{100 * (objective - sol.bound) / objective:.1f} % above the solver's bound)"
            )
            continue
        b0 = time.perf_counter()
        lp = lp_bound(problem, seconds=20.0)
        lp_seconds = time.perf_counter() - b0
        bound = max(lp, sol.bound)
        gap = (objective - bound) / objective if objective else 0.0
        print(
            f"after {limit:.0f} s: status {sol.status}, objective {objective:,} (solver {sol.objective:,}), "
            f"bound {bound:,.0f} (solver's {sol.bound:,.0f}, LP {lp:,.0f} in {lp_seconds:.1f} s), "
            f"gap {100 * gap:.2f} %, {len(sol.unassigned)} unassigned"
        )
        print("terms: " + ", ".join(f"{k}={v:,}" for k, v in report.penalties.items()))
        sound = not report.violations and not t_violations and complete
        verdict = (
            "OK" if sound else f"{len(report.violations) + t_violations} violations, complete={complete}"
        )
        print(f"validator: {verdict} {dict(report.rules())}")
        teaching_year = t_seconds + seconds
    rooms, practicum, ok = year_pipeline.rooms_and_practicum()
    sound &= ok
    total = BUILD_SECONDS[-1] + teaching_year + rooms + practicum
    print(
        f"complete year: {total:.1f} s = building the timetable problems {BUILD_SECONDS[-1]:.1f} s "
        f"+ timetables {t_seconds:.1f} s + instructors {seconds:.1f} s "
        f"+ rooms {rooms:.1f} s + practicum {practicum:.1f} s (each built from the database, solved, "
        f"validated, saved where a run saves), instructor gap {100 * gap:.2f} %, "
        f"{'valid' if sound else 'NOT valid'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: the database round trip of a whole synthetic year, dormitory rooms and practicum sites.

Loads ``bench/scheduler_year.generate_year(seed)`` into a temporary SQLite database migrated like
production (loading is setup, not measured), then per campus measures what a solver run does: build the
problem from the database, solve, re-check with the independent validator, and save the plan version.
Set BENCH_PG_URL to a scratch PostgreSQL database (postgresql+asyncpg://...; its public schema is
DROPPED, and the test suite uses the same database) to measure there too.

    .venv/bin/python bench/year_pipeline.py [--seed 2025] [--rooms-limit 10] [--practicum-limit 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from scheduler_year import FISCAL_START, SyntheticYear, generate_year  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from courses.core.db import Database, create_engine  # noqa: E402
from courses.core.migrate import upgrade  # noqa: E402
from courses.models import (  # noqa: E402
    Campus,
    Category,
    Course,
    CourseSession,
    DormRoom,
    Enrollment,
    LearnerProfile,
    SessionBlock,
    User,
)
from courses.models.plans import PlanKind, RunStatus, SolverRun  # noqa: E402
from courses.models.resources import PracticumSite, PracticumSiteAvailability  # noqa: E402
from courses.planning import plans  # noqa: E402
from courses.planning.runner import outcome_of  # noqa: E402
from scheduler import validate  # noqa: E402
from scheduler.practicum import solve_practicum  # noqa: E402
from scheduler.rooms import solve_rooms  # noqa: E402

NOW = datetime.combine(date(2025, 3, 1), dtime(9, 0), tzinfo=ZoneInfo("Asia/Tokyo"))
DATE_FROM = FISCAL_START
DATE_TO = FISCAL_START + timedelta(days=420)  # long courses end after the fiscal year


# ---------------------------------------------------------------------------------------------------
# Loading the synthetic year (setup, not measured)
# ---------------------------------------------------------------------------------------------------


def _runs(days: tuple[date, ...]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) ranges, for the availability table."""
    out: list[tuple[date, date]] = []
    for day in sorted(days):
        if out and out[-1][1] + timedelta(days=1) == day:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


async def load_year(db: Database, year: SyntheticYear) -> None:
    """Insert the year with explicit ids (solver learner id = enrollment id = user id) in bulk."""
    rooms, practicum = year.rooms, year.practicum
    lodgers = {(x.session_id, x.learner_id): x for x in rooms.lodgers}
    p_learners = {(x.session_id, x.learner_id): x for x in practicum.learners}
    p_sessions = {x.session_id: x for x in practicum.sessions}
    blocks = {x.session_id: x.blocks for x in rooms.sessions}
    lodging_campuses = {r.campus_id for r in rooms.rooms}
    async with db.write() as s:
        conn = await s.connection()
        await conn.execute(
            insert(Category.__table__),  # type: ignore[attr-defined]
            [{"code": "bench", "name_ja": "ベンチ", "name_en": "Bench", "sort_order": 0}],
        )
        await conn.execute(
            insert(Campus.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": c.campus_id,
                    "code": f"c{c.campus_id}",
                    "name_ja": c.name,
                    "name_en": f"Campus {c.campus_id}",
                    "prefecture": "13",
                    "address": "",
                    "has_lodging": bool(c.rooms),
                    "sort_order": c.campus_id,
                }
                for c in year.campuses
            ],
        )
        await conn.execute(
            insert(DormRoom.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": r.room_id,
                    "campus_id": r.campus_id,
                    "room_number": r.label,
                    "floor": r.floor,
                    "kind": r.kind,
                    "zone": r.zone,
                    "accessible": r.accessible,
                    "archived": False,
                    "version": 1,
                }
                for r in rooms.rooms
            ],
        )
        # One course per session: the practicum settings of a session live on its course.
        courses, sessions, session_blocks = [], [], []
        for info in year.sessions:
            ps = p_sessions.get(info.session_id)
            courses.append(
                {
                    "id": info.session_id,
                    "code": f"k{info.session_id}",
                    "title_ja": info.title,
                    "title_en": f"Course {info.session_id}",
                    "audience": info.audience,
                    "category": "bench",
                    "description": "",
                    "days": (info.last_day - info.first_day).days + 1,
                    "fee_yen": 30000,
                    "default_capacity": 40,
                    "residential": info.campus_id in lodging_campuses,
                    "has_practicum": ps is not None,
                    "practicum_group_min": ps.min_group_size if ps else 4,
                    "practicum_group_max": ps.max_group_size if ps else 8,
                    "practicum_days": len(ps.days) if ps else 2,
                    "archived": False,
                    "version": 1,
                }
            )
            sessions.append(
                {
                    "id": info.session_id,
                    "code": f"s{info.session_id}",
                    "course_id": info.session_id,
                    "campus_id": info.campus_id,
                    "capacity": max(40, len(info.enrolled)),
                    "confirmed_count": len(info.enrolled),
                    "waitlist_seq": 0,
                    "lodging": info.campus_id in lodging_campuses,
                    "start_date": info.first_day,
                    "end_date": info.last_day,
                    "application_opens": info.first_day - timedelta(days=90),
                    "application_closes": info.first_day - timedelta(days=14),
                    "status": "published",
                    "version": 1,
                    "created_at": NOW,
                }
            )
            for seq, b in enumerate(blocks[info.session_id]):
                session_blocks.append(
                    {
                        "session_id": info.session_id,
                        "seq": seq,
                        "start_date": b.first_day,
                        "end_date": b.last_day,
                    }
                )
        await conn.execute(insert(Course.__table__), courses)  # type: ignore[attr-defined]
        await conn.execute(insert(CourseSession.__table__), sessions)  # type: ignore[attr-defined]
        await conn.execute(insert(SessionBlock.__table__), session_blocks)  # type: ignore[attr-defined]
        users, profiles, enrollments = [], [], []
        for info in year.sessions:
            for person in info.enrolled:
                lodger = lodgers.get((info.session_id, person))
                learner = p_learners.get((info.session_id, person))
                users.append(
                    {
                        "id": person,
                        "email": f"learner{person}@bench.example",
                        "name": f"受講 {person}",
                        "name_kana": "",
                        "role": "learner",
                        "feed_token": f"feed{person}",
                        "failed_logins": 0,
                        "created_at": NOW,
                    }
                )
                profiles.append(
                    {
                        "user_id": person,
                        "organization_kind": "sme",
                        "company": learner.company if learner else f"ベンチ{person % 400}",
                        "company_kana": "",
                        "department": "",
                        "position": "",
                        "industry": (learner.industry if learner else None) or "E",
                        "employees": 50,
                        "capital_yen": 10_000_000,
                        "prefecture": "13",
                        "phone": "",
                        "gender": lodger.gender if lodger else None,
                        "accessibility_needs": "",
                        "needs_accessible_room": bool(lodger and lodger.needs_accessible),
                        "competitors": "\n".join(learner.competitors) if learner else "",
                    }
                )
                enrollments.append(
                    {
                        "id": person,
                        "session_id": info.session_id,
                        "user_id": person,
                        "status": "confirmed",
                        "lodging": lodger is not None,
                        "source": "self",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
        await conn.execute(insert(User.__table__), users)  # type: ignore[attr-defined]
        await conn.execute(insert(LearnerProfile.__table__), profiles)  # type: ignore[attr-defined]
        await conn.execute(insert(Enrollment.__table__), enrollments)  # type: ignore[attr-defined]
        await conn.execute(
            insert(PracticumSite.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": x.site_id,
                    "campus_id": x.campus_id,
                    "name": x.name,
                    "company_name": x.company,
                    "industry": x.industry,
                    "address": "",
                    "travel_minutes": x.travel_minutes,
                    "capacity_per_day": x.capacity_per_day,
                    "excluded_companies": "\n".join(x.excluded_companies),
                    "archived": False,
                    "version": 1,
                }
                for x in practicum.sites
            ],
        )
        await conn.execute(
            insert(PracticumSiteAvailability.__table__),  # type: ignore[attr-defined]
            [
                {"site_id": x.site_id, "start_date": first, "end_date": last}
                for x in practicum.sites
                for first, last in _runs(x.available_days)
            ],
        )
    if not db.sqlite:
        async with db.write() as s:
            await s.exec(text("ANALYZE"))  # type: ignore[call-overload]


# ---------------------------------------------------------------------------------------------------
# The measured round trip
# ---------------------------------------------------------------------------------------------------


@dataclass
class Row:
    campus: int
    kind: str
    learners: int
    resources: int
    load: float
    solve: float
    validate: float
    save: float
    status: str
    objective: float
    gap: float
    violations: int


async def round_trip(db: Database, campus_id: int, kind: str, time_limit: float, workers: int) -> Row:
    """Build from the database, solve, validate, save: one solver run of one campus and kind."""
    started = time.perf_counter()
    async with db.read() as s:
        if kind == PlanKind.ROOMS:
            problem: Any = await plans.build_rooms_problem(
                s, campus_id, DATE_FROM, DATE_TO, pin_published=False
            )
        else:
            problem = await plans.build_practicum_problem(
                s, campus_id, DATE_FROM, DATE_TO, pin_published=False
            )
    loaded = time.perf_counter()
    if kind == PlanKind.ROOMS:
        sol: Any = solve_rooms(problem, time_limit=time_limit, num_workers=workers)
        violations = validate.validate_rooms(problem, sol)
        learners, resources = len(problem.lodgers), len(problem.rooms)
    else:
        sol = solve_practicum(problem, time_limit=time_limit, num_workers=workers)
        violations = validate.validate_practicum(problem, sol)
        learners, resources = len(problem.learners), len(problem.sites)
    solved = time.perf_counter()
    solve_wall = solved - loaded
    validate_seconds = solve_wall - sol.wall_seconds
    outcome = outcome_of(kind, sol, violations, sol.wall_seconds)
    async with db.write() as s:
        run = SolverRun(
            campus_id=campus_id,
            kinds=str(kind),
            date_from=DATE_FROM,
            date_to=DATE_TO,
            time_limit_s=time_limit,
            status=RunStatus.DONE,
            created_at=NOW,
            started_at=NOW,
            finished_at=NOW,
        )
        s.add(run)
        await s.flush()
        await plans.save_plan(s, run, outcome, NOW)
    saved = time.perf_counter()
    return Row(
        campus_id,
        str(kind),
        learners,
        resources,
        loaded - started,
        sol.wall_seconds,
        validate_seconds,
        saved - solved,
        sol.status,
        float(sol.objective),
        float(sol.gap),
        len(violations),
    )


def _print(rows: list[Row], kind: str, label: str) -> None:
    print(f"\n{label}")
    print(
        f"| {'campus':>6} | {'learners':>8} | {'rooms' if kind == 'rooms' else 'sites':>5} | {'load s':>6} | "
        f"{'solve s':>7} | {'check s':>7} | {'save s':>6} | {'status':>8} | {'objective':>9} | {'gap':>6} | viol |"
    )
    print("|" + "|".join("-" * w for w in (8, 10, 7, 8, 9, 9, 8, 10, 11, 8, 6)) + "|")
    for r in rows:
        print(
            f"| {r.campus:>6} | {r.learners:>8} | {r.resources:>5} | {r.load:>6.2f} | {r.solve:>7.2f} | "
            f"{r.validate:>7.2f} | {r.save:>6.2f} | {r.status:>8} | {r.objective:>9.0f} | {r.gap:>6.2%} | "
            f"{r.violations:>4} |"
        )


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def run(url: str, year: SyntheticYear, args: argparse.Namespace) -> tuple[list[Row], list[Row]]:
    db = Database.connect(url)
    try:
        started = time.perf_counter()
        await load_year(db, year)
        print(
            f"\ndatabase {url.split('://')[0]}: year loaded in {time.perf_counter() - started:.1f} s (setup)"
        )
        lodging = sorted({r.campus_id for r in year.rooms.rooms})
        practicum = sorted({x.campus_id for x in year.practicum.sessions})
        rooms_rows = [
            await round_trip(db, c, PlanKind.ROOMS, args.rooms_limit, args.workers) for c in lodging
        ]
        p_rows = [
            await round_trip(db, c, PlanKind.PRACTICUM, args.practicum_limit, args.workers) for c in practicum
        ]
    finally:
        await db.dispose()
    _print(rooms_rows, "rooms", "rooms, per campus (solve = solve_rooms wall time; check = validator)")
    _print(p_rows, "practicum", "practicum, per campus")
    for name, rows in (("rooms", rooms_rows), ("practicum", p_rows)):
        solve = sum(r.solve for r in rows)
        total = sum(r.load + r.solve + r.validate + r.save for r in rows)
        statuses = sorted({r.status for r in rows})
        print(
            f"{name}, whole year: solve {solve:.2f} s, load+solve+check+save {total:.2f} s "
            f"(load {sum(r.load for r in rows):.2f}, check {sum(r.validate for r in rows):.2f}, "
            f"save {sum(r.save for r in rows):.2f}); objective {sum(r.objective for r in rows):.0f}; "
            f"statuses {', '.join(statuses)}; violations {sum(r.violations for r in rows)}"
        )
    return rooms_rows, p_rows


def _sound(rows: tuple[list[Row], list[Row]]) -> bool:
    return not any(r.violations for r in rows[0] + rows[1])


def _on_sqlite(year: SyntheticYear, args: argparse.Namespace) -> tuple[list[Row], list[Row]]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/year.db"
        upgrade(url)
        return asyncio.run(run(url, year, args))


def rooms_and_practicum(seed: int = 2025) -> tuple[float, float, bool]:
    """The rooms and the practicum of the synthetic year through SQLite, as ``main`` runs them:
    seconds of each (build + solve + check + save, all campuses) and whether all is valid."""
    rows = _on_sqlite(
        generate_year(seed), argparse.Namespace(workers=2, rooms_limit=10.0, practicum_limit=5.0)
    )
    rooms, practicum = (sum(r.load + r.solve + r.validate + r.save for r in part) for part in rows)
    return rooms, practicum, _sound(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rooms-limit", type=float, default=10.0)
    parser.add_argument("--practicum-limit", type=float, default=5.0)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    year = generate_year(args.seed)
    print(
        f"seed {args.seed}: {len(year.sessions)} sessions, {year.enrollments} enrollments, "
        f"{len(year.rooms.lodgers)} lodging, {len(year.rooms.rooms)} rooms, "
        f"{len(year.practicum.learners)} practicum learners, {len(year.practicum.sites)} sites"
    )
    sound = _sound(_on_sqlite(year, args))
    pg = os.environ.get("BENCH_PG_URL")
    if pg:
        asyncio.run(_reset_postgres(pg))
        upgrade(pg)
        sound &= _sound(asyncio.run(run(pg, year, args)))
    print(f"total {time.perf_counter() - t0:.1f} s")
    return 0 if sound else 1


if __name__ == "__main__":
    raise SystemExit(main())

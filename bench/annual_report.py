"""Annual report benchmark: a full fiscal year of the school on SQLite, then the annual report and the
survey results timed (median of 5 runs each).

Builds a temporary SQLite database (migrated) with 9 campuses, about 600 SME and 100 support
sessions of 3 days ending within fiscal year 2026, ~15,000 + ~3,000 confirmed learners (and some
cancelled places), attendance per half-day for every session (about 1 learner in 8 misses enough
to not complete), and survey answers from ~60 % of the learners with a rating per module. Every
table is filled with SQLAlchemy Core ``insert()`` of many rows at once.

    .venv/bin/python bench/annual_report.py [--sme 600] [--support 100] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import select  # noqa: E402

from courses.core.db import Database  # noqa: E402
from courses.core.migrate import upgrade  # noqa: E402
from courses.models import (  # noqa: E402
    Campus,
    Category,
    Course,
    CourseSession,
    Enrollment,
    SessionBlock,
    User,
    table_of,
)
from courses.models.attendance import AttendanceMark  # noqa: E402
from courses.models.resources import Instructor  # noqa: E402
from courses.models.surveys import SurveyModuleRating, SurveyResponse  # noqa: E402
from courses.models.timetable import CourseModule  # noqa: E402
from courses.reports import annual  # noqa: E402
from courses.surveys import results  # noqa: E402

JST = ZoneInfo("Asia/Tokyo")
NOW = datetime.combine(date(2027, 4, 20), dtime(10, 0), tzinfo=JST)  # the year has ended
FY = 2026
CAMPUSES = ["tokyo", "sendai", "mitaka", "seto", "kansai", "hiroshima", "naoetsu", "kyushu", "hitoyoshi"]
DAYS = 3  # every session: 3 days, 6 half-days
MODULES = 4
CHUNK = 5000  # rows per insert statement


async def _insert(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    for k in range(0, len(rows), CHUNK):
        async with db.write() as s:
            await (await s.connection()).execute(insert(table_of(model)), rows[k : k + CHUNK])


async def build(db: Database, sme: int, support: int) -> dict[str, int]:
    rnd = random.Random(2026)
    await _insert(
        db,
        Category,
        [{"id": 1, "code": "finance", "name_ja": "財務・会計", "name_en": "Finance", "sort_order": 1}],
    )
    await _insert(
        db,
        Campus,
        [
            {
                "id": k,
                "code": code,
                "name_ja": f"中小企業大学校 {code}校",
                "name_en": code.title(),
                "prefecture": "東京都",
                "address": "-",
                "has_lodging": True,
                "sort_order": k,
                "dorm_checkin_ja": "-",
            }
            for k, code in enumerate(CAMPUSES, start=1)
        ],
    )
    courses: list[dict[str, Any]] = []
    for k in range(1, 71):  # 60 courses for SMEs, 10 for support agencies
        courses.append(
            {
                "id": k,
                "code": f"C{k:03d}",
                "title_ja": f"研修{k}",
                "title_en": f"Course {k}",
                "title_kana": "",
                "audience": "sme" if k <= 60 else "support",
                "category": "finance",
                "description": "",
                "days": DAYS,
                "fee_yen": 30000,
                "default_capacity": 40,
                "residential": True,
                "has_practicum": k % 10 == 0,
                "practicum_group_min": 4,
                "practicum_group_max": 8,
                "practicum_days": 1,
                "completion_min_percent": 80,
                "archived": False,
                "version": 1,
            }
        )
    await _insert(db, Course, courses)
    await _insert(
        db,
        CourseModule,
        [
            {
                "id": (c - 1) * MODULES + m,
                "course_id": c,
                "seq": m,
                "title": f"科目{m}",
                "kind": "lecture",
                "half_days": 1,
                "subject": "finance",
            }
            for c in range(1, 71)
            for m in range(1, MODULES + 1)
        ],
    )
    await _insert(
        db,
        Instructor,
        [
            {
                "id": k,
                "name": f"講師{k}",
                "name_kana": "",
                "kind": "external",
                "qualification": "",
                "home_prefecture": "13",
                "home_campus_id": None,
                "subjects": "finance",
                "max_modules_per_month": 8,
                "fee_per_module_yen": 50000,
                "travel_cost_yen": 0,
                "email": f"i{k}@example.jp",
            }
            for k in range(1, 61)
        ],
    )
    first = date(FY, 4, 1)
    sessions, blocks = [], []
    plan: list[tuple[int, int, str, date]] = []  # id, course, audience, start
    for k in range(1, sme + support + 1):
        is_sme = k <= sme
        course = rnd.randint(1, 60) if is_sme else rnd.randint(61, 70)
        start = first + timedelta(days=rnd.randint(0, 360))
        end = start + timedelta(days=DAYS - 1)
        sessions.append(
            {
                "id": k,
                "code": f"FY{FY}-{k:05d}",
                "course_id": course,
                "campus_id": rnd.randint(1, len(CAMPUSES)),
                "capacity": 40,
                "confirmed_count": 25 if is_sme else 30,
                "waitlist_seq": 0,
                "lodging": True,
                "start_date": start,
                "end_date": end,
                "application_opens": start - timedelta(days=90),
                "application_closes": start - timedelta(days=7),
                "status": "cancelled" if k % 50 == 0 else "published",
                "version": 1,
                "created_at": NOW,
            }
        )
        blocks.append({"session_id": k, "seq": 1, "start_date": start, "end_date": end})
        plan.append((k, course, "sme" if is_sme else "support", start))
    await _insert(db, CourseSession, sessions)
    await _insert(db, SessionBlock, blocks)
    pool = 8000  # learners come back for other courses: one account for several places
    await _insert(
        db,
        User,
        [
            {
                "id": k,
                "email": f"learner{k}@example.jp",
                "password_hash": None,
                "name": f"受講 太郎{k}",
                "name_kana": "",
                "role": "learner",
                "organization_id": None,
                "feed_token": f"feed-{k}",
                "created_at": NOW,
            }
            for k in range(1, pool + 1)
        ],
    )
    enrollments, marks, responses, ratings = [], [], [], []
    eid = rid = 0
    for sid, course, audience, start in plan:
        people = rnd.sample(range(1, pool + 1), (25 if audience == "sme" else 30) + 2)
        for n, user in enumerate(people):
            eid += 1
            cancelled = n >= len(people) - 2
            enrollments.append(
                {
                    "id": eid,
                    "session_id": sid,
                    "user_id": user,
                    "status": "cancelled" if cancelled else "confirmed",
                    "lodging": False,
                    "waitlist_seq": None,
                    "source": "self",
                    "organization_id": None,
                    "batch_id": None,
                    "registered_name": None,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            if cancelled:
                continue
            missed = 2 if rnd.random() < 0.125 else (1 if rnd.random() < 0.2 else 0)
            halves = [(start + timedelta(days=d), h) for d in range(DAYS) for h in ("am", "pm")]
            for day, half in halves[missed:]:
                marks.append(
                    {
                        "session_id": sid,
                        "enrollment_id": eid,
                        "day": day,
                        "half": half,
                        "present": True,
                        "source": "staff",
                        "marked_by": 1,
                        "marked_at": NOW,
                    }
                )
            if rnd.random() < 0.6:
                rid += 1
                responses.append(
                    {
                        "id": rid,
                        "session_id": sid,
                        "usefulness": rnd.choice((5, 5, 4, 4, 4, 3, 2)),
                        "comment": "",
                    }
                )
                ratings += [
                    {
                        "response_id": rid,
                        "course_module_id": (course - 1) * MODULES + m,
                        "instructor_id": (course + m) % 60 + 1,
                        "rating": rnd.randint(2, 5),
                    }
                    for m in range(1, MODULES + 1)
                ]
    await _insert(db, Enrollment, enrollments)
    await _insert(db, AttendanceMark, marks)
    await _insert(db, SurveyResponse, responses)
    await _insert(db, SurveyModuleRating, ratings)
    return {
        "sessions": len(sessions),
        "enrollments": len(enrollments),
        "marks": len(marks),
        "answers": len(responses),
        "ratings": len(ratings),
    }


async def _median(runs: int, fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(runs):
        started = time.perf_counter()
        out = await fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


async def main(sme: int, support: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        db = Database.connect(url)
        started = time.perf_counter()
        built = await build(db, sme, support)
        build_s = time.perf_counter() - started
        async with db.read() as s:
            campuses = list(await s.exec(select(Campus).order_by(Campus.sort_order)))  # type: ignore[arg-type]
        scope = results.Scope(FY, campuses, NOW.date())

        async def report() -> annual.Report:
            async with db.read() as s:
                return await annual.annual_report(s, scope)

        async def survey() -> results.Results:
            async with db.read() as s:
                return await results.results(s, scope)

        report_s, rep = await _median(runs, report)
        survey_s, res = await _median(runs, survey)
        await db.dispose()
    total = rep.total
    assert total is not None
    print(f"annual report, fiscal year {FY} on SQLite: {len(CAMPUSES)} campuses")
    print(
        f"  built {built['sessions']} sessions, {built['enrollments']} places, {built['marks']} attendance marks, "
        f"{built['answers']} answers with {built['ratings']} module ratings in {build_s:.1f} s"
    )
    print(
        f"  report: {total.sessions} sessions held, {total.confirmed} confirmed, {total.completed} completed "
        f"({100 * (total.completion_rate or 0):.1f} %), {total.answers} answers, "
        f"usefulness {100 * (total.useful_rate or 0):.1f} %, {len(rep.lines)} lines"
    )
    print(f"  annual report (median of {runs})   {report_s * 1000:8.1f} ms")
    groups = {k: len(v) for k, v in res.groups.items()}
    print(f"  survey results (median of {runs})  {survey_s * 1000:8.1f} ms  ({groups})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sme", type=int, default=600)
    parser.add_argument("--support", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args, _ = parser.parse_known_args()
    asyncio.run(main(args.sme, args.support, args.runs))

"""Bulk registration benchmark: time to validate (dry run) and to commit a 5,000-row file.

Runs on a temporary SQLite database migrated and seeded like production; set BENCH_DATABASE_URL to a
scratch PostgreSQL database (postgresql+asyncpg://...; its public schema is dropped) to measure there.

    .venv/bin/python bench/bulk_upload.py [--rows 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import func, insert, text  # noqa: E402
from sqlmodel import col, select  # noqa: E402
from sqlmodel.ext.asyncio.session import AsyncSession  # noqa: E402

from courses.bulk import files as bulk_file  # noqa: E402
from courses.bulk import service as bulk  # noqa: E402
from courses.core.db import Database, create_engine  # noqa: E402
from courses.core.migrate import upgrade  # noqa: E402
from courses.models import (  # noqa: E402
    Course,
    CourseSession,
    Enrollment,
    LearnerProfile,
    Organization,
    SessionStatus,
    User,
)
from courses.models.bulk import OrganizationMember  # noqa: E402
from courses.seeding import seeds as seeding  # noqa: E402

TODAY = date(2026, 5, 15)  # the same fixed day as the tests: many sessions are open for applications
NOW = datetime.combine(TODAY, dtime(10, 0), tzinfo=ZoneInfo("Asia/Tokyo"))
HEADER = "開催回コード,氏名,フリガナ,メールアドレス,会社・団体名,部署,役職,業種,従業員数,資本金（円）,都道府県,宿泊希望"


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def make_file(codes: list[tuple[str, str]], rows: int, domain: str = "bench.example") -> bytes:
    """``rows`` people spread over the open sessions, support-staff and SME alike, CP932 as Excel saves it."""
    lines = [HEADER]
    for n in range(rows):
        code, audience = codes[n % len(codes)]
        lodging = "有" if n % 3 else "無"
        if audience == "support":
            lines.append(
                f"{code},支援 職員{n},シエン ショクイン,adviser{n}@{domain},,,経営指導員,,,,13,{lodging}"
            )
        else:
            lines.append(
                f"{code},受講 太郎{n},ジュコウ タロウ,learner{n}@{domain},株式会社ベンチ{n % 400},総務部,部長,E,"
                f"{20 + n % 200},{10_000_000 + n},13,{lodging}"
            )
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


async def add_members(s: AsyncSession, org_id: int, codes: list[tuple[str, str]], rows: int) -> None:
    """The file's people as the organisation's members (they accepted an earlier invitation), so
    that the commit registers them directly: the path whose speed matters."""
    users = []
    for n in range(rows):
        support = codes[n % len(codes)][1] == "support"
        email = f"adviser{n}@bench.example" if support else f"learner{n}@bench.example"
        users.append(
            {
                "email": email,
                "name": f"会員 {n}",
                "name_kana": "カイイン",
                "role": "learner",
                "feed_token": f"bench-{n}",
                "created_at": NOW,
                "password_hash": None,
                "organization_id": None,
            }
        )
    await (await s.connection()).execute(insert(User), users)
    ids = dict(
        (await s.exec(select(User.email, User.id).where(col(User.email).like("%@bench.example")))).all()
    )
    profiles, members = [], []
    for n in range(rows):
        support = codes[n % len(codes)][1] == "support"
        email = f"adviser{n}@bench.example" if support else f"learner{n}@bench.example"
        profiles.append(
            {
                "user_id": ids[email],
                "organization_kind": "support_agency" if support else "sme",
                "company": "東京商工会議所" if support else f"株式会社ベンチ{n % 400}",
                "industry": "R" if support else "E",
                "employees": 20 + n % 200,
                "capital_yen": 10_000_000 + n,
                "prefecture": "13",
            }
        )
        members.append({"organization_id": org_id, "user_id": ids[email], "created_at": NOW})
    await (await s.connection()).execute(insert(LearnerProfile), profiles)
    await (await s.connection()).execute(insert(OrganizationMember), members)


async def run(url: str, rows: int) -> None:
    db = Database.connect(url)
    try:
        async with db.write() as s:
            await seeding.load_catalog(s, TODAY)
            org = Organization(name="東京商工会議所", kind="chamber", prefecture="13")
            s.add(org)
            await s.flush()
            coordinator = User(
                email="coordinator@bench.example",
                name="商工 次郎",
                role="coordinator",
                organization_id=org.id,
                feed_token="bench-coordinator",
                created_at=NOW,
            )
            s.add(coordinator)
            await s.flush()
            open_sessions = list(
                await s.exec(
                    select(CourseSession.code, Course.audience)
                    .join(Course, col(Course.id) == CourseSession.course_id)
                    .where(
                        CourseSession.status == SessionStatus.PUBLISHED,
                        CourseSession.application_opens <= TODAY,
                        CourseSession.application_closes >= TODAY,
                    )
                    .order_by(col(CourseSession.code))
                )
            )
        codes = [(c, a) for c, a in open_sessions][:40]
        async with db.write() as s:
            await add_members(s, org.id or 0, codes, rows)
        content = make_file(codes, rows)
        print(
            f"database: {url.split('://')[0]}; {rows:,} rows over {len(codes)} sessions, {len(content) / 1e6:.2f} MB (CP932)"
        )

        started = time.perf_counter()
        table = bulk_file.read_table("bench.csv", content)
        parsed = time.perf_counter() - started
        async with db.read() as s:
            report = await bulk.preview(s, org, table, "accept_valid", NOW)
        validated = time.perf_counter() - started
        counts = report.counts
        print(
            f"validate (dry run): {validated:.2f} s  (of which reading the file {parsed:.2f} s)  -> {counts}"
        )

        async def register(filename: str, data: bytes) -> bulk.Report:
            """Read the file and register it in one write transaction, as the upload page does."""
            table = bulk_file.read_table(filename, data)
            async with db.write() as s:
                return await bulk.commit(
                    s,
                    org,
                    coordinator,
                    table,
                    data,
                    mode="accept_valid",
                    consent=True,
                    now=NOW,
                    base_url="http://bench",
                )

        started = time.perf_counter()
        committed_report = await register("bench.csv", content)
        committed = time.perf_counter() - started
        print(f"commit: {committed:.2f} s  -> {committed_report.counts}")

        started = time.perf_counter()
        table = bulk_file.read_table("bench.csv", content)
        async with db.read() as s:
            again = await bulk.preview(s, org, table, "accept_valid", NOW)
        print(
            f"re-upload check (every row already registered): {time.perf_counter() - started:.2f} s  -> {again.counts}"
        )
        async with db.read() as s:
            over = (
                await s.exec(
                    select(func.count()).where(
                        col(CourseSession.confirmed_count) > col(CourseSession.capacity)
                    )
                )
            ).one()
            total = (await s.exec(select(func.count()).select_from(Enrollment))).one()
        print(f"enrollments in the database: {total:,}; sessions over capacity: {over}")

        # the same number of people the organisation has never registered: all become invitations
        strangers = make_file(codes, rows, domain="new.example")
        started = time.perf_counter()
        invited = await register("bench-new.csv", strangers)
        print(
            f"commit of {rows:,} non-members (invitations): {time.perf_counter() - started:.2f} s  -> {invited.counts}"
        )
        assert counts[bulk.ERROR] == 0 and over == 0
    finally:
        await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    args, _ = parser.parse_known_args()
    url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    with tempfile.TemporaryDirectory() as tmp:
        if url:
            asyncio.run(_reset_postgres(url))
        else:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        asyncio.run(run(url, args.rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

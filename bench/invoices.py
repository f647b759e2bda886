"""Invoice benchmark: a month of one campus (about 1,500 enrollments) invoiced and rendered as PDFs.

Builds a temporary SQLite database (migrated), one campus with a fee table, 50 sessions starting in
one month with 30 confirmed learners each; then times issuing every learner's invoice (one write
transaction each, idempotent) and rendering every invoice PDF (ReportLab, CID fonts).

    .venv/bin/python bench/invoices.py [--enrollments 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from courses.billing import invoicing, pdf  # noqa: E402
from courses.core.db import Database  # noqa: E402
from courses.core.migrate import upgrade  # noqa: E402
from courses.core.settings import Settings  # noqa: E402
from courses.models import (  # noqa: E402
    Campus,
    Category,
    Course,
    CourseSession,
    Enrollment,
    SessionBlock,
    SessionStatus,
    User,
)
from courses.models.billing import CampusFee, Invoice  # noqa: E402

NOW = datetime.combine(date(2026, 5, 15), dtime(10, 0), tzinfo=ZoneInfo("Asia/Tokyo"))
PER_SESSION = 30


async def _build(db: Database, enrollments: int) -> tuple[User, list[int]]:
    sessions = -(-enrollments // PER_SESSION)
    async with db.write() as s:
        campus = Campus(
            code="tokyo", name_ja="東京校", name_en="Tokyo", prefecture="東京都", address="東大和市"
        )
        s.add(campus)
        s.add(Category(code="finance", name_ja="財務・会計", name_en="Finance"))
        await s.flush()
        s.add(
            CampusFee(campus_id=campus.id, lodging_per_night_yen=2800, meals_per_day_yen=1650, updated_at=NOW)
        )  # type: ignore[arg-type]
        staff = User(
            email="staff@example.jp", name="職員", role="staff", feed_token="f-staff", created_at=NOW
        )
        s.add(staff)
        await s.flush()
        from courses.models import StaffCampus

        s.add(StaffCampus(user_id=staff.id, campus_id=campus.id))  # type: ignore[arg-type]
        ids: list[int] = []
        n = 0
        for i in range(sessions):
            course = Course(
                code=f"C{i:03d}",
                title_ja=f"経営戦略講座 第{i + 1}回",
                title_en=f"Strategy {i + 1}",
                audience="sme",
                category="finance",
                days=3,
                fee_yen=33000 + 100 * i,
                default_capacity=PER_SESSION,
            )
            s.add(course)
            await s.flush()
            start = date(2026, 6, 1) + timedelta(days=i % 28)
            sess = CourseSession(
                code=f"S{i:04d}",
                course_id=course.id,
                campus_id=campus.id,
                capacity=PER_SESSION,  # type: ignore[arg-type]
                confirmed_count=PER_SESSION,
                start_date=start,
                end_date=start + timedelta(days=2),
                application_opens=start - timedelta(days=90),
                application_closes=start - timedelta(days=7),
                status=SessionStatus.PUBLISHED,
                created_at=NOW,
            )
            s.add(sess)
            await s.flush()
            s.add(
                SessionBlock(session_id=sess.id, seq=1, start_date=start, end_date=start + timedelta(days=2))
            )  # type: ignore[arg-type]
            for _ in range(min(PER_SESSION, enrollments - n)):
                n += 1
                user = User(
                    email=f"learner{n}@example.jp",
                    name=f"受講 太郎{n}",
                    role="learner",
                    feed_token=secrets.token_urlsafe(12),
                    created_at=NOW,
                )
                s.add(user)
                await s.flush()
                e = Enrollment(
                    session_id=sess.id,
                    user_id=user.id,
                    status="confirmed",
                    lodging=n % 2 == 0,  # type: ignore[arg-type]
                    created_at=NOW,
                    updated_at=NOW,
                )
                s.add(e)
                await s.flush()
                ids.append(e.id)  # type: ignore[arg-type]
    return staff, ids


async def _issue(db: Database, staff: User, enrollment_id: int, settings: Settings) -> Invoice:
    """One invoice issued as a request does: in a write transaction of its own."""
    async with db.write() as s:
        return await invoicing.issue_for_enrollment(s, staff, enrollment_id, settings, NOW)


async def main(enrollments: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        db = Database.connect(url)
        settings = Settings(database_url=url, secret_key="b" * 40, solver_workers=0)
        staff, ids = await _build(db, enrollments)
        started = time.perf_counter()
        invoices = [await _issue(db, staff, eid, settings) for eid in ids]
        issued = time.perf_counter() - started
        started = time.perf_counter()
        again = [await _issue(db, staff, eid, settings) for eid in ids[:100]]
        reissue = (time.perf_counter() - started) / len(again)
        assert [i.id for i in again] == [i.id for i in invoices[:100]]
        started = time.perf_counter()
        size = 0
        async with db.read() as s:
            datas = [await invoicing.invoice_data(s, inv, settings) for inv in invoices]
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        for data in datas:
            size += len(pdf.render(data))
        rendered = time.perf_counter() - started
        await db.dispose()
    n = len(ids)
    print(f"invoices for one campus-month: {n} enrollments (SQLite)")
    print(f"  issue (one transaction each)   {issued:7.2f} s  ({issued / n * 1000:.1f} ms per invoice)")
    print(f"  issue again (idempotent hit)   {reissue * 1000:7.2f} ms per invoice")
    print(f"  load invoice data              {loaded:7.2f} s")
    print(
        f"  render PDFs                    {rendered:7.2f} s  ({rendered / n * 1000:.1f} ms per PDF, {size / n / 1024:.1f} KiB each)"
    )
    print(f"  month total                    {issued + loaded + rendered:7.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrollments", type=int, default=1500)
    args, _ = parser.parse_known_args()
    asyncio.run(main(args.enrollments))

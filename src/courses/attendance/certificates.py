"""Certificates of completion (修了証書): issued once per enrollment with a serial unique across the
school (``FY2026-TOK-000123``: fiscal year of issue, campus, number through the fiscal year), kept as
issued so that a re-download and the public verification page show the same thing."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.attendance import service
from courses.core.errors import NotEligible, not_found
from courses.core.tx import run_sync
from courses.enrollment import seats
from courses.enrollment import service as enrollment_service
from courses.models import Enrollment, EnrollmentStatus, SessionStatus, User
from courses.models.attendance import Certificate

ATTEMPTS = 5


def fiscal_year(day: date) -> int:
    """Japan's fiscal year: April to March (2027-03-31 is in FY2026)."""
    return day.year if day.month >= 4 else day.year - 1


def serial_of(fy: int, campus_code: str, seq: int) -> str:
    return f"FY{fy}-{campus_code[:3].upper()}-{seq:06d}"


async def find(s: AsyncSession, enrollment_id: int) -> Certificate | None:
    return (await s.exec(select(Certificate).where(Certificate.enrollment_id == enrollment_id))).first()


async def lookup(s: AsyncSession, serial: str) -> Certificate | None:
    return (await s.exec(select(Certificate).where(Certificate.serial == serial.strip().upper()))).first()


async def _create(
    s: AsyncSession, enrollment: Enrollment, today: date, now: datetime, *, on_last_day: bool
) -> Certificate:
    ctx = await run_sync(s, seats.load_session, enrollment.session_id)
    if enrollment.status != EnrollmentStatus.CONFIRMED or ctx.session.status == SessionStatus.CANCELLED:
        raise NotEligible("受講決定の研修ではないため、修了証書は発行できません。", "Not a confirmed place.")
    ends = ctx.session.end_date
    if today < ends or (today == ends and not on_last_day):
        raise NotEligible(
            "修了証書は研修の終了後に発行できます。", "Certificates are issued once the session has ended."
        )
    p = await service.progress_of(s, enrollment)
    if not p.completed:
        raise service.not_completed(p)
    learner = await s.get(User, enrollment.user_id)
    fy = fiscal_year(today)
    last = (await s.exec(select(func.max(Certificate.seq)).where(Certificate.fiscal_year == fy))).one()
    seq = (last or 0) + 1
    row = Certificate(
        enrollment_id=enrollment.id or 0,
        serial=serial_of(fy, ctx.campus.code, seq),
        fiscal_year=fy,
        seq=seq,
        learner_name=(learner.name if learner else "") or "",
        course_title=ctx.course.title_ja,
        campus_name=ctx.campus.name_ja,
        start_date=ctx.session.start_date,
        end_date=ends,
        issued_on=today,
        created_at=now,
    )
    s.add(row)
    await s.flush()
    return row


async def issue(
    s: AsyncSession, enrollment: Enrollment, now: datetime, *, on_last_day: bool = False
) -> Certificate:
    """The enrollment's certificate, issued on the first call, inside the caller's write transaction.

    Concurrent calls give one serial: the unique constraints decide. SQLite writers are serialised,
    so the second finds the first's row. On PostgreSQL the loser's insert waits for the winner's
    commit and then fails; each attempt runs in a SAVEPOINT, so only the attempt is undone and the
    transaction goes on: its next statement (READ COMMITTED) sees the winner's row, or the winner's
    number, and takes the next one."""
    today = now.date()
    for _ in range(ATTEMPTS):
        if (found := await find(s, enrollment.id or 0)) is not None:
            return found
        try:
            async with s.begin_nested():
                return await _create(s, enrollment, today, now, on_last_day=on_last_day)
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a certificate number")


async def issue_for_session(
    s: AsyncSession, staff: User, session_id: int, now: datetime
) -> list[Certificate]:
    """Certificates of every confirmed learner of the session who completed it (staff, from the last
    day), inside the caller's write transaction."""
    ctx = await run_sync(s, seats.load_session, session_id)
    await enrollment_service.ensure_staff_campus(s, staff, ctx.campus.id or 0)
    done = [e for e, _ in await service.confirmed(s, session_id)]
    progress = await service.progress(s, session_id)
    return [await issue(s, e, now, on_last_day=True) for e in done if progress[e.id or 0].completed]


async def own_enrollment(s: AsyncSession, user: User, enrollment_id: int) -> Enrollment:
    row = await s.get(Enrollment, enrollment_id)
    if row is None or row.user_id != user.id:
        raise not_found("申込", "Enrollment", enrollment_id)
    return row


async def of_enrollments(s: AsyncSession, enrollment_ids: list[int]) -> dict[int, Certificate]:
    if not enrollment_ids:
        return {}
    rows = await s.exec(select(Certificate).where(col(Certificate.enrollment_id).in_(enrollment_ids)))
    return {c.enrollment_id: c for c in rows}

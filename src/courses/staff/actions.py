"""What campus staff do to enrollments, for the API and the pages alike, each written to the audit
log in the transaction that does it: enrolling someone by hand, promoting from the waiting list,
cancelling one enrollment (with the same cancellation terms as the learner's own) or a whole session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.billing import service as billing
from courses.billing.schemas import CancellationQuote
from courses.core import audit
from courses.core.errors import NotFound, not_found
from courses.core.settings import Settings
from courses.core.tx import run_sync
from courses.enrollment import seats
from courses.enrollment import service as enrollment
from courses.models import Enrollment, User


async def session_on_my_campus(s: AsyncSession, staff: User, session_id: int) -> seats.SessionContext:
    ctx = await run_sync(s, seats.load_session, session_id)
    await enrollment.ensure_staff_campus(s, staff, ctx.campus.id or 0)
    return ctx


async def enrollment_on_my_campus(s: AsyncSession, staff: User, enrollment_id: int) -> Enrollment:
    """An enrollment of a session on one of the caller's campuses (404 when there is none)."""
    row = await s.get(Enrollment, enrollment_id)
    if row is None:
        raise not_found("申込", "Enrollment", enrollment_id)
    await session_on_my_campus(s, staff, row.session_id)
    return row


async def _snapshot(s: AsyncSession, row: Enrollment) -> dict[str, Any]:
    ctx = await run_sync(s, seats.load_session, row.session_id)
    learner = await s.get(User, row.user_id)
    return {
        "status": row.status,
        "lodging": row.lodging,
        "waitlist_seq": row.waitlist_seq,
        "learner": learner.name if learner else "",
        "session_code": ctx.session.code,
    }


async def enroll_by_hand(
    s: AsyncSession, staff: User, session_id: int, email: str, lodging: bool, now: datetime
) -> enrollment.EnrollResult:
    ctx = await session_on_my_campus(s, staff, session_id)
    learner = (await s.exec(select(User).where(User.email == email))).first()
    if learner is None:
        raise NotFound(
            f"{email or '（空欄）'} の受講者は登録されていません。", f"No learner with email {email}."
        )
    result = await run_sync(
        s,
        enrollment.enroll,
        user=learner,
        session_id=session_id,
        lodging=lodging,
        now=now,
        source="staff",
        check_window=False,
    )
    row = await s.get(Enrollment, result.id)
    assert row is not None
    await audit.record(
        s, staff, "enroll", "enrollment", result.id, ctx.campus.id, None, await _snapshot(s, row), now
    )
    return result


async def promote(s: AsyncSession, staff: User, enrollment_id: int, now: datetime) -> Enrollment:
    row = await enrollment_on_my_campus(s, staff, enrollment_id)
    before = await _snapshot(s, row)
    promoted = await run_sync(s, enrollment.promote_one, enrollment_id, now)
    ctx = await run_sync(s, seats.load_session, row.session_id)
    await audit.record(
        s,
        staff,
        "promote",
        "enrollment",
        enrollment_id,
        ctx.campus.id,
        before,
        await _snapshot(s, promoted),
        now,
    )
    return promoted


async def cancel(
    s: AsyncSession, staff: User, enrollment_id: int, now: datetime, settings: Settings
) -> tuple[list[Enrollment], CancellationQuote]:
    row = await enrollment_on_my_campus(s, staff, enrollment_id)
    before = await _snapshot(s, row)
    promoted, owed = await billing.cancel_with_fee(s, row, now, settings, cancelled_by="staff")
    ctx = await run_sync(s, seats.load_session, row.session_id)
    after = {**await _snapshot(s, row), "cancellation_fee_yen": owed.fee_yen}
    await audit.record(s, staff, "cancel", "enrollment", enrollment_id, ctx.campus.id, before, after, now)
    return promoted, owed


async def cancel_session(s: AsyncSession, staff: User, session_id: int, now: datetime) -> int:
    ctx = await session_on_my_campus(s, staff, session_id)
    before = {"status": ctx.session.status, "session_code": ctx.session.code}
    count = await run_sync(s, enrollment.cancel_session, session_id, now)
    await billing.settle_cancelled_session(s, session_id, now)
    after = {"status": "cancelled", "session_code": ctx.session.code, "enrollments_cancelled": count}
    await audit.record(s, staff, "cancel", "session", session_id, ctx.campus.id, before, after, now)
    return count

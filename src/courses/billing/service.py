"""Fees: the fee table, the cancellation terms and the fee owed on cancellation, settled with credit
notes and a cancellation invoice.

Issuing, reading and paying invoices is in ``courses.billing.invoicing``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.billing.invoicing import (
    NOT_TAXED,
    _issued_as,
    _store,
    invoices_of,  # noqa: F401  (re-exported: bulk and learners pages read it here)
)
from courses.billing.schemas import CancellationQuote, Line
from courses.core.errors import InvalidInput, not_found
from courses.core.settings import Settings
from courses.core.tx import run_sync
from courses.enrollment import service as enrollments
from courses.models import (
    Campus,
    Course,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    Organization,
    User,
    id_of,
)
from courses.models import billing as models_billing
from courses.models.billing import (
    CampusFee,
    CancellationRecord,
    CancellationTerms,
    Invoice,
    InvoiceKind,
    InvoiceLine,
)

# --- fee table ----------------------------------------------------------------------------------------


def check_yen(value: int, field: str) -> None:
    """A price is a whole, non-negative number of yen below ten million."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10_000_000:
        raise InvalidInput(
            f"{field} は 0 以上 10,000,000 未満の整数（円）で入力してください。",
            f"{field} must be a whole number of yen from 0 to 9,999,999.",
        )


async def set_campus_fee(
    db: AsyncSession, campus_id: int, lodging: int, meals: int, now: datetime
) -> CampusFee:
    check_yen(lodging, "lodging_per_night_yen")
    check_yen(meals, "meals_per_day_yen")
    if await db.get(Campus, campus_id) is None:
        raise not_found("キャンパス", "Campus", campus_id)
    row = await db.get(CampusFee, campus_id)
    if row is None:
        row = CampusFee(campus_id=campus_id, updated_at=now)
    row.lodging_per_night_yen, row.meals_per_day_yen, row.updated_at = lodging, meals, now
    db.add(row)
    await db.flush()
    return row


async def set_course_fee(db: AsyncSession, course_id: int, fee_yen: int) -> Course:
    check_yen(fee_yen, "fee_yen")
    course = await db.get(Course, course_id)
    if course is None:
        raise not_found("研修", "Course", course_id)
    course.fee_yen = fee_yen
    course.version += 1
    db.add(course)
    await db.flush()
    return course


# --- cancellation -------------------------------------------------------------------------------------

DEFAULT_FREE_DAYS_BEFORE = models_billing.DEFAULT_FREE_DAYS_BEFORE
DEFAULT_LATE_PERCENT = models_billing.DEFAULT_LATE_PERCENT


def cancellation_percent(
    free_days_before: int, late_percent: int, first_day: date, on: date
) -> tuple[int, int]:
    """Cancelling is free up to ``free_days_before`` days before the first day, costs
    ``late_percent`` % of the course fee after that, and 100 % from the first day on.

    Returns (days before the first day, percent owed)."""
    days_before = (first_day - on).days
    if days_before <= 0:
        return days_before, 100
    if days_before >= free_days_before:
        return days_before, 0
    return days_before, late_percent


def terms_text(free_days_before: int, late_percent: int, lang: str = "ja") -> str:
    """The terms as a learner reads them before applying (``lang`` "en" on an English page)."""
    if lang == "en":
        late_en = (
            f"{late_percent}% of the fee from {free_days_before - 1} days before until the day before, "
            if free_days_before > 1
            else ""
        )
        return (
            f"Cancellation fee: free until {free_days_before} days before the first day, "
            f"{late_en}100% of the fee from the first day."
        )
    late = (
        f"{free_days_before - 1}日前から前日までは受講料の{late_percent}%、" if free_days_before > 1 else ""
    )
    return f"キャンセル料: 開講日の{free_days_before}日前までは無料、{late}開講日以降は受講料の100%です。"


async def terms_of(s: AsyncSession, course_id: int) -> tuple[int, int]:
    """(free days before, late percent) of a course: its own terms or the school's default."""
    row = await s.get(CancellationTerms, course_id)
    if row is None:
        return DEFAULT_FREE_DAYS_BEFORE, DEFAULT_LATE_PERCENT
    return row.free_days_before, row.late_percent


async def set_terms(
    s: AsyncSession, course_id: int, free_days_before: int, late_percent: int
) -> CancellationTerms:
    if not 0 <= free_days_before <= 365 or not 0 <= late_percent <= 100:
        raise InvalidInput(
            "無料期間は 0〜365 日、キャンセル料率は 0〜100 % で入力してください。",
            "Free days must be 0-365 and the late percentage 0-100.",
        )
    if await s.get(Course, course_id) is None:
        raise not_found("研修", "Course", course_id)
    row = await s.get(CancellationTerms, course_id) or CancellationTerms(course_id=course_id)
    row.free_days_before, row.late_percent = free_days_before, late_percent
    s.add(row)
    await s.flush()
    return row


async def quote(s: AsyncSession, e: Enrollment, on: date) -> CancellationQuote:
    """What cancelling ``e`` on ``on`` costs (a percentage of the course fee, which includes tax)."""
    session = await s.get(CourseSession, e.session_id)
    assert session is not None
    course = await s.get(Course, session.course_id)
    assert course is not None
    free, late = await terms_of(s, id_of(course))
    days_before, percent = cancellation_percent(free, late, session.start_date, on)
    fee = course.fee_yen * percent // 100
    text = (
        f"キャンセル料 {fee:,}円（受講料の{percent}%、開講日の{days_before}日前）"
        if percent
        else "キャンセル料はかかりません。"
    )
    return CancellationQuote(days_before, percent, fee, text)


NO_FEE = CancellationQuote(0, 0, 0, "キャンセル料はかかりません。")


async def settle_cancellation(
    s: AsyncSession,
    e: Enrollment,
    was_confirmed: bool,
    cancelled_by: str,
    settings: Settings | None,
    now: datetime,
) -> CancellationQuote:
    """Record the fee owed for a cancelled enrollment, cancel what was invoiced for it with a credit
    note (請求取消) and invoice the cancellation fee, to whoever pays (the learner or the organisation).
    A waiting-list place owes nothing, nor does anyone when the school cancels the session
    (``cancelled_by="school"``, no settings needed: no fee is invoiced)."""
    # a place given from the waiting list and not yet accepted owes nothing, like a waiting place
    unaccepted = e.confirm_by is not None
    q = (
        await quote(s, e, now.date())
        if was_confirmed and cancelled_by != "school" and not unaccepted
        else NO_FEE
    )
    s.add(
        CancellationRecord(
            enrollment_id=id_of(e),
            days_before=q.days_before,
            percent=q.percent,
            fee_yen=q.fee_yen,
            cancelled_by=cancelled_by,
            created_at=now,
        )
    )
    if not was_confirmed:
        await s.flush()
        return q
    session = await s.get(CourseSession, e.session_id)
    assert session is not None
    invoiced = list(
        (
            await s.exec(
                select(InvoiceLine, Invoice)
                .join(Invoice, col(Invoice.id) == InvoiceLine.invoice_id)
                .where(InvoiceLine.enrollment_id == e.id, Invoice.kind == InvoiceKind.INVOICE)
                .order_by(col(InvoiceLine.id))
            )
        ).all()
    )
    if e.organization_id is not None:
        org = await s.get(Organization, e.organization_id)
        recipient = f"{org.name} 御中" if org else ""
        payer: dict[str, int | None] = {"organization_id": e.organization_id}
    else:
        user = await s.get(User, e.user_id)
        recipient = f"{user.name} 様" if user else ""
        payer = {"user_id": e.user_id}
    today = now.date()
    if invoiced:
        credit = [
            Line(f"取消 {ln.description}", -ln.quantity, ln.unit_yen, ln.tax_rate_percent, e.id)
            for ln, _ in invoiced
        ]
        await _store(
            s,
            f"credit:enr:{e.id}",
            InvoiceKind.CREDIT_NOTE,
            session.campus_id,
            recipient,
            credit,
            (invoiced[0][1].registration_number, today),
            today,
            now,
            **payer,
        )
    if q.fee_yen and settings is not None:
        line = Line(f"キャンセル料（受講料の{q.percent}%）", 1, q.fee_yen, NOT_TAXED, e.id)
        await _store(
            s,
            f"cxl:enr:{e.id}",
            InvoiceKind.INVOICE,
            session.campus_id,
            recipient,
            [line],
            _issued_as(settings, today),
            today,
            now,
            **payer,
        )
    await s.flush()
    return q


async def cancel_with_fee(
    s: AsyncSession, e: Enrollment, now: datetime, settings: Settings, *, cancelled_by: str
) -> tuple[list[Enrollment], CancellationQuote]:
    """Cancel an enrollment (the seat goes to the waiting list) and settle what it owes, in one transaction."""

    was_confirmed = e.status == EnrollmentStatus.CONFIRMED
    promoted = await run_sync(s, enrollments.cancel, e, now, by_staff=cancelled_by == "staff")
    return promoted, await settle_cancellation(s, e, was_confirmed, cancelled_by, settings, now)


async def settle_cancelled_session(s: AsyncSession, session_id: int, now: datetime) -> int:
    """The school cancelled a whole session: no one owes a fee, and whatever was invoiced for its
    enrollments is cancelled by credit notes. Returns how many enrollments were settled."""
    settled = select(CancellationRecord.enrollment_id)
    rows = (
        await s.exec(
            select(Enrollment).where(
                Enrollment.session_id == session_id,
                Enrollment.status == EnrollmentStatus.CANCELLED,
                col(Enrollment.id).not_in(settled),
            )
        )
    ).all()
    for e in rows:
        await settle_cancellation(s, e, True, "school", None, now)
    return len(rows)

"""Invoices: what an enrollment owes, how an invoice's tax is computed, who may see an invoice,
issuing invoices and recording payments idempotently, and reading them back.

Money is integer yen. Prices and line amounts include consumption tax, as the catalog shows them
(受講料（税込）); the tax they contain is computed once per invoice and per rate,
rounded down (the qualified-invoice rule), so every total can be recomputed from its lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.service import staff_campus_ids
from courses.billing.schemas import InvoiceData, Line, TaxRow, UnpaidRow
from courses.core.errors import InvalidInput, not_found
from courses.core.settings import Settings
from courses.enrollment.service import ensure_staff_campus
from courses.models import (
    Course,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    Organization,
    Role,
    SessionBlock,
    User,
    id_of,
)
from courses.models.billing import (
    CampusFee,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Payment,
)

T = TypeVar("T")


STANDARD_RATE = 10  # 標準税率 (%)
NOT_TAXED = 0  # 不課税: a cancellation fee is compensation, not a supply


# --- what an enrollment owes ------------------------------------------------------------------------


def enrollment_lines(
    enrollment: Enrollment, course: Course, blocks: list[SessionBlock], fee: CampusFee | None
) -> list[Line]:
    """An enrollment owes the course fee, lodging per night if it lodges, and meals per meeting day,
    where the campus charges them (a campus without a fee row charges neither)."""
    lines = [Line(f"受講料 {course.title_ja}", 1, course.fee_yen, STANDARD_RATE, enrollment.id)]
    if fee is None:
        return lines
    nights = sum((b.end_date - b.start_date).days for b in blocks)
    days = sum((b.end_date - b.start_date).days + 1 for b in blocks)
    if enrollment.lodging and nights and fee.lodging_per_night_yen:
        lines.append(Line("宿泊費（1泊）", nights, fee.lodging_per_night_yen, STANDARD_RATE, enrollment.id))
    if days and fee.meals_per_day_yen:
        lines.append(Line("食事代（1日）", days, fee.meals_per_day_yen, STANDARD_RATE, enrollment.id))
    return lines


def taxes(lines: list[Line]) -> list[TaxRow]:
    """The tax contained in each rate's lines, computed once per invoice and per rate on their sum
    (tax-inclusive), rounded down: floor(sum × rate / (100 + rate))."""
    base: dict[int, int] = defaultdict(int)
    for line in lines:
        base[line.tax_rate_percent] += line.amount_yen
    # floor division rounds toward minus infinity; a credit note's tax mirrors its invoice's
    return [
        TaxRow(rate, amount, (abs(amount) * rate // (100 + rate)) * (1 if amount >= 0 else -1))
        for rate, amount in sorted(base.items(), reverse=True)
    ]


def totals(lines: list[Line]) -> tuple[int, int, int]:
    """(subtotal without tax, tax, total with tax) of a set of lines; the total is their sum."""
    total = sum(line.amount_yen for line in lines)
    tax = sum(row.tax_yen for row in taxes(lines))
    return total - tax, tax, total


# --- access -------------------------------------------------------------------------------------------


async def ensure_can_see(db: AsyncSession, user: User, invoice: Invoice) -> None:
    """Learners see their own invoices, coordinators their organisation's, staff their campus's."""

    if user.role == Role.LEARNER and invoice.user_id == user.id and invoice.organization_id is None:
        return
    if user.role == Role.COORDINATOR and invoice.organization_id in (user.organization_id or -1,):
        return
    if user.role in (Role.STAFF, Role.ADMIN) and invoice.campus_id in await staff_campus_ids(db, user):
        return
    # someone else's invoice is reported as missing, to reveal nothing
    raise not_found("請求書", "Invoice", invoice.id)


async def ensure_campus(db: AsyncSession, user: User, campus_id: int) -> None:

    await ensure_staff_campus(db, user, campus_id)


# --- issuing ------------------------------------------------------------------------------------------


async def _once(
    s: AsyncSession,
    find: Callable[[AsyncSession], Awaitable[T | None]],
    create: Callable[[AsyncSession], Awaitable[T]],
) -> T:
    """Create a row at most once, inside the caller's write transaction: a repeated or concurrent
    call returns the first one.

    A unique constraint decides between concurrent writers. SQLite writers are serialised, so the
    second finds the first. On PostgreSQL the loser's insert waits for the winner's commit and then
    fails; it ran in a SAVEPOINT, so only the insert is undone, the caller's transaction goes on, and
    its next statement (READ COMMITTED) sees the winner's row."""
    if (found := await find(s)) is not None:
        return found
    try:
        async with s.begin_nested():
            return await create(s)
    except IntegrityError:
        found = await find(s)
        if found is None:
            raise
        return found


def _invoice_by_key(key: str) -> Callable[[AsyncSession], Awaitable[Invoice | None]]:
    async def find(s: AsyncSession) -> Invoice | None:
        return (await s.exec(select(Invoice).where(Invoice.issue_key == key))).first()

    return find


def _issued_as(settings: Settings, today: date) -> tuple[str, date]:
    """The registration number and payment due date an invoice issued today carries."""
    return settings.invoice_registration_number, today + timedelta(days=settings.invoice_due_days)


async def _store(
    s: AsyncSession,
    key: str,
    kind: str,
    campus_id: int,
    recipient: str,
    lines: list[Line],
    issued_as: tuple[str, date],
    today: date,
    now: datetime,
    *,
    user_id: int | None = None,
    organization_id: int | None = None,
) -> Invoice:
    subtotal, tax, total = totals(lines)
    invoice = Invoice(
        issue_key=key,
        kind=kind,
        number="",
        campus_id=campus_id,
        user_id=user_id,
        organization_id=organization_id,
        recipient_name=recipient,
        registration_number=issued_as[0],
        issue_date=today,
        due_date=issued_as[1],
        subtotal_yen=subtotal,
        tax_yen=tax,
        total_yen=total,
        created_at=now,
    )
    s.add(invoice)
    await s.flush()
    invoice.number = f"{'CN' if kind == InvoiceKind.CREDIT_NOTE else 'INV'}-{today:%Y%m}-{invoice.id:06d}"
    s.add(invoice)
    for line in lines:
        s.add(
            InvoiceLine(
                invoice_id=id_of(invoice),
                enrollment_id=line.enrollment_id,
                description=line.description,
                quantity=line.quantity,
                unit_yen=line.unit_yen,
                amount_yen=line.amount_yen,
                tax_rate_percent=line.tax_rate_percent,
            )
        )
    await s.flush()
    return invoice


async def _load_lines(s: AsyncSession, enrollments: list[Enrollment]) -> list[Line]:
    lines: list[Line] = []
    for e in enrollments:
        session = await s.get(CourseSession, e.session_id)
        assert session is not None
        course = await s.get(Course, session.course_id)
        assert course is not None
        blocks = list(
            (
                await s.exec(
                    select(SessionBlock)
                    .where(SessionBlock.session_id == session.id)
                    .order_by(col(SessionBlock.seq))
                )
            ).all()
        )
        fee = await s.get(CampusFee, session.campus_id)
        lines += enrollment_lines(e, course, blocks, fee)
    return lines


async def issue_for_enrollment(
    s: AsyncSession, user: User, enrollment_id: int, settings: Settings, now: datetime
) -> Invoice:
    """One invoice per confirmed enrollment a learner pays for themself, issued by staff of its
    campus or on the learner's own request (``s``: the caller's write transaction)."""
    e = await s.get(Enrollment, enrollment_id)
    session = await s.get(CourseSession, e.session_id) if e is not None else None
    staff = user.role in (Role.STAFF, Role.ADMIN)
    if e is None or session is None or (not staff and e.user_id != user.id):
        raise not_found("申込", "Enrollment", enrollment_id)
    if staff:
        await ensure_campus(s, user, session.campus_id)

    async def build(s: AsyncSession) -> Invoice:
        e = await s.get(Enrollment, enrollment_id)
        assert e is not None
        if e.status != EnrollmentStatus.CONFIRMED:
            raise InvalidInput(
                "確定した申込にのみ請求書を発行できます。", "Only a confirmed enrollment is invoiced."
            )
        if e.organization_id is not None:
            raise InvalidInput(
                "団体申込の受講料は団体あての月次請求書で請求します。",
                "An organisation's registrations are invoiced to the organisation, monthly.",
            )
        session = await s.get(CourseSession, e.session_id)
        user = await s.get(User, e.user_id)
        assert session is not None and user is not None
        lines = await _load_lines(s, [e])
        return await _store(
            s,
            f"enr:{e.id}",
            InvoiceKind.INVOICE,
            session.campus_id,
            f"{user.name} 様",
            lines,
            _issued_as(settings, now.date()),
            now.date(),
            now,
            user_id=user.id,
        )

    return await _once(s, _invoice_by_key(f"enr:{enrollment_id}"), build)


async def issue_for_organization(
    s: AsyncSession,
    user: User,
    organization_id: int,
    campus_id: int,
    month: str,
    settings: Settings,
    now: datetime,
) -> Invoice:
    """One consolidated invoice per organisation, campus and month of session start (``YYYY-MM``),
    in the caller's write transaction ``s``."""
    await ensure_campus(s, user, campus_id)
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise InvalidInput("月は YYYY-MM の形式で指定してください。", "Give the month as YYYY-MM.") from None
    after = (first + timedelta(days=32)).replace(day=1)
    key = f"org:{organization_id}:{campus_id}:{month}"

    async def build(s: AsyncSession) -> Invoice:
        org = await s.get(Organization, organization_id)
        if org is None:
            raise not_found("団体", "Organisation", organization_id)
        rows = list(
            (
                await s.exec(
                    select(Enrollment)
                    .join(CourseSession, col(CourseSession.id) == Enrollment.session_id)
                    .where(
                        Enrollment.organization_id == organization_id,
                        Enrollment.status == EnrollmentStatus.CONFIRMED,
                        CourseSession.campus_id == campus_id,
                        col(CourseSession.start_date) >= first,
                        col(CourseSession.start_date) < after,
                    )
                    .order_by(col(CourseSession.start_date), col(Enrollment.id))
                )
            ).all()
        )
        if not rows:
            raise InvalidInput(
                "この月に請求する確定済みの申込がありません。",
                "No confirmed registrations to invoice that month.",
            )
        lines = await _load_lines(s, rows)
        return await _store(
            s,
            key,
            InvoiceKind.INVOICE,
            campus_id,
            f"{org.name} 御中",
            lines,
            _issued_as(settings, now.date()),
            now.date(),
            now,
            organization_id=organization_id,
        )

    return await _once(s, _invoice_by_key(key), build)


# --- reading ------------------------------------------------------------------------------------------


async def invoice_data(s: AsyncSession, invoice: Invoice, settings: Settings) -> InvoiceData:
    rows = (
        await s.exec(
            select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(col(InvoiceLine.id))
        )
    ).all()
    lines = [Line(r.description, r.quantity, r.unit_yen, r.tax_rate_percent, r.enrollment_id) for r in rows]
    paid = sum((await s.exec(select(Payment.amount_yen).where(Payment.invoice_id == invoice.id))).all())
    return InvoiceData(
        id=id_of(invoice),
        number=invoice.number,
        kind=invoice.kind,
        issuer=settings.invoice_issuer,
        registration_number=invoice.registration_number,
        recipient_name=invoice.recipient_name,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        bank_account=settings.invoice_bank_account,
        lines=lines,
        taxes=taxes(lines),
        subtotal_yen=invoice.subtotal_yen,
        tax_yen=invoice.tax_yen,
        total_yen=invoice.total_yen,
        paid_yen=paid,
    )


async def visible_invoice(s: AsyncSession, user: User, invoice_id: int) -> Invoice:
    invoice = await s.get(Invoice, invoice_id)
    if invoice is None:
        raise not_found("請求書", "Invoice", invoice_id)
    await ensure_can_see(s, user, invoice)
    return invoice


async def invoices_of(s: AsyncSession, user: User, *, organization_id: int | None = None) -> list[Invoice]:
    """A learner's own invoices, a coordinator's organisation's, or those of a member of staff's campuses
    (``organization_id``: only that organisation's, for the organisation page)."""

    if organization_id is not None:
        if user.role != Role.ADMIN and organization_id != user.organization_id:
            return []
        where: ColumnElement[bool] = col(Invoice.organization_id) == organization_id
    elif user.role == Role.COORDINATOR:
        where = col(Invoice.organization_id) == (user.organization_id or -1)
    elif user.role == Role.LEARNER:
        where = (col(Invoice.user_id) == user.id) & col(Invoice.organization_id).is_(None)
    else:
        where = col(Invoice.campus_id).in_(await staff_campus_ids(s, user))
    return list((await s.exec(select(Invoice).where(where).order_by(col(Invoice.id).desc()))).all())


async def campus_invoices(s: AsyncSession, user: User, campus_id: int) -> list[Invoice]:
    await ensure_campus(s, user, campus_id)
    return list(
        (
            await s.exec(
                select(Invoice).where(Invoice.campus_id == campus_id).order_by(col(Invoice.id).desc())
            )
        ).all()
    )


# --- payments -----------------------------------------------------------------------------------------


def _transfer_reference(reference: str, amount_yen: int) -> str:
    """The transfer's reference, stripped, once it and the amount are admissible."""
    reference = reference.strip()
    if not reference or len(reference) > 100:
        raise InvalidInput(
            "振込の照会番号（1〜100文字）を入力してください。",
            "Give the transfer reference (1-100 characters).",
        )
    if isinstance(amount_yen, bool) or amount_yen <= 0 or amount_yen >= 100_000_000:
        raise InvalidInput(
            "入金額は 1 円以上の整数で入力してください。",
            "The amount must be a positive whole number of yen.",
        )
    return reference


async def record_payment(
    s: AsyncSession,
    user: User,
    invoice_id: int,
    amount_yen: int,
    paid_on: date,
    reference: str,
    now: datetime,
) -> Payment:
    """Record one transfer in the caller's write transaction ``s``; the same transfer reference on
    the same invoice is recorded once, even when two members of staff record it at the same moment."""
    # a wrong field is told before the invoice is looked up (record_checked_payment checks it again)
    _transfer_reference(reference, amount_yen)
    invoice = await s.get(Invoice, invoice_id)
    if invoice is None:
        raise not_found("請求書", "Invoice", invoice_id)
    await ensure_campus(s, user, invoice.campus_id)
    return await record_checked_payment(s, user, invoice_id, amount_yen, paid_on, reference, now)


async def record_checked_payment(
    s: AsyncSession,
    user: User,
    invoice_id: int,
    amount_yen: int,
    paid_on: date,
    reference: str,
    now: datetime,
) -> Payment:
    """``record_payment`` for a caller that has already found the invoice on a campus of ``user``'s
    (a bank statement's match, which checks the campus once for all its rows)."""
    reference = _transfer_reference(reference, amount_yen)

    async def find(s: AsyncSession) -> Payment | None:
        stmt = select(Payment).where(Payment.invoice_id == invoice_id, Payment.reference == reference)
        return (await s.exec(stmt)).first()

    async def create(s: AsyncSession) -> Payment:
        payment = Payment(
            invoice_id=invoice_id,
            amount_yen=amount_yen,
            paid_on=paid_on,
            reference=reference,
            recorded_by=id_of(user),
            created_at=now,
        )
        s.add(payment)
        await s.flush()
        return payment

    return await _once(s, find, create)


async def unpaid_past_due(s: AsyncSession, user: User, campus_id: int, today: date) -> list[UnpaidRow]:
    """Invoices of a campus whose due date has passed and whose payments do not cover them."""
    from sqlalchemy import func

    await ensure_campus(s, user, campus_id)
    paid = (
        select(Payment.invoice_id, func.sum(Payment.amount_yen).label("paid"))
        .group_by(col(Payment.invoice_id))
        .subquery()
    )
    paid_yen = func.coalesce(paid.c.paid, 0)
    rows = await s.exec(
        select(Invoice, paid_yen)
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(
            Invoice.campus_id == campus_id,
            Invoice.kind == InvoiceKind.INVOICE,
            col(Invoice.due_date) < today,
            paid_yen < Invoice.total_yen,
        )
        .order_by(col(Invoice.due_date), col(Invoice.id))
    )
    return [
        UnpaidRow(id_of(i), i.number, i.recipient_name, i.due_date, i.total_yen, int(p))
        for i, p in rows.all()
    ]

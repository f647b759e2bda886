"""What a person may do with their own account beyond the profile: download everything held about
them, and delete the account.

Deleting cancels what has not begun through billing's one cancellation path (seats go back to the
waiting list, fees are settled by the cancellation terms), then anonymises the account row: the
enrollments and invoices stay, for the accounts, tied to a name that no longer says who it was.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template
from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts import service as accounts
from courses.accounts.guards import SESSION_COOKIE, CurrentUser
from courses.billing import service as billing
from courses.billing.schemas import CancellationQuote
from courses.catalog import service as catalog
from courses.core import i18n, mail
from courses.core.bodies import Form
from courses.core.deps import DB, Reading
from courses.core.downloads import csv_response, file_response
from courses.core.errors import DomainError, FieldError, Forbidden, InvalidInput
from courses.core.settings import Settings
from courses.core.tabular import write_csv
from courses.enrollment import service as enrollment
from courses.enrollment.service import ACTIVE
from courses.models import (
    AuthToken,
    Course,
    CourseSession,
    Enrollment,
    IdempotencyRecord,
    LearnerProfile,
    Organization,
    OutboxMessage,
    Role,
    User,
    id_of,
)
from courses.models.billing import CancellationRecord, Invoice, InvoiceLine, Payment
from courses.models.bulk import OrganizationMember, RegistrationInvitation

DELETED_NAME = "退会済み"
UNUSABLE_PASSWORD = "!deleted"  # not an argon2 hash: no password verifies against it


def deleted_email(user_id: int) -> str:
    """A unique address that no mail can reach (`.invalid` is reserved, RFC 2606) and no form accepts."""
    return f"deleted-{user_id}@invalid"


# --- my data ---------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: _plain(getattr(obj, f)) for f in fields}


async def my_data(s: AsyncSession, user_id: int) -> dict[str, Any]:
    """Everything held about one person: account, profile, enrollments, invoices and what
    organisations registered for them. Only rows of ``user_id`` (or addressed to their email)."""
    user = await s.get(User, user_id)
    assert user is not None
    profile = await s.get(LearnerProfile, user_id)
    orgs = {o.id: o.name for o in await s.exec(select(Organization))}
    rows = [
        (r.enrollment, r.session, r.course, r.campus) for r in await enrollment.my_enrollments(s, user_id)
    ]
    blocks = {
        sid: [{"start": b.start_date.isoformat(), "end": b.end_date.isoformat()} for b in found]
        for sid, found in (await catalog.blocks_for(s, [id_of(sess) for _, sess, _, _ in rows])).items()
    }
    fees = {
        c.enrollment_id: c
        for c in await s.exec(
            select(CancellationRecord).where(
                col(CancellationRecord.enrollment_id).in_([e.id for e, *_ in rows])
            )
        )
    }
    enrollments = []
    for e, sess, course, campus in rows:
        fee = fees.get(e.id or 0)
        enrollments.append(
            {
                "id": e.id,
                "session_code": sess.code,
                "course_code": course.code,
                "course_title": course.title_ja,
                "campus": campus.name_ja,
                "start_date": sess.start_date.isoformat(),
                "end_date": sess.end_date.isoformat(),
                "dates": blocks.get(sess.id or 0, []),
                "status": e.status,
                "lodging": e.lodging,
                "source": e.source,
                "organization": orgs.get(e.organization_id) if e.organization_id else None,
                "registered_name": e.registered_name,
                "cancellation_fee_yen": fee.fee_yen if fee else None,
                "created_at": _plain(e.created_at),
                "updated_at": _plain(e.updated_at),
            }
        )
    invoices = []
    for inv in await s.exec(select(Invoice).where(Invoice.user_id == user_id).order_by(col(Invoice.id))):
        lines = await s.exec(
            select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id).order_by(col(InvoiceLine.id))
        )
        paid = await s.exec(select(Payment).where(Payment.invoice_id == inv.id).order_by(col(Payment.id)))
        invoices.append(
            _row(inv, ("id", "kind", "number", "recipient_name", "issue_date", "due_date"))
            | _row(inv, ("subtotal_yen", "tax_yen", "total_yen"))
            | {
                "lines": [
                    _row(ln, ("description", "quantity", "unit_yen", "amount_yen", "tax_rate_percent"))
                    for ln in lines
                ],
                "payments": [_row(p, ("amount_yen", "paid_on")) for p in paid],
            }
        )
    memberships = [
        {"organization": orgs.get(m.organization_id), "since": _plain(m.created_at)}
        for m in await s.exec(select(OrganizationMember).where(OrganizationMember.user_id == user_id))
    ]
    invitations = [
        {
            "organization": orgs.get(i.organization_id),
            "name": i.name,
            "name_kana": i.name_kana,
            "status": i.status,
            "created_at": _plain(i.created_at),
        }
        for i in await s.exec(
            select(RegistrationInvitation)
            .where(RegistrationInvitation.email == user.email)
            .order_by(col(RegistrationInvitation.id))
        )
    ]
    return {
        "account": _row(
            user, ("id", "email", "name", "name_kana", "role", "created_at", "email_verified_at", "language")
        )
        | {"organization": orgs.get(user.organization_id) if user.organization_id else None},
        "profile": _row(profile, PROFILE_COLUMNS) if profile else None,
        "enrollments": enrollments,
        "invoices": invoices,
        "organization_registrations": {
            "registered": [e for e in enrollments if e["organization"]],
            "memberships": memberships,
            "invitations": invitations,
        },
    }


PROFILE_COLUMNS = tuple(c for c in LearnerProfile.model_fields if c not in {"user_id", "competitors"})


def data_csv(data: dict[str, Any]) -> bytes:
    """The same data as one long table (区分, 番号, 項目, 値): every value in a cell of its own."""
    out: list[list[object]] = []

    def add(section: str, number: object, record: dict[str, Any]) -> None:
        for key, value in record.items():
            if isinstance(value, list | dict):
                value = json.dumps(value, ensure_ascii=False)
            out.append([section, number, key, "" if value is None else value])

    add("account", "", data["account"])
    if data["profile"]:
        add("profile", "", data["profile"])
    for section in ("enrollments", "invoices"):
        for i, record in enumerate(data[section], start=1):
            add(section, i, record)
    for part in ("memberships", "invitations"):
        for i, record in enumerate(data["organization_registrations"][part], start=1):
            add(f"organization_{part}", i, record)
    return write_csv(["区分", "番号", "項目", "値"], out)


# --- deleting an account ---------------------------------------------------------------------------


@dataclass
class Pending:
    """An enrollment the deletion would cancel, and what cancelling it costs today."""

    enrollment: Enrollment
    session: CourseSession
    course: Course
    fee: CancellationQuote


STAFF_MAY_NOT_DELETE = (
    "職員・管理者のアカウントはご自身では削除できません。管理者にご依頼ください。",
    "Staff and administrator accounts cannot be deleted by their owner; ask an administrator.",
)
# the deletion pages admit learners and coordinators; the guard tells staff and administrators why not
DELETE_ACCESS = {"access": "self_service", "refused": STAFF_MAY_NOT_DELETE}


def may_delete(user: User) -> None:
    if user.role in {Role.STAFF, Role.ADMIN}:
        raise Forbidden(*STAFF_MAY_NOT_DELETE)


async def to_cancel(s: AsyncSession, user_id: int, today: date) -> list[Pending]:
    """The person's confirmed and waiting-list places in sessions that have not begun."""
    rows = await s.exec(
        select(Enrollment, CourseSession, Course)
        .join(CourseSession, col(CourseSession.id) == Enrollment.session_id)
        .join(Course, col(Course.id) == CourseSession.course_id)
        .where(
            Enrollment.user_id == user_id,
            col(Enrollment.status).in_(ACTIVE),
            col(CourseSession.start_date) > today,
        )
        .order_by(col(CourseSession.start_date), col(Enrollment.id))
    )
    out = []
    for e, sess, course in rows:
        fee = await billing.quote(s, e, today) if e.status == "confirmed" else billing.NO_FEE
        out.append(Pending(e, sess, course, fee))
    return out


async def delete_account(s: AsyncSession, user_id: int, now: datetime, settings: Settings) -> int:
    """Cancel what has not begun, tell the person, then anonymise the account. Returns how many
    enrollments were cancelled. Enrollment, cancellation and invoice rows stay for the accounts."""
    user = await s.get(User, user_id)
    assert user is not None
    may_delete(user)
    pending = await to_cancel(s, user_id, now.date())
    for p in pending:
        # the one cancellation path: the seat goes to the waiting list, the fee is settled
        await billing.cancel_with_fee(s, p.enrollment, now, settings, cancelled_by="learner")
    mail.send(s, user, "account_deleted.txt", now, cancelled=len(pending))
    user.name, user.name_kana = DELETED_NAME, ""
    user.email = deleted_email(user_id)
    user.password_hash = UNUSABLE_PASSWORD
    user.feed_token = secrets.token_urlsafe(24)
    s.add(user)
    for table, column in (
        (LearnerProfile, LearnerProfile.user_id),
        (AuthToken, AuthToken.user_id),  # every sign-in, API token and emailed link
        (OrganizationMember, OrganizationMember.user_id),
        (IdempotencyRecord, IdempotencyRecord.user_id),
    ):
        await s.exec(delete(table).where(col(column) == user_id))
    # mail already delivered is not kept; what is still to be sent (the notices above) goes out
    await s.exec(
        delete(OutboxMessage).where(
            col(OutboxMessage.user_id) == user_id, col(OutboxMessage.sent_at).is_not(None)
        )
    )
    await s.flush()
    return len(pending)


class AccountDataPages(Controller):
    include_in_schema = False

    @get("/account/data.json", opt={"access": "user"})
    async def data_json(self, user: CurrentUser, reading: Reading) -> Response[bytes]:
        data = await my_data(reading, user.id or 0)
        body = json.dumps(data, ensure_ascii=False, indent=2).encode()
        return file_response(body, "my-data.json", "application/json")

    @get("/account/data.csv", opt={"access": "user"})
    async def data_csv(self, user: CurrentUser, reading: Reading) -> Response[bytes]:
        data = await my_data(reading, user.id or 0)
        return csv_response(data_csv(data), "my-data.csv")

    @get("/account/delete", opt=DELETE_ACCESS)
    async def delete_form(
        self, request: Request[Any, Any, Any], user: CurrentUser, reading: Reading
    ) -> Template:
        return await _delete_page(request, user, reading)

    @post("/account/delete", opt=DELETE_ACCESS)
    async def delete(
        self, request: Request[Any, Any, Any], user: CurrentUser, db: DB, data: Form
    ) -> Response[Any]:
        """Only with the password typed again; staff and administrators are refused (403)."""
        async with db.read() as s:
            stored = (await s.exec(select(User.password_hash).where(User.id == user.id))).one()
        if not await accounts.verify_password(stored, data.get("password", "")):
            wrong = "パスワードが正しくありません。"
            error = InvalidInput(
                wrong, "The password is wrong.", errors=[FieldError("password", wrong, "Wrong password.")]
            )
            async with db.read() as s:
                return await _delete_page(request, user, s, error)
        now = request.app.state.clock()
        async with db.write() as s:
            cancelled = await delete_account(s, user.id or 0, now, request.app.state.settings)
        request.app.state.token_cache.clear()  # signed out everywhere, in this process at once
        page = Template("account_delete.html", context={"done": True, "cancelled": cancelled})
        page.delete_cookie(SESSION_COOKIE, path="/")
        return page


async def _delete_page(
    request: Request[Any, Any, Any], user: User, s: AsyncSession, error: DomainError | None = None
) -> Template:
    pending = await to_cancel(s, user.id or 0, request.app.state.clock().date())
    return Template(
        "account_delete.html",
        context={"done": False, "pending": pending, "error": error.detail(i18n.current()) if error else None},
        status_code=error.status if error else 200,
    )

"""What an organisation sees after its uploads: batches, registrants, cancellation and the bill.

A coordinator sees and manages only what their own organisation registered; administrators see every
organisation. Another organisation's data is reported as missing, never as forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts import service as accounts
from courses.accounts import throttle as signin_throttle
from courses.accounts import verification
from courses.accounts.service import check_new_password  # noqa: F401  (the pages use it from here)
from courses.billing.schemas import CancellationQuote
from courses.billing.service import cancel_with_fee
from courses.catalog import service as catalog
from courses.core import tabular
from courses.core.errors import InvalidInput, not_found
from courses.core.settings import Settings
from courses.core.tx import run_sync
from courses.models import (
    AuthToken,
    Campus,
    Course,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    Organization,
    Role,
    User,
)
from courses.models.bulk import BulkBatch, InvitationStatus, RegistrationInvitation

STATUS_JA = {"confirmed": "受講決定", "waitlisted": "キャンセル待ち", "cancelled": "キャンセル"}
INVITATION_JA = {
    InvitationStatus.PENDING: "招待送信済み（本人の承諾待ち）",
    InvitationStatus.DECLINED: "辞退",
    InvitationStatus.CLOSED: "登録に至りませんでした",
    "expired": "期限切れ",
}


async def organization_for(s: AsyncSession, user: User, organization_id: int) -> Organization:
    """The organisation, if ``user`` may act for it: its own coordinators, and administrators."""
    org = await s.get(Organization, organization_id)
    if org is None or (user.role != Role.ADMIN and user.organization_id != organization_id):
        raise not_found("団体", "Organization", organization_id)
    return org


async def organizations_of(s: AsyncSession, user: User) -> list[Organization]:
    """Organisations ``user`` may act for, for the choice on the organisation page."""
    stmt = select(Organization).order_by(col(Organization.id))
    if user.role != Role.ADMIN:
        stmt = stmt.where(Organization.id == (user.organization_id or -1))
    return list(await s.exec(stmt))


async def batches(s: AsyncSession, organization_id: int) -> list[BulkBatch]:
    return list(
        await s.exec(
            select(BulkBatch)
            .where(BulkBatch.organization_id == organization_id)
            .order_by(col(BulkBatch.id).desc())
        )
    )


@dataclass
class Registrant:
    enrollment: Enrollment
    user: User
    session: CourseSession
    course: Course
    campus: Campus
    waitlist_position: int | None


async def registrants(s: AsyncSession, organization_id: int) -> list[Registrant]:
    """Everyone the organisation registered, with waiting-list positions counted in one query."""
    rows = list(
        await s.exec(
            # sqlmodel's select is typed for at most four entities
            select(Enrollment, User, CourseSession, Course, Campus)  # type: ignore[call-overload]
            .join(User, col(User.id) == Enrollment.user_id)
            .join(CourseSession, col(CourseSession.id) == Enrollment.session_id)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .join(Campus, col(Campus.id) == CourseSession.campus_id)
            .where(Enrollment.organization_id == organization_id)
            .order_by(col(CourseSession.start_date), col(CourseSession.code), col(Enrollment.id))
        )
    )
    session_ids = sorted({e.session_id for e, *_ in rows if e.status == EnrollmentStatus.WAITLISTED})
    queue: dict[int, list[int]] = {}
    if session_ids:
        waiting = await s.exec(
            select(Enrollment.session_id, Enrollment.waitlist_seq)
            .where(
                col(Enrollment.session_id).in_(session_ids), Enrollment.status == EnrollmentStatus.WAITLISTED
            )
            .order_by(col(Enrollment.session_id), col(Enrollment.waitlist_seq))
        )
        for sid, seq in waiting:
            queue.setdefault(sid, []).append(seq or 0)
    out = []
    for e, u, sess, course, campus in rows:
        position = None
        if e.status == EnrollmentStatus.WAITLISTED:
            position = sum(1 for q in queue.get(e.session_id, []) if q <= (e.waitlist_seq or 0))
        out.append(Registrant(e, u, sess, course, campus, position))
    return out


@dataclass
class Invited:
    """An invitation not (yet) turned into a registration: what the file said, and its status."""

    invitation: RegistrationInvitation
    session: CourseSession
    course: Course
    status: str

    @property
    def status_ja(self) -> str:
        return INVITATION_JA[self.status]


async def invitations(s: AsyncSession, organization_id: int, now: datetime) -> list[Invited]:
    """The organisation's invitations that are not registrations: pending, expired, declined or closed.
    An accepted one is listed among the registrants instead."""
    rows = await s.exec(
        select(RegistrationInvitation, CourseSession, Course)
        .join(CourseSession, col(CourseSession.id) == RegistrationInvitation.session_id)
        .join(Course, col(Course.id) == CourseSession.course_id)
        .where(
            RegistrationInvitation.organization_id == organization_id,
            RegistrationInvitation.status != InvitationStatus.ACCEPTED,
        )
        .order_by(col(RegistrationInvitation.batch_id).desc(), col(RegistrationInvitation.row))
    )
    out = []
    for inv, sess, course in rows:
        status = inv.status
        expires = inv.expires_at if inv.expires_at.tzinfo else inv.expires_at.replace(tzinfo=now.tzinfo)
        if status == InvitationStatus.PENDING and expires <= now:
            status = "expired"
        out.append(Invited(inv, sess, course, status))
    return out


async def cancel_registrant(
    s: AsyncSession, organization_id: int, enrollment_id: int, now: datetime, settings: Settings
) -> CancellationQuote:
    """A coordinator cancels one of the organisation's registrants on the learner's behalf: the same
    rules as the learner's own cancellation (not once the session has started)."""
    row = await s.get(Enrollment, enrollment_id)
    if row is None or row.organization_id != organization_id:
        raise not_found("申込", "Enrollment", enrollment_id)
    _, owed = await cancel_with_fee(s, row, now, settings, cancelled_by="organization")
    return owed


# --- billing ----------------------------------------------------------------------------------------


@dataclass
class BillingLine:
    session_code: str
    course_title: str
    start_date: Any
    fee_yen: int  # per person
    confirmed: int
    lodging_people: int
    nights_per_person: int
    course_title_en: str = ""  # the page shows it in English when there is one

    @property
    def fees_yen(self) -> int:
        return self.fee_yen * self.confirmed

    @property
    def lodging_nights(self) -> int:
        return self.lodging_people * self.nights_per_person


@dataclass
class Billing:
    lines: list[BillingLine]

    @property
    def total_fees_yen(self) -> int:
        return sum(x.fees_yen for x in self.lines)

    @property
    def total_lodging_nights(self) -> int:
        return sum(x.lodging_nights for x in self.lines)

    @property
    def total_confirmed(self) -> int:
        return sum(x.confirmed for x in self.lines)


async def billing(s: AsyncSession, organization_id: int) -> Billing:
    """Fees for confirmed registrants (the course fee each) and lodging nights (one night fewer than
    the days of each block, for those who asked for lodging), per session and in total. People on a
    waiting list or cancelled are not billed."""
    rows = list(
        await s.exec(
            select(Enrollment, CourseSession, Course)
            .join(CourseSession, col(CourseSession.id) == Enrollment.session_id)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .where(
                Enrollment.organization_id == organization_id, Enrollment.status == EnrollmentStatus.CONFIRMED
            )
            .order_by(col(CourseSession.start_date), col(CourseSession.code))
        )
    )
    blocks = await catalog.blocks_for(s, sorted({sess.id or 0 for _, sess, _ in rows}))
    lines: dict[int, BillingLine] = {}
    for e, sess, course in rows:
        line = lines.get(sess.id or 0)
        if line is None:
            nights = sum((b.end_date - b.start_date).days for b in blocks.get(sess.id or 0, []))
            line = lines[sess.id or 0] = BillingLine(
                sess.code,
                course.title_ja,
                sess.start_date,
                course.fee_yen,
                0,
                0,
                nights,
                course.title_en or "",
            )
        line.confirmed += 1
        line.lodging_people += 1 if e.lodging else 0
    return Billing(list(lines.values()))


def billing_csv(bill: Billing) -> bytes:
    """UTF-8 with BOM, so that Excel opens the Japanese text correctly."""
    header = [
        "開催回コード",
        "研修名",
        "開始日",
        "受講料（1人）",
        "受講決定人数",
        "受講料計",
        "宿泊人数",
        "泊数（1人）",
        "延べ泊数",
    ]
    lines: list[list[object]] = [
        [
            x.session_code,
            x.course_title,
            x.start_date.isoformat(),
            x.fee_yen,
            x.confirmed,
            x.fees_yen,
            x.lodging_people,
            x.nights_per_person,
            x.lodging_nights,
        ]
        for x in bill.lines
    ]
    total = ["合計", "", "", "", bill.total_confirmed, bill.total_fees_yen, "", "", bill.total_lodging_nights]
    return tabular.write_csv(header, [*lines, total])


# --- setting a password from the emailed link -------------------------------------------------------


def invalid_link() -> InvalidInput:
    return InvalidInput(
        "このリンクは無効か、有効期限が切れています。大学校または申込団体にお問い合わせください。",
        "This link is invalid or has expired.",
    )


async def set_password(s: AsyncSession, secret: str, password_hash: str, now: datetime) -> User:
    """Set the password of the person a reset link was sent to; the link then stops working."""
    user = await run_sync(s, accounts.user_for_token, secret, "reset", now)
    if user is None:
        raise invalid_link()
    user.password_hash = password_hash
    verification.mark_verified(user, now)  # the link came to this address
    await signin_throttle.forget_email(s, user.email)
    s.add(user)
    # the link works once, and a recovered account is signed out everywhere else
    for token in await s.exec(select(AuthToken).where(AuthToken.user_id == user.id)):
        await s.delete(token)
    return user

"""Invitations: an organisation asks a person it has not registered before to join its registration.

The emailed secret is the only key. Whoever holds it sees the organisation's request and answers it:
accepting creates the account if the address has none (with a password of their choosing), links the
person to the organisation, and takes a seat through the single enrollment path (or the end of the
waiting list). Until then the coordinator sees "invitation sent" and the name the file gave, nothing
about an account; afterwards they see the registration the person agreed to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts import service as accounts
from courses.accounts import verification
from courses.core import i18n
from courses.core.errors import Conflict, DomainError, InvalidInput, NotEligible
from courses.core.tx import run_sync
from courses.enrollment import seats
from courses.enrollment import service as enrollment
from courses.models import (
    Campus,
    Course,
    CourseSession,
    Enrollment,
    LearnerProfile,
    Organization,
    Role,
    User,
)
from courses.models.bulk import InvitationStatus, OrganizationMember, RegistrationInvitation


def invalid_invitation() -> InvalidInput:
    return InvalidInput(
        "この確認コードのご依頼は見つからないか、回答済みか、有効期限が切れています。申込団体にお問い合わせください。",
        "This invitation does not exist, has been answered, or has expired.",
    )


@dataclass
class Offered:
    """One session an invitation asks the person to join."""

    invitation: RegistrationInvitation
    session: CourseSession
    course: Course
    campus: Campus


@dataclass
class Invitation:
    """What the holder of the secret is shown: who asks, for which sessions, and whether the
    address already has an account (the holder owns the address, so this is theirs to know)."""

    organization: Organization
    email: str
    name: str
    offered: list[Offered]
    has_account: bool


@dataclass
class Outcome:
    """What accepting did in one session: a seat (``confirmed``), a place on the waiting list
    (``waitlisted``), the person's own application moved to the organisation (``moved``), or a
    refusal (``refused``) whose reason the page shows in its language."""

    status: str
    waitlist_position: int | None = None
    refusal: DomainError | None = None


@dataclass
class Answer:
    """The outcome of accepting, one line per session, for the person."""

    user: User
    created: bool  # the account was made now (the caller signs the person in)
    lines: list[tuple[Offered, Outcome]]


async def _pending(s: AsyncSession, secret: str, now: datetime) -> list[Offered]:
    if not secret or len(secret) > 200:
        return []
    rows = await s.exec(
        select(RegistrationInvitation, CourseSession, Course, Campus)
        .join(CourseSession, col(CourseSession.id) == RegistrationInvitation.session_id)
        .join(Course, col(Course.id) == CourseSession.course_id)
        .join(Campus, col(Campus.id) == CourseSession.campus_id)
        .where(
            RegistrationInvitation.token_hash == accounts.token_hash(secret),
            RegistrationInvitation.status == InvitationStatus.PENDING,
        )
        .order_by(col(RegistrationInvitation.row))
    )
    return [Offered(*r) for r in rows if _aware(r[0].expires_at) > now]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def show(s: AsyncSession, secret: str, now: datetime) -> Invitation:
    offered = await _pending(s, secret, now)
    if not offered:
        raise invalid_invitation()
    first = offered[0].invitation
    org = await s.get(Organization, first.organization_id)
    user = (await s.exec(select(User).where(User.email == first.email))).first()
    assert org is not None
    return Invitation(org, first.email, first.name, offered, user is not None)


async def accept(s: AsyncSession, secret: str, password_hash: str | None, now: datetime) -> Answer:
    """Accept every pending session of the invitation, in the order of the file's rows."""
    offered = await _pending(s, secret, now)
    if not offered:
        raise invalid_invitation()
    first = offered[0].invitation
    user = (await s.exec(select(User).where(User.email == first.email))).first()
    created = user is None
    if user is None:
        if password_hash is None:
            raise InvalidInput(
                "アカウントを作成するため、パスワードを設定してください。",
                "Choose a password to create your account.",
            )
        user = User(
            email=first.email,
            password_hash=password_hash,
            name=first.name,
            name_kana=first.name_kana,
            role=Role.LEARNER,
            created_at=now,
            email_verified_at=now,  # the invitation was opened from this address's mailbox
            language=i18n.current(),  # as a registration: the page's, which their mail follows
        )
        s.add(user)
        await s.flush()
    elif user.role != Role.LEARNER:
        raise NotEligible(
            "このメールアドレスは大学校職員または団体担当者のアカウントのため、受講者として登録できません。"
            "申込団体に別のメールアドレスをお伝えください。",
            "This address belongs to a staff or coordinator account and cannot be registered as a learner.",
        )
    verification.mark_verified(user, now)  # the invitation was opened from this address's mailbox
    s.add(user)
    if await s.get(LearnerProfile, user.id) is None:
        s.add(LearnerProfile(user_id=user.id or 0, **json.loads(first.profile_json or "{}")))
    await _link(s, first.organization_id, user.id or 0, now)
    await s.flush()
    lines = [(o, await _take(s, o, user, now)) for o in offered]
    return Answer(user, created, lines)


async def _link(s: AsyncSession, organization_id: int, user_id: int, now: datetime) -> None:
    if await s.get(OrganizationMember, (organization_id, user_id)) is None:
        s.add(OrganizationMember(organization_id=organization_id, user_id=user_id, created_at=now))


async def _take(s: AsyncSession, offered: Offered, user: User, now: datetime) -> Outcome:
    """Register the person in one session; the invitation row records the outcome."""
    inv = offered.invitation
    inv.answered_at = now
    s.add(inv)
    try:
        result = await run_sync(
            s,
            enrollment.enroll,
            user=user,
            session_id=inv.session_id,
            lodging=inv.lodging,
            now=now,
            source="bulk",
            check_window=True,
            organization_id=inv.organization_id,
            batch_id=inv.batch_id,
            registered_name=inv.name,
        )
    except enrollment.LostToTwin:
        raise Conflict(
            "同時に同じお申し込みが処理されました。もう一度お試しください。",
            "The same registration was processed at the same time; please try again.",
        ) from None
    except Conflict as already:
        return await _adopt(s, inv, user, already)
    except NotEligible as refusal:
        inv.status = InvitationStatus.CLOSED
        return Outcome("refused", refusal=refusal)
    inv.status, inv.enrollment_id = InvitationStatus.ACCEPTED, result.id
    return Outcome(result.status, result.waitlist_position if result.status == "waitlisted" else None)


async def _adopt(s: AsyncSession, inv: RegistrationInvitation, user: User, already: DomainError) -> Outcome:
    """The person had applied on their own: with their acceptance the organisation registers them
    (and is billed). A registration another organisation made stays that organisation's."""
    mine = (
        await s.exec(
            select(Enrollment).where(
                Enrollment.session_id == inv.session_id,
                Enrollment.user_id == user.id,
                col(Enrollment.status).in_(seats.ACTIVE),
            )
        )
    ).first()
    if mine is None or mine.organization_id not in (None, inv.organization_id):
        inv.status = InvitationStatus.CLOSED
        return Outcome("refused", refusal=already)
    mine.organization_id, mine.batch_id, mine.registered_name = inv.organization_id, inv.batch_id, inv.name
    s.add(mine)
    inv.status, inv.enrollment_id = InvitationStatus.ACCEPTED, mine.id
    return Outcome("moved")


async def decline(s: AsyncSession, secret: str, now: datetime) -> int:
    """Decline every pending session of the invitation; nothing about the person is kept or read."""
    offered = await _pending(s, secret, now)
    if not offered:
        raise invalid_invitation()
    for o in offered:
        o.invitation.status, o.invitation.answered_at = InvitationStatus.DECLINED, now
        s.add(o.invitation)
    return len(offered)

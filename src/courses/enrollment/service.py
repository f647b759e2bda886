"""Enrollment: seats, waiting lists and cancellations.

A seat is taken only by ``take_seat``: one conditional UPDATE that checks and increments the
session's counter in a single statement, so capacity holds on SQLite and PostgreSQL under any load.
Every path that gives someone a seat — self-enrollment, promotion from the waiting list, manual
enrollment by staff and bulk registration — goes through it.

The functions that change enrollments are synchronous code. ``enroll`` and the seat functions run
Core statements over a ``courses.core.tx.Tx``: the API and the pages call ``enroll`` through
``Database.transact`` (one hand-off to SQLite's writer thread; asyncpg directly on PostgreSQL), and
code already inside an async transaction passes its ORM ``Session`` with ``await
session.run_sync(...)``, which they wrap. Promotion and cancellation are ORM code on a ``Session``.
Pages that only read stay async.

The seat counter, the offer and the eligibility rules are in ``courses.enrollment.seats``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.service import staff_campus_ids
from courses.core import mail
from courses.core.clock import JST
from courses.core.errors import Conflict, Forbidden, not_found
from courses.core.notifications import queue_row
from courses.core.tx import Params, Tx, as_tx
from courses.enrollment.seats import (
    _POSITION,
    _SET_WAITLISTED,
    ACTIVE,
    Offer,
    SessionContext,
    check_eligibility,
    check_verified,
    insert_and_take_seat,
    load_offer_for,
    load_session,
    next_waitlist_seq,
    release_seat,
    take_seat,
    waitlist_position,
)
from courses.models import (
    Campus,
    Course,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    IdempotencyRecord,
    LearnerProfile,
    SessionStatus,
    User,
    table_of,
)
from courses.models.billing import DEFAULT_FREE_DAYS_BEFORE, CancellationTerms


@dataclass
class EnrollResult:
    id: int
    status: str
    waitlist_position: int | None
    session_id: int

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "status": self.status,
            "waitlist_position": self.waitlist_position,
            "session_id": self.session_id,
        }


class LostToTwin(Conflict):
    """A concurrent request enrolled the same person first; on PostgreSQL this transaction is lost."""


def _already(offer: Offer) -> Conflict:
    return Conflict(
        f"「{offer.title_ja}」（{offer.code}）には既にお申し込み済みです。",
        f"Already enrolled in {offer.code}.",
    )


def enroll(
    db: Session | Tx,
    *,
    user: User,
    session_id: int,
    lodging: bool,
    now: datetime,
    source: str = "self",
    check_window: bool = True,
    organization_id: int | None = None,
    batch_id: int | None = None,
    registered_name: str | None = None,
    notify: bool = True,
) -> EnrollResult:
    """Enroll ``user``: a seat if one is free, else the end of the waiting list. Runs inside the
    caller's write transaction."""
    tx = as_tx(db)
    if source == "self":
        check_verified(user)
    offer, profile, enrolled = load_offer_for(tx, session_id, user.id or 0)
    check_eligibility(offer, profile, lodging, now.date(), check_window=check_window)
    already = _already(offer)
    if enrolled:
        raise already  # refused without touching anything, so a batch can go on with its next row
    # The enrollment row goes in before the seat is taken, so that the session row is locked
    # (PostgreSQL) only from the seat update to the commit; a concurrent twin fails on the unique
    # index, and its transaction is lost (PostgreSQL aborts it).
    # the confirmation is written first, and queued by the same statement only if a seat was free
    confirmation = _letter(user, offer, EnrollmentStatus.CONFIRMED, None, now) if notify else None
    try:
        enrollment_id, seated = insert_and_take_seat(
            tx,
            {
                "session_id": session_id,
                "user_id": user.id,
                "status": EnrollmentStatus.CONFIRMED,
                "lodging": lodging,
                "waitlist_seq": None,
                "source": source,
                "organization_id": organization_id,
                "batch_id": batch_id,
                "registered_name": registered_name,
                "created_at": now,
                "updated_at": now,
            },
            confirmation,
        )
    except IntegrityError:  # a concurrent request of the same person won
        raise LostToTwin(already.detail_ja, already.detail_en) from None
    status, position = EnrollmentStatus.CONFIRMED, None
    if not seated:
        status = EnrollmentStatus.WAITLISTED
        seq = next_waitlist_seq(tx, session_id)
        tx.execute(_SET_WAITLISTED, {"eid": enrollment_id, "seq": seq})
        position = waitlist_position(tx, session_id, seq)
        if notify:
            queue_row(tx, _letter(user, offer, status, position, now))
    return EnrollResult(int(enrollment_id), status, position, session_id)


_INSERT_IDEMPOTENCY = insert(table_of(IdempotencyRecord))


def enroll_with_key(
    tx: Tx, user: User, session_id: int, lodging: bool, now: datetime, key: str | None
) -> dict[str, object]:
    """Enroll, and remember the answer under the request's idempotency key in the same transaction,
    so that a retry is answered with it instead of a second enrollment."""
    body = enroll(tx, user=user, session_id=session_id, lodging=lodging, now=now).as_dict()
    if key:
        row = {"user_id": user.id, "key": key, "status_code": 201, "response_json": json.dumps(body)}
        tx.execute(_INSERT_IDEMPOTENCY, {**row, "created_at": now})
    return body


def _letter(user: User, offer: Offer, status: str, position: int | None, now: datetime) -> Params:
    """What the person is told of their new place, in their language: ``user`` carries it, and the
    offer both titles, so no query is added."""
    template = "enrolled.txt" if status == EnrollmentStatus.CONFIRMED else "waitlisted.txt"
    return mail.letter(user, template, now, offer=offer, position=position)


def promote_waiting(db: Session, session_id: int, now: datetime) -> list[Enrollment]:
    """Give free seats to the waiting list in order; each promoted learner is told."""
    promoted: list[Enrollment] = []
    while True:
        first = (
            db.exec(
                select(Enrollment)
                .where(Enrollment.session_id == session_id, Enrollment.status == EnrollmentStatus.WAITLISTED)
                .order_by(col(Enrollment.waitlist_seq))
                .limit(1)
            )
        ).first()
        if first is None or not take_seat(db, session_id):
            return promoted
        _promote(db, first, now)
        promoted.append(first)


OFFER_HOURS = 48  # how long a place given from the waiting list in the charge period is held


def acceptance_deadline(db: Session, ctx: SessionContext, now: datetime) -> datetime | None:
    """When a place given from the waiting list now must be accepted by, or None when it is given
    outright: only once cancelling already costs a fee (inside the course's free period) is the person
    asked first, so that nobody owes a fee for a place they did not take themselves. The deadline is
    ``OFFER_HOURS`` on, and never later than the first day's midnight (Japan time)."""
    terms = db.get(CancellationTerms, ctx.course.id)
    free_days = terms.free_days_before if terms else DEFAULT_FREE_DAYS_BEFORE
    today = now.astimezone(JST).date()
    if (ctx.session.start_date - today).days >= free_days:
        return None
    first_day = datetime.combine(ctx.session.start_date, time(0, 0), tzinfo=JST)
    deadline = min(now + timedelta(hours=OFFER_HOURS), first_day)
    # stored in UTC: SQLite keeps the wall time without its zone
    return (deadline if deadline > now else now + timedelta(hours=12)).astimezone(UTC)


def _promote(db: Session, enrollment: Enrollment, now: datetime) -> None:
    """Mark a waitlisted enrollment confirmed; the caller has already taken its seat. In the charge
    period the place is held for the person to accept (``confirm_by``) instead of given outright."""
    ctx = load_session(db, enrollment.session_id)
    deadline = acceptance_deadline(db, ctx, now)
    enrollment.status = EnrollmentStatus.CONFIRMED
    enrollment.waitlist_seq = None
    enrollment.confirm_by = deadline
    enrollment.updated_at = now
    db.add(enrollment)
    db.flush()
    user = db.get(User, enrollment.user_id)
    if user is None:
        return
    template = "promoted.txt" if deadline is None else "place_offered.txt"
    mail.send(db, user, template, now, **_about(ctx), deadline=deadline)


def _about(ctx: SessionContext) -> dict[str, Any]:
    """What a learner's message about a place says of its session."""
    return {"course": ctx.course, "campus": ctx.campus, "session": ctx.session}


def accept_place(db: Session, enrollment_id: int, user: User, now: datetime) -> Enrollment:
    """The person takes the place held for them; after its deadline it has passed on."""
    enrollment = db.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.user_id != user.id:
        raise not_found("申込", "Enrollment", enrollment_id)
    if enrollment.status != EnrollmentStatus.CONFIRMED or enrollment.confirm_by is None:
        raise Conflict("この申込は回答を待っていません。", "This place is not awaiting an answer.")
    if accept_by(enrollment) < now:
        raise Conflict(
            "回答の期限が過ぎたため、この席は次にお待ちの方にお譲りしました。",
            "The deadline has passed; the place went to the next person waiting.",
        )
    enrollment.confirm_by = None
    enrollment.updated_at = now
    db.add(enrollment)
    db.flush()
    return enrollment


def accept_by(enrollment: Enrollment) -> datetime:
    """The deadline of a place awaiting acceptance, as an aware time (stored in UTC)."""
    assert enrollment.confirm_by is not None
    moment = enrollment.confirm_by
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def release_unaccepted(db: Session, now: datetime) -> int:
    """Places held past their deadline pass to the next on the waiting list (who may in turn be asked);
    each person who let one lapse is told. Returns how many were released."""
    lapsed = list(
        db.exec(
            select(Enrollment).where(
                Enrollment.status == EnrollmentStatus.CONFIRMED,
                col(Enrollment.confirm_by).is_not(None),
                col(Enrollment.confirm_by) < now.astimezone(UTC),
            )
        )
    )
    for enrollment in lapsed:
        ctx = load_session(db, enrollment.session_id)
        cancel(db, enrollment, now, by_staff=True, tell=False)
        user = db.get(User, enrollment.user_id)
        if user is not None:
            mail.send(db, user, "place_lapsed.txt", now, **_about(ctx))
    return len(lapsed)


def promote_one(db: Session, enrollment_id: int, now: datetime) -> Enrollment:
    """Staff promote a chosen waitlisted learner — only into a free seat, never above capacity."""
    enrollment = db.get(Enrollment, enrollment_id)
    if enrollment is None:
        raise not_found("申込", "Enrollment", enrollment_id)
    if enrollment.status != EnrollmentStatus.WAITLISTED:
        raise Conflict(
            "この申込はキャンセル待ちではありません。", "This enrollment is not on the waiting list."
        )
    if not take_seat(db, enrollment.session_id):
        raise Conflict(
            "満席のため繰り上げできません。定員を増やすか、キャンセルが出てから繰り上げてください。",
            "The session is full; raise its capacity or wait for a cancellation before promoting.",
        )
    _promote(db, enrollment, now)
    return enrollment


def cancel(
    db: Session, enrollment: Enrollment, now: datetime, *, by_staff: bool = False, tell: bool = True
) -> list[Enrollment]:
    """Cancel one enrollment; a freed seat goes to the first on the waiting list in the same transaction.
    ``tell=False`` when the caller sends the person a message of its own."""
    if enrollment.status == EnrollmentStatus.CANCELLED:
        raise Conflict("この申込は既にキャンセルされています。", "This enrollment is already cancelled.")
    ctx = load_session(db, enrollment.session_id)
    if not by_staff and ctx.session.start_date <= now.date():
        raise Conflict(
            "開講日以降はマイページからキャンセルできません。大学校へご連絡ください。",
            "A session that has started cannot be cancelled online; please contact the campus.",
        )
    # Lock the session row first (PostgreSQL) so that a concurrent enrollment cannot slip into the
    # freed seat ahead of the waiting list.
    db.exec(
        update(CourseSession)
        .where(col(CourseSession.id) == enrollment.session_id)
        .values(version=CourseSession.version)
        .returning(col(CourseSession.id))
        .execution_options(synchronize_session=False)
    )
    db.refresh(enrollment)  # its status as of now, with the session locked
    was_confirmed = enrollment.status == EnrollmentStatus.CONFIRMED
    changed = (
        db.exec(
            update(Enrollment)
            .where(col(Enrollment.id) == enrollment.id, col(Enrollment.status).in_(ACTIVE))
            .values(status=EnrollmentStatus.CANCELLED, updated_at=now)
            .returning(col(Enrollment.status))
            .execution_options(synchronize_session=False)
        )
    ).first()
    if changed is None:
        raise Conflict("この申込は既にキャンセルされています。", "This enrollment is already cancelled.")
    enrollment.status = EnrollmentStatus.CANCELLED
    user = db.get(User, enrollment.user_id)
    if user is not None and tell:
        mail.send(db, user, "cancelled.txt", now, **_about(ctx))
    if not was_confirmed:
        return []
    release_seat(db, enrollment.session_id)
    return promote_waiting(db, enrollment.session_id, now)


def cancel_session(db: Session, session_id: int, now: datetime) -> int:
    """Staff cancel a whole session: every active enrollment is cancelled and every learner told."""
    ctx = load_session(db, session_id)
    if ctx.session.status == SessionStatus.CANCELLED:
        raise Conflict("この開催回は既に中止されています。", "This session is already cancelled.")
    rows = list(
        db.exec(
            select(Enrollment, User)
            .join(User, col(User.id) == Enrollment.user_id)
            .where(Enrollment.session_id == session_id, col(Enrollment.status).in_(ACTIVE))
        )
    )
    ctx.session.status = SessionStatus.CANCELLED
    ctx.session.confirmed_count = 0
    ctx.session.version += 1
    db.add(ctx.session)
    for enrollment, user in rows:
        enrollment.status = EnrollmentStatus.CANCELLED
        enrollment.updated_at = now
        db.add(enrollment)
        mail.send(db, user, "session_cancelled.txt", now, **_about(ctx))
    return len(rows)


async def get_own(db: AsyncSession, enrollment_id: int, user: User) -> Enrollment:
    enrollment = await db.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.user_id != user.id:
        # someone else's enrollment is reported as missing, not as forbidden, to reveal nothing
        raise not_found("申込", "Enrollment", enrollment_id)
    return enrollment


async def ensure_staff_campus(db: AsyncSession, user: User, campus_id: int) -> None:

    if campus_id not in await staff_campus_ids(db, user):
        raise Forbidden(
            "この大学校（キャンパス）のデータを扱う権限がありません。",
            "You may not act on this campus.",
        )


@dataclass
class MyEnrollment:
    enrollment: Enrollment
    session: CourseSession
    course: Course
    campus: Campus
    waitlist_position: int | None


async def my_enrollments(db: AsyncSession, user_id: int) -> list[MyEnrollment]:
    rows = list(
        await db.exec(
            select(Enrollment, CourseSession, Course, Campus)
            .join(CourseSession, col(CourseSession.id) == Enrollment.session_id)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .join(Campus, col(Campus.id) == CourseSession.campus_id)
            .where(Enrollment.user_id == user_id)
            .order_by(col(CourseSession.start_date), col(Enrollment.id))
        )
    )
    out = []
    for e, s, c, k in rows:
        position = None
        if e.status == EnrollmentStatus.WAITLISTED and e.waitlist_seq is not None:
            params = {"sid": s.id or 0, "seq": e.waitlist_seq}
            position = int((await db.exec(_POSITION, params=params)).scalar_one())  # type: ignore[call-overload]
        out.append(MyEnrollment(e, s, c, k, position))
    return out


async def roster(db: AsyncSession, session_id: int) -> list[tuple[Enrollment, User, LearnerProfile | None]]:
    rows = await db.exec(
        select(Enrollment, User, LearnerProfile)
        .join(User, col(User.id) == Enrollment.user_id)
        .join(LearnerProfile, col(LearnerProfile.user_id) == User.id, isouter=True)
        .where(Enrollment.session_id == session_id)
        .order_by(col(Enrollment.status), col(Enrollment.waitlist_seq), col(Enrollment.id))
    )
    return list(rows)

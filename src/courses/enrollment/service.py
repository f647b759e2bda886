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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import bindparam, exists, func, insert, literal_column, update
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.service import staff_campus_ids
from courses.core import notifications
from courses.core.errors import Conflict, Forbidden, NotEligible, not_found
from courses.core.reference import is_sme
from courses.core.tx import Tx, as_tx
from courses.core.web import ja_date
from courses.models import (
    Audience,
    Campus,
    Course,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    IdempotencyRecord,
    LearnerProfile,
    OrganizationKind,
    SessionStatus,
    User,
    table_of,
)

ACTIVE = (EnrollmentStatus.CONFIRMED, EnrollmentStatus.WAITLISTED)


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


# The statements of the enrollment path are built once: composing a statement costs more CPU than
# SQLite takes to run it. They run as Core on the session's connection (no identity map involved).
_SESSIONS = table_of(CourseSession)
_ENROLLMENTS = table_of(Enrollment)
_TAKE_SEAT = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("sid"), _SESSIONS.c.confirmed_count < _SESSIONS.c.capacity)
    .values(confirmed_count=_SESSIONS.c.confirmed_count + 1)
    .returning(_SESSIONS.c.confirmed_count)
)
_RELEASE_SEAT = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("sid"), _SESSIONS.c.confirmed_count > 0)
    .values(confirmed_count=_SESSIONS.c.confirmed_count - 1)
    .returning(_SESSIONS.c.confirmed_count)
)
_NEXT_WAITLIST_SEQ = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("sid"))
    .values(waitlist_seq=_SESSIONS.c.waitlist_seq + 1)
    .returning(_SESSIONS.c.waitlist_seq)
)
_INSERT_ENROLLMENT = insert(_ENROLLMENTS).returning(_ENROLLMENTS.c.id)
_SET_WAITLISTED = (
    update(_ENROLLMENTS)
    .where(_ENROLLMENTS.c.id == bindparam("eid"))
    .values(status=EnrollmentStatus.WAITLISTED, waitlist_seq=bindparam("seq"))
)
_PROFILES = table_of(LearnerProfile)
_COURSES = table_of(Course)
_CAMPUSES = table_of(Campus)
_OFFER_FOR = (
    core_select(
        _SESSIONS.c.code,
        _SESSIONS.c.status,
        _SESSIONS.c.application_opens,
        _SESSIONS.c.application_closes,
        _SESSIONS.c.lodging,
        _SESSIONS.c.start_date,
        _SESSIONS.c.end_date,
        _COURSES.c.audience,
        _COURSES.c.title_ja,
        _CAMPUSES.c.name_ja.label("campus_name_ja"),
        _PROFILES.c.organization_kind,
        _PROFILES.c.industry,
        _PROFILES.c.capital_yen,
        _PROFILES.c.employees,
        exists()
        .where(
            _ENROLLMENTS.c.session_id == bindparam("sid"),
            _ENROLLMENTS.c.user_id == bindparam("uid"),
            # the unique index's own predicate, as a literal: a bound value would keep a prepared
            # statement's generic plan from using that partial index (PostgreSQL then scanned the
            # whole table once its plan had been made on an empty one)
            _ENROLLMENTS.c.status != literal_column(f"'{EnrollmentStatus.CANCELLED.value}'"),
        )
        .label("already_enrolled"),
    )
    .join(_COURSES, _COURSES.c.id == _SESSIONS.c.course_id)
    .join(_CAMPUSES, _CAMPUSES.c.id == _SESSIONS.c.campus_id)
    .join(_PROFILES, _PROFILES.c.user_id == bindparam("uid"), isouter=True)
    .where(_SESSIONS.c.id == bindparam("sid"))
)
_SESSION = (
    select(CourseSession, Course, Campus)
    .join(Course, col(Course.id) == CourseSession.course_id)
    .join(Campus, col(Campus.id) == CourseSession.campus_id)
    .where(col(CourseSession.id) == bindparam("sid"))
)


def take_seat(db: Session | Tx, session_id: int) -> bool:
    """Take one seat if one is free: check and increment in one statement (the only way seats are taken).

    The counter changes in the database only; a ``CourseSession`` object already loaded in the same
    session keeps its old count (matching every object of a long bulk transaction made each seat
    cost more than the last).
    """
    return as_tx(db).first(_TAKE_SEAT, {"sid": session_id}) is not None


def release_seat(db: Session | Tx, session_id: int) -> None:
    as_tx(db).execute(_RELEASE_SEAT, {"sid": session_id})


def next_waitlist_seq(db: Session | Tx, session_id: int) -> int:
    return int(as_tx(db).scalar(_NEXT_WAITLIST_SEQ, {"sid": session_id}))


_POSITION = core_select(func.count().label("position")).where(
    _ENROLLMENTS.c.session_id == bindparam("sid"),
    _ENROLLMENTS.c.status == EnrollmentStatus.WAITLISTED,
    _ENROLLMENTS.c.waitlist_seq <= bindparam("seq"),
)


def waitlist_position(db: Session | Tx, session_id: int, seq: int) -> int:
    """Place on the waiting list: how many still wait up to and including ``seq``."""
    return int(as_tx(db).scalar(_POSITION, {"sid": session_id, "seq": seq}))


@dataclass
class SessionContext:
    session: CourseSession
    course: Course
    campus: Campus


@dataclass(frozen=True, slots=True)
class Offer:
    """What eligibility and the learner's messages need to know of a session, its course and campus."""

    code: str
    status: str
    application_opens: date
    application_closes: date
    lodging: bool
    start_date: date
    end_date: date
    audience: str
    title_ja: str
    campus_name_ja: str

    @classmethod
    def of(cls, ctx: SessionContext) -> Offer:
        s = ctx.session
        return cls(
            s.code,
            s.status,
            s.application_opens,
            s.application_closes,
            s.lodging,
            s.start_date,
            s.end_date,
            ctx.course.audience,
            ctx.course.title_ja,
            ctx.campus.name_ja,
        )


class Applicant(Protocol):
    """The parts of a learner's profile that decide eligibility (a ``LearnerProfile`` or a row)."""

    @property
    def organization_kind(self) -> str: ...
    @property
    def industry(self) -> str: ...
    @property
    def capital_yen(self) -> int: ...
    @property
    def employees(self) -> int: ...


_OFFER_FIELDS = (
    "code",
    "status",
    "application_opens",
    "application_closes",
    "lodging",
    "start_date",
    "end_date",
    "audience",
    "title_ja",
    "campus_name_ja",
)


@dataclass(frozen=True, slots=True)
class _Profile:
    organization_kind: str
    industry: str
    capital_yen: int
    employees: int


def load_offer_for(db: Session | Tx, session_id: int, user_id: int) -> tuple[Offer, Applicant | None, bool]:
    """The session as the learner is offered it, the learner's profile, and whether they already hold
    a place in it, in one Core query (loading four ORM objects cost four times as much)."""
    row = as_tx(db).first(_OFFER_FOR, {"sid": session_id, "uid": user_id})
    if row is None or row["status"] == SessionStatus.DRAFT:
        raise not_found("開催回", "Session", session_id)
    profile = None
    if row["organization_kind"] is not None:
        profile = _Profile(row["organization_kind"], row["industry"], row["capital_yen"], row["employees"])
    return Offer(*(row[f] for f in _OFFER_FIELDS)), profile, bool(row["already_enrolled"])


def load_session(db: Session, session_id: int) -> SessionContext:
    row = db.exec(_SESSION, params={"sid": session_id}).first()
    if row is None or row[0].status == SessionStatus.DRAFT:
        raise not_found("開催回", "Session", session_id)
    return SessionContext(*row)


def check_eligibility(
    offer: Offer,
    profile: Applicant | None,
    lodging: bool,
    today: date,
    *,
    check_window: bool = True,
) -> None:
    """A learner may take a published session in its application window, of their audience, and ask
    for lodging only where there is some. Each refusal says why."""
    s = offer
    if s.status == SessionStatus.CANCELLED:
        raise NotEligible("この開催回は中止になりました。", "This session has been cancelled.")
    if s.status != SessionStatus.PUBLISHED:
        raise NotEligible(
            "この開催回は申し込みを受け付けていません。", "This session is not open for enrollment."
        )
    if check_window and today < s.application_opens:
        raise NotEligible(
            f"申込受付は{ja_date(s.application_opens)}からです。",
            f"Applications open on {s.application_opens.isoformat()}.",
        )
    if check_window and today > s.application_closes:
        raise NotEligible(
            f"申込受付は{ja_date(s.application_closes)}で終了しました。",
            f"Applications closed on {s.application_closes.isoformat()}.",
        )
    if lodging and not s.lodging:
        raise NotEligible(
            f"{offer.campus_name_ja}のこの開催回には宿泊施設がありません。宿泊なしでお申し込みください。",
            "This session offers no lodging; apply without lodging.",
        )
    if profile is None:
        raise NotEligible(
            "受講者情報（所属・業種など）が登録されていないため申し込めません。",
            "A learner profile (organisation, industry, ...) is needed to enroll.",
        )
    if offer.audience == Audience.SUPPORT and profile.organization_kind != OrganizationKind.SUPPORT_AGENCY:
        raise NotEligible(
            "この研修は商工会・商工会議所・都道府県などの支援機関職員向けです。",
            "This course is for staff of support agencies (chambers of commerce, prefectures).",
        )
    if offer.audience == Audience.SME:
        if profile.organization_kind != OrganizationKind.SME:
            raise NotEligible(
                "この研修は中小企業の経営者・管理者向けです。支援機関職員向けの研修をご覧ください。",
                "This course is for executives and managers of SMEs.",
            )
        if not is_sme(profile.industry, profile.capital_yen, profile.employees):
            raise NotEligible(
                "中小企業基本法の中小企業の範囲（業種ごとの資本金または従業員数）を超えるため、お申し込みいただけません。",
                "Your company is above the SME thresholds of the SME Basic Act (capital or employees "
                "for its industry).",
            )


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
    offer, profile, enrolled = load_offer_for(tx, session_id, user.id or 0)
    check_eligibility(offer, profile, lodging, now.date(), check_window=check_window)
    already = _already(offer)
    if enrolled:
        raise already  # refused without touching anything, so a batch can go on with its next row
    # The enrollment row goes in before the seat is taken, so that the session row is locked
    # (PostgreSQL) only from the seat update to the commit; a concurrent twin fails on the unique
    # index, and its transaction is lost (PostgreSQL aborts it).
    try:
        enrollment_id = tx.scalar(
            _INSERT_ENROLLMENT,
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
        )
    except IntegrityError:  # a concurrent request of the same person won
        raise LostToTwin(already.detail_ja, already.detail_en) from None
    status, position = EnrollmentStatus.CONFIRMED, None
    if not take_seat(tx, session_id):
        status = EnrollmentStatus.WAITLISTED
        seq = next_waitlist_seq(tx, session_id)
        tx.execute(_SET_WAITLISTED, {"eid": enrollment_id, "seq": seq})
        position = waitlist_position(tx, session_id, seq)
    if notify:
        _tell_enrolled(tx, user, offer, status, position, now)
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


def _dates(s: CourseSession | Offer) -> str:
    return f"{ja_date(s.start_date)}〜{ja_date(s.end_date)}"


def _tell_enrolled(
    tx: Tx, user: User, offer: Offer, status: str, position: int | None, now: datetime
) -> None:
    title = offer.title_ja
    if status == EnrollmentStatus.CONFIRMED:
        subject = f"【受講決定】{title}"
        body = (
            f"{user.name} 様\n\n「{title}」（{offer.campus_name_ja}、{_dates(offer)}）の受講が決定しました。\n"
            "日程・会場はマイページでご確認ください。"
        )
    else:
        subject = f"【キャンセル待ち受付】{title}"
        body = (
            f"{user.name} 様\n\n「{title}」（{offer.campus_name_ja}、{_dates(offer)}）は満席のため、"
            f"キャンセル待ち（{position}番目）で受け付けました。\n空きが出た場合は順番に受講決定となり、メールでお知らせします。"
        )
    notifications.queue(tx, user, subject, body, now)


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


def _promote(db: Session, enrollment: Enrollment, now: datetime) -> None:
    """Mark a waitlisted enrollment confirmed; the caller has already taken its seat."""
    enrollment.status = EnrollmentStatus.CONFIRMED
    enrollment.waitlist_seq = None
    enrollment.updated_at = now
    db.add(enrollment)
    db.flush()
    ctx = load_session(db, enrollment.session_id)
    user = db.get(User, enrollment.user_id)
    if user is not None:
        notifications.queue(
            db,
            user,
            f"【受講決定】{ctx.course.title_ja}（キャンセル待ちから繰り上げ）",
            f"{user.name} 様\n\nキャンセル待ちでお申し込みの「{ctx.course.title_ja}」（{ctx.campus.name_ja}、"
            f"{_dates(ctx.session)}）に空きが出たため、受講が決定しました。\nマイページで日程をご確認ください。",
            now,
        )


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


def cancel(db: Session, enrollment: Enrollment, now: datetime, *, by_staff: bool = False) -> list[Enrollment]:
    """Cancel one enrollment; a freed seat goes to the first on the waiting list in the same transaction."""
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
    db.exec(  # type: ignore[call-overload]
        update(CourseSession)
        .where(col(CourseSession.id) == enrollment.session_id)
        .values(version=CourseSession.version)
        .returning(CourseSession.id)
        .execution_options(synchronize_session=False)
    )
    db.refresh(enrollment)  # its status as of now, with the session locked
    was_confirmed = enrollment.status == EnrollmentStatus.CONFIRMED
    changed = (
        db.exec(  # type: ignore[call-overload]
            update(Enrollment)
            .where(col(Enrollment.id) == enrollment.id, col(Enrollment.status).in_(ACTIVE))
            .values(status=EnrollmentStatus.CANCELLED, updated_at=now)
            .returning(Enrollment.status)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if changed is None:
        raise Conflict("この申込は既にキャンセルされています。", "This enrollment is already cancelled.")
    enrollment.status = EnrollmentStatus.CANCELLED
    user = db.get(User, enrollment.user_id)
    if user is not None:
        notifications.queue(
            db,
            user,
            f"【キャンセル受付】{ctx.course.title_ja}",
            f"{user.name} 様\n\n「{ctx.course.title_ja}」（{ctx.campus.name_ja}、{_dates(ctx.session)}）のお申し込みを"
            "キャンセルしました。",
            now,
        )
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
        notifications.queue(
            db,
            user,
            f"【開催中止のお知らせ】{ctx.course.title_ja}",
            f"{user.name} 様\n\nお申し込みいただいていた「{ctx.course.title_ja}」（{ctx.campus.name_ja}、"
            f"{_dates(ctx.session)}）は、開催を中止することになりました。ご迷惑をおかけし申し訳ありません。\n"
            "他の開催回は研修一覧からお探しいただけます。",
            now,
        )
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
    return list(rows)  # type: ignore[arg-type]

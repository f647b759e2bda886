"""Seats and who may take one: the enrollment path's prebuilt statements, the seat counter and
waiting-list numbers, the session as a learner is offered it, and the eligibility rules.

A seat is taken only by one conditional UPDATE (``_TAKE_SEAT``) that checks and increments the
session's counter in a single statement, so capacity holds on SQLite and PostgreSQL under any load:
``take_seat`` runs it, and ``insert_and_take_seat`` runs it after an enrollment's insert, on
PostgreSQL in the same statement. Every path that gives someone a seat goes through one of the two
(see ``courses.enrollment.service``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import bindparam, exists, func, insert, literal_column, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from courses.core.errors import NotEligible, not_found
from courses.core.notifications import OUTBOX_VALUES, queue_row
from courses.core.reference import is_sme
from courses.core.tx import Params, Tx, as_tx
from courses.core.web import date_in
from courses.models import (
    Audience,
    Campus,
    Course,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    LearnerProfile,
    OrganizationKind,
    OutboxMessage,
    SessionStatus,
    User,
    table_of,
)

ACTIVE = (EnrollmentStatus.CONFIRMED, EnrollmentStatus.WAITLISTED)


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
# One insert of an enrollment, on both databases; on PostgreSQL it also goes inside the statement
# that takes the seat (SQLite has no INSERT or UPDATE inside WITH). Its parameters are named apart
# from every column: SQLAlchemy adds a column of that UPDATE to its SET clause when a parameter bears
# its name (status, lodging, created_at...).
_ENROLLMENT_VALUES = (
    "session_id",
    "user_id",
    "status",
    "lodging",
    "waitlist_seq",
    "source",
    "organization_id",
    "batch_id",
    "registered_name",
    "created_at",
    "updated_at",
)
_INSERT_ENROLLMENT = (
    insert(_ENROLLMENTS)
    .values({c: bindparam(f"e_{c}") for c in _ENROLLMENT_VALUES})
    .returning(_ENROLLMENTS.c.id)
)
# The update reads the insert's RETURNING, so PostgreSQL runs it after the insert, and a twin's unique
# violation fails both; the session row is locked from there to the commit, as with two statements.
_INSERTED = _INSERT_ENROLLMENT.cte("inserted")
_SEATED = _TAKE_SEAT.where(exists(core_select(_INSERTED.c.id))).cte("seated")
_WAS_SEATED = exists(core_select(_SEATED.c.confirmed_count))
_INSERT_AND_TAKE_SEAT = core_select(_INSERTED.c.id, _WAS_SEATED.label("seated"))
# ... and the confirmation's outbox row when the seat was taken (its parameters named m_*, typed, so
# that PostgreSQL reads them as the columns' types in the SELECT that feeds the insert)
_OUTBOX = table_of(OutboxMessage)
_TOLD = (
    insert(_OUTBOX)
    .from_select(
        list(OUTBOX_VALUES),
        core_select(*(bindparam(f"m_{c}", type_=_OUTBOX.c[c].type) for c in OUTBOX_VALUES)).where(
            _WAS_SEATED
        ),
    )
    .returning(_OUTBOX.c.id)
    .cte("told")
)
_INSERT_TAKE_SEAT_AND_TELL = core_select(_INSERTED.c.id, exists(core_select(_TOLD.c.id)).label("seated"))
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
        _COURSES.c.title_en,
        _CAMPUSES.c.name_en.label("campus_name_en"),
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


def insert_and_take_seat(tx: Tx, row: Params, letter: Params | None = None) -> tuple[int, bool]:
    """Insert the enrollment ``row`` (every column of ``_ENROLLMENT_VALUES``), then take a seat in its
    session, and when one was free, queue ``letter`` (an ``outbox_row``, the confirmation): the
    enrollment's id, and whether a seat was free. On PostgreSQL the three are one statement, two
    round trips fewer on the enrollment path; an ``IntegrityError`` means a concurrent twin won the
    insert."""
    values = {f"e_{k}": v for k, v in row.items()}
    if tx.dialect == "postgresql":
        if letter is None:
            got = tx.first(_INSERT_AND_TAKE_SEAT, {"sid": row["session_id"], **values})
        else:
            mail = {f"m_{k}": letter[k] for k in OUTBOX_VALUES}
            got = tx.first(_INSERT_TAKE_SEAT_AND_TELL, {"sid": row["session_id"], **values, **mail})
        assert got is not None  # the insert returns its row or raises
        return int(got["id"]), bool(got["seated"])
    enrollment_id = int(tx.scalar(_INSERT_ENROLLMENT, values))
    seated = take_seat(tx, row["session_id"])
    if seated and letter is not None:
        queue_row(tx, letter)
    return enrollment_id, seated


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
    title_en: str  # for the mail to a learner who reads English
    campus_name_en: str

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
            ctx.course.title_en,
            ctx.campus.name_en,
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
    "title_en",
    "campus_name_en",
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


def check_verified(user: User) -> None:
    """A learner applies themselves only once a link has proved their email address: the school's
    notices, invoices and changes of plan go there."""
    if user.awaits_verification:
        raise NotEligible(
            f"メールアドレス（{user.email}）の確認がお済みでないため、お申し込みいただけません。"
            "お送りした確認メールのリンクを開いてください。",
            f"Please confirm your email address ({user.email}) first: open the link in the email we sent.",
        )


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
            f"申込受付は{date_in('ja', s.application_opens)}からです。",
            f"Applications open on {date_in('en', s.application_opens)}.",
        )
    if check_window and today > s.application_closes:
        raise NotEligible(
            f"申込受付は{date_in('ja', s.application_closes)}で終了しました。",
            f"Applications closed on {date_in('en', s.application_closes)}.",
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

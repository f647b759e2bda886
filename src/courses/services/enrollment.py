"""Enrollment: seats, waiting lists and cancellations.

A seat is taken only by ``take_seat``: one conditional UPDATE that checks and increments the
session's counter in a single statement, so capacity holds on SQLite and PostgreSQL under any load.
Every path that gives someone a seat — self-enrollment, promotion from the waiting list, manual
enrollment by staff and bulk registration — goes through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.errors import Conflict, Forbidden, NotEligible, not_found
from courses.models import (
    Audience,
    Campus,
    Course,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    LearnerProfile,
    OrganizationKind,
    SessionStatus,
    User,
)
from courses.reference import is_sme
from courses.services import notifications
from courses.web import ja_date

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


async def take_seat(db: AsyncSession, session_id: int) -> bool:
    """Take one seat if one is free: check and increment in one statement (the only way seats are taken).

    The counters are changed in the database only (``synchronize_session=False``): matching the update
    against every object of a long transaction (a bulk upload) made each seat cost more than the last.
    """
    stmt = (
        update(CourseSession)
        .where(
            col(CourseSession.id) == session_id,
            col(CourseSession.confirmed_count) < col(CourseSession.capacity),
        )
        .values(confirmed_count=CourseSession.confirmed_count + 1)
        .returning(CourseSession.confirmed_count)
        .execution_options(synchronize_session=False)
    )
    return (await db.exec(stmt)).first() is not None  # type: ignore[call-overload]


async def release_seat(db: AsyncSession, session_id: int) -> None:
    stmt = (
        update(CourseSession)
        .where(col(CourseSession.id) == session_id, col(CourseSession.confirmed_count) > 0)
        .values(confirmed_count=CourseSession.confirmed_count - 1)
        .returning(CourseSession.confirmed_count)
        .execution_options(synchronize_session=False)
    )
    await db.exec(stmt)  # type: ignore[call-overload]


async def next_waitlist_seq(db: AsyncSession, session_id: int) -> int:
    stmt = (
        update(CourseSession)
        .where(col(CourseSession.id) == session_id)
        .values(waitlist_seq=CourseSession.waitlist_seq + 1)
        .returning(CourseSession.waitlist_seq)
        .execution_options(synchronize_session=False)
    )
    return int((await db.exec(stmt)).one()[0])  # type: ignore[call-overload]


async def waitlist_position(db: AsyncSession, session_id: int, seq: int) -> int:
    stmt = select(func.count()).where(
        Enrollment.session_id == session_id,
        Enrollment.status == EnrollmentStatus.WAITLISTED,
        col(Enrollment.waitlist_seq) <= seq,
    )
    return int((await db.exec(stmt)).one())


@dataclass
class SessionContext:
    session: CourseSession
    course: Course
    campus: Campus


async def load_session_for(
    db: AsyncSession, session_id: int, user_id: int
) -> tuple[SessionContext, LearnerProfile | None]:
    """The session with its course and campus, and the learner's profile, in one query."""
    row = (
        await db.exec(
            select(CourseSession, Course, Campus, LearnerProfile)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .join(Campus, col(Campus.id) == CourseSession.campus_id)
            .join(LearnerProfile, col(LearnerProfile.user_id) == user_id, isouter=True)
            .where(CourseSession.id == session_id)
        )
    ).first()
    if row is None or row[0].status == SessionStatus.DRAFT:
        raise not_found("開催回", "Session", session_id)
    return SessionContext(row[0], row[1], row[2]), row[3]


async def load_session(db: AsyncSession, session_id: int) -> SessionContext:
    row = (
        await db.exec(
            select(CourseSession, Course, Campus)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .join(Campus, col(Campus.id) == CourseSession.campus_id)
            .where(CourseSession.id == session_id)
        )
    ).first()
    if row is None or row[0].status == SessionStatus.DRAFT:
        raise not_found("開催回", "Session", session_id)
    return SessionContext(*row)


def check_eligibility(
    ctx: SessionContext,
    profile: LearnerProfile | None,
    lodging: bool,
    today: date,
    *,
    check_window: bool = True,
) -> None:
    """A learner may take a published session in its application window, of their audience, and ask
    for lodging only where there is some. Each refusal says why."""
    s, course = ctx.session, ctx.course
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
            f"{ctx.campus.name_ja}のこの開催回には宿泊施設がありません。宿泊なしでお申し込みください。",
            "This session offers no lodging; apply without lodging.",
        )
    if profile is None:
        raise NotEligible(
            "受講者情報（所属・業種など）が登録されていないため申し込めません。",
            "A learner profile (organisation, industry, ...) is needed to enroll.",
        )
    if course.audience == Audience.SUPPORT and profile.organization_kind != OrganizationKind.SUPPORT_AGENCY:
        raise NotEligible(
            "この研修は商工会・商工会議所・都道府県などの支援機関職員向けです。",
            "This course is for staff of support agencies (chambers of commerce, prefectures).",
        )
    if course.audience == Audience.SME:
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


async def active_enrollment(db: AsyncSession, session_id: int, user_id: int) -> Enrollment | None:
    stmt = select(Enrollment).where(
        Enrollment.session_id == session_id,
        Enrollment.user_id == user_id,
        col(Enrollment.status).in_(ACTIVE),
    )
    return (await db.exec(stmt)).first()


def _already(ctx: SessionContext) -> Conflict:
    return Conflict(
        f"「{ctx.course.title_ja}」（{ctx.session.code}）には既にお申し込み済みです。",
        f"Already enrolled in {ctx.session.code}.",
    )


async def enroll(
    db: AsyncSession,
    *,
    user: User,
    session_id: int,
    lodging: bool,
    now: datetime,
    source: str = "self",
    check_window: bool = True,
    organization_id: int | None = None,
    batch_id: int | None = None,
    notify: bool = True,
) -> EnrollResult:
    """Enroll ``user``: a seat if one is free, else the end of the waiting list. Runs inside the
    caller's write transaction."""
    ctx, profile = await load_session_for(db, session_id, user.id or 0)
    check_eligibility(ctx, profile, lodging, now.date(), check_window=check_window)
    already = _already(ctx)
    if await active_enrollment(db, session_id, user.id or 0) is not None:
        raise already  # refused without touching anything, so a batch can go on with its next row
    # The enrollment row goes in before the seat is taken, so that the session row is locked
    # (PostgreSQL) only from the seat update to the commit; a concurrent twin fails on the unique
    # index and rolls the whole transaction back.
    enrollment = Enrollment(
        session_id=session_id,
        user_id=user.id,  # type: ignore[arg-type]
        status=EnrollmentStatus.CONFIRMED,
        lodging=lodging,
        source=source,
        organization_id=organization_id,
        batch_id=batch_id,
        created_at=now,
        updated_at=now,
    )
    db.add(enrollment)
    try:
        await db.flush()
    except IntegrityError:  # a concurrent request of the same person won
        raise already from None
    seq: int | None = None
    status = EnrollmentStatus.CONFIRMED
    if not await take_seat(db, session_id):
        status = EnrollmentStatus.WAITLISTED
        seq = await next_waitlist_seq(db, session_id)
        enrollment.status = status
        enrollment.waitlist_seq = seq
        db.add(enrollment)
        await db.flush()
    position = await waitlist_position(db, session_id, seq) if seq is not None else None
    if notify:
        _tell_enrolled(db, user, ctx, status, position, now)
    return EnrollResult(enrollment.id or 0, status, position, session_id)


def _dates(ctx: SessionContext) -> str:
    s = ctx.session
    return f"{ja_date(s.start_date)}〜{ja_date(s.end_date)}"


def _tell_enrolled(
    db: AsyncSession, user: User, ctx: SessionContext, status: str, position: int | None, now: datetime
) -> None:
    title = ctx.course.title_ja
    if status == EnrollmentStatus.CONFIRMED:
        subject = f"【受講決定】{title}"
        body = (
            f"{user.name} 様\n\n「{title}」（{ctx.campus.name_ja}、{_dates(ctx)}）の受講が決定しました。\n"
            "日程・会場はマイページでご確認ください。"
        )
    else:
        subject = f"【キャンセル待ち受付】{title}"
        body = (
            f"{user.name} 様\n\n「{title}」（{ctx.campus.name_ja}、{_dates(ctx)}）は満席のため、"
            f"キャンセル待ち（{position}番目）で受け付けました。\n空きが出た場合は順番に受講決定となり、メールでお知らせします。"
        )
    notifications.queue(db, user, subject, body, now)


async def promote_waiting(db: AsyncSession, session_id: int, now: datetime) -> list[Enrollment]:
    """Give free seats to the waiting list in order; each promoted learner is told."""
    promoted: list[Enrollment] = []
    while True:
        first = (
            await db.exec(
                select(Enrollment)
                .where(Enrollment.session_id == session_id, Enrollment.status == EnrollmentStatus.WAITLISTED)
                .order_by(col(Enrollment.waitlist_seq))
                .limit(1)
            )
        ).first()
        if first is None or not await take_seat(db, session_id):
            return promoted
        await _promote(db, first, now)
        promoted.append(first)


async def _promote(db: AsyncSession, enrollment: Enrollment, now: datetime) -> None:
    """Mark a waitlisted enrollment confirmed; the caller has already taken its seat."""
    enrollment.status = EnrollmentStatus.CONFIRMED
    enrollment.waitlist_seq = None
    enrollment.updated_at = now
    db.add(enrollment)
    await db.flush()
    ctx = await load_session(db, enrollment.session_id)
    user = await db.get(User, enrollment.user_id)
    if user is not None:
        notifications.queue(
            db,
            user,
            f"【受講決定】{ctx.course.title_ja}（キャンセル待ちから繰り上げ）",
            f"{user.name} 様\n\nキャンセル待ちでお申し込みの「{ctx.course.title_ja}」（{ctx.campus.name_ja}、"
            f"{_dates(ctx)}）に空きが出たため、受講が決定しました。\nマイページで日程をご確認ください。",
            now,
        )


async def promote_one(db: AsyncSession, enrollment_id: int, now: datetime) -> Enrollment:
    """Staff promote a chosen waitlisted learner — only into a free seat, never above capacity."""
    enrollment = await db.get(Enrollment, enrollment_id)
    if enrollment is None:
        raise not_found("申込", "Enrollment", enrollment_id)
    if enrollment.status != EnrollmentStatus.WAITLISTED:
        raise Conflict(
            "この申込はキャンセル待ちではありません。", "This enrollment is not on the waiting list."
        )
    if not await take_seat(db, enrollment.session_id):
        raise Conflict(
            "満席のため繰り上げできません。定員を増やすか、キャンセルが出てから繰り上げてください。",
            "The session is full; raise its capacity or wait for a cancellation before promoting.",
        )
    await _promote(db, enrollment, now)
    return enrollment


async def cancel(
    db: AsyncSession, enrollment: Enrollment, now: datetime, *, by_staff: bool = False
) -> list[Enrollment]:
    """Cancel one enrollment; a freed seat goes to the first on the waiting list in the same transaction."""
    if enrollment.status == EnrollmentStatus.CANCELLED:
        raise Conflict("この申込は既にキャンセルされています。", "This enrollment is already cancelled.")
    ctx = await load_session(db, enrollment.session_id)
    if not by_staff and ctx.session.start_date <= now.date():
        raise Conflict(
            "開講日以降はマイページからキャンセルできません。大学校へご連絡ください。",
            "A session that has started cannot be cancelled online; please contact the campus.",
        )
    # Lock the session row first (PostgreSQL) so that a concurrent enrollment cannot slip into the
    # freed seat ahead of the waiting list.
    await db.exec(  # type: ignore[call-overload]
        update(CourseSession)
        .where(col(CourseSession.id) == enrollment.session_id)
        .values(version=CourseSession.version)
        .returning(CourseSession.id)
        .execution_options(synchronize_session=False)
    )
    await db.refresh(enrollment)  # its status as of now, with the session locked
    was_confirmed = enrollment.status == EnrollmentStatus.CONFIRMED
    changed = (
        await db.exec(  # type: ignore[call-overload]
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
    user = await db.get(User, enrollment.user_id)
    if user is not None:
        notifications.queue(
            db,
            user,
            f"【キャンセル受付】{ctx.course.title_ja}",
            f"{user.name} 様\n\n「{ctx.course.title_ja}」（{ctx.campus.name_ja}、{_dates(ctx)}）のお申し込みを"
            "キャンセルしました。",
            now,
        )
    if not was_confirmed:
        return []
    await release_seat(db, enrollment.session_id)
    return await promote_waiting(db, enrollment.session_id, now)


async def cancel_session(db: AsyncSession, session_id: int, now: datetime) -> int:
    """Staff cancel a whole session: every active enrollment is cancelled and every learner told."""
    ctx = await load_session(db, session_id)
    if ctx.session.status == SessionStatus.CANCELLED:
        raise Conflict("この開催回は既に中止されています。", "This session is already cancelled.")
    rows = list(
        await db.exec(
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
            f"{_dates(ctx)}）は、開催を中止することになりました。ご迷惑をおかけし申し訳ありません。\n"
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
    from courses.services.accounts import staff_campus_ids

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
            position = await waitlist_position(db, s.id or 0, e.waitlist_seq)
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

"""Attendance per half-day: the session's half-days, staff's sheets, learners' check-ins and the
completion rule. See docs/attendance.md.

A session meets on every day of its blocks; each day has a morning (午前, before 12:00 JST) and an
afternoon (午後, from 12:00). Staff save one half-day at a time (the whole confirmed roster, present
unless unticked); saving again replaces that half-day's marks. A learner with a confirmed place may
check in during the half-day itself, by the signed URL of the QR code or by its 6-character code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core.errors import FieldError, Forbidden, InvalidInput, NotEligible, not_found
from courses.core.tx import run_sync
from courses.enrollment import seats
from courses.models import Course, CourseSession, Enrollment, EnrollmentStatus, SessionBlock, User
from courses.models.attendance import AttendanceMark, AttendanceSheet, Half
from courses.planning.plans import practicum_days

JST = ZoneInfo("Asia/Tokyo")
HALVES = (Half.AM.value, Half.PM.value)
HALF_JA = {"am": "午前", "pm": "午後"}
NOON = time(12, 0)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to type from a screen


# --- the session's half-days ------------------------------------------------------------------------


def meeting_days(blocks: list[SessionBlock]) -> list[date]:
    days: set[date] = set()
    for b in blocks:
        days.update(b.start_date + timedelta(days=i) for i in range((b.end_date - b.start_date).days + 1))
    return sorted(days)


async def blocks_of(s: AsyncSession, session_id: int) -> list[SessionBlock]:
    rows = await s.exec(
        select(SessionBlock).where(SessionBlock.session_id == session_id).order_by(col(SessionBlock.seq))
    )
    return list(rows)


def parse_day(raw: str | None, days: list[date], today: date) -> date:
    """The day asked for (YYYY-MM-DD), which must be one the session meets; none: today when the
    session meets today, else its first day."""
    if not days:
        raise InvalidInput("この開催回には開催日がありません。", "The session has no days.")
    if not raw:
        return today if today in days else days[0]
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            "日付は YYYY-MM-DD の形式で指定してください。",
            "Give the day as YYYY-MM-DD.",
            errors=[FieldError("day", "日付の形式が正しくありません。", "Not a date (YYYY-MM-DD).")],
        ) from None
    if day not in days:
        raise InvalidInput(
            f"{day.isoformat()} はこの開催回の開催日ではありません。",
            f"The session does not meet on {day.isoformat()}.",
            errors=[FieldError("day", "開催日ではありません。", "Not a day the session meets.")],
        )
    return day


def parse_half(raw: str) -> str:
    if raw not in HALVES:
        raise InvalidInput(
            "午前（am）または午後（pm）を指定してください。",
            "Give the half-day as am or pm.",
            errors=[FieldError("half", "am または pm です。", "am or pm.")],
        )
    return raw


def half_of(now: datetime) -> tuple[date, str]:
    """The half-day ``now`` falls in (Japan time)."""
    local = now.astimezone(JST)
    return local.date(), ("am" if local.time() < NOON else "pm")


def half_ends(day: date, half: str) -> datetime:
    return datetime.combine(
        day if half == "am" else day + timedelta(days=1), NOON if half == "am" else time(0), JST
    )


# --- sheets -----------------------------------------------------------------------------------------


@dataclass
class SheetRow:
    enrollment_id: int
    name: str
    name_kana: str
    present: bool
    source: str  # staff | checkin | "" (not taken yet: present by default)


@dataclass
class Sheet:
    session_id: int
    day: date
    half: str
    rows: list[SheetRow]
    saved_by: str | None = None
    saved_at: datetime | None = None


async def confirmed(s: AsyncSession, session_id: int) -> list[tuple[Enrollment, User]]:
    rows = await s.exec(
        select(Enrollment, User)
        .join(User, col(User.id) == Enrollment.user_id)
        .where(Enrollment.session_id == session_id, Enrollment.status == EnrollmentStatus.CONFIRMED)
        .order_by(col(User.name_kana), col(Enrollment.id))
    )
    return list(rows)


async def sheet(s: AsyncSession, session_id: int, day: date, half: str) -> Sheet:
    """The confirmed roster for one half-day: as saved, everyone present while nothing is."""
    marks = {
        m.enrollment_id: m
        for m in await s.exec(
            select(AttendanceMark).where(
                AttendanceMark.session_id == session_id,
                AttendanceMark.day == day,
                AttendanceMark.half == half,
            )
        )
    }
    saved = (
        await s.exec(
            select(AttendanceSheet, User)
            .join(User, col(User.id) == AttendanceSheet.saved_by)
            .where(
                AttendanceSheet.session_id == session_id,
                AttendanceSheet.day == day,
                AttendanceSheet.half == half,
            )
        )
    ).first()
    rows = []
    for e, u in await confirmed(s, session_id):
        mark = marks.get(e.id or 0)
        rows.append(
            SheetRow(
                e.id or 0, u.name, u.name_kana, mark.present if mark else True, mark.source if mark else ""
            )
        )
    out = Sheet(session_id, day, half, rows)
    if saved is not None:
        out.saved_by, out.saved_at = saved[1].name, saved[0].saved_at
    return out


async def save_sheet(
    s: AsyncSession, staff: User, session_id: int, day: date, half: str, absent: set[int], now: datetime
) -> Sheet:
    """Replace one half-day's marks: every confirmed learner present except ``absent``."""
    roster = await confirmed(s, session_id)
    ids = {e.id or 0 for e, _ in roster}
    if unknown := sorted(absent - ids):
        raise InvalidInput(
            "この開催回の受講決定者ではない申込IDが含まれています。",
            "Some ids are not confirmed enrollments of this session.",
            errors=[
                FieldError(
                    "absent", f"申込ID {i} は受講決定者ではありません。", f"{i} is not confirmed here."
                )
                for i in unknown
            ],
        )
    await s.exec(
        delete(AttendanceMark).where(
            col(AttendanceMark.session_id) == session_id,
            col(AttendanceMark.day) == day,
            col(AttendanceMark.half) == half,
        )
    )
    for eid in sorted(ids):
        s.add(
            AttendanceMark(
                session_id=session_id,
                enrollment_id=eid,
                day=day,
                half=half,
                present=eid not in absent,
                source="staff",
                marked_by=staff.id or 0,
                marked_at=now,
            )
        )
    saved = (
        await s.exec(
            select(AttendanceSheet).where(
                AttendanceSheet.session_id == session_id,
                AttendanceSheet.day == day,
                AttendanceSheet.half == half,
            )
        )
    ).first()
    if saved is None:
        saved = AttendanceSheet(
            session_id=session_id, day=day, half=half, saved_by=staff.id or 0, saved_at=now
        )
    saved.saved_by, saved.saved_at = staff.id or 0, now
    s.add(saved)
    await s.flush()
    return await sheet(s, session_id, day, half)


# --- check-in ---------------------------------------------------------------------------------------


def _mac(secret: str, message: str) -> bytes:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()


def checkin_token(secret: str, session_id: int, day: date, half: str) -> str:
    """The signed part of the QR code's URL; it expires when the half-day ends."""
    expires = int(half_ends(day, half).timestamp())
    payload = f"{session_id}.{day:%Y%m%d}.{half}.{expires}"
    sig = base64.urlsafe_b64encode(_mac(secret, "checkin:" + payload)[:18]).decode()
    return f"{payload}.{sig}"


def checkin_code(secret: str, session_id: int, day: date, half: str) -> str:
    """The 6-character code shown with the QR code, for typing at /me/check-in."""
    digest = _mac(secret, f"code:{session_id}:{day.isoformat()}:{half}")
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:6])


def _refused() -> InvalidInput:
    return InvalidInput(
        "出席登録のコードが正しくないか、受付時間外です。担当職員にお尋ねください。",
        "The check-in code is wrong or not valid now. Please ask the staff.",
    )


def read_token(secret: str, token: str, now: datetime) -> tuple[int, date, str]:
    parts = token.split(".")
    if len(parts) != 5:
        raise _refused()
    payload, sig = ".".join(parts[:4]), parts[4]
    good = base64.urlsafe_b64encode(_mac(secret, "checkin:" + payload)[:18]).decode()
    if not hmac.compare_digest(sig.encode(), good.encode()):
        raise _refused()
    try:
        session_id, day, half, expires = (
            int(parts[0]),
            datetime.strptime(parts[1], "%Y%m%d").date(),
            parts[2],
            int(parts[3]),
        )
    except ValueError:
        raise _refused() from None
    if half not in HALVES or now.timestamp() >= expires or half_of(now) != (day, half):
        raise _refused()
    return session_id, day, half


async def _my_confirmed(s: AsyncSession, user: User, session_id: int) -> Enrollment:
    row = (
        await s.exec(
            select(Enrollment).where(
                Enrollment.session_id == session_id,
                Enrollment.user_id == user.id,
                Enrollment.status == EnrollmentStatus.CONFIRMED,
            )
        )
    ).first()
    if row is None:
        raise Forbidden(
            "この研修の受講決定者ではないため、出席登録できません。",
            "Only learners with a confirmed place may check in to this session.",
        )
    return row


async def check_in(
    s: AsyncSession, user: User, session_id: int, day: date, half: str, now: datetime
) -> Enrollment:
    """Mark ``user`` present in the half-day, which must be the current one and a meeting day."""
    if half_of(now) != (day, half) or day not in meeting_days(await blocks_of(s, session_id)):
        raise _refused()
    row = await _my_confirmed(s, user, session_id)
    mark = (
        await s.exec(
            select(AttendanceMark).where(
                AttendanceMark.enrollment_id == row.id, AttendanceMark.day == day, AttendanceMark.half == half
            )
        )
    ).first()
    if mark is None:
        mark = AttendanceMark(
            session_id=session_id,
            enrollment_id=row.id or 0,
            day=day,
            half=half,
            present=True,
            source="checkin",
            marked_by=user.id or 0,
            marked_at=now,
        )
    elif not mark.present:
        mark.present, mark.source, mark.marked_by, mark.marked_at = True, "checkin", user.id or 0, now
    s.add(mark)
    await s.flush()
    return row


async def check_in_by_code(s: AsyncSession, user: User, code: str, now: datetime, secret: str) -> int:
    """The session among the learner's confirmed ones meeting now whose code this is (its id)."""
    typed = "".join(code.split()).upper()
    day, half = half_of(now)
    rows = await s.exec(
        select(Enrollment.session_id)
        .join(CourseSession, col(CourseSession.id) == Enrollment.session_id)
        .where(
            Enrollment.user_id == user.id,
            Enrollment.status == EnrollmentStatus.CONFIRMED,
            col(CourseSession.start_date) <= day,
            col(CourseSession.end_date) >= day,
        )
    )
    for session_id in rows:
        if hmac.compare_digest(typed.encode(), checkin_code(secret, session_id, day, half).encode()):
            await check_in(s, user, session_id, day, half, now)
            return session_id
    raise _refused()


# --- completion -------------------------------------------------------------------------------------


@dataclass
class Progress:
    enrollment_id: int
    attended: int  # half-days marked present
    total: int  # the session's half-days
    min_percent: int
    practicum_missed: list[str] = field(default_factory=list)  # practicum half-days not attended

    @property
    def percent(self) -> int:
        return self.attended * 100 // self.total if self.total else 0

    @property
    def completed(self) -> bool:
        return meets(self.attended, self.total, self.min_percent) and not self.practicum_missed


def meets(attended: int, total: int, min_percent: int) -> bool:
    """attended ≥ min_percent % of total, in integers: 8 of 10 half-days meet 80 %, 7 do not."""
    return total > 0 and attended * 100 >= min_percent * total


async def progress(s: AsyncSession, session_id: int) -> dict[int, Progress]:
    """Every confirmed learner's attendance so far against the course's completion rule."""
    ctx = await run_sync(s, seats.load_session, session_id)
    blocks = await blocks_of(s, session_id)
    return await _progress(
        s, ctx.course, session_id, blocks, [e.id or 0 for e, _ in await confirmed(s, session_id)]
    )


async def progress_of(s: AsyncSession, enrollment: Enrollment) -> Progress:
    sess = await s.get(CourseSession, enrollment.session_id)
    course = await s.get(Course, sess.course_id) if sess else None
    assert sess is not None and course is not None
    blocks = await blocks_of(s, sess.id or 0)
    return (await _progress(s, course, sess.id or 0, blocks, [enrollment.id or 0]))[enrollment.id or 0]


async def _progress(
    s: AsyncSession, course: Course, session_id: int, blocks: list[SessionBlock], enrollment_ids: list[int]
) -> dict[int, Progress]:
    days = meeting_days(blocks)
    practicum = (
        set(practicum_days(blocks, course.practicum_days)) if course.has_practicum and blocks else set()
    )
    present: dict[int, set[tuple[date, str]]] = {i: set() for i in enrollment_ids}
    if enrollment_ids:
        for m in await s.exec(
            select(AttendanceMark).where(
                col(AttendanceMark.enrollment_id).in_(enrollment_ids), col(AttendanceMark.present).is_(True)
            )
        ):
            if m.day in days:
                present[m.enrollment_id].add((m.day, m.half))
    out = {}
    for eid, got in present.items():
        missed = [
            f"{d.isoformat()} {HALF_JA[h]}" for d in sorted(practicum) for h in HALVES if (d, h) not in got
        ]
        out[eid] = Progress(eid, len(got), 2 * len(days), course.completion_min_percent, missed)
    return out


async def set_completion_rule(s: AsyncSession, course_id: int, min_percent: int) -> Course:
    course = await s.get(Course, course_id)
    if course is None:
        raise not_found("研修", "Course", course_id)
    course.completion_min_percent = min_percent
    course.version += 1
    s.add(course)
    await s.flush()
    return course


def not_completed(p: Progress) -> NotEligible:
    if p.practicum_missed:
        return NotEligible(
            "実習日に欠席があるため、修了の要件を満たしていません。",
            "A practicum half-day was missed, so the course is not completed.",
        )
    return NotEligible(
        f"出席率が修了に必要な{p.min_percent}%に達していません（{p.attended}/{p.total}）。",
        f"Attendance is below the {p.min_percent} % the course requires ({p.attended}/{p.total}).",
    )

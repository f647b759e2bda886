"""The public catalog: campuses, courses and sessions with their seats left."""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import msgspec
from msgspec import UNSET
from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.service import staff_campus_ids, to_katakana
from courses.catalog.schemas import BlockOut, SessionOut
from courses.core.errors import FieldError, InvalidInput, not_found
from courses.models import (
    Audience,
    Campus,
    Category,
    Course,
    CourseSession,
    SessionBlock,
    SessionStatus,
    User,
)

MAX_PER_PAGE = 100
MAX_PAGE = 100_000
DEFAULT_PER_PAGE = 20
AUDIENCE_LABELS = {
    Audience.SME: ("中小企業の経営者・管理者向け", "For SME executives and managers"),
    Audience.SUPPORT: ("支援機関職員向け", "For support-agency staff"),
}
# Where a session stands for someone who wants to apply today, with the badge it carries.
APPLICATION_LABELS = {
    "open": ("受付中", "Open for applications"),
    "upcoming": ("受付前", "Not open yet"),
    "closed": ("受付終了", "Applications closed"),
    "cancelled": ("中止", "Cancelled"),
    "draft": ("準備中", "Draft"),
}
STATUS_LABELS = {
    SessionStatus.DRAFT: ("準備中", "Draft"),
    SessionStatus.PUBLISHED: ("受付中", "Published"),
    SessionStatus.CLOSED: ("受付終了", "Closed"),
    SessionStatus.CANCELLED: ("中止", "Cancelled"),
}


@dataclass
class SessionFilter:
    """Validated filters for the session list, shared by the API and the catalog page."""

    campus: str | None = None
    audience: str | None = None
    category: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    starts_from: date | None = None  # only sessions that have not begun (the catalog's default view)
    q: str | None = None
    statuses: tuple[str, ...] = ()
    accepting_on: date | None = None  # only sessions open for applications on this day
    with_seats: bool = False  # only sessions with a seat left
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    # Drafts are listed only for these campuses (the caller's own, as staff); everyone else sees none.
    draft_campus_ids: frozenset[int] = frozenset()


@dataclass
class SessionRow:
    session: CourseSession
    course: Course
    campus: Campus
    blocks: list[SessionBlock] = field(default_factory=list)

    @property
    def seats_left(self) -> int:
        return max(0, self.session.capacity - self.session.confirmed_count)

    def application(self, today: date) -> str:
        """open, upcoming, closed, cancelled or draft: whether someone may apply today."""
        return application_state(self.session, today)


def application_state(session: CourseSession, today: date) -> str:
    if session.status == SessionStatus.CANCELLED:
        return "cancelled"
    if session.status == SessionStatus.DRAFT:
        return "draft"
    if session.status == SessionStatus.CLOSED or today > session.application_closes:
        return "closed"
    if today < session.application_opens:
        return "upcoming"
    return "open"


@dataclass
class Page:
    items: list[SessionRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _bad(field_name: str, ja: str, en: str) -> InvalidInput:
    return InvalidInput(ja, en, errors=[FieldError(field_name, ja, en)])


def _parse_date(name: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _bad(
            name,
            f"{name} の日付「{raw}」が正しくありません。YYYY-MM-DD の形式で、実在する日付を指定してください。",
            f"{name}: '{raw}' is not a valid date; use YYYY-MM-DD with a real calendar date.",
        ) from None


def _parse_month(raw: str) -> tuple[date, date]:
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", raw.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise _bad(
            "month",
            f"month「{raw}」が正しくありません。YYYY-MM の形式で指定してください（例: 2026-06）。",
            f"month: '{raw}' is not a month; use YYYY-MM (for example 2026-06).",
        )
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _parse_int(name: str, raw: str | None, default: int, low: int, high: int | None) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(name, f"{name} は整数で指定してください。", f"{name} must be a whole number.") from None
    if value < low or (high is not None and value > high):
        bound_ja = f"{low}以上{high}以下" if high is not None else f"{low}以上"
        bound_en = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise _bad(name, f"{name} は{bound_ja}で指定してください。", f"{name} must be {bound_en}.")
    return value


def _flag(name: str, raw: str | None) -> bool:
    text = (raw or "").strip().lower()
    if text in {"", "0", "false", "no", "off"}:
        return False
    if text in {"1", "true", "yes", "on"}:
        return True
    raise _bad(name, f"{name} は true か false で指定してください。", f"{name} must be true or false.")


async def parse_session_filter(
    db: AsyncSession,
    params: dict[str, str | None],
    viewer: User | None = None,
    today: date | None = None,
) -> SessionFilter:
    """Check raw query parameters and turn them into a filter, or refuse with a clear reason.

    Drafts are listed to ``viewer`` only for the campuses they staff (administrators: every campus).
    ``accepting=true`` keeps the sessions open for applications on ``today``; ``has_seats=true``
    those with a seat left.
    """
    flt = SessionFilter()
    if _flag("accepting", params.get("accepting")):
        flt.accepting_on = today
    flt.with_seats = _flag("has_seats", params.get("has_seats"))
    if viewer is not None:
        flt.draft_campus_ids = frozenset(await staff_campus_ids(db, viewer))
    campus = (params.get("campus") or "").strip()
    if campus:
        found = (await db.exec(select(Campus.id).where(Campus.code == campus))).first()
        if found is None:
            raise _bad("campus", f"キャンパス「{campus}」はありません。", f"Unknown campus '{campus}'.")
        flt.campus = campus
    audience = (params.get("audience") or "").strip()
    if audience:
        if audience not in {a.value for a in Audience}:
            raise _bad(
                "audience",
                f"対象「{audience}」は指定できません（sme または support）。",
                f"Unknown audience '{audience}' (use sme or support).",
            )
        flt.audience = audience
    category = (params.get("category") or "").strip()
    if category:
        found_category = (await db.exec(select(Category.id).where(Category.code == category))).first()
        if found_category is None:
            raise _bad("category", f"分野「{category}」はありません。", f"Unknown category '{category}'.")
        flt.category = category
    status = (params.get("status") or "").strip()
    if status:
        wanted = tuple(s.strip() for s in status.split(",") if s.strip())
        known = {s.value for s in SessionStatus}
        bad = [s for s in wanted if s not in known]
        if bad:
            raise _bad(
                "status",
                f"状態「{bad[0]}」は指定できません（{', '.join(sorted(known))}）。",
                f"Unknown status '{bad[0]}' (use {', '.join(sorted(known))}).",
            )
        flt.statuses = wanted
    month = params.get("month")
    if month:
        flt.date_from, flt.date_to = _parse_month(month)
    if params.get("from"):
        flt.date_from = _parse_date("from", params["from"] or "")
    if params.get("to"):
        flt.date_to = _parse_date("to", params["to"] or "")
    if flt.date_from and flt.date_to and flt.date_from > flt.date_to:
        raise _bad("to", "to は from 以降の日付にしてください。", "'to' must not be before 'from'.")
    q = (params.get("q") or "").strip()
    if len(q) > 100:
        raise _bad(
            "q", "キーワードは100文字以内にしてください。", "The keyword must be at most 100 characters."
        )
    flt.q = q or None
    flt.page = _parse_int("page", params.get("page"), 1, 1, MAX_PAGE)
    flt.per_page = _parse_int("per_page", params.get("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    return flt


def _apply(stmt: Any, flt: SessionFilter) -> Any:
    if flt.campus:
        stmt = stmt.where(Campus.code == flt.campus)
    if flt.audience:
        stmt = stmt.where(Course.audience == flt.audience)
    if flt.category:
        stmt = stmt.where(Course.category == flt.category)
    if flt.date_from:
        stmt = stmt.where(CourseSession.end_date >= flt.date_from)
    if flt.date_to:
        stmt = stmt.where(CourseSession.start_date <= flt.date_to)
    if flt.starts_from:
        stmt = stmt.where(CourseSession.start_date >= flt.starts_from)
    if flt.statuses:
        stmt = stmt.where(col(CourseSession.status).in_(flt.statuses))
    if flt.accepting_on:
        stmt = stmt.where(
            CourseSession.status == SessionStatus.PUBLISHED,
            col(CourseSession.application_opens) <= flt.accepting_on,
            col(CourseSession.application_closes) >= flt.accepting_on,
        )
    if flt.with_seats:
        stmt = stmt.where(col(CourseSession.confirmed_count) < col(CourseSession.capacity))
    stmt = stmt.where(
        or_(
            col(CourseSession.status) != SessionStatus.DRAFT,
            col(CourseSession.campus_id).in_(sorted(flt.draft_campus_ids)),
        )
    )
    if flt.q:
        like = contains_pattern(flt.q)
        columns = (Course.title_ja, Course.title_en, Course.code, Course.description, CourseSession.code)
        matches = [col(c).ilike(like, escape=LIKE_ESCAPE) for c in columns]
        reading = reading_of(flt.q)
        if reading:  # 「ざいむ」 or 「ザイム」 finds 財務 through the course's reading
            matches.append(col(Course.title_kana).like(contains_pattern(reading), escape=LIKE_ESCAPE))
        stmt = stmt.where(or_(*matches))
    return stmt


def reading_of(keyword: str) -> str:
    """The keyword as a katakana reading without spaces, when it is written in kana only ('' if not)."""
    text = "".join(ch for ch in to_katakana(unicodedata.normalize("NFKC", keyword)) if ch not in " 　・")
    return text if text and KANA_ONLY.fullmatch(text) else ""


KANA_ONLY = re.compile(r"[ァ-ヶー]+")


async def session_months(db: AsyncSession, today: date) -> list[tuple[str, str]]:
    """The months from this one in which a listed session meets, as (YYYY-MM, 2026年6月)."""
    rows = await db.exec(
        select(col(CourseSession.start_date), col(CourseSession.end_date)).where(
            CourseSession.status != SessionStatus.DRAFT, col(CourseSession.end_date) >= today
        )
    )
    first = (today.year, today.month)
    months: set[tuple[int, int]] = set()
    for start, end in rows:
        y, m = max((start.year, start.month), first)
        while (y, m) <= (end.year, end.month):
            months.add((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return [(f"{y:04d}-{m:02d}", f"{y}年{m}月") for y, m in sorted(months)]


LIKE_ESCAPE = "\\"


def contains_pattern(keyword: str) -> str:
    """A LIKE pattern that finds ``keyword`` literally: its ``%``, ``_`` and escape characters match
    themselves, so ``q=%`` finds a percent sign instead of everything."""
    escaped = keyword.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
    return f"%{escaped.replace('_', LIKE_ESCAPE + '_')}%"


async def blocks_for(db: AsyncSession, session_ids: list[int]) -> dict[int, list[SessionBlock]]:
    out: dict[int, list[SessionBlock]] = {i: [] for i in session_ids}
    if not session_ids:
        return out
    rows = await db.exec(
        select(SessionBlock)
        .where(col(SessionBlock.session_id).in_(session_ids))
        .order_by(col(SessionBlock.session_id), col(SessionBlock.seq))
    )
    for block in rows:
        out[block.session_id].append(block)
    return out


async def list_sessions(db: AsyncSession, flt: SessionFilter) -> Page:
    """One page of sessions; seats left come from the same row, never one query per session."""
    base = (
        select(CourseSession, Course, Campus)
        .join(Course, col(Course.id) == CourseSession.course_id)
        .join(Campus, col(Campus.id) == CourseSession.campus_id)
    )
    base = _apply(base, flt)
    count_stmt = _apply(
        select(func.count())
        .select_from(CourseSession)
        .join(Course, col(Course.id) == CourseSession.course_id)
        .join(Campus, col(Campus.id) == CourseSession.campus_id),
        flt,
    )
    total = (await db.exec(count_stmt)).one()
    stmt = (
        base.order_by(col(CourseSession.start_date), col(Campus.sort_order), col(CourseSession.id))
        .offset((flt.page - 1) * flt.per_page)
        .limit(flt.per_page)
    )
    rows = list(await db.exec(stmt))
    blocks = await blocks_for(db, [s.id for s, _, _ in rows if s.id is not None])
    items = [SessionRow(s, c, k, blocks.get(s.id or 0, [])) for s, c, k in rows]
    return Page(items=items, total=int(total), page=flt.page, per_page=flt.per_page)


async def get_session(db: AsyncSession, session_id: int, *, include_drafts: bool = False) -> SessionRow:
    row = (
        await db.exec(
            select(CourseSession, Course, Campus)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .join(Campus, col(Campus.id) == CourseSession.campus_id)
            .where(CourseSession.id == session_id)
        )
    ).first()
    if row is None or (row[0].status == SessionStatus.DRAFT and not include_drafts):
        raise not_found("開催回", "Session", session_id)
    blocks = await blocks_for(db, [session_id])
    return SessionRow(row[0], row[1], row[2], blocks[session_id])


async def list_campuses(db: AsyncSession) -> list[Campus]:
    return list(await db.exec(select(Campus).order_by(col(Campus.sort_order), col(Campus.id))))


async def list_courses(db: AsyncSession, audience: str | None = None) -> list[Course]:
    stmt = select(Course).order_by(col(Course.audience), col(Course.code))
    if audience:
        stmt = stmt.where(Course.audience == audience)
    return list(await db.exec(stmt))


async def list_categories(db: AsyncSession) -> list[Category]:
    return list(await db.exec(select(Category).order_by(col(Category.sort_order), col(Category.id))))


def session_out(row: SessionRow, today: date | None = None) -> SessionOut:
    """The API shape of a session; with ``today``, where applying stands that day."""
    s, c, k = row.session, row.course, row.campus
    return SessionOut(
        id=s.id or 0,
        code=s.code,
        course_code=c.code,
        course_title=c.title_ja,
        course_title_en=c.title_en,
        course_title_kana=c.title_kana,
        audience=c.audience,  # type: ignore[arg-type]
        category=c.category,
        campus=k.code,
        campus_name=k.name_ja,
        blocks=[BlockOut(b.start_date, b.end_date) for b in row.blocks],
        start_date=s.start_date,
        end_date=s.end_date,
        days=c.days,
        fee_yen=c.fee_yen,
        lodging=s.lodging,
        capacity=s.capacity,
        seats_left=row.seats_left,
        application_opens=s.application_opens,
        application_closes=s.application_closes,
        status=s.status,  # type: ignore[arg-type]
        application=application_state(s, today) if today else UNSET,  # type: ignore[arg-type]
    )


def session_to_dict(row: SessionRow, today: date | None = None) -> dict[str, Any]:
    """``session_out`` as JSON values (the console adds its own fields to it)."""
    out = msgspec.to_builtins(session_out(row, today))
    assert isinstance(out, dict)
    return out


@dataclass
class MonthCalendar:
    """A campus's sessions on the days of one month, Monday first, for the month view."""

    campus: Campus
    first: date
    weeks: list[list[date | None]]
    on_day: dict[date, list[SessionRow]]

    @property
    def previous(self) -> str:
        back = self.first - timedelta(days=1)
        return f"{back.year:04d}-{back.month:02d}"

    @property
    def next(self) -> str:
        ahead = self.first + timedelta(days=32)
        return f"{ahead.year:04d}-{ahead.month:02d}"


async def month_calendar(db: AsyncSession, campus_code: str, month: str | None, today: date) -> MonthCalendar:
    """The sessions of a campus that meet in ``month`` (YYYY-MM; this month by default), day by day:
    a session of several blocks shows on the days of its blocks only. Drafts are never shown."""
    campus = (await db.exec(select(Campus).where(Campus.code == campus_code))).first()
    if campus is None:
        raise not_found("キャンパス", "Campus", campus_code)
    first, last = _parse_month(month) if month else _parse_month(f"{today.year}-{today.month}")
    rows = list(
        await db.exec(
            select(CourseSession, Course, Campus)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .join(Campus, col(Campus.id) == CourseSession.campus_id)
            .where(
                CourseSession.campus_id == campus.id,
                CourseSession.status != SessionStatus.DRAFT,
                col(CourseSession.start_date) <= last,
                col(CourseSession.end_date) >= first,
            )
            .order_by(col(CourseSession.start_date), col(CourseSession.code))
        )
    )
    blocks = await blocks_for(db, [s.id for s, _, _ in rows if s.id is not None])
    on_day: dict[date, list[SessionRow]] = {}
    for s, c, k in rows:
        row = SessionRow(s, c, k, blocks.get(s.id or 0, []))
        for block in row.blocks:
            day = max(block.start_date, first)
            while day <= min(block.end_date, last):
                on_day.setdefault(day, []).append(row)
                day += timedelta(days=1)
    lead = first.weekday()
    days: list[date | None] = [None] * lead + [first + timedelta(days=i) for i in range(last.day)]
    days += [None] * (-len(days) % 7)
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    return MonthCalendar(campus, first, weeks, on_day)

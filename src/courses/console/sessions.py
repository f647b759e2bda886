"""Sessions as campus staff keep them: create, edit, copy to the next year, publish, close, cancel.

A session with learners is never changed behind their backs: its capacity cannot drop below the
seats already confirmed, and moving its dates (or withdrawing lodging) is refused until the member
of staff confirms it, and then every affected learner is told.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.billing.service import settle_cancelled_session
from courses.catalog import service as catalog
from courses.console.forms import (
    FieldSpec,
    check,
    ensure_campus,
    fiscal_year_start,
    format_ranges,
    refuse,
    save_versioned,
    stale,
    version_of,
)
from courses.core import audit, mail
from courses.core.errors import Conflict, FieldError, InvalidInput, not_found
from courses.core.tx import run_sync
from courses.core.web import ja_date
from courses.enrollment import service as enrollment
from courses.models import (
    Campus,
    Course,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    SessionBlock,
    SessionStatus,
    User,
)

F = FieldSpec
SESSION_FIELDS = [
    F("campus", "キャンパス", "campus", create_only=True),
    F("course", "研修コード", max_len=32, create_only=True, hint="例: ZAI05（研修一覧のコード）"),
    F("code", "開催回コード", required=False, max_len=40, create_only=True, hint="空欄なら自動で付けます"),
    F("capacity", "定員", "int", low=1, high=500),
    F("lodging", "宿泊あり", "bool"),
    F("blocks", "日程（ブロック）", "ranges", hint="1行に1ブロック: 2026-06-08..2026-06-12"),
    F("application_opens", "申込開始日", "date"),
    F("application_closes", "申込締切日", "date"),
]
EDIT_FIELDS = [f for f in SESSION_FIELDS if not f.create_only]


def _field_error(name: str, ja: str, en: str) -> InvalidInput:
    return refuse([FieldError(name, ja, en)])


async def load(s: AsyncSession, user: User, session_id: int) -> CourseSession:
    """A session of one of the user's campuses, drafts included."""
    row = await s.get(CourseSession, session_id)
    if row is None:
        raise not_found("開催回", "Session", session_id)
    await ensure_campus(s, user, row.campus_id)
    return row


async def as_dict(s: AsyncSession, row: CourseSession) -> dict[str, Any]:
    data = catalog.session_to_dict(await catalog.get_session(s, row.id or 0, include_drafts=True))
    waiting = (
        await s.exec(
            select(func.count()).where(
                Enrollment.session_id == row.id, Enrollment.status == EnrollmentStatus.WAITLISTED
            )
        )
    ).one()
    data.update(version=row.version, confirmed_count=row.confirmed_count, waitlisted_count=int(waiting))
    return data


async def list_for_campus(
    s: AsyncSession, user: User, campus: Campus, year_start: date | None = None
) -> list[Any]:
    """Every session of a campus (drafts and cancelled ones too) from the start of a fiscal year."""
    await ensure_campus(s, user, campus.id or 0)
    stmt = (
        select(CourseSession, Course)
        .join(Course, col(Course.id) == CourseSession.course_id)
        .where(CourseSession.campus_id == campus.id)
    )
    if year_start:
        stmt = stmt.where(CourseSession.end_date >= year_start)
    return list(await s.exec(stmt.order_by(col(CourseSession.start_date), col(CourseSession.id))))


def _check_dates(values: dict[str, Any], blocks: list[tuple[date, date]], campus: Campus) -> None:
    errors = []
    if not blocks:
        errors.append(FieldError("blocks", "日程を1ブロック以上入力してください。", "At least one block."))
    if values["application_closes"] < values["application_opens"]:
        errors.append(
            FieldError(
                "application_closes", "申込締切日は申込開始日以降にしてください。", "Closes before it opens."
            )
        )
    if blocks and values["application_closes"] >= blocks[0][0]:
        errors.append(
            FieldError(
                "application_closes",
                f"申込締切日は初日（{ja_date(blocks[0][0])}）より前にしてください。",
                "Applications must close before the first day.",
            )
        )
    if values.get("lodging") and not campus.has_lodging:
        errors.append(
            FieldError(
                "lodging", f"{campus.name_ja}には宿泊施設がないため「宿泊あり」にできません。", "No lodging."
            )
        )
    if errors:
        raise refuse(errors)


async def _replace_blocks(s: AsyncSession, session_id: int, blocks: list[tuple[date, date]]) -> None:
    await s.exec(delete(SessionBlock).where(col(SessionBlock.session_id) == session_id))
    for seq, (a, b) in enumerate(blocks, start=1):
        s.add(SessionBlock(session_id=session_id, seq=seq, start_date=a, end_date=b))
    await s.flush()


async def _blocks(s: AsyncSession, session_id: int) -> list[tuple[date, date]]:
    return [(b.start_date, b.end_date) for b in (await catalog.blocks_for(s, [session_id]))[session_id]]


async def _snapshot(s: AsyncSession, row: CourseSession) -> dict[str, Any]:
    return audit.snapshot(row, blocks=format_ranges(await _blocks(s, row.id or 0)))


async def create(s: AsyncSession, user: User, data: dict[str, Any], now: datetime) -> CourseSession:
    """A new session, as a draft that learners do not see until it is published."""
    values = check(SESSION_FIELDS, data, now.date())
    campus = (await s.exec(select(Campus).where(Campus.code == values["campus"]))).first()
    if campus is None:
        raise _field_error("campus", f"キャンパス「{values['campus']}」はありません。", "Unknown campus.")
    await ensure_campus(s, user, campus.id or 0)
    course = (await s.exec(select(Course).where(Course.code == values["course"]))).first()
    if course is None or course.archived:
        raise _field_error(
            "course", f"研修コード「{values['course']}」の研修はありません。", "Unknown course."
        )
    blocks = values.pop("blocks")
    _check_dates(values, blocks, campus)
    fy = fiscal_year_start(blocks[0][0]).year
    code = values["code"] or await _next_code(s, f"{fy}-{campus.code[:3].upper()}-{course.code}-")
    row = CourseSession(
        code=code,
        course_id=course.id or 0,
        campus_id=campus.id or 0,
        capacity=values["capacity"],
        lodging=values["lodging"],
        start_date=blocks[0][0],
        end_date=blocks[-1][1],
        application_opens=values["application_opens"],
        application_closes=values["application_closes"],
        status=SessionStatus.DRAFT,
        created_at=now,
    )
    s.add(row)
    try:
        await s.flush()
    except IntegrityError:
        raise Conflict(
            f"開催回コード「{code}」は既に使われています。",
            "The session code is taken.",
            errors=[FieldError("code", f"開催回コード「{code}」は既に使われています。", "Code taken.")],
        ) from None
    await _replace_blocks(s, row.id or 0, blocks)
    await audit.record(
        s, user, "create", "session", row.id or 0, row.campus_id, None, await _snapshot(s, row), now
    )
    return row


async def _next_code(s: AsyncSession, prefix: str) -> str:
    taken = set(
        (await s.exec(select(CourseSession.code).where(col(CourseSession.code).startswith(prefix)))).all()
    )
    n = 1
    while f"{prefix}{n:02d}" in taken:
        n += 1
    return f"{prefix}{n:02d}"


async def _active(s: AsyncSession, session_id: int) -> list[tuple[Enrollment, User]]:
    rows = await s.exec(
        select(Enrollment, User)
        .join(User, col(User.id) == Enrollment.user_id)
        .where(Enrollment.session_id == session_id, col(Enrollment.status).in_(enrollment.ACTIVE))
        .order_by(col(Enrollment.id))
    )
    return list(rows)


def _who(rows: list[tuple[Enrollment, User]]) -> list[dict[str, Any]]:
    return [{"enrollment_id": e.id, "name": u.name, "email": u.email, "status": e.status} for e, u in rows]


async def update(
    s: AsyncSession, user: User, session_id: int, data: dict[str, Any], now: datetime, *, partial: bool
) -> tuple[CourseSession, dict[str, Any]]:
    """Edit capacity, lodging, dates and application window, under the rules in the module docstring.

    Returns the session and what happened to learners: ``promoted`` (from the waiting list, when the
    capacity went up) and ``notified`` (when the dates moved with their confirmation).
    """
    version = version_of(data)
    row = await load(s, user, session_id)
    if row.status == SessionStatus.CANCELLED:
        raise Conflict("中止した開催回は変更できません。", "A cancelled session cannot be changed.")
    if row.version != version:
        raise stale("開催回")
    values = check(EDIT_FIELDS, data, now.date(), partial=partial, creating=False)
    old_blocks = await _blocks(s, session_id)
    blocks = values.pop("blocks", old_blocks)
    merged = {
        "capacity": values.get("capacity", row.capacity),
        "lodging": values.get("lodging", row.lodging),
        "application_opens": values.get("application_opens", row.application_opens),
        "application_closes": values.get("application_closes", row.application_closes),
    }
    campus = await s.get(Campus, row.campus_id)
    assert campus is not None
    _check_dates(merged, blocks, campus)
    if merged["capacity"] < row.confirmed_count:
        n = row.confirmed_count
        ja = (
            f"受講決定者が{n}名いるため、定員を{n}名未満にはできません。"
            "減らす場合は、先に名簿で申込を取り消してください（取り消した受講者には通知されます）。"
        )
        raise Conflict(
            ja,
            f"{n} learners hold seats; the capacity cannot go below {n}.",
            errors=[FieldError("capacity", ja, f"At least {n}.")],
            extra={"confirmed_count": n},
        )
    active = await _active(s, session_id)
    moved = blocks != old_blocks
    lodging_dropped = row.lodging and not merged["lodging"]
    affected = [(e, u) for e, u in active if moved or (lodging_dropped and e.lodging)]
    confirm = data.get("confirm_affected") in (True, "true", "on", "1")
    if affected and not confirm:
        what = "日程" if moved else "宿泊の有無"
        ja = (
            f"この開催回には{what}の変更で影響を受ける申込者が{len(affected)}名います。"
            f"変更すると全員にメールでお知らせします。よろしければ「申込者に通知して変更する」を選んで"
            "（API では confirm_affected: true を付けて）もう一度保存してください。"
        )
        raise Conflict(
            ja,
            f"{len(affected)} learners are affected; send confirm_affected: true to change and notify them.",
            errors=[FieldError("confirm_affected", ja, "Confirmation needed.")],
            extra={"affected_count": len(affected), "affected": _who(affected)},
        )
    before = await _snapshot(s, row)
    columns = dict(merged, start_date=blocks[0][0], end_date=blocks[-1][1])
    try:
        await save_versioned(s, CourseSession, row, version, columns, "開催回")
    except IntegrityError:  # a seat was taken since we looked: the CHECK constraint holds the line
        raise Conflict(
            "保存の間に受講決定者が増えたため、この定員にはできません。読み込み直してください。",
            "Seats were taken meanwhile; reload and try again.",
        ) from None
    if moved:
        await _replace_blocks(s, session_id, blocks)
    promoted = (
        await run_sync(s, enrollment.promote_waiting, session_id, now)
        if merged["capacity"] > before["capacity"]
        else []
    )
    if affected:
        await _tell_changed(s, row, affected, blocks, moved, now)
    await s.refresh(row)
    await audit.record(
        s, user, "update", "session", session_id, row.campus_id, before, await _snapshot(s, row), now
    )
    return row, {"promoted": [p.id for p in promoted], "notified": len(affected)}


async def _tell_changed(
    s: AsyncSession,
    row: CourseSession,
    affected: list[tuple[Enrollment, User]],
    blocks: list[tuple[date, date]],
    moved: bool,
    now: datetime,
) -> None:
    """Each affected learner is told, in the language they read."""
    course = await s.get(Course, row.course_id)
    for _, user in affected:
        mail.send(s, user, "session_changed.txt", now, course=course, session=row, blocks=blocks, moved=moved)


TRANSITIONS = {
    "publish": ({SessionStatus.DRAFT, SessionStatus.CLOSED}, SessionStatus.PUBLISHED),
    "close": ({SessionStatus.PUBLISHED}, SessionStatus.CLOSED),
}
STATUS_JA = {"publish": "公開", "close": "受付終了", "cancel": "中止"}


def available_actions(status: str) -> list[str]:
    """The status changes a session in ``status`` accepts, in the order the page offers them."""
    actions = [name for name, (sources, _) in TRANSITIONS.items() if status in sources]
    if status != SessionStatus.CANCELLED:
        actions.append("cancel")
    return [*actions, "copy"]


async def change_status(
    s: AsyncSession, user: User, session_id: int, action: str, data: dict[str, Any], now: datetime
) -> tuple[CourseSession, int]:
    """Publish (learners see it and may apply), close applications, or cancel (everyone is told)."""
    version = version_of(data)
    row = await load(s, user, session_id)
    before = await _snapshot(s, row)
    if row.version != version:
        raise stale("開催回")
    told = 0
    if action == "cancel":
        if row.status == SessionStatus.CANCELLED:
            raise Conflict("この開催回は既に中止されています。", "This session is already cancelled.")
        if row.status == SessionStatus.DRAFT:
            await save_versioned(
                s, CourseSession, row, version, {"status": SessionStatus.CANCELLED}, "開催回"
            )
        else:
            told = await run_sync(s, enrollment.cancel_session, session_id, now)
            await settle_cancelled_session(s, session_id, now)
    else:
        allowed, target = TRANSITIONS[action]
        if row.status not in allowed:
            raise Conflict(
                f"現在の状態（{catalog.STATUS_LABELS[SessionStatus(row.status)][0]}）からは{STATUS_JA[action]}できません。",
                f"Cannot {action} a session that is {row.status}.",
            )
        await save_versioned(s, CourseSession, row, version, {"status": target}, "開催回")
    await s.flush()
    await s.refresh(row)
    await audit.record(
        s, user, action, "session", session_id, row.campus_id, before, await _snapshot(s, row), now
    )
    return row, told


async def copy_to_next_year(s: AsyncSession, user: User, session_id: int, now: datetime) -> CourseSession:
    """A draft copy of a session, whole weeks later (same weekdays) in the current or next fiscal year."""
    src = await load(s, user, session_id)
    fy = fiscal_year_start(now.date())
    weeks = 52
    while src.start_date + timedelta(weeks=weeks) < fy:
        weeks += 52
    shift = timedelta(weeks=weeks)
    blocks = [(a + shift, b + shift) for a, b in await _blocks(s, session_id)]
    old_year = fiscal_year_start(src.start_date).year
    new_year = fiscal_year_start(blocks[0][0]).year
    prefix = f"{old_year}-"
    code = (
        f"{new_year}-{src.code[len(prefix) :]}" if src.code.startswith(prefix) else f"{src.code}-{new_year}"
    )
    if (await s.exec(select(CourseSession.id).where(CourseSession.code == code))).first() is not None:
        raise Conflict(
            f"この開催回は既に{new_year}年度へコピーされています（{code}）。", f"Already copied as {code}."
        )
    row = CourseSession(
        code=code,
        course_id=src.course_id,
        campus_id=src.campus_id,
        capacity=src.capacity,
        lodging=src.lodging,
        start_date=blocks[0][0],
        end_date=blocks[-1][1],
        application_opens=src.application_opens + shift,
        application_closes=src.application_closes + shift,
        status=SessionStatus.DRAFT,
        created_at=now,
    )
    s.add(row)
    await s.flush()
    await _replace_blocks(s, row.id or 0, blocks)
    after = await _snapshot(s, row)
    await audit.record(
        s, user, "copy", "session", row.id or 0, row.campus_id, None, dict(after, copied_from=src.code), now
    )
    return row


def form_values(data: dict[str, Any]) -> dict[str, str]:
    return {
        "campus": data["campus"],
        "course": data["course_code"],
        "code": data["code"],
        "capacity": str(data["capacity"]),
        "lodging": "on" if data["lodging"] else "",
        "blocks": "\n".join(f"{b['start']}..{b['end']}" for b in data["blocks"]),
        "application_opens": data["application_opens"],
        "application_closes": data["application_closes"],
        "version": str(data["version"]),
    }

"""Bulk registration: an organisation registers many people at once from a spreadsheet.

Two steps. ``preview`` checks every row and predicts, in row order, who gets a seat and who joins the
waiting list; it writes nothing. ``commit`` checks the file again (seats may have gone since the
preview) and registers the rows in row order inside ONE write transaction, each seat taken through
``enrollment.enroll`` like any single enrollment. In ``all_or_nothing`` mode one bad row rolls
everything back.

Only the organisation's members (people who once accepted one of its invitations) are registered
directly. Every other row, whether or not an account has that email, is checked on what the file
says alone and becomes an invitation the person accepts or declines
(``courses.bulk.invitations``): the coordinator learns nothing about anybody's account.

Looking up and checking the rows is in ``courses.bulk.rows``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts import service as accounts
from courses.bulk.files import Table
from courses.bulk.rows import (
    Lookups,
    RowChecker,
    check_eligible,
    check_email,
    check_kana,
    check_lodging,
    check_session,
    load_lookups,
    member_of,
    profile_from_row,
)
from courses.core import mail, notifications
from courses.core.errors import Conflict, DomainError, FieldError, InvalidInput, NotEligible
from courses.core.tx import run_sync
from courses.core.web import date_in
from courses.enrollment import service as enrollment
from courses.models import (
    LearnerProfile,
    Organization,
    User,
)
from courses.models.bulk import BulkBatch, BulkMode, RegistrationInvitation

CONFIRMED, WAITLISTED, ALREADY, ERROR = "confirmed", "waitlisted", "already_registered", "error"
INVITED = "invited"
OUTCOMES = (CONFIRMED, WAITLISTED, INVITED, ALREADY, ERROR)
OUTCOME_JA = {
    CONFIRMED: "受講決定",
    WAITLISTED: "キャンセル待ち",
    INVITED: "招待（本人の承諾後に登録）",
    ALREADY: "登録済み（スキップ）",
    ERROR: "エラー",
}
INVITATION_TTL = timedelta(days=14)


class BulkRowError(DomainError):
    """A batch refused because of bad rows (all-or-nothing mode); every row error is listed."""

    status = 422
    slug = "bulk-rows-invalid"
    title_ja = "申込ファイルに誤りがあります"
    title_en = "The registration file has errors"


@dataclass
class RowPlan:
    """What one row of the file is, and what registering it does (or did)."""

    row: int
    email: str
    name: str
    session_code: str
    lodging: bool = False
    session_id: int | None = None
    outcome: str = ERROR
    waitlist_position: int | None = None
    enrollment_id: int | None = None
    errors: list[FieldError] = field(default_factory=list)
    kana: str = ""
    profile: dict[str, Any] | None = None  # what the row says about the person (for an invitation)

    def as_dict(self, lang: str) -> dict[str, Any]:
        return {
            "row": self.row,
            "email": self.email,
            "name": self.name,
            "session_code": self.session_code,
            "lodging": self.lodging,
            "status": self.outcome,
            "waitlist_position": self.waitlist_position,
            "enrollment_id": self.enrollment_id,
            "errors": [e.as_dict(lang) for e in self.errors],
        }


@dataclass
class Report:
    """A preview (``dry_run``) or the outcome of a committed batch."""

    filename: str
    mode: str
    dry_run: bool
    rows: list[RowPlan]
    batch_id: int | None = None

    @property
    def errors(self) -> list[FieldError]:
        return [e for r in self.rows for e in r.errors]

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(r.outcome for r in self.rows)
        return {k: found.get(k, 0) for k in OUTCOMES}

    @property
    def can_commit(self) -> bool:
        return not self.errors or self.mode == BulkMode.ACCEPT_VALID


async def plan_rows(
    s: AsyncSession, org: Organization, table: Table, now: datetime
) -> tuple[list[RowPlan], Lookups]:
    """Check every row and predict its outcome in row order; writes nothing."""
    lookups = await load_lookups(s, org, table)
    today = now.date()
    plans: list[RowPlan] = []
    row_profiles: dict[str, dict[str, Any]] = {}  # email -> the profile its first good row gave
    seen: dict[tuple[str, int], int] = {}  # (email, session id) -> first row
    names: dict[str, tuple[str, int]] = {}  # email -> (name, first row)
    seats_left = dict(lookups.seats_left)
    waiting = dict(lookups.waiting)
    for row, cells in table.rows:
        c = RowChecker(table, row, cells)
        name = " ".join(c.text("name", required=True, max_len=100).split())
        kana = check_kana(c)
        email = check_email(c)
        ctx = check_session(c, lookups)
        lodging = check_lodging(c)
        plan = RowPlan(
            row=row,
            email=email,
            name=name,
            session_code=cells.get("session_code", ""),
            lodging=lodging,
            kana=kana,
        )
        plans.append(plan)
        if email and name:
            first = names.setdefault(email, (name, row))
            if first[0] != name:
                c.fail(
                    "name",
                    f"{first[1]}行目と同じメールアドレスですが氏名が異なります（「{first[0]}」）。",
                    f"Same email address as row {first[1]} but a different name.",
                )
        user = member_of(lookups, email)
        profile: LearnerProfile | None = None
        if ctx is not None:
            plan.session_id = ctx.session.id
            if user is not None and user.id in lookups.profiles:
                profile = lookups.profiles[user.id or 0]
            elif email in row_profiles:
                profile = LearnerProfile(user_id=0, **row_profiles[email])
            else:
                fields = profile_from_row(c, ctx, org)
                profile = LearnerProfile(user_id=0, **fields)
                if email and not c.errors:  # an invitation, or a member who had no profile yet
                    row_profiles[email] = fields
            plan.profile = row_profiles.get(email)
            if email:
                key = (email, ctx.session.id or 0)
                if key in seen:
                    c.fail(
                        "email",
                        f"{seen[key]}行目と同じ人（メールアドレス）が同じ開催回に重複しています。",
                        f"The same person is already on row {seen[key]} for this session.",
                    )
                else:
                    seen[key] = row
        plan.errors = c.errors
        if plan.errors or ctx is None or profile is None:
            plan.outcome = ERROR
            continue
        if user is not None and (ctx.session.id, user.id) in lookups.active:
            plan.outcome = ALREADY
            continue
        check_eligible(
            c, ctx, profile, lodging, today, known=user is not None and user.id in lookups.profiles
        )
        if plan.errors:
            plan.outcome = ERROR
            continue
        if user is None:
            plan.outcome = INVITED  # the person decides; no seat is predicted or held for them
            continue
        sid = ctx.session.id or 0
        if seats_left.get(sid, 0) > 0:
            seats_left[sid] -= 1
            plan.outcome = CONFIRMED
        else:
            waiting[sid] = waiting.get(sid, 0) + 1
            plan.outcome = WAITLISTED
            plan.waitlist_position = waiting[sid]
    return plans, lookups


def _mode(mode: str | None) -> str:
    value = (mode or BulkMode.ALL_OR_NOTHING).strip()
    if value not in BulkMode.ALL:
        raise InvalidInput(
            "mode は all_or_nothing（全件一括）か accept_valid（正しい行のみ登録）を指定してください。",
            "mode must be all_or_nothing or accept_valid.",
            errors=[FieldError("mode", "mode の値が正しくありません。", "invalid mode")],
        )
    return value


async def preview(
    s: AsyncSession, org: Organization, table: Table, mode: str | None, now: datetime
) -> Report:
    """Check the file and say what registering it would do, in the caller's read session; nothing is
    stored."""
    mode = _mode(mode)
    plans, _ = await plan_rows(s, org, table, now)
    return Report(table.filename, mode, True, plans)


def row_messages(report: Report, lang: str) -> dict[int, list[str]]:
    """Each row's errors as one line each, 「column」 first, by spreadsheet row number."""
    messages: dict[int, list[str]] = {}
    for plan in report.rows:
        for error in plan.errors:
            item = error.as_dict(lang)
            messages.setdefault(plan.row, []).append(f"「{item['field']}」{item['message']}")
    return messages


def _rejected(report: Report) -> BulkRowError:
    n = sum(1 for r in report.rows if r.outcome == ERROR)
    return BulkRowError(
        f"{n}行に誤りがあるため、1件も登録していません。誤りを直して再度アップロードするか、"
        "「正しい行のみ登録」を選んでください。",
        f"{n} rows have errors, so nothing was registered. Fix them and upload again, or choose to "
        "register the correct rows only (accept_valid).",
        errors=report.errors,
    )


def _consent_required() -> InvalidInput:
    return InvalidInput(
        "受講者本人から、中小企業大学校へ個人情報を提供することの同意を得ていることを確認してください。",
        "Confirm that the organisation has the learners' consent to pass their data to the university.",
        errors=[
            FieldError(
                "consent",
                "個人情報提供の同意の確認が必要です。",
                "consent must be true to register.",
            )
        ],
    )


class _RaceLost(Exception):
    """The database refused a row because a concurrent request registered the same person (PostgreSQL);
    the attempt is lost (rolled back to its savepoint), so the whole batch is checked and registered
    again."""


FLUSH_EVERY = 200  # rows between flushes that also empty the session's identity map


async def commit(
    s: AsyncSession,
    org: Organization,
    coordinator: User,
    table: Table,
    content: bytes,
    *,
    mode: str | None,
    consent: bool,
    now: datetime,
    base_url: str,
) -> Report:
    """Register the file's rows in row order inside the caller's write transaction ``s`` (the caller
    has read the file before opening it).

    Each attempt runs in a SAVEPOINT. When PostgreSQL refuses a row because a concurrent request
    registered the same person, the attempt is rolled back to it, the transaction stays usable, and
    the next attempt checks the whole batch again and sees the other request's committed rows (READ
    COMMITTED). A refusal (``BulkRowError``, ``Conflict``...) is raised with the attempt undone; the
    caller's transaction then rolls back as it ends.

    The session's identity map is emptied as the batch goes (see ``_commit_once``): objects the caller
    loaded in ``s`` come back detached, still readable.
    """
    mode = _mode(mode)
    if not consent:
        raise _consent_required()
    for _attempt in range(3):
        try:
            async with s.begin_nested():
                return await _commit_once(s, org, coordinator, table, content, mode, now, base_url)
        except _RaceLost:
            # Rolling back to the savepoint made the lost attempt's new objects transient but kept the
            # rows it loaded (sessions, members) in the identity map with what they said then; the next
            # attempt must load them afresh, so nothing of this one is reused.
            s.expunge_all()
            continue
    raise Conflict(
        "同時に多くの申込があり登録できませんでした。もう一度お試しください。",
        "Too many concurrent enrollments; please try again.",
    )


async def _commit_once(
    s: AsyncSession,
    org: Organization,
    coordinator: User,
    table: Table,
    content: bytes,
    mode: str,
    now: datetime,
    base_url: str,
) -> Report:
    plans, lookups = await plan_rows(s, org, table, now)
    report = Report(table.filename, mode, False, plans)
    if report.errors and mode == BulkMode.ALL_OR_NOTHING:
        raise _rejected(report)
    batch = BulkBatch(
        organization_id=org.id or 0,
        uploaded_by=coordinator.id or 0,
        filename=table.filename[:255],
        file_sha256=hashlib.sha256(content).hexdigest(),
        mode=mode,
        rows_total=len(plans),
        confirmed=0,
        waitlisted=0,
        skipped=0,
        rejected=0,
        invited=0,
        consent_confirmed=True,
        consent_at=now,
        created_at=now,
    )
    s.add(batch)
    await s.flush()
    batch_id = batch.id or 0
    await _invite(s, org, batch_id, [p for p in plans if p.outcome == INVITED], lookups, now, base_url)
    users = lookups.users
    done = 0
    for plan in plans:
        if plan.outcome not in (CONFIRMED, WAITLISTED):
            plan.waitlist_position = None
            continue
        await _register(s, plan, users[plan.email], org, batch_id, now, mode, table.header("session_code"))
        done += 1
        if done % FLUSH_EVERY == 0:
            # Keep the identity map small: every ORM UPDATE (the seat counter) scans it, which
            # would make a 5,000-row batch quadratic. Users stay readable once detached.
            await s.flush()
            s.expunge_all()
    counts = report.counts
    _tell_registered(s, org, plans, users, lookups, now)
    await s.flush()
    s.expunge_all()
    s.add(batch)
    batch.confirmed, batch.waitlisted = counts[CONFIRMED], counts[WAITLISTED]
    batch.skipped, batch.rejected = counts[ALREADY], counts[ERROR]
    batch.invited = counts[INVITED]
    report.batch_id = batch_id
    return report


async def _invite(
    s: AsyncSession,
    org: Organization,
    batch_id: int,
    plans: list[RowPlan],
    lookups: Lookups,
    now: datetime,
    base_url: str,
) -> None:
    """One invitation per row and one message per person, with a secret of their own. The secret
    travels in the link's fragment, which browsers never send to a server or in a Referer."""
    by_id = {c.session.id or 0: c for c in lookups.sessions.values()}
    mine: dict[str, list[RowPlan]] = {}
    for plan in plans:
        mine.setdefault(plan.email, []).append(plan)
    for email, rows in mine.items():
        secret = secrets.token_urlsafe(32)
        for plan in rows:
            s.add(
                RegistrationInvitation(
                    organization_id=org.id or 0,
                    batch_id=batch_id,
                    row=plan.row,
                    email=email,
                    name=plan.name,
                    name_kana=plan.kana,
                    session_id=plan.session_id or 0,
                    lodging=plan.lodging,
                    profile_json=json.dumps(plan.profile or {}, ensure_ascii=False),
                    token_hash=accounts.token_hash(secret),
                    created_at=now,
                    expires_at=now + INVITATION_TTL,
                )
            )
        lines = []
        for plan in rows:
            ctx = by_id[plan.session_id or 0]
            lines.append(
                f"・{ctx.course.title_ja}（{ctx.campus.name_ja}、{date_in('ja', ctx.session.start_date)}〜"
                f"{date_in('ja', ctx.session.end_date)}）{'、宿泊希望' if plan.lodging else ''}"
            )
        body = (
            f"{rows[0].name} 様\n\n{org.name}から、次の中小企業大学校の研修へのお申し込みのご依頼が届いています。\n\n"
            + "\n".join(lines)
            + "\n\nお申し込みは、ご本人が承諾された時点で確定します（席に空きがなければキャンセル待ちになります）。"
            f"次のリンクから内容を確認し、承諾または辞退してください（有効期限 {INVITATION_TTL.days}日）。\n"
            + notifications.secret_link(base_url, "/invitation", secret)
            + "\nお心当たりのない場合は、このメールを破棄してください。"
        )
        notifications.queue_to(
            s, email, None, "【中小企業大学校】研修お申し込みのご依頼（要承諾）", body, now
        )


async def _register(
    s: AsyncSession,
    plan: RowPlan,
    user: User,
    org: Organization,
    batch_id: int,
    now: datetime,
    mode: str,
    column: str,
) -> None:
    """One row through the single-enrollment path: a seat, or the end of the waiting list. A refusal
    is reported on the session code's ``column`` as the file heads it, like the checks of the rows."""
    try:
        result = await run_sync(
            s,
            enrollment.enroll,
            user=user,
            session_id=plan.session_id or 0,
            lodging=plan.lodging,
            now=now,
            source="bulk",
            check_window=True,
            organization_id=org.id,
            batch_id=batch_id,
            registered_name=plan.name,
            notify=False,  # one message per person for the whole batch, sent by _tell_registered
        )
    except enrollment.LostToTwin:  # a concurrent twin won the insert: the transaction is lost
        raise _RaceLost from None
    except Conflict:
        plan.outcome, plan.waitlist_position = ALREADY, None  # registered meanwhile: not a duplicate
        return
    except NotEligible as exc:  # refused before anything was written (the session changed meanwhile)
        plan.outcome, plan.waitlist_position = ERROR, None
        plan.errors.append(FieldError(column, exc.detail_ja, exc.detail_en, row=plan.row))
        if mode == BulkMode.ALL_OR_NOTHING:
            raise BulkRowError(exc.detail_ja, exc.detail_en, errors=plan.errors) from None
        return
    plan.outcome = result.status
    plan.waitlist_position = result.waitlist_position
    plan.enrollment_id = result.id


def _tell_registered(
    s: AsyncSession,
    org: Organization,
    plans: list[RowPlan],
    users: dict[str, User],
    lookups: Lookups,
    now: datetime,
) -> None:
    """One message per registered member: their sessions with the outcome of each."""
    by_id = {c.session.id or 0: c for c in lookups.sessions.values()}
    mine: dict[str, list[RowPlan]] = {}
    for plan in plans:
        if plan.outcome in (CONFIRMED, WAITLISTED):
            mine.setdefault(plan.email, []).append(plan)
    for email, rows in mine.items():
        places = []
        for plan in rows:
            ctx = by_id[plan.session_id or 0]
            position = None if plan.outcome == CONFIRMED else plan.waitlist_position
            places.append(
                {"course": ctx.course, "campus": ctx.campus, "session": ctx.session, "position": position}
            )
        # in the member's language; the invitations above go to an address, in Japanese
        mail.send(s, users[email], "registered_by_organization.txt", now, organization=org, places=places)

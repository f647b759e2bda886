"""HTML pages for campus staff: their sessions, rosters and actions, and the development mailbox."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts import service as accounts
from courses.accounts.guards import CurrentUser
from courses.attendance.certificates import fiscal_year
from courses.core import notifications
from courses.core.bodies import Form
from courses.core.deps import Reading, Writing, undone_on_error
from courses.core.downloads import csv_response
from courses.core.errors import DomainError, NotFound, not_found
from courses.core.tx import run_sync
from courses.enrollment import service as enrollment
from courses.models import Campus, Enrollment, User
from courses.staff import actions, dashboard, rosters
from courses.surveys import results as survey_results

STAFF = {"access": "staff"}
MESSAGES = {
    "enrolled": "受講者を登録しました。",
    "promoted": "キャンセル待ちから繰り上げました。",
    "cancelled": "申込をキャンセルしました。",
    "session_cancelled": "開催回を中止し、申込者全員に連絡しました。",
}


class StaffPages(Controller):
    path = "/staff"
    include_in_schema = False
    opt = STAFF

    @get("/")
    async def dashboard(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        campus: FromQuery[str | None] = None,
    ) -> Template:
        today = request.app.state.clock().date()
        campus_ids = await accounts.staff_campus_ids(reading, user)
        campuses = list(
            await reading.exec(
                select(Campus).where(col(Campus.id).in_(campus_ids)).order_by(col(Campus.sort_order))
            )
        )
        chosen = [c for c in campuses if c.code == campus] or campuses[:1]
        view = await dashboard.overview(reading, chosen[0].id or 0, today) if chosen else None
        survey = (
            await survey_results.results(reading, survey_results.Scope(fiscal_year(today), chosen[:1], today))
            if chosen
            else None
        )
        recent = [g for g in (survey.groups.get("session", []) if survey else []) if g.answers][-8:]
        return Template(
            "staff/dashboard.html",
            context={
                "user": user,
                "campuses": campuses,
                "campus": chosen[0] if chosen else None,
                "view": view,
                "survey_recent": recent,
                "weeks": dashboard.WEEKS,
            },
        )

    @get("/sessions/{session_id:int}")
    async def session(
        self,
        user: CurrentUser,
        reading: Reading,
        session_id: FromPath[int],
        msg: FromQuery[str | None] = None,
        error: FromQuery[str | None] = None,
    ) -> Template:
        ctx = await run_sync(reading, enrollment.load_session, session_id)
        await enrollment.ensure_staff_campus(reading, user, ctx.campus.id or 0)
        rows = await rosters.session_roster(reading, session_id)
        flash = {"kind": "ok", "text": MESSAGES[msg]} if msg in MESSAGES else None
        if error:
            flash = {"kind": "error", "text": error[:300]}
        return Template("staff/session.html", context={"ctx": ctx, "rows": rows, "flash": flash})

    @get("/sessions/{session_id:int}/roster.csv")
    async def roster_csv(
        self, user: CurrentUser, reading: Reading, session_id: FromPath[int]
    ) -> Response[bytes]:
        ctx = await run_sync(reading, enrollment.load_session, session_id)
        await enrollment.ensure_staff_campus(reading, user, ctx.campus.id or 0)
        rows = await rosters.session_roster(reading, session_id)
        return csv_response(rosters.roster_csv(rows), f"roster-{ctx.session.code}.csv")

    @post("/sessions/{session_id:int}/enroll")
    async def enroll(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        session_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        return await _act(request, user, writing, session_id, "enrolled", _manual_enroll, data)

    @post("/sessions/{session_id:int}/cancel")
    async def cancel_session(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, session_id: FromPath[int]
    ) -> Response[Any]:
        return await _act(request, user, writing, session_id, "session_cancelled", _cancel_session, {})

    @post("/enrollments/{enrollment_id:int}/promote")
    async def promote(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        enrollment_id: FromPath[int],
    ) -> Response[Any]:
        return await _on_enrollment(request, user, writing, enrollment_id, "promoted")

    @post("/enrollments/{enrollment_id:int}/cancel")
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        enrollment_id: FromPath[int],
    ) -> Response[Any]:
        return await _on_enrollment(request, user, writing, enrollment_id, "cancelled")


async def _manual_enroll(
    s: AsyncSession, request: Request[Any, Any, Any], user: User, session_id: int, data: dict[str, str]
) -> None:
    email = accounts.normalize_email(data.get("email", ""))
    await actions.enroll_by_hand(
        s, user, session_id, email, data.get("lodging") == "on", request.app.state.clock()
    )


async def _cancel_session(
    s: AsyncSession, request: Request[Any, Any, Any], user: User, session_id: int, data: dict[str, str]
) -> None:
    await actions.cancel_session(s, user, session_id, request.app.state.clock())


async def _act(
    request: Request[Any, Any, Any],
    user: User,
    writing: AsyncSession,
    session_id: int,
    ok: str,
    action: Any,
    data: dict[str, str],
) -> Response[Any]:
    """Run a staff action in the request's write transaction; a refusal is undone (SAVEPOINT) and
    shown on the session page."""
    try:
        async with undone_on_error(writing):
            await actions.session_on_my_campus(writing, user, session_id)
            await action(writing, request, user, session_id, data)
    except DomainError as exc:
        if exc.status in (403, 404) and not isinstance(exc, NotFound):
            raise
        return Redirect(f"/staff/sessions/{session_id}?error={quote(exc.detail_ja)}")
    return Redirect(f"/staff/sessions/{session_id}?msg={ok}")


async def _on_enrollment(
    request: Request[Any, Any, Any], user: User, writing: AsyncSession, enrollment_id: int, ok: str
) -> Response[Any]:
    row = await writing.get(Enrollment, enrollment_id)
    if row is None:
        raise not_found("申込", "Enrollment", enrollment_id)

    async def action(
        s: AsyncSession, request: Request[Any, Any, Any], user: User, session_id: int, data: dict[str, str]
    ) -> None:
        now = request.app.state.clock()
        if ok == "promoted":
            await actions.promote(s, user, enrollment_id, now)
        else:  # the same cancellation terms (and fee) as through the API
            await actions.cancel(s, user, enrollment_id, now, request.app.state.settings)

    return await _act(request, user, writing, row.session_id, ok, action, {})


class MailboxPage(Controller):
    """The development mailbox: notifications kept in the outbox when no SMTP server is configured."""

    path = "/dev/mailbox"
    include_in_schema = False
    opt = {"access": "admin"}

    @get("/")
    async def mailbox(self, request: Request[Any, Any, Any], reading: Reading) -> Template:
        messages = await notifications.recent(reading, 200)
        return Template(
            "mailbox.html",
            context={"messages": messages, "smtp": bool(request.app.state.settings.smtp_host)},
        )

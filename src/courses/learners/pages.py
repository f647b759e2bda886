"""HTML pages for the learner: apply, my page (dates, rooms, sites, invoices), cancel, the calendar feed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import select

from courses.accounts import service as accounts
from courses.accounts.guards import CurrentUser
from courses.attendance import certificates as certificates
from courses.attendance import service as attendance
from courses.billing import service as billing
from courses.catalog import service as catalog
from courses.core import i18n
from courses.core.bodies import Form
from courses.core.deps import DB, Reading, Writing
from courses.core.errors import DomainError, NotFound
from courses.core.i18n import N_
from courses.core.tx import run_sync
from courses.enrollment import service as enrollment
from courses.enrollment.seats import check_verified
from courses.learners import ical
from courses.models import User, id_of
from courses.planning import plans
from courses.surveys import service as surveys

FLASH = {  # the texts are translated when shown, in the page's language
    "enrolled": ("ok", N_("お申し込みを受け付けました。")),
    "waitlisted": ("ok", N_("満席のため、キャンセル待ちで受け付けました。")),
    "cancelled": ("ok", N_("キャンセルしました。")),
    "accepted": ("ok", N_("受講が決定しました。")),
    "cancelled_fee": (
        "ok",
        N_("キャンセルしました。規定によりキャンセル料が発生します。請求書をご確認ください。"),
    ),
    "registered": (
        "ok",
        N_(
            "登録が完了しました。確認のメールをお送りしました。メールのリンクを開くと、研修にお申し込みいただけます。"
        ),
    ),
    "verify_sent": ("ok", N_("確認のメールをお送りしました。メールのリンクを開いてください。")),
    "verify_wait": (
        "error",
        N_("確認のメールは5分に1回まで送れます。お送りしたメールをご確認ください。"),
    ),
    "signed_out": ("ok", N_("ログアウトしました。")),
    "certificate_unavailable": (
        "error",
        N_("修了証書は、修了要件を満たした研修の終了後にダウンロードできます。"),
    ),
}


def flash_for(msg: str | None) -> dict[str, str] | None:
    """The notice a redirect asks for (``?msg=``), in the page's language."""
    if msg in FLASH:
        kind, text = FLASH[msg]
        return {"kind": kind, "text": i18n.gettext(text)}
    return None


class LearnerPages(Controller):
    include_in_schema = False

    @get("/sessions/{session_id:int}/apply", opt={"access": "learner"})
    async def apply_form(self, user: CurrentUser, reading: Reading, session_id: FromPath[int]) -> Template:
        row = await catalog.get_session(reading, session_id)
        terms = billing.terms_text(*await billing.terms_of(reading, id_of(row.course)), lang=i18n.current())
        try:
            check_verified(user)
        except DomainError as exc:  # the form is shown, without its button, and says why
            return Template(
                "apply.html",
                context={"row": row, "error": exc.detail(i18n.current()), "terms": terms, "blocked": True},
            )
        return Template("apply.html", context={"row": row, "error": None, "terms": terms})

    @post("/sessions/{session_id:int}/apply", opt={"access": "learner"})
    async def apply(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        db: DB,
        session_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        lodging = data.get("lodging") in {"1", "on", "true", "yes"}
        try:
            result = await db.transact(
                enrollment.enroll,
                user=user,
                session_id=session_id,
                lodging=lodging,
                now=request.app.state.clock(),
            )
        except DomainError as exc:
            async with db.read() as s:
                row = await catalog.get_session(s, session_id)
                terms = billing.terms_text(*await billing.terms_of(s, id_of(row.course)), lang=i18n.current())
            return Template(
                "apply.html",
                context={
                    "row": row,
                    "error": exc.detail(i18n.current()),
                    "terms": terms,
                    "blocked": user.awaits_verification,
                },
                status_code=exc.status,
            )
        return Redirect(f"/me?msg={'enrolled' if result.status == 'confirmed' else 'waitlisted'}")

    @get("/me", opt={"access": "user"})
    async def my_page(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        msg: FromQuery[str | None] = None,
    ) -> Template:
        rows = await enrollment.my_enrollments(reading, user.id or 0)
        blocks = await catalog.blocks_for(reading, [r.session.id or 0 for r in rows])
        profile = await accounts.profile_of(reading, user.id or 0)
        extras = await _placements(reading, rows)
        invoices = await billing.invoices_of(reading, user)
        progress = {
            r.enrollment.id: await attendance.progress_of(reading, r.enrollment)
            for r in rows
            if r.enrollment.status == "confirmed"
        }
        issued = await certificates.of_enrollments(reading, [i or 0 for i in progress])
        confirmed = [r.session for r in rows if r.enrollment.status == "confirmed"]
        open_surveys = await surveys.open_for(
            reading, user.id or 0, confirmed, request.app.state.clock().date()
        )
        return Template(
            "me.html",
            context={
                "user": user,
                "rows": rows,
                "blocks": blocks,
                "profile": profile,
                "flash": flash_for(msg),
                "feed_url": f"/calendar/{quote(user.feed_token)}.ics",
                "placements": extras,
                "invoices": invoices,
                "attendance": progress,
                "certificates": issued,
                "surveys": open_surveys,
                "today": request.app.state.clock().date(),
            },
        )

    @post("/me/enrollments/{enrollment_id:int}/cancel", opt={"access": "learner"})
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        enrollment_id: FromPath[int],
    ) -> Response[Any]:
        row = await enrollment.get_own(writing, enrollment_id, user)
        _, owed = await billing.cancel_with_fee(
            writing, row, request.app.state.clock(), request.app.state.settings, cancelled_by="learner"
        )
        return Redirect("/me?msg=cancelled" if not owed.fee_yen else "/me?msg=cancelled_fee")

    @post("/me/enrollments/{enrollment_id:int}/accept", opt={"access": "learner"})
    async def accept(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        enrollment_id: FromPath[int],
    ) -> Response[Any]:
        """Take the place given from the waiting list (asked in the charge period)."""
        await run_sync(writing, enrollment.accept_place, enrollment_id, user, request.app.state.clock())
        return Redirect("/me?msg=accepted")

    @get("/calendar/{feed_name:str}", opt={"access": "public"}, media_type="text/calendar")
    async def feed(self, reading: Reading, feed_name: FromPath[str]) -> Response[Any]:
        """The calendar feed is addressed by a secret per learner, so calendar apps can subscribe.

        The address is `/calendar/<secret>.ics`: a path parameter cannot carry a suffix in the
        route, so the name is matched whole and the suffix taken off here.
        """
        token = feed_name.removesuffix(".ics")
        user = None
        if token != feed_name and token:
            user = (await reading.exec(select(User).where(User.feed_token == token))).first()
        if user is None:
            raise NotFound("カレンダーが見つかりません。", "Calendar not found.")
        rows = await enrollment.my_enrollments(reading, user.id or 0)
        blocks = await catalog.blocks_for(reading, [r.session.id or 0 for r in rows])
        return ical.response(rows, {k: [(b.start_date, b.end_date) for b in v] for k, v in blocks.items()})


async def _placements(s: Any, rows: list[enrollment.MyEnrollment]) -> dict[int, dict[str, str]]:
    """Room and practicum site per enrollment, from published plans."""

    return await plans.placements_for(s, [r.enrollment.id or 0 for r in rows])

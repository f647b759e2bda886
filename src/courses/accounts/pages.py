"""HTML pages for learners: register, sign in and out, apply, my page, calendar feed."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import select

from courses.accounts import ical
from courses.accounts import service as accounts
from courses.accounts.api import me
from courses.accounts.guards import SESSION_COOKIE, cache_key, current_user
from courses.billing import service as billing
from courses.catalog import service as catalog
from courses.core.deps import DB
from courses.core.errors import Conflict, DomainError, FieldError, NotFound
from courses.core.reference import INDUSTRIES, PREFECTURES
from courses.core.security import client_address
from courses.enrollment import service as enrollment
from courses.models import User

Form = URLEncodedBody[dict[str, str]]
FLASH = {
    "enrolled": ("ok", "お申し込みを受け付けました。"),
    "waitlisted": ("ok", "満席のため、キャンセル待ちで受け付けました。"),
    "cancelled": ("ok", "キャンセルしました。"),
    "cancelled_fee": (
        "ok",
        "キャンセルしました。規定によりキャンセル料が発生します。請求書をご確認ください。",
    ),
    "registered": ("ok", "登録が完了しました。研修をお探しください。"),
    "signed_out": ("ok", "ログアウトしました。"),
}


def _safe_next(raw: str | None) -> str:
    """Only local paths: never redirect a person to another site after sign-in."""
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/me"


def _session_cookie(request: Request[Any, Any, Any], secret: str) -> Cookie:
    settings = request.app.state.settings
    return Cookie(
        key=SESSION_COOKIE,
        value=secret,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        max_age=int(accounts.WEB_SESSION_TTL.total_seconds()),
        path="/",
    )


def flash_for(msg: str | None) -> dict[str, str] | None:
    if msg in FLASH:
        kind, text = FLASH[msg]
        return {"kind": kind, "text": text}
    return None


class AccountPages(Controller):
    include_in_schema = False

    @get("/login", opt={"access": "public"})
    async def login_form(
        self, next_url: Annotated[str | None, QueryParameter(name="next")] = None
    ) -> Template:
        return Template("login.html", context={"next": _safe_next(next_url), "error": None, "email": ""})

    @post("/login", opt={"access": "public"})
    async def login(self, request: Request[Any, Any, Any], db: DB, data: Form) -> Response[Any]:
        email = accounts.normalize_email(data.get("email", ""))
        password = data.get("password", "")
        next_url = _safe_next(data.get("next"))
        now = request.app.state.clock()
        try:
            user = await accounts.authenticate(db, email, password, client_address(request), now)
        except DomainError as exc:
            wait = exc.extra.get("retry_after") if exc.extra else None
            return Template(
                "login.html",
                context={"next": next_url, "error": exc.detail_ja, "email": email},
                status_code=exc.status,
                headers={"Retry-After": str(wait)} if wait else None,
            )
        async with db.write() as s:
            secret = await accounts.issue_token(s, user, "web", now)
        if next_url == "/me" and user.role in {"staff", "admin"}:
            next_url = "/staff"
        elif next_url == "/me" and user.role == "coordinator":
            next_url = "/org"
        return Redirect(next_url, cookies=[_session_cookie(request, secret)])

    @post("/logout", opt={"access": "public"})
    async def logout(self, request: Request[Any, Any, Any], db: DB) -> Response[Any]:
        secret = request.cookies.get(SESSION_COOKIE)
        if secret:
            request.app.state.token_cache.evict(cache_key("web", secret))
            async with db.write() as s:
                await accounts.revoke_token(s, secret, "web")
        response = Redirect("/?msg=signed_out")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @get("/register", opt={"access": "public"})
    async def register_form(
        self, next_url: Annotated[str | None, QueryParameter(name="next")] = None
    ) -> Template:
        return Template("register.html", context=_register_context({}, [], _safe_next(next_url)))

    @post("/register", opt={"access": "public"})
    async def register(self, request: Request[Any, Any, Any], db: DB, data: Form) -> Response[Any]:
        next_url = _safe_next(data.get("next"))
        try:
            reg = accounts.validate_registration(dict(data))
            async with db.read() as s:
                if await accounts.email_taken(s, reg.email):
                    raise Conflict(
                        "このメールアドレスは既に登録されています。ログインしてください。",
                        "already registered",
                        errors=[FieldError("email", "このメールアドレスは既に登録されています。", "")],
                    )
            password_hash = await accounts.hash_password(reg.password)
            now = request.app.state.clock()
            async with db.write() as s:
                user = await accounts.register_learner(s, reg, now, password_hash)
                secret = await accounts.issue_token(s, user, "web", now)
        except DomainError as exc:
            return Template(
                "register.html",
                context=_register_context(
                    dict(data),
                    [e.as_dict("ja") for e in exc.errors] or [{"field": "", "message": exc.detail_ja}],
                    next_url,
                ),
                status_code=exc.status,
            )
        target = next_url if next_url != "/me" else "/me?msg=registered"
        return Redirect(target, cookies=[_session_cookie(request, secret)])

    @get("/sessions/{session_id:int}/apply", opt={"access": "learner"})
    async def apply_form(
        self, request: Request[Any, Any, Any], db: DB, session_id: FromPath[int]
    ) -> Template:
        async with db.read() as s:
            row = await catalog.get_session(s, session_id)
            terms = billing.terms_text(*await billing.terms_of(s, row.course.id))
        return Template("apply.html", context={"row": row, "error": None, "terms": terms})

    @post("/sessions/{session_id:int}/apply", opt={"access": "learner"})
    async def apply(
        self, request: Request[Any, Any, Any], db: DB, session_id: FromPath[int], data: Form
    ) -> Response[Any]:
        user = me(request)
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
                terms = billing.terms_text(*await billing.terms_of(s, row.course.id))
            return Template(
                "apply.html",
                context={"row": row, "error": exc.detail_ja, "terms": terms},
                status_code=exc.status,
            )
        return Redirect(f"/me?msg={'enrolled' if result.status == 'confirmed' else 'waitlisted'}")

    @get("/me", opt={"access": "user"})
    async def my_page(
        self, request: Request[Any, Any, Any], db: DB, msg: FromQuery[str | None] = None
    ) -> Template:
        user = me(request)
        async with db.read() as s:
            rows = await enrollment.my_enrollments(s, user.id or 0)
            blocks = await catalog.blocks_for(s, [r.session.id or 0 for r in rows])
            profile = await accounts.profile_of(s, user.id or 0)
            extras = await _placements(s, rows)
            invoices = await billing.invoices_of(s, user)
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
                "today": request.app.state.clock().date(),
            },
        )

    @post("/me/enrollments/{enrollment_id:int}/cancel", opt={"access": "learner"})
    async def cancel(
        self, request: Request[Any, Any, Any], db: DB, enrollment_id: FromPath[int]
    ) -> Response[Any]:
        user = me(request)
        async with db.write() as s:
            row = await enrollment.get_own(s, enrollment_id, user)
            _, owed = await billing.cancel_with_fee(
                s, row, request.app.state.clock(), request.app.state.settings, cancelled_by="learner"
            )
        return Redirect("/me?msg=cancelled" if not owed.fee_yen else "/me?msg=cancelled_fee")

    @get("/calendar/{feed_name:str}", opt={"access": "public"}, media_type="text/calendar")
    async def feed(self, db: DB, feed_name: FromPath[str]) -> Response[Any]:
        """The calendar feed is addressed by a secret per learner, so calendar apps can subscribe.

        The address is `/calendar/<secret>.ics`: a path parameter cannot carry a suffix in the
        route, so the name is matched whole and the suffix taken off here.
        """
        token = feed_name.removesuffix(".ics")
        async with db.read() as s:
            user = None
            if token != feed_name and token:
                user = (await s.exec(select(User).where(User.feed_token == token))).first()
            if user is None:
                raise NotFound("カレンダーが見つかりません。", "Calendar not found.")
            rows = await enrollment.my_enrollments(s, user.id or 0)
            blocks = await catalog.blocks_for(s, [r.session.id or 0 for r in rows])
        return ical.response(rows, {k: [(b.start_date, b.end_date) for b in v] for k, v in blocks.items()})


async def _placements(s: Any, rows: list[enrollment.MyEnrollment]) -> dict[int, dict[str, str]]:
    """Room and practicum site per enrollment, from published plans."""
    from courses.planning import plans

    return await plans.placements_for(s, [r.enrollment.id or 0 for r in rows])


def _register_context(values: dict[str, str], errors: list[dict[str, Any]], next_url: str) -> dict[str, Any]:
    by_field: dict[str, str] = {}
    for e in errors:
        by_field.setdefault(e.get("field") or "", e["message"])
    return {
        "values": values,
        "errors": by_field,
        "general_error": by_field.get("")
        or (("入力内容に誤りがあります。各項目をご確認ください。") if errors else None),
        "prefectures": PREFECTURES,
        "industries": INDUSTRIES,
        "next": next_url,
    }


__all__ = ["AccountPages", "current_user"]

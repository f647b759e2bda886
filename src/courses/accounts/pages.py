"""HTML pages for signing in and out and registering."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from courses.accounts import service as accounts
from courses.accounts.guards import SESSION_COOKIE, cache_key, current_user, session_cookie
from courses.core.deps import DB
from courses.core.errors import Conflict, DomainError, FieldError
from courses.core.reference import INDUSTRIES, PREFECTURES
from courses.core.security import client_address

Form = URLEncodedBody[dict[str, str]]


def _safe_next(raw: str | None) -> str:
    """Only local paths: never redirect a person to another site after sign-in."""
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/me"


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
        return Redirect(next_url, cookies=[session_cookie(request, secret)])

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
        return Redirect(target, cookies=[session_cookie(request, secret)])


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

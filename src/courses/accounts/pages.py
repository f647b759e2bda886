"""HTML pages for signing in and out and registering."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlmodel import col, select

from courses.accounts import service as accounts
from courses.accounts import verification
from courses.accounts.guards import SESSION_COOKIE, CurrentUser, authenticate, cache_key, session_cookie
from courses.core import i18n, mail
from courses.core.bodies import Form
from courses.core.deps import DB, Writing, after_commit
from courses.core.errors import Conflict, DomainError, FieldError, InvalidInput
from courses.core.reference import INDUSTRIES, INDUSTRIES_EN, PREFECTURES, PREFECTURES_EN
from courses.core.security import client_address, link_base
from courses.models import AuthToken, User


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
            user = await authenticate(db, email, password, client_address(request), now)
        except DomainError as exc:
            wait = exc.extra.get("retry_after") if exc.extra else None
            return Template(
                "login.html",
                context={"next": next_url, "error": exc.detail(i18n.current()), "email": email},
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
    async def logout(self, request: Request[Any, Any, Any], writing: Writing) -> Response[Any]:
        secret = request.cookies.get(SESSION_COOKIE)
        if secret:
            await accounts.revoke_token(writing, secret, "web")
            cache = request.app.state.token_cache
            after_commit(writing, lambda: cache.evict(cache_key("web", secret)))
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
                        "This email address is already registered; please sign in.",
                        errors=[
                            FieldError(
                                "email",
                                "このメールアドレスは既に登録されています。",
                                "This email address is already registered.",
                            )
                        ],
                    )
            password_hash = await accounts.hash_password(reg.password)
            now = request.app.state.clock()
            async with db.write() as s:
                user = await accounts.register_learner(s, reg, now, password_hash, i18n.current())
                await verification.send_link(s, user, link_base(request), now, next_url)
                secret = await accounts.issue_token(s, user, "web", now)
        except DomainError as exc:
            return Template(
                "register.html",
                context=_register_context(
                    dict(data),
                    [e.as_dict(i18n.current()) for e in exc.errors]
                    or [{"field": "", "message": exc.detail(i18n.current())}],
                    next_url,
                ),
                status_code=exc.status,
            )
        # the emailed link leads on to ``next_url`` (an application, say) once it has been opened
        return Redirect("/me?msg=registered", cookies=[session_cookie(request, secret)])


def _register_context(values: dict[str, str], errors: list[dict[str, Any]], next_url: str) -> dict[str, Any]:
    by_field: dict[str, str] = {}
    for e in errors:
        by_field.setdefault(e.get("field") or "", e["message"])
    return {
        "values": values,
        "errors": by_field,
        "general_error": by_field.get("")
        or (i18n.gettext("入力内容に誤りがあります。各項目をご確認ください。") if errors else None),
        "prefectures": PREFECTURES_EN if i18n.english() else PREFECTURES,
        "industries": INDUSTRIES_EN if i18n.english() else INDUSTRIES,
        "next": next_url,
    }


__all__ = ["AccountPages", "PasswordPages"]


RECOVERY_TTL = timedelta(hours=1)
RECOVERY_EVERY = timedelta(minutes=10)  # at most one recovery message per account in this time


class PasswordPages(Controller):
    """A forgotten password (a link by email), and changing one's password when signed in."""

    include_in_schema = False

    @get("/password/forgot", opt={"access": "public"})
    async def forgot_form(self) -> Template:
        return Template("password_forgot.html", context={"sent": False, "error": None})

    @post("/password/forgot", opt={"access": "public"})
    async def forgot(self, request: Request[Any, Any, Any], writing: Writing, data: Form) -> Template:
        """The same answer whether or not the address has an account, and at most one message per
        account every ten minutes, so the form neither tells who is registered nor floods a mailbox."""
        email = accounts.normalize_email(data.get("email", ""))
        if not accounts.EMAIL_RE.match(email):
            return Template(
                "password_forgot.html",
                context={"sent": False, "error": i18n.gettext("メールアドレスの形式が正しくありません。")},
                status_code=400,
            )
        now = request.app.state.clock()
        user = (await writing.exec(select(User).where(User.email == email))).first()
        recent = None
        if user is not None:
            recent = (
                await writing.exec(
                    select(AuthToken).where(
                        AuthToken.user_id == user.id,
                        AuthToken.kind == "reset",
                        col(AuthToken.created_at) > now - RECOVERY_EVERY,
                    )
                )
            ).first()
        if user is not None and recent is None:
            secret = await accounts.issue_token(writing, user, "reset", now, ttl=RECOVERY_TTL)
            base = link_base(request)
            mail.send(writing, user, "password_reset.txt", now, base_url=base, secret=secret)
        return Template("password_forgot.html", context={"sent": True, "error": None})

    @get("/account/password", opt={"access": "user"})
    async def change_form(self, msg: FromQuery[str | None] = None) -> Template:
        return Template("password_change.html", context={"done": msg == "changed", "error": None})

    @post("/account/password", opt={"access": "user"})
    async def change(
        self, request: Request[Any, Any, Any], user: CurrentUser, db: DB, data: Form
    ) -> Response[Any]:
        """The current password, then the new one twice; other sign-ins of the account end."""
        try:
            async with db.read() as s:
                stored = (await s.exec(select(User.password_hash).where(User.id == user.id))).one()
            if not await accounts.verify_password(stored, data.get("current_password", "")):
                raise InvalidInput(
                    "現在のパスワードが正しくありません。",
                    "The current password is wrong.",
                    errors=[
                        FieldError(
                            "current_password", "現在のパスワードが正しくありません。", "Wrong password."
                        )
                    ],
                )
            accounts.check_new_password(data.get("password", ""), data.get("password_confirm", ""))
            new_hash = await accounts.hash_password(data.get("password", ""))
            mine = request.cookies.get(SESSION_COOKIE, "")
            async with db.write() as s:
                row = await s.get(User, user.id)
                assert row is not None
                row.password_hash = new_hash
                s.add(row)
                keep = accounts.token_hash(mine) if mine else ""
                for token in await s.exec(select(AuthToken).where(AuthToken.user_id == user.id)):
                    if token.token_hash != keep:
                        await s.delete(token)
        except DomainError as exc:
            return Template(
                "password_change.html",
                context={"done": False, "error": exc.detail(i18n.current())},
                status_code=exc.status,
            )
        request.app.state.token_cache.clear()
        return Redirect("/account/password?msg=changed")

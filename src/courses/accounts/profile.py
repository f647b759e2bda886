"""A person's own account: the profile page, changing the email address by a link, the privacy notice.

Deleting an account and downloading one's data need enrollments and invoices, so they live in
``courses.learners.account`` (accounts sits below enrollment and billing).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts import service as accounts
from courses.accounts.guards import CurrentUser
from courses.core import i18n, mail
from courses.core.bodies import Form
from courses.core.deps import DB, Reading, Writing, after_commit, undone_on_error
from courses.core.errors import DomainError, FieldError, InvalidInput
from courses.core.i18n import N_
from courses.core.reference import INDUSTRIES, INDUSTRIES_EN, PREFECTURES, PREFECTURES_EN
from courses.core.security import link_base
from courses.models import LearnerProfile, Role, User

PROFILE_FIELDS = (
    "organization_kind",
    "company",
    "company_kana",
    "department",
    "position",
    "industry",
    "employees",
    "capital_yen",
    "prefecture",
    "phone",
    "gender",
    "accessibility_needs",
    "needs_accessible_room",
)
FLASH = {  # translated when shown, in the page's language
    "saved": N_("保存しました。"),
    "email_sent": N_(
        "新しいメールアドレスに確認のメールを送りました。メールのリンク（24時間有効）を開くと変更が完了します。"
    ),
}


def _values(user: User, profile: LearnerProfile | None) -> dict[str, Any]:
    values: dict[str, Any] = {"name": user.name, "name_kana": user.name_kana}
    if profile is not None:
        values |= {f: getattr(profile, f) for f in PROFILE_FIELDS}
        values["gender"] = profile.gender or ""
    return values


def _by_field(exc: DomainError | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors if exc else []:
        out.setdefault(e.field, i18n.pick(e.message_ja, e.message_en))
    return out


def _page(
    user: User,
    values: dict[str, Any],
    *,
    flash: str | None = None,
    error: DomainError | None = None,
    email_error: DomainError | None = None,
    new_email: str = "",
) -> Template:
    problem = error or email_error
    return Template(
        "account_profile.html",
        context={
            "values": values,
            "errors": _by_field(error),
            "general_error": error.detail(i18n.current()) if error else None,
            "email_errors": _by_field(email_error),
            "email_error": email_error.detail(i18n.current()) if email_error else None,
            "new_email": new_email,
            "email": user.email,
            "learner": user.role == Role.LEARNER,
            "may_delete": user.role in {Role.LEARNER, Role.COORDINATOR},
            "prefectures": PREFECTURES_EN if i18n.english() else PREFECTURES,
            "industries": INDUSTRIES_EN if i18n.english() else INDUSTRIES,
            "flash": {"kind": "ok", "text": i18n.gettext(flash)} if flash else None,
        },
        status_code=problem.status if problem else 200,
    )


async def _current(s: AsyncSession, user_id: int) -> tuple[User, LearnerProfile | None]:
    user = await s.get(User, user_id)
    if user is None:
        raise accounts.bad_credentials()
    return user, await accounts.profile_of(s, user_id)


class ProfilePages(Controller):
    """``/account/profile``: names for everyone; a learner's profile too, with registration's rules."""

    include_in_schema = False

    @get("/account/profile", opt={"access": "user"})
    async def profile_form(
        self, user: CurrentUser, reading: Reading, msg: FromQuery[str | None] = None
    ) -> Template:
        account, profile = await _current(reading, user.id or 0)
        return _page(account, _values(account, profile), flash=FLASH.get(msg or ""))

    @post("/account/profile", opt={"access": "user"})
    async def save(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, data: Form
    ) -> Response[Any]:
        try:
            change = accounts.validate_profile(dict(data), learner=user.role == Role.LEARNER)
            async with undone_on_error(writing):
                await accounts.save_profile(writing, user.id or 0, change)
        except DomainError as exc:
            account, _ = await _current(writing, user.id or 0)
            return _page(account, dict(data), error=exc)
        after_commit(writing, request.app.state.token_cache.clear)  # pages show the new name at once
        return Redirect("/account/profile?msg=saved")

    @post("/account/email", opt={"access": "user"})
    async def ask_email_change(
        self, request: Request[Any, Any, Any], user: CurrentUser, db: DB, data: Form
    ) -> Response[Any]:
        """The current password, then a link to the NEW address; nothing changes until it is opened."""
        async with db.read() as s:
            account, profile = await _current(s, user.id or 0)
        raw = data.get("new_email", "")
        now = request.app.state.clock()
        try:
            new_email = accounts.check_new_email(raw, account.email)
            if not await accounts.verify_password(account.password_hash, data.get("current_password", "")):
                wrong = "現在のパスワードが正しくありません。"
                raise InvalidInput(
                    wrong,
                    "The current password is wrong.",
                    errors=[FieldError("current_password", wrong, "Wrong password.")],
                )
            async with db.write() as s:
                secret = await accounts.request_email_change(s, account, new_email, now)
                base = link_base(request)
                mail.send(s, account, "email_change.txt", now, to=new_email, base_url=base, secret=secret)
        except DomainError as exc:
            return _page(account, _values(account, profile), email_error=exc, new_email=raw)
        return Redirect("/account/profile?msg=email_sent")


class EmailConfirmPage(Controller):
    """Where the emailed link lands. Its secret is in the fragment: ``site.js`` puts it in the form and
    POSTs it, so it never appears in a URL a server log or a Referer could keep."""

    path = "/account/email/confirm"
    include_in_schema = False
    opt = {"access": "public"}

    @get("/")
    async def form(self) -> Template:
        return Template("account_email_confirm.html", context={"done": False, "error": None})

    @post("/")
    async def confirm(self, request: Request[Any, Any, Any], writing: Writing, data: Form) -> Template:
        now = request.app.state.clock()
        try:
            async with undone_on_error(writing):
                changed = await accounts.confirm_email_change(writing, data.get("token", "").strip(), now)
                mail.send(
                    writing, changed.user, "email_changed.txt", now, to=changed.old_email, changed_at=now
                )
                email = changed.user.email
        except DomainError as exc:
            return Template(
                "account_email_confirm.html",
                context={"done": False, "error": exc.detail(i18n.current())},
                status_code=exc.status,
            )
        after_commit(writing, request.app.state.token_cache.clear)
        return Template("account_email_confirm.html", context={"done": True, "error": None, "email": email})


class PrivacyPage(Controller):
    include_in_schema = False

    @get("/privacy", opt={"access": "public"})
    async def privacy(self) -> Template:
        return Template("privacy.html")


__all__ = ["EmailConfirmPage", "PrivacyPage", "ProfilePages"]

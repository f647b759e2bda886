"""A registration proves its email address: a single-use link is mailed at once, and a learner applies
for a session only after opening it.

The link carries its secret in the fragment (``notifications.secret_link``); only the secret's SHA-256
is stored, in an ``AuthToken`` of kind ``verify`` that names the address it was sent to, so a link
sent before an email change cannot verify the new address. Setting a password from an emailed link
(an organisation's registration, a forgotten password) and confirming a new address prove the
address too, and mark it verified.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.guards import CurrentUser
from courses.accounts.service import replace_link, token_hash
from courses.core import i18n, mail
from courses.core.bodies import Form
from courses.core.deps import Writing, after_commit, undone_on_error
from courses.core.errors import DomainError, InvalidInput
from courses.core.i18n import same_site_path
from courses.core.security import link_base
from courses.models import AuthToken, User

VERIFY_TTL = timedelta(days=7)
RESEND_EVERY = timedelta(minutes=5)  # at most one link per account in this time
KIND = "verify"


def mark_verified(user: User, now: datetime) -> None:
    """The person has shown they read mail at ``user.email`` (the caller adds ``user`` to its session)."""
    if user.email_verified_at is None:
        user.email_verified_at = now


def invalid_link() -> InvalidInput:
    return InvalidInput(
        "この確認リンクは無効か、有効期限（7日間）が切れています。ログインして、確認メールを再送してください。",
        "This confirmation link is not valid or has expired (7 days); sign in and ask for a new one.",
    )


async def send_link(
    s: AsyncSession, user: User, base_url: str, now: datetime, next_path: str = "/me"
) -> None:
    """Mail ``user`` a fresh link (an earlier one stops working), in their language, in ``s``."""
    secret = await replace_link(s, user, KIND, user.email, now, VERIFY_TTL)
    path = "/account/verify"
    if next_path != "/me":
        path += "?next=" + quote(same_site_path(next_path), safe="/")
    mail.send(s, user, "verify_email.txt", now, base_url=base_url, path=path, secret=secret)


async def recently_sent(s: AsyncSession, user: User, now: datetime) -> bool:
    row = await s.exec(
        select(AuthToken.token_hash).where(
            AuthToken.user_id == user.id,
            AuthToken.kind == KIND,
            col(AuthToken.created_at) > now - RESEND_EVERY,
        )
    )
    return row.first() is not None


async def confirm(s: AsyncSession, secret: str, now: datetime) -> User:
    """Use the secret once; the account's address is verified if it is still the one the link went to."""
    token = (
        await s.exec(
            select(AuthToken).where(AuthToken.token_hash == token_hash(secret), AuthToken.kind == KIND)
        )
    ).first()
    if token is None:
        raise invalid_link()
    expires = token.expires_at if token.expires_at.tzinfo else token.expires_at.replace(tzinfo=now.tzinfo)
    user = await s.get(User, token.user_id)
    if user is None or expires <= now or token.new_email != user.email:
        raise invalid_link()
    await s.delete(token)
    mark_verified(user, now)
    s.add(user)
    return user


class VerifyPages(Controller):
    """Where the emailed link lands (``site.js`` posts the fragment's secret), and the resend button."""

    path = "/account/verify"
    include_in_schema = False

    @get("/", opt={"access": "public"})
    async def form(self, next_url: Annotated[str | None, QueryParameter(name="next")] = None) -> Template:
        return _page(next_path=_local(next_url))

    @post("/", opt={"access": "public"})
    async def submit(self, request: Request[Any, Any, Any], writing: Writing, data: Form) -> Template:
        now = request.app.state.clock()
        next_path = _local(data.get("next"))
        try:
            async with undone_on_error(writing):
                user = await confirm(writing, data.get("token", "").strip(), now)
                email = user.email
        except DomainError as exc:
            return _page(error=exc, next_path=next_path)
        after_commit(writing, request.app.state.token_cache.clear)  # the signed-in person may apply at once
        return _page(done=True, email=email, next_path=next_path)

    @post("/resend", opt={"access": "learner"})
    async def resend(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, data: Form
    ) -> Response[Any]:
        now = request.app.state.clock()
        back = _local(data.get("next"))
        if not user.awaits_verification:
            return Redirect(back)
        if await recently_sent(writing, user, now):
            return Redirect("/me?msg=verify_wait")
        row = await writing.get(User, user.id)
        assert row is not None
        await send_link(writing, row, link_base(request), now, back)
        return Redirect("/me?msg=verify_sent")


def _local(raw: str | None) -> str:
    """Where to go once verified: a path of this site, My page by default."""
    path = same_site_path(raw)
    return "/me" if path == "/" and raw != "/" else path


def _page(
    *, done: bool = False, email: str = "", error: DomainError | None = None, next_path: str = "/me"
) -> Template:
    return Template(
        "account_verify.html",
        context={
            "done": done,
            "email": email,
            "error": error.detail(i18n.current()) if error else None,
            "next": next_path,
            "hide_verify_banner": True,
        },
        status_code=error.status if error else 200,
    )

"""Accounts through the JSON API: register, sign in for a bearer token, sign out, who am I."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody

from courses.accounts import service as accounts
from courses.accounts import verification
from courses.accounts.guards import CurrentUser, authenticate, bearer_secret, cache_key
from courses.accounts.schemas import (
    AccountOut,
    Me,
    OrganizationOut,
    Registration,
    TokenOut,
    TokenRequest,
    UserRole,
)
from courses.core import i18n
from courses.core.bodies import sent
from courses.core.deps import DB, Reading, Writing, after_commit
from courses.core.errors import Conflict, InvalidInput
from courses.core.security import client_address, link_base
from courses.models import Organization, Role, id_of

LEARNER = {"access": "learner"}


def _now(request: Request[Any, Any, Any]) -> datetime:
    now: datetime = request.app.state.clock()
    return now


class AuthApi(Controller):
    path = "/api/auth"
    tags = ("accounts",)

    @post("/register", opt={"access": "public"}, summary="Register a learner", status_code=201)
    async def register(
        self, request: Request[Any, Any, Any], db: DB, data: JSONBody[Registration]
    ) -> AccountOut:
        reg = accounts.validate_registration(sent(data))
        async with db.read() as s:
            if await accounts.email_taken(s, reg.email):
                raise Conflict(
                    "このメールアドレスは既に登録されています。ログインしてください。",
                    "This email address is already registered; please sign in.",
                )
        password_hash = await accounts.hash_password(reg.password)  # off the event loop, outside the lock
        now = _now(request)
        async with db.write() as s:
            user = await accounts.register_learner(s, reg, now, password_hash, i18n.current())
            await verification.send_link(s, user, link_base(request), now)
        return AccountOut(id_of(user), user.email, user.name, cast("UserRole", user.role), False)

    @post(
        "/token",
        opt={"access": "public"},
        summary="Exchange email and password for a bearer token",
        status_code=200,
    )
    async def token(self, request: Request[Any, Any, Any], db: DB, data: JSONBody[TokenRequest]) -> TokenOut:
        email = accounts.normalize_email(data.email)
        password = data.password
        if not email or not password:
            raise InvalidInput(
                "メールアドレスとパスワードを入力してください。", "email and password are required."
            )
        now = _now(request)
        user = await authenticate(db, email, password, client_address(request), now)
        async with db.write() as s:
            secret = await accounts.issue_token(s, user, "api", now)
        return TokenOut(secret, "bearer", int(accounts.API_TOKEN_TTL.total_seconds()))

    @delete(
        "/token",
        opt={"access": "user"},
        summary="Revoke the bearer token of this request (sign out of the API)",
        status_code=204,
    )
    async def revoke(self, request: Request[Any, Any, Any], writing: Writing) -> None:
        secret = bearer_secret(request)
        if secret:
            await accounts.revoke_token(writing, secret, "api")
            cache = request.app.state.token_cache
            after_commit(writing, lambda: cache.evict(cache_key("api", secret)))

    @get(
        "/me",
        opt={"access": "user"},
        summary="Who am I (a coordinator's organisation included; null for everyone else)",
    )
    async def whoami(self, user: CurrentUser, reading: Reading) -> Me:
        organization = None
        if user.role == Role.COORDINATOR and user.organization_id is not None:
            org = await reading.get(Organization, user.organization_id)
            if org is not None:
                organization = OrganizationOut.of(org)
        verified = user.email_verified_at is not None
        return Me(id_of(user), user.email, user.name, cast("UserRole", user.role), verified, organization)

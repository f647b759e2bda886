"""Who may call what. Every route declares ``opt={"access": ...}``; one guard enforces it.

API routes (``/api/...``) authenticate with bearer tokens only, so a browser's cookie can never be
used against them from another site; HTML pages use an HttpOnly session cookie, and their forms are
protected by Litestar's CSRF middleware.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from sqlmodel import select

from courses.accounts import service as accounts
from courses.accounts import throttle
from courses.core.db import Database
from courses.core.errors import Forbidden, TooManyAttempts
from courses.core.tx import detached
from courses.models import Role, User, table_of

SESSION_COOKIE = "sid"

ACCESS: dict[str, frozenset[str] | None] = {
    "public": None,
    "user": frozenset(r.value for r in Role),
    "learner": frozenset({Role.LEARNER}),
    "coordinator": frozenset({Role.COORDINATOR, Role.ADMIN}),
    "staff": frozenset({Role.STAFF, Role.ADMIN}),
    "admin": frozenset({Role.ADMIN}),
    # what a person does to their own account that staff and administrators may not (deleting it:
    # their accounts are managed by an administrator)
    "self_service": frozenset({Role.LEARNER, Role.COORDINATOR}),
}


async def authenticate(db: Database, email: str, password: str, address: str, now: datetime) -> User:
    """The account these credentials open, throttled per (email, address) and per address: the sign-in
    of the API and of the pages. It is an edge, like a handler, and takes the ``Database``: the
    attempt is recorded in one transaction and settled in another, so that argon2 (tens of
    milliseconds) runs with no transaction open.

    Unknown and known emails go through the same counts, the same (dummy) password check and the
    same answers, so neither the status nor the timing tells which accounts exist.
    """
    async with db.write() as s:
        held = await throttle.reserve(s, email, address, now)
    if isinstance(held, throttle.Refused):
        wait = held.wait_s
        raise TooManyAttempts(
            f"ログインの失敗が続いたため、{wait}秒後に再度お試しください。",
            f"Too many failed sign-ins; try again in {wait} seconds.",
            extra={"retry_after": wait},
        )
    async with db.read() as s:
        user = (await s.exec(select(User).where(User.email == email))).first()
    ok = await accounts.verify_password(user.password_hash if user else None, password)
    async with db.write() as s:
        await throttle.settle(s, held, ok and user is not None, now)
    if not ok or user is None:
        raise accounts.bad_credentials()
    return user


def bearer_secret(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


async def resolve_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The signed-in user: a bearer API token, or on pages the session cookie.

    Each secret is looked up, and cached, as the kind it was presented as: a session cookie's
    secret sent as a bearer token is no API token and answers 401.
    """
    if "user" in connection.scope.get("state", {}):
        user: User | None = connection.scope["state"]["user"]
        return user
    bearer = bearer_secret(connection)
    secret, kind = (bearer, "api") if bearer else (None, "")
    if secret is None and not connection.url.path.startswith("/api/"):
        secret, kind = connection.cookies.get(SESSION_COOKIE), "web"
    user = None
    if secret:
        cache: TokenCache = connection.app.state.token_cache
        key = cache_key(kind, secret)
        hit, user = cache.get(key)
        if not hit:
            db = connection.app.state.db
            user = await db.query(accounts.user_for_token, secret, kind, connection.app.state.clock())
            cache.put(key, user)
    connection.state.user = user
    return user


def cache_key(kind: str, secret: str) -> str:
    """The token cache's key: a browser session's secret must never pass for an API token."""
    return f"{kind}:{secret}"


class TokenCache:
    """Who a token belongs to, remembered for a few seconds so that a busy client does not cost a
    query per request. Signing out evicts at once in this process; elsewhere within ``ttl``.

    It keeps each user as a tuple of column values and gives every request a user object of its
    own: a request cannot change another's, and the cache holds nothing the garbage collector
    traverses (thousands of cached ORM objects made its full collections pause the service for
    100 ms and more under load).
    """

    _FIELDS = tuple(c.key for c in table_of(User).columns)

    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._items: dict[str, tuple[float, tuple[Any, ...] | None]] = {}

    def get(self, secret: str) -> tuple[bool, User | None]:
        item = self._items.get(secret)
        if item is None or item[0] < time.monotonic():
            return False, None
        values = item[1]
        return True, None if values is None else detached(User, dict(zip(self._FIELDS, values, strict=True)))

    def put(self, secret: str, user: User | None) -> None:
        if len(self._items) >= self.size:
            self._items.clear()
        values = None if user is None else tuple(getattr(user, f) for f in self._FIELDS)
        self._items[secret] = (time.monotonic() + self.ttl, values)

    def evict(self, secret: str) -> None:
        self._items.pop(secret, None)

    def clear(self) -> None:
        """Forget every cached token (after a password change ends other sign-ins)."""
        self._items.clear()


def access_of(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> str | None:
    access = handler.opt.get("access")
    if access is None and connection.url.path.startswith("/schema"):
        return "public"  # the OpenAPI document describes the API and holds no data
    return access


async def access_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if connection.scope.get("method") == "OPTIONS":
        return  # Litestar's automatic OPTIONS answers carry only the Allow header
    access = access_of(connection, handler)
    if access not in ACCESS:
        # deny by default: a route that forgot to declare its audience is closed, not open
        raise PermissionDeniedException(f"route {handler} declares no access")
    user = await resolve_user(connection)
    allowed = ACCESS[access]
    if allowed is None:
        return
    if user is None:
        raise NotAuthorizedException("sign-in required")
    if user.role not in allowed:
        # a route may say why a signed-in role is refused: opt={"refused": ("日本語", "English")}
        if refused := handler.opt.get("refused"):
            raise Forbidden(*refused)
        raise PermissionDeniedException("not allowed for this role")


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    return connection.scope.get("state", {}).get("user")


def provide_user(request: Request[Any, Any, Any]) -> User | None:
    """The ``user`` dependency: the caller, as the guard has resolved them before any handler runs."""
    return current_user(request)


CurrentUser = NamedDependency[User]
"""The signed-in caller, for a route whose access is not ``"public"``: the guard has refused
anonymous callers before the handler runs (``tests/courses/core/test_deps.py`` holds every handler
that takes it to that)."""

MaybeUser = NamedDependency[User | None]
"""The caller on a public route: ``None`` for a visitor who is not signed in."""

USER_DEPENDENCY = {"user": Provide(provide_user, sync_to_thread=False)}


def session_cookie(request: Request[Any, Any, Any], secret: str) -> Cookie:
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

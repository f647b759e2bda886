"""Who may call what. Every route declares ``opt={"access": ...}``; one guard enforces it.

API routes (``/api/...``) authenticate with bearer tokens only, so a browser's cookie can never be
used against them from another site; HTML pages use an HttpOnly session cookie, and their forms are
protected by Litestar's CSRF middleware.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from courses.models import Role, User
from courses.services import accounts

SESSION_COOKIE = "sid"

ACCESS: dict[str, frozenset[str] | None] = {
    "public": None,
    "user": frozenset(r.value for r in Role),
    "learner": frozenset({Role.LEARNER}),
    "coordinator": frozenset({Role.COORDINATOR, Role.ADMIN}),
    "staff": frozenset({Role.STAFF, Role.ADMIN}),
    "admin": frozenset({Role.ADMIN}),
}


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


async def resolve_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The signed-in user: bearer token on the API, session cookie (or bearer) on pages."""
    if "user" in connection.scope.get("state", {}):
        return connection.scope["state"]["user"]  # type: ignore[no-any-return]
    db = connection.app.state.db
    now = connection.app.state.clock()
    user = None
    bearer = _bearer(connection)
    is_api = connection.url.path.startswith("/api/")
    async with db.read() as s:
        if bearer:
            user = await accounts.user_for_token(s, bearer, "api", now)
        elif not is_api and (cookie := connection.cookies.get(SESSION_COOKIE)):
            user = await accounts.user_for_token(s, cookie, "web", now)
    connection.state.user = user
    return user


def access_of(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> str | None:
    access = handler.opt.get("access")
    if access is None and connection.url.path.startswith("/schema"):
        return "public"  # the OpenAPI document describes the API and holds no data
    return access  # type: ignore[no-any-return]


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
        raise PermissionDeniedException("not allowed for this role")


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    return connection.scope.get("state", {}).get("user")  # type: ignore[no-any-return]

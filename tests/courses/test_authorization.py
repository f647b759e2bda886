"""Every route declares who may use it, and the guard holds for every role (anonymous included)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.accounts.guards import ACCESS
from courses.core.db import Database
from tests.courses import builders as b

ROLES = ["anonymous", "learner", "coordinator", "staff", "admin"]


def _routes(app: Litestar) -> list[tuple[str, str, str]]:
    """(method, path, access) of every handler except automatic OPTIONS and the OpenAPI pages."""
    out = []
    for route in app.routes:
        for handler in route.route_handlers:
            methods = getattr(handler, "http_methods", set())
            for method in methods - {"OPTIONS", "HEAD"}:
                if route.path.startswith("/schema"):
                    continue
                out.append((method, route.path, handler.opt.get("access")))
    return out


def test_every_route_declares_its_access(app: Litestar) -> None:
    undeclared = [(m, p) for m, p, access in _routes(app) if access not in ACCESS]
    assert undeclared == []


def _concrete(path: str, ids: dict[str, int]) -> str:
    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.endswith("token") or name.endswith("path"):
            return "x"
        return str(ids.get(name, 1))

    return re.sub(r"\{(\w+)(?::\w+)?\}", repl, path)


@pytest.mark.parametrize("role", ROLES)
async def test_guard_for_every_route_and_role(
    role: str, app: Litestar, client: AsyncTestClient[Litestar], db: Database
) -> None:
    async with db.write() as s:
        await b.category(s, "finance")
        campus = await b.campus(s, "tokyo")
        course = await b.course(s, "ZAI01")
        sess = await b.session(s, course, campus, start=date(2026, 6, 10))
        users = {
            "learner": await b.user(s),
            "coordinator": await b.user(s, role="coordinator"),
            "staff": await b.user(s, role="staff", campuses=[campus]),
            "admin": await b.user(s, role="admin"),
        }
        token = await b.token(s, users[role]) if role != "anonymous" else None
    ids = {"session_id": sess.id or 0}
    await client.get("/login")  # the CSRF cookie, so that form posts reach the guard
    headers = {"Accept": "application/json", "x-csrftoken": client.cookies.get("csrftoken", "")}
    if token:
        headers |= b.bearer(token)
    allowed_roles = {
        "public": set(ROLES),
        "user": set(ROLES) - {"anonymous"},
        "learner": {"learner"},
        "coordinator": {"coordinator", "admin"},
        "staff": {"staff", "admin"},
        "admin": {"admin"},
        "self_service": {"learner", "coordinator"},
    }
    # revoking the token signs the role out, so that route is called last
    last = ("DELETE", "/api/auth/token")
    for method, path, access in sorted(_routes(app), key=lambda r: (r[0], r[1]) == last):
        url = _concrete(path, ids)
        r = await client.request(
            method, url, headers=headers, json={} if method in {"POST", "PUT", "PATCH"} else None
        )
        where = (role, method, path, r.status_code, r.text[:160])
        if role in allowed_roles[access]:
            assert r.status_code != 403, where
            if access != "public":
                assert r.status_code != 401, where
        elif role == "anonymous":
            assert r.status_code in (401, 302, 303), where
        else:
            assert r.status_code == 403, where

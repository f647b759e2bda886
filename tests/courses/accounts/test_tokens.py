"""API tokens and browser sessions are different credentials; an API token can be revoked."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.accounts.guards import SESSION_COOKIE
from courses.core.db import Database
from tests.courses import builders as b

Client = AsyncTestClient[Litestar]


async def test_a_session_cookie_is_no_bearer_token_even_while_cached(client: Client, db: Database) -> None:
    async with db.write() as s:
        await b.user(s, "taro@example.jp")
    await client.get("/login")
    r = await client.post(
        "/login",
        data={
            "email": "taro@example.jp",
            "password": b.PASSWORD,
            "_csrf_token": client.cookies.get("csrftoken", ""),
        },
        follow_redirects=False,
    )
    assert r.status_code in (302, 303)
    sid = client.cookies.get(SESSION_COOKIE)
    assert sid
    assert (await client.get("/me")).status_code == 200  # the page signs in with it: now it is cached
    client.cookies.clear()
    r = await client.get("/api/auth/me", headers=b.bearer(sid))
    assert r.status_code == 401


async def test_an_api_token_can_be_revoked_at_once(client: Client, db: Database) -> None:
    async with db.write() as s:
        await b.user(s, "taro@example.jp")
    r = await client.post("/api/auth/token", json={"email": "taro@example.jp", "password": b.PASSWORD})
    token = r.json()["access_token"]
    assert (await client.get("/api/auth/me", headers=b.bearer(token))).status_code == 200  # cached now
    other = (
        await client.post("/api/auth/token", json={"email": "taro@example.jp", "password": b.PASSWORD})
    ).json()["access_token"]
    r = await client.delete("/api/auth/token", headers=b.bearer(token))
    assert r.status_code == 204
    assert (await client.get("/api/auth/me", headers=b.bearer(token))).status_code == 401
    assert (await client.delete("/api/auth/token", headers=b.bearer(token))).status_code == 401
    # the person's other tokens are untouched
    assert (await client.get("/api/auth/me", headers=b.bearer(other))).status_code == 200
    assert (await client.delete("/api/auth/token")).status_code == 401


def test_revocation_is_in_the_openapi_document(client: Client) -> None:
    doc = client.app.openapi_schema.to_schema()
    operation = doc["paths"]["/api/auth/token"]["delete"]
    assert "204" in operation["responses"] and "401" in operation["responses"]

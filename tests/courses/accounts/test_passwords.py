"""A forgotten password and a changed one: nothing tells who is registered, a link works once and
for an hour, and a new password ends the account's other sign-ins."""

from __future__ import annotations

import re
from datetime import timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from courses.core.db import Database
from courses.models import AuthToken, OutboxMessage, User
from tests.courses import builders as b

Client = AsyncTestClient[Litestar]


async def _mails(db: Database, email: str) -> list[OutboxMessage]:
    async with db.read() as s:
        return list(
            await s.exec(
                select(OutboxMessage)
                .where(
                    OutboxMessage.to_email == email, col(OutboxMessage.subject).contains("パスワード再設定")
                )
                .order_by(col(OutboxMessage.id))
            )
        )


async def test_a_forgotten_password_is_reset_by_a_link_that_works_once(client: Client, db: Database) -> None:
    async with db.write() as s:
        user = await b.user(s, "known@example.jp")
        user.email_verified_at = None  # never confirmed: the reset link will prove the address
        s.add(user)
        old_api = await b.token(s, user)
    await client.get("/password/forgot")
    csrf = client.cookies.get("csrftoken", "")
    known = await client.post("/password/forgot", data={"email": "KNOWN@example.jp", "_csrf_token": csrf})
    unknown = await client.post("/password/forgot", data={"email": "nobody@example.jp", "_csrf_token": csrf})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("KNOWN@example.jp", "") == unknown.text.replace("nobody@example.jp", "")
    again = await client.post("/password/forgot", data={"email": "known@example.jp", "_csrf_token": csrf})
    assert again.status_code == 200
    mails = await _mails(db, "known@example.jp")
    assert len(mails) == 1  # at most one message every ten minutes
    assert await _mails(db, "nobody@example.jp") == []
    secret = re.search(r"/password/set#(\S+)", mails[0].body)
    assert secret and "token=" not in mails[0].body
    async with db.read() as s:
        token = (await s.exec(select(AuthToken).where(AuthToken.kind == "reset"))).one()
    assert token.expires_at - token.created_at == timedelta(hours=1)
    new = {"password": "a brand new secret", "password_confirm": "a brand new secret"}
    r = await client.post(
        "/password/set", data={"token": secret.group(1), **new, "_csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code in (302, 303)
    async with db.read() as s:
        owner = (await s.exec(select(User).where(User.email == "known@example.jp"))).one()
    assert owner.email_verified_at is not None  # a link to the address proves it
    # the link is spent, and the old API token no longer opens the account
    reuse = await client.post("/password/set", data={"token": secret.group(1), **new, "_csrf_token": csrf})
    assert reuse.status_code == 400
    assert (await client.get("/api/auth/me", headers=b.bearer(old_api))).status_code == 401
    r = await client.post(
        "/api/auth/token", json={"email": "known@example.jp", "password": "a brand new secret"}
    )
    assert r.status_code == 200
    bad = await client.post("/password/forgot", data={"email": "not-an-address", "_csrf_token": csrf})
    assert bad.status_code == 400


async def test_a_signed_in_person_changes_their_password(client: Client, db: Database) -> None:
    from tests.courses.bulk.test_org_pages import sign_in

    async with db.write() as s:
        user = await b.user(s, "me@example.jp")
        other_device = await b.token(s, user)
    csrf = await sign_in(client, "me@example.jp")
    assert "/account/password" in (await client.get("/me")).text
    wrong = await client.post(
        "/account/password",
        data={
            "current_password": "nope",
            "password": "x" * 12,
            "password_confirm": "x" * 12,
            "_csrf_token": csrf,
        },
    )
    assert wrong.status_code == 400 and "現在のパスワード" in wrong.text
    short = await client.post(
        "/account/password",
        data={
            "current_password": b.PASSWORD,
            "password": "short",
            "password_confirm": "short",
            "_csrf_token": csrf,
        },
    )
    assert short.status_code == 400 and "10文字以上" in short.text
    r = await client.post(
        "/account/password",
        data={
            "current_password": b.PASSWORD,
            "password": "another long secret",
            "password_confirm": "another long secret",
            "_csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert r.status_code in (302, 303)
    page = await client.get("/account/password?msg=changed")
    assert "パスワードを変更しました" in page.text  # this browser stays signed in
    assert (await client.get("/api/auth/me", headers=b.bearer(other_device))).status_code == 401
    async with db.read() as s:
        row = await s.get(User, user.id)
    assert row is not None and row.password_hash != b.password_hash()
    assert (await client.get("/account/password", headers={})).status_code == 200

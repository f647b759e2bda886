"""A registration proves its email address by an emailed single-use link before the person may apply
(issue #18): the pages and the API refuse, say why and change nothing until then."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, or_, select

from courses.app import create_app
from courses.core.db import Database
from courses.core.settings import Settings
from courses.models import AuthToken, Enrollment, OutboxMessage, User
from tests.courses import builders as b
from tests.courses.accounts.test_account_pages import FORM, _csrf, _session
from tests.courses.mails import assert_english

Client = AsyncTestClient[Litestar]
LINK = re.compile(r"(/account/verify[^#\s]*)#([A-Za-z0-9_-]{32,})")


async def _mails(db: Database, to: str) -> list[OutboxMessage]:
    async with db.read() as s:
        return list(
            await s.exec(
                select(OutboxMessage)
                .where(
                    OutboxMessage.to_email == to,
                    or_(
                        col(OutboxMessage.subject).contains("確認"),
                        col(OutboxMessage.subject).contains("confirm"),
                    ),
                )
                .order_by(col(OutboxMessage.id))
            )
        )


async def _link(db: Database, to: str) -> tuple[str, str]:
    mails = await _mails(db, to)
    assert mails, f"no verification mail to {to}"
    found = LINK.search(mails[-1].body)
    assert found, mails[-1].body
    return found.group(1), found.group(2)


async def _user(db: Database, email: str = "hanako@example.jp") -> User:
    async with db.read() as s:
        return (await s.exec(select(User).where(User.email == email))).one()


async def _register(client: Client, next_url: str = "") -> None:
    await client.get("/register")
    extra = {"next": next_url} if next_url else {}
    r = await client.post(
        "/register", data={**FORM, **extra, "_csrf_token": _csrf(client)}, follow_redirects=False
    )
    assert r.status_code in (302, 303), r.text[:500]
    assert r.headers["location"] == "/me?msg=registered"


async def test_a_new_learner_applies_only_after_opening_the_emailed_link(
    client: Client, db: Database
) -> None:
    session_id = await _session(db)
    await _register(client, f"/sessions/{session_id}/apply")
    assert (await _user(db)).email_verified_at is None
    me = await client.get("/me?msg=registered")
    assert "確認のメールをお送りしました" in me.text and 'id="verify-email"' in me.text

    # the session page and the form say why, and offer no button
    detail = await client.get(f"/sessions/{session_id}")
    assert "メールアドレス（hanako@example.jp）の確認がお済みでない" in detail.text
    assert f'href="/sessions/{session_id}/apply"' not in detail.text
    form = await client.get(f"/sessions/{session_id}/apply")
    assert "確認がお済みでない" in form.text and 'id="apply-submit"' not in form.text
    r = await client.post(f"/sessions/{session_id}/apply", data={"_csrf_token": _csrf(client)})
    assert r.status_code == 422 and "確認がお済みでない" in r.text and 'id="apply-submit"' not in r.text
    async with db.read() as s:
        assert (await s.exec(select(Enrollment))).first() is None

    # the link leads back to the application it was sent from
    path, secret = await _link(db, "hanako@example.jp")
    assert path == f"/account/verify?next=/sessions/{session_id}/apply"
    assert (await client.get(path)).status_code == 200
    done = await client.post(
        "/account/verify",
        data={"token": secret, "next": f"/sessions/{session_id}/apply", "_csrf_token": _csrf(client)},
    )
    assert done.status_code == 200 and "hanako@example.jp を確認しました" in done.text
    assert f'href="/sessions/{session_id}/apply"' in done.text
    assert (await _user(db)).email_verified_at is not None

    r = await client.post(
        f"/sessions/{session_id}/apply",
        data={"lodging": "on", "_csrf_token": _csrf(client)},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303) and r.headers["location"] == "/me?msg=enrolled"
    assert 'id="verify-email"' not in (await client.get("/me")).text

    # the link works once
    again = await client.post("/account/verify", data={"token": secret, "_csrf_token": _csrf(client)})
    assert again.status_code == 400 and "無効か、有効期限" in again.text


async def test_an_expired_or_outdated_link_verifies_nothing(client: Client, db: Database) -> None:
    await _register(client)
    _, secret = await _link(db, "hanako@example.jp")
    async with db.write() as s:
        token = (await s.exec(select(AuthToken).where(AuthToken.kind == "verify"))).one()
        token.created_at -= timedelta(days=8)  # sent eight days ago: seven days is the limit
        token.expires_at -= timedelta(days=8)
        s.add(token)
    r = await client.post("/account/verify", data={"token": secret, "_csrf_token": _csrf(client)})
    assert r.status_code == 400 and (await _user(db)).email_verified_at is None

    # a link sent to an address the account no longer has does not prove the new one
    r = await client.post(
        "/account/verify/resend", data={"_csrf_token": _csrf(client)}, follow_redirects=False
    )
    assert r.headers["location"] == "/me?msg=verify_sent"
    _, secret = await _link(db, "hanako@example.jp")
    async with db.write() as s:
        user = (await s.exec(select(User).where(User.email == "hanako@example.jp"))).one()
        user.email = "other@example.jp"
        s.add(user)
    r = await client.post("/account/verify", data={"token": secret, "_csrf_token": _csrf(client)})
    assert r.status_code == 400 and (await _user(db, "other@example.jp")).email_verified_at is None


async def test_a_new_link_replaces_the_old_one_and_is_not_sent_twice_in_five_minutes(
    client: Client, db: Database
) -> None:
    await _register(client)
    _, first = await _link(db, "hanako@example.jp")
    async with db.write() as s:  # the first mail went out six minutes ago
        token = (await s.exec(select(AuthToken).where(AuthToken.kind == "verify"))).one()
        token.created_at = token.created_at - timedelta(minutes=6)
        s.add(token)
    r = await client.post(
        "/account/verify/resend",
        data={"next": "/sessions/1", "_csrf_token": _csrf(client)},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/me?msg=verify_sent"
    path, second = await _link(db, "hanako@example.jp")
    assert second != first and path == "/account/verify?next=/sessions/1"
    r = await client.post(
        "/account/verify/resend", data={"_csrf_token": _csrf(client)}, follow_redirects=False
    )
    assert r.headers["location"] == "/me?msg=verify_wait"
    assert len(await _mails(db, "hanako@example.jp")) == 2
    old = await client.post("/account/verify", data={"token": first, "_csrf_token": _csrf(client)})
    assert old.status_code == 400
    new = await client.post("/account/verify", data={"token": second, "_csrf_token": _csrf(client)})
    assert new.status_code == 200 and (await _user(db)).email_verified_at is not None


async def test_the_api_registers_mails_the_link_and_refuses_to_enroll_before_it(
    client: Client, db: Database
) -> None:
    session_id = await _session(db)
    body = {**FORM, "employees": 80, "capital_yen": 30_000_000}
    r = await client.post("/api/auth/register", json=body, headers={"Accept-Language": "en"})
    assert r.status_code == 201, r.text
    assert r.json()["email_verified"] is False
    (mail,) = await _mails(db, "hanako@example.jp")  # in English: the person registered in English
    assert mail.subject == "[SME University] Please confirm your email address"
    assert "Confirmation code: " in mail.body and "確認コード" not in mail.body
    assert_english(mail, FORM["name"])  # the signature too
    assert (await _user(db)).language == "en"

    token = await client.post("/api/auth/token", json={"email": FORM["email"], "password": FORM["password"]})
    headers = b.bearer(token.json()["access_token"])
    assert (await client.get("/api/auth/me", headers=headers)).json()["email_verified"] is False
    r = await client.post(f"/api/sessions/{session_id}/enrollments", json={"lodging": False}, headers=headers)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert "confirm your email address" in r.text or "確認がお済みでない" in r.text

    secret = re.search(r"#([A-Za-z0-9_-]{32,})", mail.body)
    assert secret
    await client.get("/account/verify")
    r = await client.post("/account/verify", data={"token": secret.group(1), "_csrf_token": _csrf(client)})
    assert r.status_code == 200
    r = await client.post(f"/api/sessions/{session_id}/enrollments", json={"lodging": False}, headers=headers)
    assert r.status_code == 201, r.text
    assert (await client.get("/api/auth/me", headers=headers)).json()["email_verified"] is True


async def _switch(client: Client, code: str) -> None:
    r = await client.post(
        f"/lang/{code}", data={"next": "/me", "_csrf_token": _csrf(client)}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/me", r.text[:300]


async def test_people_whose_address_another_link_proved_are_verified(client: Client, db: Database) -> None:
    """Staff, coordinators and learners made by the tests' builders (verified) apply as before; a
    signed-in person's language switch is remembered for their mail."""
    async with db.write() as s:
        user = await b.user(s, "known@example.jp")
    assert user.email_verified_at is not None
    from tests.courses.bulk.test_org_pages import sign_in

    await sign_in(client, "known@example.jp")
    # a GET (a link followed from anywhere) sets the cookie only; the header's form stores the choice
    r = await client.get("/lang/en?next=/me", follow_redirects=False)
    assert r.status_code == 303 and (await _user(db, "known@example.jp")).language == "ja"
    page = (await client.get("/me")).text
    assert 'formaction="/lang/en"' in page and 'href="/lang/en' not in page
    r = await client.post("/lang/en", data={"next": "/me"}, follow_redirects=False)
    assert r.status_code == 403  # without the CSRF token nothing is stored
    assert (await _user(db, "known@example.jp")).language == "ja"
    await _switch(client, "en")
    assert (await _user(db, "known@example.jp")).language == "en"
    await _switch(client, "ja")
    assert (await _user(db, "known@example.jp")).language == "ja"
    data = (await client.get("/account/data.json")).json()
    assert data["account"]["language"] == "ja" and data["account"]["email_verified_at"]

    # the switch is followed at once: the next mail is in the new language, cache or not
    session_id = await _session(db)
    await _switch(client, "en")
    r = await client.post(
        f"/sessions/{session_id}/apply", data={"_csrf_token": _csrf(client)}, follow_redirects=False
    )
    assert r.status_code in (302, 303), r.text[:300]
    async with db.read() as s:
        mail = (await s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc()))).first()
    assert mail is not None and not re.search(r"[\u3040-\u30ff]", mail.subject), mail.subject


async def test_links_in_mail_use_the_configured_site_address(
    settings: Settings, clock: Any, db: Database
) -> None:
    """With SITE_URL set, a forged Host header cannot point someone's verification link elsewhere."""
    app = create_app(dataclasses.replace(settings, site_url="https://courses.example.jp"), clock=clock)
    async with AsyncTestClient(app=app) as client:
        body = {**FORM, "employees": 80, "capital_yen": 30_000_000}
        r = await client.post("/api/auth/register", json=body, headers={"Host": "evil.example"})
        assert r.status_code == 201, r.text
        (mail,) = await _mails(db, "hanako@example.jp")
    assert "https://courses.example.jp/account/verify#" in mail.body and "evil.example" not in mail.body


async def test_the_notices_and_the_page_speak_english(client: Client, db: Database) -> None:
    client.cookies.set("lang", "en")
    await _register(client)
    me = (await client.get("/me?msg=registered")).text
    assert "You are registered. We have sent you a confirmation email" in me
    assert "Your email address is not confirmed yet." in me and "Send the confirmation email again" in me
    assert (await _user(db)).language == "en"
    mail = (await _link(db, "hanako@example.jp"))[1]
    page = await client.get("/account/verify")
    assert "Confirm your email address" in page.text
    r = await client.post("/account/verify", data={"token": mail, "_csrf_token": _csrf(client)})
    assert "Your email address hanako@example.jp is confirmed." in r.text
    r = await client.post("/account/verify", data={"token": mail, "_csrf_token": _csrf(client)})
    assert "This confirmation link is not valid or has expired" in r.text

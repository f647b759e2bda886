"""The learner's path through the HTML pages, as a person would take it (with CSRF tokens)."""

from __future__ import annotations

import html
import re
from datetime import date

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.core.db import Database
from courses.models import Enrollment, User
from tests.courses import builders as b

FORM = {
    "email": "hanako@example.jp",
    "password": "a long enough password",
    "name": "中小 花子",
    "name_kana": "ちゅうしょう はなこ",  # hiragana is accepted and stored as katakana
    "organization_kind": "sme",
    "company": "株式会社テスト製作所",
    "industry": "E",
    "employees": "80",
    "capital_yen": "30000000",
    "prefecture": "13",
    "gender": "female",
}


async def _session(db: Database) -> int:
    async with db.write() as s:
        await b.category(s, "finance")
        campus = await b.campus(s, "tokyo")
        course = await b.course(s, "ZAI01")
        return (await b.session(s, course, campus, start=date(2026, 6, 10), capacity=1)).id or 0


def _csrf(client: AsyncTestClient[Litestar]) -> str:
    return client.cookies.get("csrftoken", "")


async def test_register_apply_and_see_my_page(client: AsyncTestClient[Litestar], db: Database) -> None:
    session_id = await _session(db)
    r = await client.get("/register")
    assert r.status_code == 200 and "受講者登録" in r.text
    r = await client.post("/register", data={**FORM, "_csrf_token": _csrf(client)}, follow_redirects=False)
    assert r.status_code in (302, 303), r.text[:500]
    assert r.headers["location"].startswith("/me")
    async with db.read() as s:
        user = (await s.exec(select(User).where(User.email == "hanako@example.jp"))).one()
    assert user.name_kana == "チュウショウ ハナコ"
    assert user.password_hash and user.password_hash.startswith("$argon2")

    from tests.courses.accounts.test_email_verification import _link

    _, secret = await _link(db, "hanako@example.jp")
    r = await client.post("/account/verify", data={"token": secret, "_csrf_token": _csrf(client)})
    assert r.status_code == 200
    r = await client.get(f"/sessions/{session_id}/apply")
    assert r.status_code == 200 and "寮への宿泊を希望する" in r.text
    r = await client.post(
        f"/sessions/{session_id}/apply",
        data={"lodging": "on", "_csrf_token": _csrf(client)},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303)
    r = await client.get("/me?msg=enrolled")
    assert "受講決定" in r.text and "お申し込みを受け付けました" in r.text
    async with db.read() as s:
        row = (await s.exec(select(Enrollment))).one()
    assert row.lodging is True and row.status == "confirmed"

    # The subscription link my page offers is the learner's calendar, not a 404.
    feed = re.search(r'href="(/calendar/[^"]+\.ics)"', r.text)
    assert feed, "my page offers no calendar link"
    client.cookies.clear()
    r = await client.get(html.unescape(feed.group(1)))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in r.text and "DTSTART;VALUE=DATE:20260610" in r.text
    r = await client.get(html.unescape(feed.group(1)).replace(".ics", "x.ics"))
    assert r.status_code == 404


async def test_form_without_csrf_token_is_refused(client: AsyncTestClient[Litestar], db: Database) -> None:
    await client.get("/register")
    r = await client.post("/register", data=FORM)
    assert r.status_code == 403
    async with db.read() as s:
        assert (await s.exec(select(User))).first() is None


async def test_register_shows_every_field_error(client: AsyncTestClient[Litestar], db: Database) -> None:
    await client.get("/register")
    bad = {
        **FORM,
        "email": "not-an-email",
        "name_kana": "Hanako",
        "industry": "Z",
        "password": "short",
        "_csrf_token": _csrf(client),
    }
    r = await client.post("/register", data=bad)
    assert r.status_code == 400
    for message in ("メールアドレスの形式", "カタカナ", "業種は日本標準産業分類", "10文字以上"):
        assert message in r.text


async def test_protected_page_sends_anonymous_to_login(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    r = await client.get("/me", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"] == "/login?next=/me"


async def test_login_logout_and_back_off(client: AsyncTestClient[Litestar], db: Database) -> None:
    async with db.write() as s:
        await b.user(s, "taro@example.jp")
    await client.get("/login")
    ok = await client.post(
        "/login",
        data={"email": "taro@example.jp", "password": b.PASSWORD, "_csrf_token": _csrf(client)},
        follow_redirects=False,
    )
    assert ok.status_code in (302, 303) and "sid" in ok.cookies
    me = await client.get("/me")
    assert me.status_code == 200 and "マイページ" in me.text
    out = await client.post("/logout", data={"_csrf_token": _csrf(client)}, follow_redirects=False)
    assert out.status_code in (302, 303)
    assert (await client.get("/me", follow_redirects=False)).status_code in (302, 303, 401)

    # repeated failures through the API are slowed down, then refused with 429 for a while
    statuses = []
    for _ in range(7):
        r = await client.post(
            "/api/auth/token", json={"email": "taro@example.jp", "password": "wrong password!"}
        )
        statuses.append(r.status_code)
    assert statuses[:5] == [401] * 5 and 429 in statuses[5:]
    r = await client.post("/api/auth/token", json={"email": "taro@example.jp", "password": b.PASSWORD})
    assert r.status_code == 429 and "秒後" in r.json()["detail"]


async def test_api_register_and_token(client: AsyncTestClient[Litestar], db: Database) -> None:
    body = {**FORM, "employees": 80, "capital_yen": 30_000_000, "prefecture": "東京都"}
    r = await client.post("/api/auth/register", json=body)
    assert r.status_code == 201, r.text
    again = await client.post("/api/auth/register", json=body)
    assert again.status_code == 409
    r = await client.post("/api/auth/token", json={"email": body["email"], "password": body["password"]})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    me = await client.get("/api/auth/me", headers=b.bearer(r.json()["access_token"]))
    assert me.json()["email"] == "hanako@example.jp" and me.json()["role"] == "learner"
    # a cookie is never accepted by the API, only bearer tokens
    assert (await client.get("/api/me/enrollments")).status_code == 401
    bad = await client.post("/api/auth/register", json={"email": "x"})
    assert bad.status_code == 400
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {
        "password",
        "name",
        "name_kana",
        "company",
        "industry",
        "employees",
        "capital_yen",
        "prefecture",
    } <= fields

"""Administrators create organisations and their coordinators through the API (it used to need SQL)."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.core.db import Database
from courses.models import OutboxMessage, User
from tests.courses import builders as b

Client = AsyncTestClient[Litestar]


async def test_admin_creates_an_organisation_and_a_coordinator_who_sets_a_password(
    client: Client, db: Database
) -> None:
    async with db.write() as s:
        admin = b.bearer(await b.token(s, await b.user(s, role="admin")))
        staff = b.bearer(await b.token(s, await b.user(s, role="staff")))
    body = {"name": "川崎商工会議所", "kind": "chamber", "prefecture": "14"}
    assert (await client.post("/api/admin/organizations", json=body, headers=staff)).status_code == 403
    r = await client.post("/api/admin/organizations", json={**body, "kind": "club"}, headers=admin)
    assert r.status_code == 400 and any(e["field"] == "kind" for e in r.json()["errors"])
    r = await client.post("/api/admin/organizations", json=body, headers=admin)
    assert r.status_code == 201, r.text
    org = r.json()
    assert org["name"] == "川崎商工会議所" and org["prefecture"] == "14"

    person = {"email": "tanto@kawasaki-cci.example", "name": "川崎 一郎", "name_kana": "カワサキ イチロウ"}
    r = await client.post(f"/api/admin/organizations/{org['id']}/coordinators", json=person, headers=admin)
    assert r.status_code == 201, r.text
    again = await client.post(
        f"/api/admin/organizations/{org['id']}/coordinators", json=person, headers=admin
    )
    assert again.status_code == 409
    missing = await client.post("/api/admin/organizations/9999/coordinators", json=person, headers=admin)
    assert missing.status_code == 404
    listed = (await client.get("/api/admin/organizations", headers=admin)).json()["items"]
    assert [c["email"] for o in listed if o["id"] == org["id"] for c in o["coordinators"]] == [
        person["email"]
    ]

    async with db.read() as s:
        user = (await s.exec(select(User).where(User.email == person["email"]))).one()
        mail = (await s.exec(select(OutboxMessage).where(OutboxMessage.user_id == user.id))).one()
    assert user.role == "coordinator" and user.organization_id == org["id"] and user.password_hash is None
    # the secret rides in the link's fragment, which no server log sees, and is printed as a code
    token = re.search(r"/password/set#(\S+)", mail.body)
    assert token, mail.body
    assert "token=" not in mail.body and f"確認コード: {token.group(1)}" in mail.body
    # the link sets the password, and the coordinator signs in and sees their organisation
    page = await client.get("/password/set")
    assert page.status_code == 200 and 'data-fragment-secret="token"' in page.text
    r = await client.post(
        "/password/set",
        data={
            "token": token.group(1),
            "password": "a long enough password",
            "password_confirm": "a long enough password",
            "_csrf_token": client.cookies.get("csrftoken", ""),
        },
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), r.text[:300]
    r = await client.post(
        "/api/auth/token", json={"email": person["email"], "password": "a long enough password"}
    )
    assert r.status_code == 200
    mine = b.bearer(r.json()["access_token"])
    assert (
        await client.get(f"/api/organizations/{org['id']}/registrations", headers=mine)
    ).status_code == 200


async def test_admin_console_pages_create_an_organisation_and_its_coordinator(
    client: Client, db: Database
) -> None:
    from tests.courses.bulk.test_org_pages import sign_in

    async with db.write() as s:
        await b.user(s, "admin@example.jp", role="admin")
        await b.user(s, "staff@example.jp", role="staff")
    csrf = await sign_in(client, "staff@example.jp")
    assert (await client.get("/admin/organizations")).status_code == 403
    client.cookies.clear()
    csrf = await sign_in(client, "admin@example.jp")
    assert "団体と申込担当者" in (await client.get("/console")).text
    form = await client.get("/admin/organizations/new")
    assert form.status_code == 200 and 'name="prefecture"' in form.text
    bad = await client.post(
        "/admin/organizations/new",
        data={"name": "", "kind": "chamber", "prefecture": "14", "_csrf_token": csrf},
    )
    assert bad.status_code == 400 and "団体名" in bad.text
    r = await client.post(
        "/admin/organizations/new",
        data={"name": "川崎商工会議所", "kind": "chamber", "prefecture": "14", "_csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), r.text[:400]
    listed = await client.get("/admin/organizations")
    assert "川崎商工会議所" in listed.text and "神奈川県" in listed.text and "未登録" in listed.text
    async with db.read() as s:
        from courses.models import Organization

        org = (await s.exec(select(Organization).where(Organization.name == "川崎商工会議所"))).one()
    r = await client.post(
        f"/admin/organizations/{org.id}/coordinators/new",
        data={
            "email": "tanto@kawasaki.example",
            "name": "川崎 担当",
            "name_kana": "カワサキ タントウ",
            "_csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), r.text[:400]
    listed = await client.get("/admin/organizations?msg=coordinator")
    assert "tanto@kawasaki.example" in listed.text and "パスワード設定のご案内" in listed.text
    async with db.read() as s:
        user = (await s.exec(select(User).where(User.email == "tanto@kawasaki.example"))).one()
    assert (user.role, user.organization_id, user.password_hash) == ("coordinator", org.id, None)
    missing = await client.get("/admin/organizations/9999/coordinators/new")
    assert missing.status_code == 404

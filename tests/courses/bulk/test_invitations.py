"""Organisations learn nothing about anybody's account: people they have not registered before are
invited, decide themselves, and only then become registrations (with the names the file gave)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from courses.core import notifications
from courses.core.db import Database
from courses.core.settings import Settings
from courses.models import Enrollment, LearnerProfile, OutboxMessage, User
from courses.models.bulk import OrganizationMember, RegistrationInvitation
from tests.conftest import JST, TODAY
from tests.courses import builders as b
from tests.courses.bulk.test_bulk_api import Org, csv_file, org_world, sme_row, upload

NOW = [datetime.combine(TODAY, time(10, 0), tzinfo=JST)]


@pytest.fixture
def clock() -> Callable[[], datetime]:
    NOW[0] = datetime.combine(TODAY, time(10, 0), tzinfo=JST)
    return lambda: NOW[0]


async def strangers(db: Database, w: Org) -> dict[str, User]:
    """Accounts the organisation has never registered: a learner who applied on their own (with a
    profile that makes them ineligible for SME courses, and a place in the SME session), a learner
    another organisation registered, and a member of staff."""
    async with db.write() as s:
        own = await b.user(s, "own@example.jp", kind="support_agency", industry="R")
        other_org = (await s.exec(select(User).where(User.role == "coordinator"))).all()[1].organization_id
        theirs = await b.member(s, other_org or 0, "theirs@example.jp")
        staff = await b.user(s, "staff2@example.jp", role="staff")
        now = datetime.now(UTC)
        for person, org_id in ((own, None), (theirs, other_org)):
            s.add(
                Enrollment(
                    session_id=w.sme_id,
                    user_id=person.id or 0,
                    status="confirmed",
                    organization_id=org_id,
                    registered_name=None if org_id is None else person.name,
                    created_at=now,
                    updated_at=now,
                )
            )
    return {"own": own, "theirs": theirs, "staff": staff}


def _without_identity(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in {"row", "email", "name"}}


EMAILS = ["new@example.jp", "own@example.jp", "theirs@example.jp", "staff2@example.jp"]


async def test_an_existing_account_answers_exactly_like_a_new_address(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db)
    await strangers(db, w)
    content = csv_file(*(sme_row(w.sme, 100 + n, email=e) for n, e in enumerate(EMAILS)))
    for dry_run in (True, False):
        r = await upload(client, w, content, dry_run=dry_run)
        assert r.status_code == (200 if dry_run else 201), r.text
        rows = r.json()["rows"]
        assert [x["status"] for x in rows] == ["invited"] * 4
        assert all(_without_identity(x) == _without_identity(rows[0]) for x in rows), rows
        assert r.json()["errors"] == [] and r.json()["summary"]["invited"] == 4
    # the coordinator sees invitations with the names the file gave, and no registration of theirs
    auth = b.bearer(w.token)
    assert (await client.get(f"/api/organizations/{w.id}/registrations", headers=auth)).json() == []
    invited = (await client.get(f"/api/organizations/{w.id}/invitations", headers=auth)).json()
    assert [(x["email"], x["name"], x["status"]) for x in invited] == [
        (e, f"山田 太郎{100 + n}", "pending") for n, e in enumerate(EMAILS)
    ]
    # one message per address; the secret is in the fragment and printed, never in a query string
    async with db.read() as s:
        mails = list(await s.exec(select(OutboxMessage).where(col(OutboxMessage.to_email).in_(EMAILS))))
        hashes = {i.token_hash for i in await s.exec(select(RegistrationInvitation))}
    assert sorted(m.to_email for m in mails) == sorted(EMAILS)
    for mail in mails:
        secret = re.search(r"/invitation#([A-Za-z0-9_-]+)", mail.body)
        assert secret and f"確認コード: {secret.group(1)}" in mail.body and "token=" not in mail.body
        assert secret.group(1) not in "".join(hashes)  # only the hash is stored
    assert len(hashes) == 4
    # the same upload in English, and as another organisation's admin view, still says nothing more
    en = await upload(client, w, content, lang="en")
    assert [x["status"] for x in en.json()["rows"]] == ["invited"] * 4


def _secret(mail: OutboxMessage) -> str:
    found = re.search(r"/invitation#([A-Za-z0-9_-]+)", mail.body)
    assert found, mail.body
    return found.group(1)


async def _mail_to(db: Database, email: str) -> OutboxMessage:
    async with db.read() as s:
        return (
            await s.exec(
                select(OutboxMessage)
                .where(OutboxMessage.to_email == email, col(OutboxMessage.subject).contains("要承諾"))
                .order_by(col(OutboxMessage.id).desc())
            )
        ).first() or pytest.fail(f"no invitation to {email}")


async def _csrf(client: AsyncTestClient[Litestar]) -> str:
    page = await client.get("/invitation")
    assert page.status_code == 200 and 'data-fragment-secret="token"' in page.text
    return client.cookies.get("csrftoken", "")


async def test_a_new_person_accepts_sets_a_password_and_gets_the_seat(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db, capacity=1)
    row = sme_row(w.sme, 1, email="new@example.jp", name="新人 一郎", kana="しんじん いちろう")
    assert (await upload(client, w, csv_file(row), dry_run=False)).status_code == 201
    secret = _secret(await _mail_to(db, "new@example.jp"))
    csrf = await _csrf(client)
    shown = await client.post("/invitation", data={"token": secret, "_csrf_token": csrf})
    assert shown.status_code == 200 and "東京商工会議所" in shown.text and 'name="password"' in shown.text
    short = await client.post(
        "/invitation/accept",
        data={"token": secret, "password": "short", "password_confirm": "short", "_csrf_token": csrf},
    )
    assert short.status_code == 400 and "10文字以上" in short.text
    good = {"password": "a long enough secret", "password_confirm": "a long enough secret"}
    r = await client.post("/invitation/accept", data={"token": secret, **good, "_csrf_token": csrf})
    assert r.status_code == 200 and "受講決定" in r.text, r.text[-800:]
    assert "受講決定" in (await client.get("/me")).text  # signed in as the new account
    async with db.read() as s:
        user = (await s.exec(select(User).where(User.email == "new@example.jp"))).one()
        profile = await s.get(LearnerProfile, user.id)
        enrolled = (await s.exec(select(Enrollment).where(Enrollment.user_id == user.id))).one()
        member = await s.get(OrganizationMember, (w.id, user.id))
    assert (user.name, user.name_kana, user.role) == ("新人 一郎", "シンジン イチロウ", "learner")
    assert user.email_verified_at is not None  # the invitation was opened from that mailbox
    assert profile is not None and (profile.employees, profile.industry, profile.company) == (
        40,
        "E",
        "株式会社山田製作所",
    )
    assert (enrolled.status, enrolled.organization_id, enrolled.registered_name) == (
        "confirmed",
        w.id,
        "新人 一郎",
    )
    assert member is not None
    # the secret works once
    again = await client.post("/invitation/accept", data={"token": secret, **good, "_csrf_token": csrf})
    assert again.status_code == 400 and "見つからない" in again.text
    # the coordinator now sees the registration, and no longer the invitation
    auth = b.bearer(w.token)
    listed = (await client.get(f"/api/organizations/{w.id}/registrations", headers=auth)).json()
    assert [(x["email"], x["name"], x["status"]) for x in listed] == [
        ("new@example.jp", "新人 一郎", "confirmed")
    ]
    assert (await client.get(f"/api/organizations/{w.id}/invitations", headers=auth)).json() == []
    # a member is registered directly next time
    r = await upload(
        client, w, csv_file(sme_row(w.nolodging, 1, email="new@example.jp", name="新人 一郎", lodging="無"))
    )
    assert [x["status"] for x in r.json()["rows"]] == ["confirmed"]


async def test_an_existing_learner_accepts_and_the_coordinator_sees_only_that(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db)
    async with db.write() as s:
        known = await b.user(s, "known@example.jp")  # named 受講 太郎N in their account
        now = datetime.now(UTC)
        # a place they took on their own in another session stays theirs alone
        s.add(
            Enrollment(
                session_id=w.sme_id + 3,
                user_id=known.id or 0,
                status="confirmed",
                created_at=now,
                updated_at=now,
            )
        )
    row = sme_row(w.sme, 1, email="known@example.jp", name="山田 花子")
    assert (await upload(client, w, csv_file(row), dry_run=False)).status_code == 201
    secret = _secret(await _mail_to(db, "known@example.jp"))
    csrf = await _csrf(client)
    shown = await client.post("/invitation", data={"token": secret, "_csrf_token": csrf})
    assert shown.status_code == 200 and 'name="password"' not in shown.text  # the account exists
    r = await client.post("/invitation/accept", data={"token": secret, "_csrf_token": csrf})
    assert r.status_code == 200 and "受講決定" in r.text
    listed = (await client.get(f"/api/organizations/{w.id}/registrations", headers=b.bearer(w.token))).json()
    assert [(x["name"], x["session"]["id"]) for x in listed] == [("山田 花子", w.sme_id)]
    assert known.name not in str(listed)


async def test_accepting_a_place_taken_on_ones_own_moves_it_to_the_organisation(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db)
    people = await strangers(db, w)
    async with db.write() as s:
        profile = await s.get(LearnerProfile, people["own"].id)
        assert profile is not None
        profile.organization_kind, profile.industry = "sme", "E"  # eligible after all
        s.add(profile)
    rows = [sme_row(w.sme, n, email=e) for n, e in enumerate(EMAILS[1:])]
    assert (await upload(client, w, csv_file(*rows), dry_run=False, mode="accept_valid")).status_code == 201
    csrf = await _csrf(client)
    outcomes = {}
    for email in EMAILS[1:]:
        secret = _secret(await _mail_to(db, email))
        r = await client.post("/invitation/accept", data={"token": secret, "_csrf_token": csrf})
        outcomes[email] = r
    assert outcomes["own@example.jp"].status_code == 200 and "団体経由" in outcomes["own@example.jp"].text
    # another organisation's registration stays theirs; a staff address cannot become a learner
    assert "お申し込みできませんでした" in outcomes["theirs@example.jp"].text
    refused = outcomes["staff2@example.jp"]
    assert refused.status_code == 422 and "受講者として登録できません" in refused.text
    auth = b.bearer(w.token)
    listed = (await client.get(f"/api/organizations/{w.id}/registrations", headers=auth)).json()
    assert [x["email"] for x in listed] == ["own@example.jp"]
    states = {
        x["email"]: x["status"]
        for x in (await client.get(f"/api/organizations/{w.id}/invitations", headers=auth)).json()
    }
    assert states == {"theirs@example.jp": "closed", "staff2@example.jp": "pending"}


async def test_declined_and_expired_invitations_register_nobody(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db)
    rows = [sme_row(w.sme, 1, email="no@example.jp"), sme_row(w.sme, 2, email="late@example.jp")]
    assert (await upload(client, w, csv_file(*rows), dry_run=False)).status_code == 201
    csrf = await _csrf(client)
    r = await client.post(
        "/invitation/decline",
        data={"token": _secret(await _mail_to(db, "no@example.jp")), "_csrf_token": csrf},
    )
    assert r.status_code == 200 and "辞退" in r.text
    NOW[0] += timedelta(days=15)
    late = _secret(await _mail_to(db, "late@example.jp"))
    r = await client.post("/invitation", data={"token": late, "_csrf_token": csrf})
    assert r.status_code == 400 and "有効期限" in r.text
    r = await client.post(
        "/invitation/accept",
        data={"token": late, "password": "x" * 12, "password_confirm": "x" * 12, "_csrf_token": csrf},
    )
    assert r.status_code == 400
    invited = (await client.get(f"/api/organizations/{w.id}/invitations", headers=b.bearer(w.token))).json()
    assert {x["email"]: x["status"] for x in invited} == {
        "no@example.jp": "declined",
        "late@example.jp": "expired",
    }
    async with db.read() as s:
        assert (
            list(await s.exec(select(User).where(col(User.email).in_(["no@example.jp", "late@example.jp"]))))
            == []
        )
    # a made-up secret is refused like a used one
    r = await client.post("/invitation", data={"token": "x" * 43, "_csrf_token": csrf})
    assert r.status_code == 400


async def test_a_delivered_message_keeps_no_secret(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.write() as s:
        user = await b.user(s)
        notifications.queue(
            s,
            user,
            "件名",
            "リンク https://x.example/invitation#" + "a" * 43 + "\n確認コード: " + "b" * 43,
            datetime.now(UTC),
        )
    monkeypatch.setattr(notifications, "_send", lambda settings, message: None)
    with_smtp = dataclasses.replace(settings, smtp_host="mail.example")
    assert await notifications.deliver_pending(db, with_smtp, datetime.now(UTC)) == 1
    async with db.read() as s:
        kept = (await s.exec(select(OutboxMessage))).one()
    assert kept.sent_at is not None and "a" * 43 not in kept.body and "b" * 43 not in kept.body
    assert "送信済みのため削除" in kept.body

"""An organisation's registration tells each member once (issue #18), in the language the member
reads: English with nothing Japanese but data (their name, the organisation's), or the Japanese as
before. The invitation to an address without an account stays Japanese."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from courses.core.db import Database
from courses.models import User
from tests.courses.bulk.test_bulk_api import csv_file, org_world, sme_row, upload
from tests.courses.mails import assert_english, mails_to

SIGNED = "\n\n――\n中小企業大学校 研修申込窓口\n※このメールは送信専用です。"
ORGANIZATION = "東京商工会議所"


async def test_each_member_is_told_in_their_language(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await org_world(db, capacity=2, members=4)
    async with db.write() as s:
        people = {u.email: u for u in await s.exec(select(User).where(col(User.email).like("p%@example.jp")))}
        for email in ("p0@example.jp", "p2@example.jp"):  # one confirmed and one waiting read English
            people[email].language = "en"
            s.add(people[email])
    r = await upload(client, w, csv_file(*(sme_row(w.sme, n) for n in range(4))), dry_run=False)
    assert r.status_code == 201, r.text

    dates = "2026年6月10日（水）〜2026年6月12日（金）"
    for email, state in (("p1@example.jp", "受講決定"), ("p3@example.jp", "キャンセル待ち（2番目）")):
        (mail,) = await mails_to(db, email)
        assert (mail.subject, mail.body) == (
            "【中小企業大学校】お申し込みのご案内",
            f"{people[email].name} 様\n\n{ORGANIZATION}より、中小企業大学校の研修にお申し込みいただきました。\n\n"
            f"・財務諸表の読み方（中小企業大学校 tokyo校、{dates}）: {state}\n\n"
            "キャンセル待ちの研修は、空きが出た場合に順番に受講決定となり、メールでお知らせします。\n\n"
            "お申し込み状況はマイページでご確認いただけます。" + SIGNED,
        )
    dates = "Wed 10 Jun 2026 – Fri 12 Jun 2026"
    for email, state in (("p0@example.jp", "Confirmed"), ("p2@example.jp", "Waiting list (no. 1)")):
        (mail,) = await mails_to(db, email)
        assert mail.subject == "[SME University] Your applications"
        assert f"- Reading Financial Statements (Tokyo Campus, {dates}): {state}\n" in mail.body
        assert_english(mail, people[email].name, ORGANIZATION)


async def test_an_invitation_to_an_address_stays_japanese(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db, members=0)
    r = await upload(client, w, csv_file(sme_row(w.sme, 0, email="new@example.jp")), dry_run=False, lang="en")
    assert r.status_code == 201, r.text
    (mail,) = await mails_to(db, "new@example.jp")
    assert (
        mail.subject == "【中小企業大学校】研修お申し込みのご依頼（要承諾）" and "確認コード: " in mail.body
    )
    assert mail.body.endswith(SIGNED)


async def test_an_invitation_accepted_on_an_english_page_makes_an_english_reader(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    """The account an invitation creates reads the language of the page it was accepted on, as a
    registration does; its confirmation is the first mail in that language."""
    w = await org_world(db, members=0)
    r = await upload(client, w, csv_file(sme_row(w.sme, 0, email="new@example.jp")), dry_run=False)
    assert r.status_code == 201, r.text
    (invitation,) = await mails_to(db, "new@example.jp")
    found = re.search(r"/invitation#([A-Za-z0-9_-]+)", invitation.body)
    assert found
    english = {"accept-language": "en"}
    await client.get("/invitation", headers=english)
    csrf = client.cookies.get("csrftoken", "")
    password = "a long enough secret"
    r = await client.post(
        "/invitation/accept",
        data={
            "token": found.group(1),
            "password": password,
            "password_confirm": password,
            "_csrf_token": csrf,
        },
        headers=english,
    )
    assert r.status_code == 200, r.text[-500:]
    async with db.read() as s:
        user = (await s.exec(select(User).where(User.email == "new@example.jp"))).one()
    assert user.language == "en"
    _, confirmed = await mails_to(db, "new@example.jp")
    assert confirmed.subject == "Place confirmed: Reading Financial Statements"
    assert_english(confirmed, user.name)

"""An account's own mail (issue #18) is in the language its owner reads: the password reset, the
confirmation of a new address and the notice to the old one, the account's deletion. English with
nothing Japanese but the person's name, or the Japanese as before."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core.db import Database
from courses.enrollment import service as enrollment
from courses.models import OutboxMessage, User
from tests.conftest import JST, TODAY
from tests.courses import builders as b
from tests.courses.bulk.test_org_pages import sign_in
from tests.courses.mails import assert_english, mails_to

Client = AsyncTestClient[Litestar]
BASE = "http://testserver.local"
SIGNED = "\n\n――\n中小企業大学校 研修申込窓口\n※このメールは送信専用です。"


async def _people(db: Database) -> dict[str, User]:
    """A learner reading English and one reading Japanese."""
    async with db.write() as s:
        people = {}
        for lang in ("en", "ja"):
            person = await b.user(s, f"{lang}@example.jp")
            person.language = lang
            s.add(person)
            people[lang] = person
    return people


def _code(mail: OutboxMessage, path: str) -> str:
    found = re.search(rf"{path}#(\S+)", mail.body)
    assert found, mail.body
    return found.group(1)


async def test_the_password_reset_in_the_learners_language(client: Client, db: Database) -> None:
    people = await _people(db)
    await client.get("/password/forgot")
    csrf = client.cookies.get("csrftoken", "")
    for person in people.values():
        r = await client.post("/password/forgot", data={"email": person.email, "_csrf_token": csrf})
        assert r.status_code == 200

    (mail,) = await mails_to(db, "ja@example.jp")
    secret = _code(mail, "/password/set")
    assert (mail.subject, mail.body) == (
        "【中小企業大学校】パスワード再設定のご案内",
        f"{people['ja'].name} 様\n\nパスワードの再設定を受け付けました。次のリンクから新しいパスワードを設定してください"
        f"（有効期限 1時間）。\n{BASE}/password/set#{secret}\n\nリンクが開けない場合は、{BASE}/password/set に"
        f"次の確認コードを入力してください。\n確認コード: {secret}\n\nお心当たりのない場合は、このメールを破棄してください。"
        "パスワードは変わりません。" + SIGNED,
    )
    (mail,) = await mails_to(db, "en@example.jp")
    secret = _code(mail, "/password/set")
    assert mail.subject == "[SME University] Resetting your password"
    assert f"Confirmation code: {secret}" in mail.body and "(valid for 1 hour)" in mail.body
    assert_english(mail, people["en"].name)


async def test_a_new_address_and_the_notice_to_the_old_one_in_the_learners_language(
    client: Client, db: Database
) -> None:
    people = await _people(db)
    for lang, person in people.items():
        csrf = await sign_in(client, person.email)
        new = f"new-{lang}@example.jp"
        r = await client.post(
            "/account/email",
            data={"new_email": new, "current_password": b.PASSWORD, "_csrf_token": csrf},
            follow_redirects=False,
        )
        assert r.status_code in (302, 303), r.text[:300]
        (asked,) = await mails_to(db, new)
        done = await client.post(
            "/account/email/confirm",
            data={"token": _code(asked, "/account/email/confirm"), "_csrf_token": csrf},
        )
        assert done.status_code == 200, done.text[:300]

    name = people["ja"].name
    (asked,) = await mails_to(db, "new-ja@example.jp")
    secret = _code(asked, "/account/email/confirm")
    page = f"{BASE}/account/email/confirm"
    assert (asked.subject, asked.body) == (
        "【中小企業大学校】メールアドレス変更の確認",
        f"{name} 様\n\nアカウントのメールアドレスをこのアドレスに変更するお申し込みを受け付けました。"
        f"次のリンクを開くと変更が完了します（有効期限 24時間）。\n{page}#{secret}\n\n"
        f"リンクが開けない場合は、{page} に次の確認コードを入力してください。\n確認コード: {secret}\n\n"
        "お心当たりのない場合は、このメールを破棄してください。メールアドレスは変わりません。" + SIGNED,
    )
    (told,) = await mails_to(db, "ja@example.jp")
    assert (told.subject, told.body) == (
        "【中小企業大学校】メールアドレスが変更されました",
        # the moment as every mail writes it (it was "2026年05月15日 10:00")
        f"{name} 様\n\nアカウントのメールアドレスが2026年5月15日（金） 10:00に変更されました。"
        "今後のお知らせは新しいメールアドレスへお送りします。\n\n"
        "お心当たりのない場合は、至急、中小企業大学校 研修申込窓口へご連絡ください。" + SIGNED,
    )

    name = people["en"].name
    (asked,) = await mails_to(db, "new-en@example.jp")
    assert asked.subject == "[SME University] Confirm your new email address"
    assert "Confirmation code: " in asked.body
    assert_english(asked, name)
    (told,) = await mails_to(db, "en@example.jp")
    assert told.subject == "[SME University] Your email address has been changed"
    assert "on Fri 15 May 2026 10:00" in told.body and "new-en@example.jp" not in told.body
    assert_english(told, name)


async def test_deleting_the_account_is_confirmed_in_the_learners_language(
    client: Client, db: Database
) -> None:
    people = await _people(db)
    async with db.write() as s:
        await b.category(s)
        campus = await b.campus(s)
        course = await b.course(s)
        sess = await b.session(s, course, campus, start=TODAY + timedelta(days=60))
    now = datetime.combine(TODAY, time(9, 0), tzinfo=JST)
    for person in people.values():
        await db.transact(enrollment.enroll, user=person, session_id=sess.id or 0, lodging=False, now=now)
        csrf = await sign_in(client, person.email)
        r = await client.post("/account/delete", data={"password": b.PASSWORD, "_csrf_token": csrf})
        assert r.status_code == 200, r.text[:300]

    _, cancelled, deleted = await mails_to(db, "ja@example.jp")
    assert cancelled.subject == "【キャンセル受付】財務諸表の読み方"
    assert (deleted.subject, deleted.body) == (
        "【中小企業大学校】退会のお手続きが完了しました",
        f"{people['ja'].name} 様\n\nアカウントを削除しました。開講前のお申し込み 1 件をキャンセルしました。\n"
        "お申し込みと請求の記録は、会計の記録として氏名などを消去したうえで保存します。\n"
        "ご利用ありがとうございました。" + SIGNED,
    )
    enrolled, cancelled, deleted = await mails_to(db, "en@example.jp")
    assert cancelled.subject == "Cancellation received: Reading Financial Statements"
    assert deleted.subject == "[SME University] Your account has been deleted"
    assert "applications for sessions that had not started have been cancelled (1)" in deleted.body
    for mail in (enrolled, cancelled, deleted):
        assert_english(mail, people["en"].name)

"""A person manages their own account: the profile, a new email address confirmed by a link, the
privacy notice, downloading their data and deleting the account (issue #18)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, time, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from courses.core.db import Database
from courses.enrollment import service as enrollment
from courses.models import AuthToken, CourseSession, Enrollment, LearnerProfile, OutboxMessage, User
from tests.conftest import JST, TODAY
from tests.courses import builders as b
from tests.courses.bulk.test_org_pages import sign_in

Client = AsyncTestClient[Litestar]
NOW = datetime.combine(TODAY, time(9, 0), tzinfo=JST)  # before the app's fixed clock, the same day
PROFILE = {
    "name": "中小 花子",
    "name_kana": "ちゅうしょう はなこ",
    "organization_kind": "support_agency",
    "company": "東京商工会議所",
    "company_kana": "とうきょうしょうこうかいぎしょ",
    "department": "中小企業相談所",
    "position": "経営指導員",
    "industry": "r",
    "employees": "１２０",
    "capital_yen": "0",
    "prefecture": "東京都",
    "phone": "03-1234-5678",
    "gender": "female",
    "accessibility_needs": "車椅子を使用",
    "needs_accessible_room": "on",
}


async def _mails(db: Database, to: str, subject: str) -> list[OutboxMessage]:
    async with db.read() as s:
        return list(
            await s.exec(
                select(OutboxMessage)
                .where(OutboxMessage.to_email == to, col(OutboxMessage.subject).contains(subject))
                .order_by(col(OutboxMessage.id))
            )
        )


async def _learner(db: Database, email: str = "me@example.jp") -> User:
    async with db.write() as s:
        return await b.user(s, email)


# --- profile ---------------------------------------------------------------------------------------


async def test_a_learner_edits_their_profile_with_registrations_rules(client: Client, db: Database) -> None:
    user = await _learner(db)
    csrf = await sign_in(client, "me@example.jp")
    page = await client.get("/account/profile")
    assert page.status_code == 200 and "株式会社テスト" in page.text and "所属の種別" in page.text
    r = await client.post("/account/profile", data={**PROFILE, "_csrf_token": csrf}, follow_redirects=False)
    assert r.status_code in (302, 303), r.text[:500]
    saved = await client.get(r.headers["location"])
    assert "保存しました" in saved.text and "東京商工会議所" in saved.text
    async with db.read() as s:
        row = await s.get(User, user.id)
        profile = await s.get(LearnerProfile, user.id)
    assert row is not None and profile is not None
    assert (row.name, row.name_kana) == ("中小 花子", "チュウショウ ハナコ")
    assert (
        profile.organization_kind == "support_agency"
        and profile.company_kana == "トウキョウショウコウカイギショ"
    )
    assert (profile.industry, profile.employees, profile.capital_yen, profile.prefecture) == (
        "R",
        120,
        0,
        "13",
    )
    assert profile.needs_accessible_room and profile.gender == "female" and profile.phone == "03-1234-5678"

    bad = {
        **PROFILE,
        "name": "",
        "name_kana": "Hanako",
        "organization_kind": "big_company",
        "industry": "Z",
        "employees": "many",
        "prefecture": "99",
        "gender": "other",
        "_csrf_token": csrf,
    }
    r = await client.post("/account/profile", data=bad)
    assert r.status_code == 400
    for message in (
        "氏名を入力してください。",
        "フリガナはカタカナで入力してください。",
        "所属の種別は「中小企業（sme）」か「支援機関（support_agency）」を選んでください。",
        "業種は日本標準産業分類の大分類（A〜T）で選んでください。",
        "従業員数を数字で入力してください。",
        "都道府県を正しく指定してください（例: 13 または 東京都）。",
        "性別は female・male のいずれか、または空欄にしてください。",
    ):
        assert message in r.text, message
    assert 'value="Hanako"' in r.text  # what was typed stays in the form
    async with db.read() as s:
        unchanged = await s.get(User, user.id)
    assert unchanged is not None and unchanged.name == "中小 花子"


async def test_staff_edit_only_their_names(client: Client, db: Database) -> None:
    async with db.write() as s:
        campus = await b.campus(s, "tokyo")
        staff = await b.user(s, "staff@example.jp", role="staff", campuses=[campus])
    csrf = await sign_in(client, "staff@example.jp")
    page = await client.get("/account/profile")
    assert page.status_code == 200 and "所属の種別" not in page.text
    r = await client.post(
        "/account/profile",
        data={
            "name": "職員 一郎",
            "name_kana": "しょくいん いちろう",
            "company": "ignored",
            "_csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), r.text[:400]
    async with db.read() as s:
        row = await s.get(User, staff.id)
        assert await s.get(LearnerProfile, staff.id) is None
    assert row is not None and (row.name, row.name_kana) == ("職員 一郎", "ショクイン イチロウ")
    assert "保存しました" in (await client.get("/account/profile?msg=saved")).text


# --- email change ----------------------------------------------------------------------------------


async def _ask(client: Client, csrf: str, new: str, password: str = b.PASSWORD) -> object:
    return await client.post(
        "/account/email",
        data={"new_email": new, "current_password": password, "_csrf_token": csrf},
        follow_redirects=False,
    )


def _secret(mail: OutboxMessage) -> str:
    found = re.search(r"/account/email/confirm#(\S+)", mail.body)
    assert found and "token=" not in mail.body
    assert f"確認コード: {found.group(1)}" in mail.body
    return found.group(1)


async def _confirm(client: Client, secret: str) -> object:
    await client.get("/account/email/confirm")
    return await client.post(
        "/account/email/confirm", data={"token": secret, "_csrf_token": client.cookies.get("csrftoken", "")}
    )


async def test_a_new_email_address_is_confirmed_by_a_link_sent_to_it(client: Client, db: Database) -> None:
    user = await _learner(db, "old@example.jp")
    csrf = await sign_in(client, "old@example.jp")
    r = await _ask(client, csrf, "new@example.jp", password="wrong password")
    assert r.status_code == 400 and "現在のパスワードが正しくありません" in r.text
    r = await _ask(client, csrf, "not-an-address")
    assert r.status_code == 400 and "メールアドレスの形式が正しくありません" in r.text
    r = await _ask(client, csrf, "OLD@example.jp")
    assert r.status_code == 400 and "現在と同じメールアドレスです" in r.text
    assert await _mails(db, "new@example.jp", "メールアドレス変更の確認") == []

    r = await _ask(client, csrf, "New@Example.jp")
    assert r.status_code in (302, 303)
    assert "確認のメールを送りました" in (await client.get(r.headers["location"])).text
    mails = await _mails(db, "new@example.jp", "メールアドレス変更の確認")
    assert len(mails) == 1 and await _mails(db, "old@example.jp", "メールアドレス変更の確認") == []
    secret = _secret(mails[0])
    async with db.read() as s:
        token = (await s.exec(select(AuthToken).where(AuthToken.kind == "email"))).one()
        assert (await s.get(User, user.id)).email == "old@example.jp"  # type: ignore[union-attr]
    assert token.token_hash != secret and len(token.token_hash) == 64  # only the hash is kept
    assert token.expires_at - token.created_at == timedelta(hours=24)
    assert token.new_email == "new@example.jp"

    page = await client.get("/account/email/confirm")
    assert 'data-fragment-secret="token"' in page.text
    done = await _confirm(client, secret)
    assert done.status_code == 200 and "new@example.jp に変更しました" in done.text
    async with db.read() as s:
        assert (await s.get(User, user.id)).email == "new@example.jp"  # type: ignore[union-attr]
    notice = await _mails(db, "old@example.jp", "メールアドレスが変更されました")
    assert len(notice) == 1 and "new@example.jp" not in notice[0].body
    # the link works once; the new address signs in, the old one no longer does
    again = await _confirm(client, secret)
    assert again.status_code == 400 and "無効" in again.text
    ok = await client.post("/api/auth/token", json={"email": "new@example.jp", "password": b.PASSWORD})
    assert ok.status_code == 200
    old = await client.post("/api/auth/token", json={"email": "old@example.jp", "password": b.PASSWORD})
    assert old.status_code == 401


async def test_an_expired_link_and_an_address_taken_meanwhile_are_refused(
    client: Client, db: Database
) -> None:
    user = await _learner(db, "first@example.jp")
    await _learner(db, "someone@example.jp")
    csrf = await sign_in(client, "first@example.jp")
    taken_now = await _ask(client, csrf, "someone@example.jp")
    assert taken_now.status_code == 409 and "既に別のアカウントで使われています" in taken_now.text

    assert (await _ask(client, csrf, "late@example.jp")).status_code in (302, 303)
    late = _secret((await _mails(db, "late@example.jp", "変更の確認"))[0])
    async with db.write() as s:
        token = (await s.exec(select(AuthToken).where(AuthToken.kind == "email"))).one()
        token.expires_at = token.created_at - timedelta(seconds=1)  # as if 24 hours had passed
        s.add(token)
    expired = await _confirm(client, late)
    assert expired.status_code == 400 and "有効期限（24時間）" in expired.text

    assert (await _ask(client, csrf, "wanted@example.jp")).status_code in (302, 303)
    wanted = _secret((await _mails(db, "wanted@example.jp", "変更の確認"))[0])
    async with db.write() as s:  # someone registers the address before the link is opened
        await b.user(s, "wanted@example.jp")
    taken = await _confirm(client, wanted)
    assert taken.status_code == 409 and "既に別のアカウントで使われています" in taken.text
    async with db.read() as s:
        assert (await s.get(User, user.id)).email == "first@example.jp"  # type: ignore[union-attr]
    assert await _mails(db, "first@example.jp", "メールアドレスが変更されました") == []


async def test_a_second_request_replaces_the_first(client: Client, db: Database) -> None:
    await _learner(db, "twice@example.jp")
    csrf = await sign_in(client, "twice@example.jp")
    await _ask(client, csrf, "one@example.jp")
    await _ask(client, csrf, "two@example.jp")
    first = _secret((await _mails(db, "one@example.jp", "変更の確認"))[0])
    assert (await _confirm(client, first)).status_code == 400
    second = _secret((await _mails(db, "two@example.jp", "変更の確認"))[0])
    assert (await _confirm(client, second)).status_code == 200


# --- privacy notice --------------------------------------------------------------------------------


async def test_the_privacy_notice_is_public_and_linked(client: Client) -> None:
    page = await client.get("/privacy")
    assert page.status_code == 200
    for words in (
        "利用の目的",
        "お預かりする情報",
        "閲覧できる人",
        "保存期間",
        "7年間",
        "退会",
        "お問い合わせ",
    ):
        assert words in page.text, words
    assert 'href="/privacy"' in (await client.get("/register")).text
    assert 'href="/privacy"' in (await client.get("/")).text  # the footer of every page


# --- my data ---------------------------------------------------------------------------------------


async def _two_learners_enrolled(db: Database) -> tuple[User, User, CourseSession]:
    async with db.write() as s:
        await b.category(s, "finance")
        campus = await b.campus(s, "tokyo")
        course = await b.course(s, "ZAI01", fee_yen=30000)
        sess = await b.session(s, course, campus, start=TODAY + timedelta(days=60), capacity=1)
        other_sess = await b.session(s, course, campus, start=TODAY + timedelta(days=90))
        mine = await b.user(s, "mine@example.jp")
        other = await b.user(s, "other@example.jp")
    now = NOW
    await db.transact(enrollment.enroll, user=mine, session_id=sess.id or 0, lodging=False, now=now)
    await db.transact(enrollment.enroll, user=other, session_id=other_sess.id or 0, lodging=False, now=now)
    return mine, other, sess


async def test_my_data_holds_my_enrollments_and_no_one_elses(client: Client, db: Database) -> None:
    _, other, sess = await _two_learners_enrolled(db)
    await sign_in(client, "mine@example.jp")
    r = await client.get("/account/data.json")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    data = json.loads(r.content)
    assert data["account"]["email"] == "mine@example.jp" and data["profile"]["industry"] == "E"
    assert [e["session_code"] for e in data["enrollments"]] == [sess.code]
    assert data["enrollments"][0]["status"] == "confirmed"
    assert data["enrollments"][0]["start_date"] == sess.start_date.isoformat()
    assert data["enrollments"][0]["dates"]
    assert set(data) >= {"invoices", "organization_registrations"}
    assert "other@example.jp" not in r.text and other.name not in r.text

    r = await client.get("/account/data.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["区分", "番号", "項目", "値"]
    assert ["enrollments", "1", "session_code", sess.code] in rows
    assert ["account", "", "email", "mine@example.jp"] in rows
    assert "other@example.jp" not in r.text


# --- deleting an account ---------------------------------------------------------------------------


async def test_deleting_cancels_the_future_seat_anonymises_and_signs_out(
    client: Client, db: Database
) -> None:
    mine, _, sess = await _two_learners_enrolled(db)
    async with db.write() as s:
        other_device = await b.token(s, mine)
        waiting = await b.user(s, "waiting@example.jp")
    await db.transact(enrollment.enroll, user=waiting, session_id=sess.id or 0, lodging=False, now=NOW)
    old_feed = mine.feed_token
    csrf = await sign_in(client, "mine@example.jp")
    page = await client.get("/account/delete")
    assert page.status_code == 200 and sess.code in page.text and "退会する" in page.text
    wrong = await client.post("/account/delete", data={"password": "not mine", "_csrf_token": csrf})
    assert wrong.status_code == 400 and "パスワードが正しくありません" in wrong.text
    async with db.read() as s:
        assert (await s.get(User, mine.id)).name != "退会済み"  # type: ignore[union-attr]

    r = await client.post("/account/delete", data={"password": b.PASSWORD, "_csrf_token": csrf})
    assert r.status_code == 200 and "アカウントを削除しました" in r.text
    async with db.read() as s:
        row = await s.get(User, mine.id)
        seat = await s.get(CourseSession, sess.id)
        rows = list(await s.exec(select(Enrollment).where(Enrollment.session_id == sess.id)))
        tokens = list(await s.exec(select(AuthToken).where(AuthToken.user_id == mine.id)))
        profile = await s.get(LearnerProfile, mine.id)
    assert row is not None and seat is not None
    assert (row.name, row.name_kana, row.email) == ("退会済み", "", f"deleted-{mine.id}@invalid")
    assert row.feed_token != old_feed and profile is None and tokens == []
    # the seat went back and on to the waiting list, through the one cancellation path
    status = {e.user_id: e.status for e in rows}
    assert status == {mine.id: "cancelled", waiting.id: "confirmed"}
    assert seat.confirmed_count == 1
    # signed out everywhere: this browser, other devices, the calendar feed; the password is gone
    assert (await client.get("/me", follow_redirects=False)).status_code in (302, 303, 401)
    assert (await client.get("/api/auth/me", headers=b.bearer(other_device))).status_code == 401
    assert (await client.get(f"/calendar/{old_feed}.ics")).status_code == 404
    signin = await client.post("/api/auth/token", json={"email": "mine@example.jp", "password": b.PASSWORD})
    assert signin.status_code == 401
    assert await _mails(db, "mine@example.jp", "退会のお手続きが完了しました")


async def test_deleting_frees_the_seat_count_without_a_waiting_list(client: Client, db: Database) -> None:
    mine, _, sess = await _two_learners_enrolled(db)
    csrf = await sign_in(client, "mine@example.jp")
    async with db.read() as s:
        assert (await s.get(CourseSession, sess.id)).confirmed_count == 1  # type: ignore[union-attr]
    r = await client.post("/account/delete", data={"password": b.PASSWORD, "_csrf_token": csrf})
    assert r.status_code == 200
    async with db.read() as s:
        assert (await s.get(CourseSession, sess.id)).confirmed_count == 0  # type: ignore[union-attr]
        kept = (await s.exec(select(Enrollment).where(Enrollment.user_id == mine.id))).one()
    assert kept.status == "cancelled"  # the record stays, for the accounts


async def test_staff_cannot_delete_their_account(client: Client, db: Database) -> None:
    async with db.write() as s:
        campus = await b.campus(s, "tokyo")
        await b.user(s, "staff@example.jp", role="staff", campuses=[campus])
    csrf = await sign_in(client, "staff@example.jp")
    assert 'href="/account/delete"' not in (await client.get("/me")).text
    page = await client.get("/account/delete")
    assert (
        page.status_code == 403
        and "ご自身では削除できません" in page.text
        and 'name="password"' not in page.text
    )
    r = await client.post("/account/delete", data={"password": b.PASSWORD, "_csrf_token": csrf})
    assert r.status_code == 403 and "ご自身では削除できません" in r.text
    async with db.read() as s:
        row = (await s.exec(select(User).where(User.email == "staff@example.jp"))).one()
    assert row.name != "退会済み"


async def test_my_page_and_the_menu_link_the_account_pages(client: Client, db: Database) -> None:
    await _learner(db)
    await sign_in(client, "me@example.jp")
    page = (await client.get("/me")).text
    for link in ("/account/profile", "/account/data.json", "/account/data.csv", "/account/delete"):
        assert f'href="{link}"' in page, link
    assert 'href="/account/profile"' in (await client.get("/")).text  # the user menu

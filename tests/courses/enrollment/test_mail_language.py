"""The enrollment path's mail (issue #18) is written in the language the learner reads: an English
reader gets English with nothing Japanese but their name, a Japanese reader the Japanese as before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.background import release_lapsed
from courses.core.db import Database
from courses.models import CourseSession, User
from tests.conftest import JST, TODAY
from tests.courses import builders as b
from tests.courses.mails import assert_english, mails_to

Client = AsyncTestClient[Litestar]
NOW = datetime.combine(TODAY, time(10, 0), tzinfo=JST)
SIGNED = "\n\n――\n中小企業大学校 研修申込窓口\n※このメールは送信専用です。"
TITLE, TITLE_EN = "財務諸表の読み方", "Reading Financial Statements"
CAMPUS, CAMPUS_EN = "中小企業大学校 tokyo校", "Tokyo Campus"


@dataclass
class World:
    session: CourseSession
    people: list[User]
    tokens: list[str]
    staff: str


async def _world(db: Database, *, start_in: int, capacity: int, languages: list[str]) -> World:
    async with db.write() as s:
        await b.category(s)
        campus = await b.campus(s)
        course = await b.course(s)
        sess = await b.session(
            s,
            course,
            campus,
            start=TODAY + timedelta(days=start_in),
            capacity=capacity,
            closes=TODAY + timedelta(days=1),
        )
        people = []
        for lang in languages:
            person = await b.user(s)
            person.language = lang
            s.add(person)
            people.append(person)
        tokens = [await b.token(s, p) for p in people]
        staff = await b.token(s, await b.user(s, role="staff", campuses=[campus]))
    return World(sess, people, tokens, staff)


async def _enroll(client: Client, w: World) -> list[int]:
    ids = []
    for token in w.tokens:
        r = await client.post(f"/api/sessions/{w.session.id}/enrollments", json={}, headers=b.bearer(token))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


async def _cancel(client: Client, w: World, ids: list[int], who: int) -> None:
    r = await client.delete(f"/api/enrollments/{ids[who]}", headers=b.bearer(w.tokens[who]))
    assert r.status_code == 200, r.text


async def test_enrolled_waiting_cancelled_and_promoted(client: Client, db: Database) -> None:
    w = await _world(db, start_in=30, capacity=2, languages=["en", "ja", "en", "ja"])
    ids = await _enroll(client, w)  # two seats, then two on the waiting list
    await _cancel(client, w, ids, 0)  # the English holder's seat goes to the English waiting
    await _cancel(client, w, ids, 1)
    en_holder, ja_holder, en_waiting, ja_waiting = w.people

    dates = "2026年6月14日（日）〜2026年6月15日（月）"
    enrolled, cancelled = await mails_to(db, ja_holder.email)
    assert (enrolled.subject, enrolled.body) == (
        f"【受講決定】{TITLE}",
        f"{ja_holder.name} 様\n\n「{TITLE}」（{CAMPUS}、{dates}）の受講が決定しました。\n"
        "日程・会場はマイページでご確認ください。" + SIGNED,
    )
    assert (cancelled.subject, cancelled.body) == (
        f"【キャンセル受付】{TITLE}",
        f"{ja_holder.name} 様\n\n「{TITLE}」（{CAMPUS}、{dates}）のお申し込みをキャンセルしました。" + SIGNED,
    )
    waiting, promoted = await mails_to(db, ja_waiting.email)
    assert (waiting.subject, waiting.body) == (
        f"【キャンセル待ち受付】{TITLE}",
        f"{ja_waiting.name} 様\n\n「{TITLE}」（{CAMPUS}、{dates}）は満席のため、キャンセル待ち（2番目）で"
        "受け付けました。\n空きが出た場合は順番に受講決定となり、メールでお知らせします。" + SIGNED,
    )
    assert (promoted.subject, promoted.body) == (
        f"【受講決定】{TITLE}（キャンセル待ちから繰り上げ）",
        f"{ja_waiting.name} 様\n\nキャンセル待ちでお申し込みの「{TITLE}」（{CAMPUS}、{dates}）に空きが出たため、"
        "受講が決定しました。\nマイページで日程をご確認ください。" + SIGNED,
    )

    dates_en = "Sun 14 Jun 2026 – Mon 15 Jun 2026"
    enrolled, cancelled = await mails_to(db, en_holder.email)
    assert enrolled.subject == f"Place confirmed: {TITLE_EN}"
    assert (
        f"Dear {en_holder.name}," in enrolled.body
        and f"{TITLE_EN} ({CAMPUS_EN}, {dates_en})" in enrolled.body
    )
    assert cancelled.subject == f"Cancellation received: {TITLE_EN}"
    waiting, promoted = await mails_to(db, en_waiting.email)
    assert (
        waiting.subject == f"On the waiting list: {TITLE_EN}"
        and "number 1 on the waiting list" in waiting.body
    )
    assert promoted.subject == f"Place confirmed: {TITLE_EN} (from the waiting list)"
    for mail in (enrolled, cancelled, waiting, promoted):
        assert_english(mail, en_holder.name, en_waiting.name)
        assert mail.body.endswith("This address only sends mail: replies are not read.")


async def test_a_place_offered_in_the_charge_period_and_let_pass(client: Client, db: Database) -> None:
    w = await _world(db, start_in=5, capacity=1, languages=["ja", "en", "ja"])
    ids = await _enroll(client, w)
    await _cancel(client, w, ids, 0)  # offered to the English reader until NOW + 48 hours
    assert await release_lapsed(db, NOW + timedelta(hours=49)) == 1  # then to the Japanese one
    assert await release_lapsed(db, NOW + timedelta(hours=98)) == 1
    _, en, ja = w.people

    dates = "2026年5月20日（水）〜2026年5月21日（木）"
    _, offered, lapsed = await mails_to(db, ja.email)
    assert (offered.subject, offered.body) == (
        f"【要回答】{TITLE}に空きが出ました（2026年5月19日（火） 11:00まで）",
        f"{ja.name} 様\n\nキャンセル待ちでお申し込みの「{TITLE}」（{CAMPUS}、{dates}）に空きが出ました。\n"
        "開講が近く、受講を確定するとキャンセル料の対象になるため、2026年5月19日（火） 11:00までにマイページで"
        "「受講する」を押してください。\n期限までにお返事がない場合や「辞退する」を押された場合は、次にお待ちの方に"
        "お譲りします（料金はかかりません）。" + SIGNED,
    )
    assert (lapsed.subject, lapsed.body) == (
        f"【お知らせ】{TITLE}の繰り上げ席について",
        f"{ja.name} 様\n\n「{TITLE}」（{dates}）の空き席は、期限までにお返事がなかったため、次にお待ちの方に"
        "お譲りしました。料金はかかりません。" + SIGNED,
    )

    _, offered, lapsed = await mails_to(db, en.email)
    assert offered.subject == f"Reply needed: a place in {TITLE_EN} is free (until Sun 17 May 2026 10:00)"
    assert '"Take the place"' in offered.body and '"Decline"' in offered.body  # the buttons of My page
    assert lapsed.subject == f"About the place offered in {TITLE_EN}"
    for mail in (offered, lapsed):
        assert_english(mail, en.name)


async def test_a_session_cancelled_by_staff(client: Client, db: Database) -> None:
    w = await _world(db, start_in=30, capacity=5, languages=["en", "ja"])
    await _enroll(client, w)
    r = await client.post(f"/api/staff/sessions/{w.session.id}/cancel", headers=b.bearer(w.staff))
    assert r.status_code == 200 and r.json()["enrollments_cancelled"] == 2
    en, ja = w.people

    _, cancelled = await mails_to(db, ja.email)
    assert (cancelled.subject, cancelled.body) == (
        f"【開催中止のお知らせ】{TITLE}",
        f"{ja.name} 様\n\nお申し込みいただいていた「{TITLE}」（{CAMPUS}、2026年6月14日（日）〜2026年6月15日（月））は、"
        "開催を中止することになりました。ご迷惑をおかけし申し訳ありません。\n"
        "他の開催回は研修一覧からお探しいただけます。" + SIGNED,
    )

    _, cancelled = await mails_to(db, en.email)
    assert cancelled.subject == f"Session cancelled: {TITLE_EN}"
    assert "Sun 14 Jun 2026 – Mon 15 Jun 2026" in cancelled.body
    assert_english(cancelled, en.name)

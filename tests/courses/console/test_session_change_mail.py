"""Staff change a session with learners (issue #18): each learner is told in the language they read,
English with nothing Japanese but their name, or the Japanese as before."""

from __future__ import annotations

from datetime import date

from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core.db import Database
from courses.models import User
from tests.courses import builders as b
from tests.courses.mails import assert_english, mails_to

Client = AsyncTestClient[Litestar]
SIGNED = "\n\n――\n中小企業大学校 研修申込窓口\n※このメールは送信専用です。"


async def _world(client: Client, db: Database) -> tuple[str, dict[str, str], dict[str, User]]:
    """A session of 10-11 June with lodging, and a learner staying there in each language."""
    async with db.write() as s:
        await b.category(s)
        tokyo = await b.campus(s)
        course = await b.course(s)
        sess = await b.session(s, course, tokyo, start=date(2026, 6, 10))
        staff = b.bearer(await b.token(s, await b.user(s, role="staff", campuses=[tokyo])))
        people = {}
        for lang in ("en", "ja"):
            person = await b.user(s, f"{lang}@example.jp")
            person.language = lang
            s.add(person)
            people[lang] = person
        tokens = [await b.token(s, p) for p in people.values()]
    for token in tokens:
        r = await client.post(
            f"/api/sessions/{sess.id}/enrollments", json={"lodging": True}, headers=b.bearer(token)
        )
        assert r.status_code == 201, r.text
    return f"/api/console/sessions/{sess.id}", staff, people


async def test_new_dates_in_the_learners_language(client: Client, db: Database) -> None:
    url, staff, people = await _world(client, db)
    move = {
        "blocks": "2026-06-17..2026-06-18\n2026-07-01..2026-07-02",
        "version": 1,
        "confirm_affected": True,
    }
    r = await client.patch(url, json=move, headers=staff)
    assert r.status_code == 200 and r.json()["notified"] == 2, r.text

    _, told = await mails_to(db, "ja@example.jp")
    assert (told.subject, told.body) == (
        "【日程・条件変更のお知らせ】財務諸表の読み方",
        f"{people['ja'].name} 様\n\nお申し込みの「財務諸表の読み方」の日程が変更になりました。\n"
        "新しい日程: 2026年6月17日（水）〜2026年6月18日（木）、2026年7月1日（水）〜2026年7月2日（木）\n"
        "ご都合が合わない場合はマイページからキャンセルできます。ご迷惑をおかけし申し訳ありません。" + SIGNED,
    )
    _, told = await mails_to(db, "en@example.jp")
    assert told.subject == "Change to your session: Reading Financial Statements"
    assert "Wed 17 Jun 2026 – Thu 18 Jun 2026, Wed 1 Jul 2026 – Thu 2 Jul 2026" in told.body
    assert_english(told, people["en"].name)


async def test_lodging_withdrawn_in_the_learners_language(client: Client, db: Database) -> None:
    url, staff, people = await _world(client, db)
    r = await client.patch(
        url, json={"lodging": False, "version": 1, "confirm_affected": True}, headers=staff
    )
    assert r.status_code == 200 and r.json()["notified"] == 2, r.text

    _, told = await mails_to(db, "ja@example.jp")
    assert told.body == (
        f"{people['ja'].name} 様\n\nお申し込みの「財務諸表の読み方」（2026年6月10日（水）〜2026年6月11日（木））は"
        "宿泊なしでの実施に変更になりました。\n"
        "ご都合が合わない場合はマイページからキャンセルできます。ご迷惑をおかけし申し訳ありません。" + SIGNED
    )
    _, told = await mails_to(db, "en@example.jp")
    assert "will now go ahead without lodging" in told.body
    assert_english(told, people["en"].name)

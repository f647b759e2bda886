"""Reminders (issue #18): 7 days and 1 day before a session, and まだご希望ですか to a waiting list
30 days old; each once per enrollment and kind, also with two senders at the same moment."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlmodel import col, func, select

from courses.app import create_app
from courses.core.db import Database
from courses.core.settings import Settings
from courses.enrollment.reminders import send_due
from courses.models import Campus, Enrollment, OutboxMessage, SessionStatus, User
from courses.models.reminders import ReminderSent
from tests.conftest import JST, ON_POSTGRES, TODAY
from tests.courses import builders as b
from tests.courses.mails import assert_english

BASE = "https://kenshu.example"
NOW = datetime.combine(TODAY, time(10, 0), tzinfo=JST)
ACCESS = "多摩モノレール 桜街道駅から徒歩約10分"


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=JST)


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


@dataclass
class World:
    """Who is where; each name is an enrollment id."""

    ids: dict[str, int]
    users: dict[str, int]


async def _world(db: Database) -> World:
    ids: dict[str, int] = {}
    users: dict[str, int] = {}
    async with db.write() as s:
        await b.category(s, "finance")
        tokyo = await b.campus(s, "tokyo")
        tokyo.access_ja = ACCESS
        s.add(tokyo)
        course = await b.course(s, "ZAI01", title_ja="財務諸表の読み方", days=2)
        sessions = {
            "week": await b.session(s, course, tokyo, start=day(7), blocks=[(0, 2), (14, 3)]),
            "tomorrow": await b.session(s, course, tokyo, start=day(1)),
            "in4": await b.session(s, course, tokyo, start=day(4)),
            "in8": await b.session(s, course, tokyo, start=day(8)),
            "closed": await b.session(s, course, tokyo, start=day(7), status=SessionStatus.CLOSED),
            "called_off": await b.session(s, course, tokyo, start=day(7), status=SessionStatus.CANCELLED),
            "draft": await b.session(s, course, tokyo, start=day(7), status=SessionStatus.DRAFT),
            "later": await b.session(s, course, tokyo, start=day(40)),
            "in6": await b.session(s, course, tokyo, start=day(6)),
        }
        places = [
            # name, session, status, lodging, days on the list
            ("lodger", "week", "confirmed", True, 20),
            ("commuter", "week", "confirmed", False, 20),
            ("gave_up", "week", "cancelled", True, 20),
            ("tomorrow", "tomorrow", "confirmed", True, 20),
            ("late", "in4", "confirmed", False, 1),
            ("early", "in8", "confirmed", False, 20),
            ("closed", "closed", "confirmed", False, 20),
            ("called_off", "called_off", "cancelled", False, 20),
            ("draft", "draft", "confirmed", False, 20),
            ("waiting30", "later", "waitlisted", False, 30),
            ("waiting29", "later", "waitlisted", False, 29),
            ("waiting_soon", "in6", "waitlisted", False, 45),
            ("waiting_dropped", "later", "cancelled", False, 45),
        ]
        for seq, (name, where, status, lodging, age) in enumerate(places, start=1):
            user = await b.user(s)
            created = NOW - timedelta(days=age)
            row = Enrollment(
                session_id=sessions[where].id or 0,
                user_id=user.id or 0,
                status=status,
                lodging=lodging,
                waitlist_seq=seq if status == "waitlisted" else None,
                created_at=created,
                updated_at=created,
            )
            s.add(row)
            await s.flush()
            ids[name], users[name] = row.id or 0, user.id or 0
    return World(ids, users)


async def _sent(db: Database) -> set[tuple[int, str]]:
    async with db.read() as s:
        return {(r.enrollment_id, r.kind) for r in await s.exec(select(ReminderSent))}


async def _mail(db: Database, user_id: int) -> list[OutboxMessage]:
    async with db.read() as s:
        return list(
            await s.exec(
                select(OutboxMessage).where(OutboxMessage.user_id == user_id).order_by(col(OutboxMessage.id))
            )
        )


async def _outbox_count(db: Database) -> int:
    async with db.read() as s:
        return int((await s.exec(select(func.count()).select_from(OutboxMessage))).one())


async def test_what_is_due_today(db: Database) -> None:
    w = await _world(db)
    sent = await send_due(db, NOW, BASE)
    e = w.ids
    assert await _sent(db) == {
        (e["lodger"], "7d"),
        (e["commuter"], "7d"),
        (e["closed"], "7d"),  # applications closed, the session goes ahead
        (e["late"], "7d"),  # catch-up: confirmed when the week mark had passed
        (e["tomorrow"], "1d"),  # only the day-before reminder, never both on one day
        (e["waiting30"], "waitlist"),
    }
    assert sent.counts == {"7d": 4, "1d": 1, "waitlist": 1} and sent.total == 6
    assert await _outbox_count(db) == 6
    for nobody in ("gave_up", "early", "called_off", "draft", "waiting29", "waiting_soon", "waiting_dropped"):
        assert await _mail(db, w.users[nobody]) == [], nobody


async def test_running_again_or_on_later_days_sends_each_once(db: Database) -> None:
    w = await _world(db)
    await send_due(db, NOW, BASE)
    again = await send_due(db, NOW + timedelta(minutes=10), BASE)
    assert again.total == 0 and await _outbox_count(db) == 6
    # the next days: the 7-day reminders are not repeated; the day before, the 1-day one comes
    for n in range(1, 7):
        await send_due(db, at(day(n), 9), BASE)
    kinds: dict[int, list[str]] = {}
    for eid, kind in await _sent(db):
        kinds.setdefault(eid, []).append(kind)
    e = w.ids
    assert sorted(kinds[e["lodger"]]) == ["1d", "7d"]
    assert sorted(kinds[e["late"]]) == ["1d", "7d"]  # 7d on day 0 (4 days before), 1d on day 3
    assert kinds[e["tomorrow"]] == ["1d"]
    assert kinds[e["early"]] == ["7d"]  # on day 1; its 1-day reminder is due on day 7
    assert kinds[e["waiting30"]] == ["waitlist"]
    assert e["waiting29"] in kinds  # 30 days on the list from day 1, the session still 39 days away
    # each learner's mail: one message per reminder, never two on the same day
    for name in ("lodger", "late"):
        mails = await _mail(db, w.users[name])
        assert len(mails) == 2
        assert len({m.created_at.date() for m in mails}) == 2


async def test_the_catch_up_stops_two_days_before(db: Database) -> None:
    w = await _world(db)
    # the service was down until the day before "in4" starts: only the 1-day reminder goes out
    await send_due(db, at(day(3)), BASE)
    assert [k for eid, k in await _sent(db) if eid == w.ids["late"]] == ["1d"]


async def test_two_senders_at_once_send_once(db: Database, database_url: str) -> None:
    w = await _world(db)
    other = Database.connect(database_url)  # a second instance of the service
    try:
        first, second = await asyncio.gather(send_due(db, NOW, BASE), send_due(other, NOW, BASE))
        third, fourth = await asyncio.gather(send_due(db, NOW, BASE), send_due(db, NOW, BASE))
    finally:
        await other.dispose()
    assert first.total + second.total == 6
    assert third.total == fourth.total == 0
    assert await _outbox_count(db) == 6
    assert len(await _sent(db)) == 6
    assert len(await _mail(db, w.users["lodger"])) == 1


async def test_the_reminder_says_when_where_and_what_to_bring(db: Database) -> None:
    w = await _world(db)
    await send_due(db, NOW, BASE)
    (lodger,) = await _mail(db, w.users["lodger"])
    assert lodger.subject == "【開講7日前のご案内】財務諸表の読み方（中小企業大学校 tokyo校）"
    body = lodger.body
    for text in (
        "受講 太郎",
        "「財務諸表の読み方」の開講まであと7日",
        "■ 開催回\nT-",
        "第1日程　2026年5月22日（金）〜5月23日（土）",
        "第2日程　2026年6月5日（金）〜6月7日（日）",
        "中小企業大学校 tokyo校\n東京都東大和市桜が丘2-137-5\nアクセス：" + ACCESS,
        "・筆記用具\n・名刺\n・受講票（このメール）\n・事前課題がある場合はその資料\n・着替え・洗面用具",
        "■ 宿泊（寮）\n寮のチェックイン：初日 8:30〜9:15 に寮の受付へ",
        f"{BASE}/me",
    ):
        assert text in body, text
    (commuter,) = await _mail(db, w.users["commuter"])
    assert "・事前課題がある場合はその資料" in commuter.body and "第2日程" in commuter.body
    assert "寮" not in commuter.body and "着替え" not in commuter.body
    (tomorrow,) = await _mail(db, w.users["tomorrow"])
    assert tomorrow.subject.startswith("【明日開講】") and "明日から始まります" in tomorrow.body
    assert "2026年5月16日（土）〜5月17日（日）" in tomorrow.body and "寮のチェックイン" in tomorrow.body


async def test_a_campus_without_access_text_still_has_its_address(db: Database) -> None:
    w = await _world(db)
    async with db.write() as s:
        for campus in await s.exec(select(Campus)):
            campus.access_ja = None
            s.add(campus)
    await send_due(db, NOW, BASE)
    (mail,) = await _mail(db, w.users["commuter"])
    assert "東京都東大和市桜が丘2-137-5" in mail.body and "アクセス" not in mail.body


async def test_still_interested_on_the_waiting_list(db: Database) -> None:
    w = await _world(db)
    await send_due(db, NOW, BASE)
    (mail,) = await _mail(db, w.users["waiting30"])
    assert mail.subject == "【キャンセル待ち】まだご希望ですか：財務諸表の読み方"
    assert "まだご希望ですか" in mail.body and "お手続きは不要です" in mail.body
    assert f"マイページ（{BASE}/me）からキャンセル待ちを取り消して" in mail.body
    assert "キャンセル待ちは1番目" in mail.body and "30日以上" in mail.body
    # asked once per waiting place, however long the wait goes on
    await send_due(db, at(day(20)), BASE)
    assert len(await _mail(db, w.users["waiting30"])) == 1


async def test_the_service_sends_them_in_the_background(db: Database, settings: Settings) -> None:
    w = await _world(db)
    fast = Settings(
        database_url=settings.database_url,
        secret_key=settings.secret_key,
        solver_workers=0,
        reminder_interval_s=0.05,
        site_url=BASE + "/",
    )
    app = create_app(fast, clock=lambda: NOW)
    async with AsyncTestClient(app=app):
        for _ in range(200):
            if await _outbox_count(db) == 6:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # later rounds find nothing more
    assert await _outbox_count(db) == 6
    (mail,) = await _mail(db, w.users["lodger"])
    assert f"{BASE}/me\n" in mail.body


async def test_the_seed_campuses_say_how_to_reach_them(seeded: Database) -> None:
    async with seeded.read() as s:
        campuses = list(await s.exec(select(Campus)))
    assert campuses and all(c.access_ja and "駅" in c.access_ja for c in campuses)
    assert all(c.dorm_checkin_ja == "初日 8:30〜9:15 に寮の受付へ" for c in campuses)


@pytest.mark.skipif(ON_POSTGRES, reason="the CLI is exercised on SQLite")
async def test_send_reminders_command(db: Database, database_url: str, tmp_path: Path) -> None:
    async with db.write() as s:  # a learner whose session starts 7 days from the real today
        await b.category(s, "finance")
        tokyo = await b.campus(s, "tokyo")
        course = await b.course(s, "ZAI01")
        today = datetime.now(JST).date()
        sess = await b.session(s, course, tokyo, start=today + timedelta(days=7))
        user = await b.user(s)
        now = datetime.now(JST)
        s.add(
            Enrollment(
                session_id=sess.id or 0,
                user_id=user.id or 0,
                status="confirmed",
                created_at=now,
                updated_at=now,
            )
        )
    env = {**os.environ, "DATABASE_URL": database_url, "COURSES_VAR_DIR": str(tmp_path), "SITE_URL": BASE}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "courses", "send-reminders"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    first = await asyncio.to_thread(run)
    assert first.returncode == 0, first.stderr
    assert "reminders: 1 queued (7d: 1, 1d: 0, waitlist: 0)" in first.stdout
    again = await asyncio.to_thread(run)
    assert "reminders: 0 queued" in again.stdout
    (mail,) = await _mail(db, user.id or 0)
    assert f"{BASE}/me" in mail.body


async def test_a_sender_that_saw_them_due_before_the_other_committed_loses_on_the_key(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a concurrent sender meets on PostgreSQL: it read the due set before the first sender's
    commit, so only the unique key on (enrollment, kind) stops it."""
    from courses.enrollment import reminders

    await _world(db)
    async with db.read() as s:
        seen_before = await reminders.due(s, NOW)
    assert len(seen_before) == 6
    assert (await send_due(db, NOW, BASE)).total == 6

    async def stale(s, now):  # type: ignore[no-untyped-def]
        return list(seen_before)

    monkeypatch.setattr(reminders, "due", stale)
    late = await send_due(db, NOW, BASE)
    assert late.total == 0
    assert await _outbox_count(db) == 6 and len(await _sent(db)) == 6


async def _readers_of_english(db: Database, w: World, *names: str) -> dict[str, User]:
    async with db.write() as s:
        people = {}
        for name in names:
            person = await s.get(User, w.users[name])
            assert person is not None
            person.language = "en"
            s.add(person)
            people[name] = person
    return people


async def test_the_reminders_in_japanese_whole(db: Database) -> None:
    w = await _world(db)
    await send_due(db, NOW, BASE)
    (lodger,) = await _mail(db, w.users["lodger"])
    name = lodger.body.partition(" 様")[0]
    assert lodger.body == (
        f"{name} 様\n\n「財務諸表の読み方」の開講まであと7日となりました。受講に必要なことをお知らせします。\n"
        "このメールは受講票を兼ねています。当日、受付で画面または印刷してお見せください。\n\n"
        "■ 研修名\n財務諸表の読み方\n■ 開催回\n"
        + lodger.body.split("■ 開催回\n")[1].partition("\n")[0]
        + "\n■ 日程\n第1日程　2026年5月22日（金）〜5月23日（土）\n第2日程　2026年6月5日（金）〜6月7日（日）\n"
        f"■ 会場\n中小企業大学校 tokyo校\n東京都東大和市桜が丘2-137-5\nアクセス：{ACCESS}\n"
        "■ 持ち物\n・筆記用具\n・名刺\n・受講票（このメール）\n・事前課題がある場合はその資料\n・着替え・洗面用具\n"
        "■ 宿泊（寮）\n寮のチェックイン：初日 8:30〜9:15 に寮の受付へ\n\n"
        f"日程・会場はマイページでもご確認いただけます。\n{BASE}/me\n"
        "やむを得ずご欠席の場合は、開講日の前日までにマイページからキャンセルのお手続きをお願いします。"
        "\n\n――\n中小企業大学校 研修申込窓口\n※このメールは送信専用です。"
    )
    (waiting,) = await _mail(db, w.users["waiting30"])
    name = waiting.body.partition(" 様")[0]
    assert waiting.body.startswith(
        f"{name} 様\n\n「財務諸表の読み方」（中小企業大学校 tokyo校、2026年6月24日（水）〜6月25日（木））に"
        "キャンセル待ちでお申し込みいただいてから30日以上が経ちました。現在のキャンセル待ちは1番目です。\n\n"
        "まだご希望ですか。\n・引き続きご希望の場合：お手続きは不要です。空きが出しだい順番に受講決定となり、"
        "メールでお知らせします。\n・ご希望でなくなった場合：マイページ（https://kenshu.example/me）から"
        "キャンセル待ちを取り消してください。次にお待ちの方に順番が回ります。\n\n――\n"
    )


async def test_a_learner_who_reads_english_is_reminded_in_english(db: Database) -> None:
    w = await _world(db)
    people = await _readers_of_english(db, w, "lodger", "tomorrow", "waiting30")
    await send_due(db, NOW, BASE)
    # data stays as the campus keeps it: its address, how to get there, the dormitory's check-in
    data = ("東京都東大和市桜が丘2-137-5", ACCESS, "初日 8:30〜9:15 に寮の受付へ")

    (lodger,) = await _mail(db, w.users["lodger"])
    assert lodger.subject == "7 days to go: Reading Financial Statements (Tokyo Campus)"
    for text in (
        f"Dear {people['lodger'].name},",
        "Part 1: Fri 22 May – Sat 23 May 2026\nPart 2: Fri 5 Jun – Sun 7 Jun 2026",
        "■ Venue\nTokyo Campus\n",
        "- Business cards\n",
        "- A change of clothes and toiletries\n",
        f"{BASE}/me\n",
    ):
        assert text in lodger.body, text
    assert_english(lodger, people["lodger"].name, *data)
    (tomorrow,) = await _mail(db, w.users["tomorrow"])
    assert tomorrow.subject == "Starts tomorrow: Reading Financial Statements (Tokyo Campus)"
    assert "Sat 16 May – Sun 17 May 2026" in tomorrow.body
    assert_english(tomorrow, people["tomorrow"].name, *data)
    (waiting,) = await _mail(db, w.users["waiting30"])
    assert waiting.subject == "Waiting list: do you still want a place in Reading Financial Statements?"
    assert "number 1 on the waiting list" in waiting.body and f"My page ({BASE}/me)" in waiting.body
    assert_english(waiting, people["waiting30"].name)
    (commuter,) = await _mail(db, w.users["commuter"])  # the others still read Japanese
    assert commuter.subject.startswith("【開講7日前のご案内】")

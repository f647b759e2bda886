"""A published plan tells each learner their room or practicum site (issue #18) in the language they
read: English with nothing Japanese but data (their name, the company's name and address), or the
Japanese as before."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from courses.core.db import Database
from courses.models import Enrollment, User
from courses.models.plans import PlanKind, PlannedRoom, PlannedSite, PlanVersion, SolverRun
from courses.planning import notices
from tests.conftest import JST, TODAY
from tests.courses import builders as b
from tests.courses.mails import assert_english, mails_to

NOW = datetime.combine(TODAY, time(10, 0), tzinfo=JST)
SIGNED = "\n\n――\n中小企業大学校 研修申込窓口\n※このメールは送信専用です。"


async def _world(db: Database) -> dict[str, Any]:
    """Two learners, one reading English and one Japanese, in a session of two blocks."""
    async with db.write() as s:
        await b.category(s)
        campus = await b.campus(s)
        course = await b.course(s, has_practicum=True)
        sess = await b.session(s, course, campus, start=date(2026, 6, 8), blocks=[(0, 3), (14, 2)])
        single = await b.dorm_room(s, campus, "201")
        twin = await b.dorm_room(s, campus, "305")
        twin.floor, twin.zone, twin.kind = 3, "women", "twin"
        s.add(twin)
        site = await b.practicum_site(s, campus)
        people: dict[str, tuple[User, int]] = {}
        for lang in ("en", "ja"):
            person = await b.user(s)
            person.language = lang
            s.add(person)
            e = Enrollment(
                session_id=sess.id or 0,
                user_id=person.id or 0,
                status="confirmed",
                lodging=True,
                created_at=NOW,
                updated_at=NOW,
            )
            s.add(e)
            await s.flush()
            people[lang] = (person, e.id or 0)
        run = SolverRun(
            campus_id=campus.id or 0,
            kinds="rooms,practicum",
            date_from=date(2026, 6, 1),
            date_to=date(2026, 6, 30),
            time_limit_s=1,
            status="done",
            created_at=NOW,
        )
        s.add(run)
        await s.flush()
    return {
        "campus": campus,
        "session": sess,
        "rooms": (single, twin),
        "site": site,
        "people": people,
        "run": run,
    }


async def _publish(
    db: Database, w: dict[str, Any], kind: str, before: PlanVersion | None = None
) -> PlanVersion:
    """A plan of ``kind`` putting every learner in the twin for the first block and the single for the
    second (rooms), or at the site (practicum); told as publishing tells."""
    single, twin = w["rooms"]
    async with db.write() as s:
        plan = PlanVersion(
            run_id=w["run"].id,
            campus_id=w["campus"].id,
            kind=kind,
            date_from=date(2026, 6, 1),
            date_to=date(2026, 6, 30),
            status="optimal",
            created_at=NOW,
        )
        s.add(plan)
        await s.flush()
        for _, eid in w["people"].values():
            if kind == PlanKind.ROOMS:
                for seq, room in ((0, twin), (1, single)):
                    s.add(
                        PlannedRoom(
                            plan_id=plan.id or 0,
                            enrollment_id=eid,
                            session_id=w["session"].id,
                            block_seq=seq,
                            dorm_room_id=room.id,
                        )
                    )
            else:
                s.add(
                    PlannedSite(
                        plan_id=plan.id or 0,
                        enrollment_id=eid,
                        session_id=w["session"].id,
                        site_id=w["site"].id,
                    )
                )
        await s.flush()
        assert await notices.tell_learners(s, plan, before, NOW) == 2
    return plan


async def test_the_room_of_each_block_in_the_learners_language(db: Database) -> None:
    w = await _world(db)
    await _publish(db, w, PlanKind.ROOMS)
    (ja, _), (en, _) = w["people"]["ja"], w["people"]["en"]
    (mail,) = await mails_to(db, ja.email)
    assert (mail.subject, mail.body) == (
        "【宿泊のお部屋】財務諸表の読み方",
        f"{ja.name} 様\n\n「財務諸表の読み方」（{w['session'].code}）の宿泊のお部屋が決まりました。\n\n"
        "・2026年6月8日（月）〜2026年6月9日（火）の夜: 305号室（3階・女性用・ツイン）\n"
        "・2026年6月22日（月）〜2026年6月22日（月）の夜: 201号室（2階・共用）\n\n"
        "お部屋はマイページでもご確認いただけます。" + SIGNED,
    )
    (mail,) = await mails_to(db, en.email)
    assert mail.subject == "Your room: Reading Financial Statements"
    assert "Nights of Mon 8 Jun 2026 – Tue 9 Jun 2026: room 305 (floor 3, women only, twin room)" in mail.body
    assert "Nights of Mon 22 Jun 2026 – Mon 22 Jun 2026: room 201 (floor 2, open to all)" in mail.body
    assert_english(mail, en.name)


async def test_the_practicum_site_in_the_learners_language(db: Database) -> None:
    w = await _world(db)
    first = await _publish(db, w, PlanKind.PRACTICUM)
    (ja, _), (en, _) = w["people"]["ja"], w["people"]["en"]
    (mail,) = await mails_to(db, ja.email)
    assert (mail.subject, mail.body) == (
        "【企業実習先】財務諸表の読み方",
        f"{ja.name} 様\n\n「財務諸表の読み方」（{w['session'].code}）の企業実習先が決まりました。\n\n"
        "・実習先: 三条精機（本社工場）（株式会社三条精機）\n・所在地: 新潟県三条市1-2-3\n"
        "・大学校からの移動時間: 約30分\n\n実習先はマイページでもご確認いただけます。" + SIGNED,
    )
    (mail,) = await mails_to(db, en.email)
    assert mail.subject == "Your practicum company: Reading Financial Statements"
    assert "- Travel time from the campus: about 30 minutes" in mail.body
    assert_english(mail, en.name, "三条精機（本社工場）", "株式会社三条精機", "新潟県三条市1-2-3")
    # a later plan that moves them says so, in each one's language
    async with db.write() as s:
        other = await b.practicum_site(s, w["campus"], "燕金属")
        w["site"] = other
    await _publish(db, w, PlanKind.PRACTICUM, before=first)
    assert (await mails_to(db, ja.email))[-1].body.endswith(
        "（先にお知らせした実習先から変更になりました。）" + SIGNED
    )
    moved = (await mails_to(db, en.email))[-1]
    assert "This replaces the practicum company we told you of before." in moved.body
    assert_english(moved, en.name, "燕金属", "株式会社三条精機", "新潟県三条市1-2-3")

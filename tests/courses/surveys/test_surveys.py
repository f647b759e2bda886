"""The satisfaction survey (issue #19, item 5): the email once after the end, only the learner's own
ended session, one answer, anonymity, and the results on a small dataset counted by hand."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, func, select

from courses.accounts.guards import SESSION_COOKIE
from courses.accounts.service import issue_token
from courses.core.db import Database
from courses.models import (
    Campus,
    Course,
    CourseSession,
    Enrollment,
    OutboxMessage,
    SessionStatus,
    User,
    table_of,
)
from courses.models.plans import PlanVersion, SolverRun
from courses.models.surveys import SurveyAnswered, SurveyModuleRating, SurveyResponse, SurveySent
from courses.models.timetable import PlannedModule
from courses.surveys import results
from courses.surveys.service import send_due
from tests.conftest import JST, ON_POSTGRES, TODAY
from tests.courses import builders as b
from tests.courses.mails import assert_english, mails_to

BASE = "https://kenshu.example"
NOW = datetime.combine(TODAY, time(10, 0), tzinfo=JST)


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


@dataclass
class World:
    sessions: dict[str, int]
    users: dict[str, User]
    modules: list[int]
    instructors: dict[str, int]
    tokyo: int


async def _enroll(s: Any, session_id: int, user: User, status: str = "confirmed") -> None:
    s.add(
        Enrollment(
            session_id=session_id,
            user_id=user.id or 0,
            status=status,
            created_at=NOW - timedelta(days=60),
            updated_at=NOW - timedelta(days=60),
        )
    )
    await s.flush()


async def _world(db: Database) -> World:
    async with db.write() as s:
        await b.category(s, "finance")
        tokyo = await b.campus(s, "tokyo")
        sendai = await b.campus(s, "sendai")
        course = await b.course(s, "ZAI01", title_ja="財務諸表の読み方", days=2)
        modules = await b.course_modules(s, course, [("貸借対照表", 1), ("損益計算書", 1)])
        sessions = {
            "yesterday": await b.session(s, course, tokyo, start=day(-2)),  # last day: yesterday
            "today": await b.session(s, course, tokyo, start=day(-1)),  # last day: today
            "old": await b.session(s, course, tokyo, start=day(-32)),  # ended 31 days ago: closed
            "called_off": await b.session(s, course, tokyo, start=day(-3), status=SessionStatus.CANCELLED),
            "sendai": await b.session(s, course, sendai, start=day(-2)),
        }
        users = {
            "ann": await b.user(s, "ann@example.jp"),
            "ben": await b.user(s, "ben@example.jp"),
            "gone": await b.user(s, "gone@example.jp"),
            "outsider": await b.user(s, "outsider@example.jp"),
            "staff": await b.user(s, role="staff", campuses=[tokyo]),
            "sendai_staff": await b.user(s, role="staff", campuses=[sendai]),
            "admin": await b.user(s, role="admin"),
        }
        for name in ("ann", "ben"):
            await _enroll(s, sessions["yesterday"].id or 0, users[name])
        await _enroll(s, sessions["yesterday"].id or 0, users["gone"], "cancelled")
        await _enroll(s, sessions["today"].id or 0, users["ann"])
        await _enroll(s, sessions["old"].id or 0, users["ann"])
        await _enroll(s, sessions["called_off"].id or 0, users["ann"])
        await _enroll(s, sessions["sendai"].id or 0, users["outsider"])
        # a published timetable names the first module's instructor
        teacher = await b.instructor(s, tokyo, "山田 花子")
        run = SolverRun(
            campus_id=tokyo.id or 0,
            kinds="timetable",
            date_from=day(-2),
            date_to=day(-1),
            time_limit_s=1,
            status="done",
            created_at=NOW,
        )
        s.add(run)
        await s.flush()
        plan = PlanVersion(
            run_id=run.id or 0,
            campus_id=tokyo.id or 0,
            kind="timetable",
            date_from=day(-2),
            date_to=day(-1),
            status="optimal",
            created_at=NOW,
            published_at=NOW,
        )
        s.add(plan)
        classroom = await b.classroom(s, tokyo)
        await s.flush()
        s.add(
            PlannedModule(
                plan_id=plan.id or 0,
                session_id=sessions["yesterday"].id or 0,
                course_module_id=modules[0].id,
                day=day(-2),
                half=0,
                classroom_id=classroom.id,
                instructor_id=teacher.id,
            )
        )
    return World(
        {k: v.id or 0 for k, v in sessions.items()},
        users,
        [m.id for m in modules],
        {"yamada": teacher.id},
        tokyo.id or 0,
    )


async def _sign_in(db: Database, client: AsyncTestClient[Litestar], user: User) -> str:
    async with db.write() as s:
        cookie = await issue_token(s, user, "web", datetime.now(JST))
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    await client.get("/login")  # the CSRF cookie
    return client.cookies.get("csrftoken", "")


async def _count(db: Database, model: Any) -> int:
    async with db.read() as s:
        return int((await s.exec(select(func.count()).select_from(model))).one())


# --- the email ----------------------------------------------------------------------------------


async def test_survey_mail_goes_once_the_day_after_the_last_day(db: Database) -> None:
    w = await _world(db)
    sent = await send_due(db, NOW, BASE)
    # the sessions that ended yesterday: ann and ben (not the cancelled place) and Sendai's learner;
    # not today's session, the old one or the cancelled one
    assert sent.total == 3
    async with db.read() as s:
        mails = list(await s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))
    assert {m.to_email for m in mails} == {"ann@example.jp", "ben@example.jp", "outsider@example.jp"}
    assert all(f"{BASE}/surveys/{w.sessions['yesterday']}" in m.body for m in mails[:2])
    assert all(m.subject.startswith("【受講者アンケートのお願い】財務諸表の読み方") for m in mails)
    assert (await send_due(db, NOW, BASE)).total == 0
    # the next day, today's session has ended: ann gets that one, and nothing else twice
    tomorrow = NOW + timedelta(days=1)
    both = await asyncio.gather(send_due(db, tomorrow, BASE), send_due(db, tomorrow, BASE))
    assert sum(x.total for x in both) == 1
    assert await _count(db, OutboxMessage) == 4
    assert await _count(db, SurveySent) == 4


async def test_survey_mail_in_the_language_the_learner_reads(db: Database) -> None:
    w = await _world(db)
    async with db.write() as s:
        ann = await s.get(User, w.users["ann"].id)
        assert ann is not None
        ann.language = "en"
        s.add(ann)
    await send_due(db, NOW, BASE)
    url = f"{BASE}/surveys/{w.sessions['yesterday']}"
    (ben,) = await mails_to(db, "ben@example.jp")
    assert (ben.subject, ben.body) == (
        "【受講者アンケートのお願い】財務諸表の読み方",
        f"{w.users['ben'].name} 様\n\n「財務諸表の読み方」（中小企業大学校 tokyo校、2026年5月13日（水）〜5月14日（木））を"
        "ご受講いただき、ありがとうございました。\n今後の研修をよりよくするため、受講者アンケートにご協力ください"
        f"（5分ほどで終わります）。\n\n{url}\n\n回答期限：2026年6月13日\n回答は無記名で集計されます。"
        "講師には3件以上の回答の集計値のみが伝えられ、どなたの回答かはわかりません。"
        "\n\n――\n中小企業大学校 研修申込窓口\n※このメールは送信専用です。",
    )
    (mail,) = await mails_to(db, "ann@example.jp")
    assert mail.subject == "Please tell us how the course went: Reading Financial Statements"
    for text in (
        "Reading Financial Statements (Tokyo Campus, Wed 13 May – Thu 14 May 2026)",
        url,
        "13 Jun 2026",
    ):
        assert text in mail.body, text
    assert_english(mail, w.users["ann"].name)


@pytest.mark.skipif(ON_POSTGRES, reason="the CLI is exercised on SQLite")
async def test_send_surveys_command(db: Database, database_url: str, tmp_path: Path) -> None:
    today = datetime.now(JST).date()
    async with db.write() as s:
        await b.category(s, "finance")
        tokyo = await b.campus(s, "tokyo")
        course = await b.course(s, "ZAI01")
        sess = await b.session(s, course, tokyo, start=today - timedelta(days=3))
        await _enroll(s, sess.id or 0, await b.user(s))
    env = {**os.environ, "DATABASE_URL": database_url, "COURSES_VAR_DIR": str(tmp_path), "SITE_URL": BASE}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "courses", "send-surveys"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    first = await asyncio.to_thread(run)
    assert first.returncode == 0, first.stderr
    assert "surveys: 1 queued" in first.stdout
    assert "surveys: 0 queued" in (await asyncio.to_thread(run)).stdout


# --- the form and the answer ----------------------------------------------------------------------


async def test_only_the_learners_own_ended_session_is_answerable(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    await _sign_in(db, client, w.users["ann"])
    r = await client.get(f"/surveys/{w.sessions['yesterday']}")
    assert r.status_code == 200, r.text
    assert "貸借対照表（講師：山田 花子）" in r.text and "損益計算書" in r.text
    assert "役に立たなかった" in r.text
    assert (await client.get(f"/surveys/{w.sessions['today']}")).status_code == 422  # not ended
    assert "翌日" in (await client.get(f"/surveys/{w.sessions['today']}")).text
    assert (await client.get(f"/surveys/{w.sessions['old']}")).status_code == 422  # 30 days have passed
    assert (await client.get(f"/surveys/{w.sessions['called_off']}")).status_code == 404
    assert (await client.get(f"/surveys/{w.sessions['sendai']}")).status_code == 404  # not hers
    await _sign_in(db, client, w.users["gone"])  # cancelled place
    assert (await client.get(f"/surveys/{w.sessions['yesterday']}")).status_code == 404
    await _sign_in(db, client, w.users["staff"])
    assert (await client.get(f"/surveys/{w.sessions['yesterday']}")).status_code == 403


async def test_one_anonymous_answer_per_learner(db: Database, client: AsyncTestClient[Litestar]) -> None:
    w = await _world(db)
    sid = w.sessions["yesterday"]
    csrf = await _sign_in(db, client, w.users["ann"])
    m1, m2 = w.modules
    form = {
        "_csrf_token": csrf,
        "usefulness": "4",
        f"m_{m1}": "5",
        f"m_{m2}": "3",
        "comment": "とても参考になりました",
    }
    bad = await client.post(f"/surveys/{sid}", data={**form, f"m_{m2}": "", "comment": "あ" * 2001})
    assert bad.status_code == 400
    assert "「損益計算書」の評価を選んでください" in bad.text and "2000文字以内" in bad.text
    assert await _count(db, SurveyResponse) == 0
    assert f'href="/surveys/{sid}"' in (await client.get("/me")).text  # my page links the open survey
    r = await client.post(f"/surveys/{sid}", data=form)
    assert r.status_code == 200, r.text
    assert f'href="/surveys/{sid}"' not in (await client.get("/me")).text
    assert "ご回答ありがとうございました" in r.text
    again = await client.post(f"/surveys/{sid}", data=form)
    assert again.status_code == 409
    assert "すでに回答いただいています" in again.text
    assert "すでに回答いただいています" in (await client.get(f"/surveys/{sid}")).text
    assert await _count(db, SurveyResponse) == 1
    # anonymity: the answer has no column that names the learner; only the marker does
    for model in (SurveyResponse, SurveyModuleRating):
        assert not {"user_id", "enrollment_id", "created_at"} & set(table_of(model).c.keys())
    async with db.read() as s:
        (answer,) = await s.exec(select(SurveyResponse))
        ratings = {r.course_module_id: r for r in await s.exec(select(SurveyModuleRating))}
        (marker,) = await s.exec(select(SurveyAnswered))
    assert (answer.session_id, answer.usefulness, answer.comment) == (sid, 4, "とても参考になりました")
    assert {k: (r.rating, r.instructor_id) for k, r in ratings.items()} == {
        m1: (5, w.instructors["yamada"]),
        m2: (3, None),
    }
    assert (marker.session_id, marker.user_id) == (sid, w.users["ann"].id)


# --- results ------------------------------------------------------------------------------------------


async def _answers(db: Database, w: World) -> dict[str, int]:
    """A known dataset, answers written as the form writes them (without anyone's id).

    Tokyo, ``yesterday`` (2 confirmed: ann, ben; 3 more added below, so 5): 3 answers
    usefulness 5, 4, 2; module 1 by 山田 rated 5, 4, 3; module 2 by 鈴木 rated 2, 2, 5.
    Tokyo, ``second`` (2 confirmed): 1 answer, usefulness 1; module 1 by 山田 rated 1, module 2 by
    田中 rated 4. Tokyo, ``old`` (1 confirmed): no answer. Sendai, ``sendai`` (1 confirmed): 1 answer
    usefulness 5. The cancelled session's answer counts nowhere.
    """
    async with db.write() as s:
        tokyo = await s.get(Campus, w.tokyo)
        first = await s.get(CourseSession, w.sessions["yesterday"])
        assert tokyo is not None and first is not None
        suzuki = await b.instructor(s, tokyo, "鈴木 一郎")
        tanaka = await b.instructor(s, tokyo, "田中 三郎")
        course = await s.get(Course, first.course_id)
        assert course is not None
        second = await b.session(s, course, tokyo, start=day(-20))
        for _ in range(3):
            await _enroll(s, w.sessions["yesterday"], await b.user(s))
        for _ in range(2):
            await _enroll(s, second.id or 0, await b.user(s))
        m1, m2 = w.modules
        y, z = w.instructors["yamada"], suzuki.id
        rows = [
            (w.sessions["yesterday"], 5, [(m1, y, 5), (m2, z, 2)]),
            (w.sessions["yesterday"], 4, [(m1, y, 4), (m2, z, 2)]),
            (w.sessions["yesterday"], 2, [(m1, y, 3), (m2, z, 5)]),
            (second.id or 0, 1, [(m1, y, 1), (m2, tanaka.id, 4)]),
            (w.sessions["sendai"], 5, []),
            (w.sessions["called_off"], 5, [(m1, y, 5)]),  # a cancelled session counts nowhere
        ]
        for sid, useful, ratings in rows:
            answer = SurveyResponse(session_id=sid, usefulness=useful, comment="山田先生の説明が丁寧でした")
            s.add(answer)
            await s.flush()
            for mid, iid, rating in ratings:
                s.add(
                    SurveyModuleRating(
                        response_id=answer.id, course_module_id=mid, instructor_id=iid, rating=rating
                    )
                )
        await s.flush()
    return {"second": second.id or 0, "suzuki": suzuki.id, "tanaka": tanaka.id}


def _by(groups: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(g for g in groups if g["key"] == key)


async def test_results_counted_by_hand(db: Database, client: AsyncTestClient[Litestar]) -> None:
    w = await _world(db)
    extra = await _answers(db, w)
    async with db.write() as s:
        token = await b.token(s, w.users["staff"])
    r = await client.get("/api/staff/surveys", params={"fy": 2026}, headers=b.bearer(token))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["campuses"] == ["tokyo"]
    sessions = {g["label"].split("（")[-1].rstrip("）"): g for g in data["session"]}
    # yesterday's, the second and the old one (ended in April, 1 confirmed, no answer); not the
    # cancelled one nor today's (not ended)
    assert len(sessions) == 3
    first = next(g for g in data["session"] if g["answers"] == 3)
    assert first["confirmed"] == 5
    assert first["response_rate"] == 0.6
    assert first["usefulness"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert first["useful_rate"] == round(2 / 3, 4)
    assert [(m["title"], m["average"]) for m in first["modules"]] == [
        ("貸借対照表", 4.0),
        ("損益計算書", 3.0),
    ]
    (campus,) = data["campus"]
    assert (campus["answers"], campus["confirmed"], campus["useful_rate"]) == (4, 8, 0.5)
    assert campus["response_rate"] == 0.5
    assert campus["usefulness"] == {"1": 1, "2": 1, "3": 0, "4": 1, "5": 1}
    assert [(m["title"], m["average"]) for m in campus["modules"]] == [
        ("貸借対照表", 3.25),
        ("損益計算書", 3.25),
    ]
    (course,) = data["course"]
    assert course["answers"] == 4
    yamada = _by(data["instructor"], str(w.instructors["yamada"]))
    assert (yamada["answers"], yamada["confirmed"], yamada["useful_rate"]) == (4, 7, 0.5)
    assert yamada["modules"] == [{"title": "貸借対照表", "average": 3.25, "ratings": 4}]
    suzuki = _by(data["instructor"], str(extra["suzuki"]))
    assert (suzuki["answers"], suzuki["useful_rate"]) == (3, round(2 / 3, 4))
    assert suzuki["modules"] == [{"title": "損益計算書", "average": 3.0, "ratings": 3}]
    tanaka = _by(data["instructor"], str(extra["tanaka"]))  # one answer: nothing but the note
    assert tanaka == {
        "kind": "instructor",
        "key": str(extra["tanaka"]),
        "label": "田中 三郎",
        "hidden": True,
        "note": results.HIDDEN_JA,
    }
    # the page: charts, the note, and free text never next to an instructor's figures
    client.cookies.clear()
    await _sign_in(db, client, w.users["staff"])
    page = await client.get("/staff/surveys", params={"fy": 2026})
    assert page.status_code == 200
    assert "<svg" in page.text and "回答が3件未満のため表示しません" in page.text
    assert "財務諸表の読み方" in page.text and "sendai" not in page.text
    # the staff dashboard draws the usefulness of the recent sessions with answers: 67 % and 0 %
    board = (await client.get("/staff", params={"campus": "tokyo"})).text
    assert "「役に立った」と答えた割合" in board
    assert board.count('class="useful"') == 2 and ">67%<" in board
    csv = (await client.get("/staff/surveys.csv", params={"fy": 2026, "campus": "tokyo"})).content.decode(
        "utf-8-sig"
    )
    lines = csv.splitlines()
    assert lines[0].startswith("区分,コード,名称,回答数,受講決定者数,回答率(%)")
    assert (
        "キャンパス,tokyo,中小企業大学校 tokyo校,4,8,50.0,1,1,0,1,1,50.0,貸借対照表: 3.25; 損益計算書: 3.25,"
        in lines
    )
    assert any(
        line.startswith("講師,") and line.endswith(results.HIDDEN_JA) and "田中 三郎" in line
        for line in lines
    )
    assert "山田先生" not in csv  # no free text in the export
    # an administrator sees Sendai as well
    async with db.write() as s:
        admin = await b.token(s, w.users["admin"])
    everything = (await client.get("/api/staff/surveys", params={"fy": 2026}, headers=b.bearer(admin))).json()
    assert {g["key"] for g in everything["campus"]} == {"tokyo", "sendai"}
    assert (await client.get("/api/staff/surveys", params={"fy": 2025}, headers=b.bearer(admin))).json()[
        "campus"
    ] == []


async def test_results_are_scoped_to_the_staffs_campuses(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    await _answers(db, w)
    async with db.write() as s:
        token = await b.token(s, w.users["sendai_staff"])
    api = "/api/staff/surveys"
    assert (await client.get(api, params={"campus": "tokyo"}, headers=b.bearer(token))).status_code == 403
    assert (await client.get(api, params={"campus": "nowhere"}, headers=b.bearer(token))).status_code == 404
    own = (await client.get(api, headers=b.bearer(token))).json()
    assert [g["key"] for g in own["campus"]] == ["sendai"] and own["instructor"] == []
    await _sign_in(db, client, w.users["sendai_staff"])
    assert (await client.get("/staff/surveys", params={"campus": "tokyo"})).status_code == 403
    assert (await client.get("/staff/surveys.csv", params={"campus": "tokyo"})).status_code == 403
    page = (await client.get("/staff/surveys")).text
    assert "山田 花子" not in page and "tokyo校" not in page


async def test_a_learner_answers_through_the_api_once(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    sid = w.sessions["yesterday"]
    async with db.write() as s:
        token = await b.token(s, w.users["ann"])
        outsider = await b.token(s, w.users["staff"])
    headers = b.bearer(token)
    q = await client.get(f"/api/surveys/{sid}", headers=headers)
    assert q.status_code == 200 and q.json()["answered"] is False
    m1, m2 = w.modules
    assert [m["module_id"] for m in q.json()["modules"]] == [m1, m2]
    body = {"usefulness": 5, "ratings": [{"module_id": m1, "rating": 4}, {"module_id": m2, "rating": 2}]}
    bad = await client.post(f"/api/surveys/{sid}", json={**body, "usefulness": 9}, headers=headers)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "usefulness"
    r = await client.post(f"/api/surveys/{sid}", json=body, headers=headers)
    assert r.status_code == 201 and r.json() == {"answered": True}
    assert (await client.post(f"/api/surveys/{sid}", json=body, headers=headers)).status_code == 409
    assert (await client.get(f"/api/surveys/{sid}", headers=headers)).json()["answered"] is True
    assert await _count(db, SurveyResponse) == 1
    assert (await client.get(f"/api/surveys/{sid}", headers=b.bearer(outsider))).status_code == 403
    assert (await client.get(f"/api/surveys/{w.sessions['sendai']}", headers=headers)).status_code == 404

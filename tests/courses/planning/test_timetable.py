"""The campus timetable with instructors through the API and pages: run, plan, validator, publish,
learners' and instructors' views, minimal-change re-solve, explanations and campus scoping."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core.db import Database
from courses.enrollment import service as enrollment
from courses.planning.runner import Runner
from tests.courses import builders as b

START = date(2026, 6, 8)  # a Monday; the session runs 8-10 June
MODULES = [
    ("財務諸表の読み方", 1),
    ("損益分岐点分析", 1),
    ("ケーススタディ（財務）", 2),
    ("資金繰り表の作成", 1),
    ("まとめと行動計画の発表", 1),
]


async def _world(db: Database, *, capacity: int = 30, instructors: int = 2) -> dict:
    async with db.write() as s:
        await b.category(s, "finance")
        tokyo = await b.campus(s, "tokyo")
        sendai = await b.campus(s, "sendai")
        big = await b.classroom(s, tokyo, "第1研修室", seats=40)
        await b.classroom(s, tokyo, "第2研修室", seats=30)
        course = await b.course(s, "ZAI01", days=3, title_ja="財務諸表の読み方")
        modules = await b.course_modules(s, course, MODULES)
        sess = await b.session(s, course, tokyo, start=START, capacity=capacity)
        teachers = []
        for k in range(instructors):
            row = await b.instructor(s, tokyo, name=f"講師 {k}")
            await b.available(s, row, date(2026, 4, 1), date(2027, 3, 31))
            teachers.append(row.id)
        staff = await b.user(s, role="staff", campuses=[tokyo])
        outsider = await b.user(s, role="staff", campuses=[sendai])
        learner = await b.user(s)
        await s.run_sync(
            enrollment.enroll,
            user=learner,
            session_id=sess.id or 0,
            lodging=False,
            now=datetime(2026, 5, 15, tzinfo=UTC),
            check_window=False,
            notify=False,
        )
        return {
            "session_id": sess.id,
            "campus_id": tokyo.id,
            "classroom_id": big.id,
            "module_ids": [m.id for m in modules],
            "instructors": teachers,
            "staff": await b.token(s, staff),
            "outsider": await b.token(s, outsider),
            "learner": await b.token(s, learner),
        }


async def _run(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database, token: str, **body: object
) -> dict:
    request = {
        "campus": "tokyo",
        "from": "2026-06-01",
        "to": "2026-06-30",
        "time_limit_s": 5,
        "kinds": ["timetable"],
    } | body
    r = await client.post("/api/staff/solver-runs", json=request, headers=b.bearer(token))
    assert r.status_code == 202, r.text
    runner = Runner(db, app.state.clock, executor=ThreadPoolExecutor(max_workers=1))
    try:
        assert await runner.run_once()
    finally:
        runner.close()
    run = (await client.get(f"/api/staff/solver-runs/{r.json()['id']}", headers=b.bearer(token))).json()
    assert run["status"] == "done", run
    plan_id = run["progress"]["plans"][0]
    return (await client.get(f"/api/staff/plans/{plan_id}", headers=b.bearer(token))).json()


def _by_module(rows: list[dict]) -> dict[str, tuple]:
    return {r["module"]: (r["day"], r["half"], r["classroom"], r["instructor_id"]) for r in rows}


async def test_timetable_lifecycle(client: AsyncTestClient[Litestar], app: Litestar, db: Database) -> None:
    w = await _world(db)
    staff = b.bearer(w["staff"])
    plan = await _run(client, app, db, w["staff"])
    assert plan["kind"] == "timetable" and plan["status"] in ("optimal", "feasible")
    assert plan["validator"]["ok"] is True, plan["validator"]
    assert plan["unassigned"] == []
    assert {"timetable.curriculum_order", "instructors.cost", "instructors.non_local"} <= set(
        plan["breakdown"]
    )
    assert all("share" in v for v in plan["breakdown"].values())
    # the bound is a lower bound of the validator's objective (instructor fees make it positive)
    assert 0 < plan["best_bound"] <= plan["objective"] and 0 <= plan["gap"] < 1
    preview = (
        await client.get(
            "/api/staff/timetable",
            params={"campus": "tokyo", "from": "2026-06-01", "to": "2026-06-30", "plan_id": plan["id"]},
            headers=staff,
        )
    ).json()["modules"]
    assert len(preview) == len(MODULES) and all(m["instructor_id"] in w["instructors"] for m in preview)
    # independent of the solvers: the session is never in two places, the periods in its dates
    halves = [(m["day"], h) for m in preview for h in range(m["half"], m["half"] + m["half_days"])]
    assert len(halves) == len(set(halves)) == 6
    assert {d for d, _ in halves} == {"2026-06-08", "2026-06-09", "2026-06-10"}
    # nothing public before publication
    public = (await client.get(f"/api/sessions/{w['session_id']}/timetable")).json()
    assert public == {"session_id": w["session_id"], "published": False, "modules": []}
    r = await client.post(f"/api/staff/plans/{plan['id']}/publish", headers=staff)
    assert r.status_code == 200
    public = (await client.get(f"/api/sessions/{w['session_id']}/timetable")).json()
    assert public["published"] and [m["module"] for m in public["modules"]] == [t for t, _ in MODULES]
    assert "instructor_id" not in public["modules"][0] and public["modules"][0]["instructor"]
    assert "財務諸表の読み方" in (await client.get(f"/sessions/{w['session_id']}/timetable")).text
    learner = b.bearer(w["learner"])
    page = await client.get("/me", headers=learner)
    assert page.status_code == 200 and "時間割" in page.text and "損益分岐点分析" in page.text
    # the published timetable for staff: API and the grid
    published = (
        await client.get(
            "/api/staff/timetable",
            params={"campus": "tokyo", "from": "2026-06-08", "to": "2026-06-14"},
            headers=staff,
        )
    ).json()["modules"]
    assert _by_module(published) == _by_module(preview)
    grid = await client.get(
        "/staff/timetable", params={"campus": "tokyo", "week": "2026-06-10"}, headers=staff
    )
    assert grid.status_code == 200 and "ケーススタディ（財務）" in grid.text and "第1研修室" in grid.text
    # the instructor's own assignments: staff page with the private link, then the link itself
    iid = preview[0]["instructor_id"]
    mine = await client.get(f"/staff/instructors/{iid}/assignments", headers=staff)
    assert mine.status_code == 200 and "/instructor-schedule/" in mine.text
    link = mine.text.split("<code>/instructor-schedule/")[1].split("</code>")[0]
    own = await client.get(f"/instructor-schedule/{link}")
    assert own.status_code == 200 and "財務諸表の読み方" in own.text
    ics = await client.get(f"/instructor-schedule/{link}.ics")
    assert ics.status_code == 200 and "BEGIN:VEVENT" in ics.text
    assert (await client.get("/instructor-schedule/not-a-token")).status_code == 404
    # the plan page names the kind and links the preview grid
    detail = await client.get(f"/staff/plans/{plan['id']}", headers=staff)
    assert detail.status_code == 200 and "時間割・講師" in detail.text and "違反なし" in detail.text


async def test_resolve_keeps_published_periods_and_instructors(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _world(db)
    staff = b.bearer(w["staff"])
    first = await _run(client, app, db, w["staff"])
    await client.post(f"/api/staff/plans/{first['id']}/publish", headers=staff)
    before = (await client.get(f"/api/sessions/{w['session_id']}/timetable")).json()["modules"]
    # a cheaper, equally qualified instructor arrives: keeping the published instructors wins
    async with db.write() as s:
        cheap = await b.instructor(s, None, name="新 講師")
        cheap.fee_per_module_yen = 10000
        s.add(cheap)
        await b.available(s, cheap, date(2026, 4, 1), date(2027, 3, 31))
    second = await _run(client, app, db, w["staff"], pin_published=False)
    assert second["validator"]["ok"] and second["moved"] == 0
    assert second["breakdown"]["instructors.change"]["cost"] == 0
    rows = (
        await client.get(
            "/api/staff/timetable",
            params={"campus": "tokyo", "from": "2026-06-01", "to": "2026-06-30", "plan_id": second["id"]},
            headers=staff,
        )
    ).json()["modules"]
    assert {m["module"]: (m["day"], m["half"], m["classroom"], m["instructor"]) for m in rows} == {
        m["module"]: (m["day"], m["half"], m["classroom"], m["instructor"]) for m in before
    }
    compare = (await client.get(f"/api/staff/plans/{second['id']}/compare", headers=staff)).json()
    assert compare["published_plan_id"] == first["id"] and compare["moves"] == []
    # pinned re-solve: the same answer, and it publishes
    third = await _run(client, app, db, w["staff"], pin_published=True)
    assert third["validator"]["ok"] and third["moved"] == 0
    assert (await client.post(f"/api/staff/plans/{third['id']}/publish", headers=staff)).status_code == 200


async def test_explains_what_cannot_be_placed(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _world(db, capacity=60)  # no classroom holds 60
    plan = await _run(client, app, db, w["staff"])
    assert plan["validator"]["ok"] is True
    assert len(plan["unassigned"]) == len(MODULES)
    assert all("定員60名以上の教室がありません" in u["reason"] for u in plan["unassigned"])
    assert (
        plan["unassigned"][0]["stage"] == "timetable" and "財務諸表の読み方" in plan["unassigned"][0]["label"]
    )
    assert plan["breakdown"]["timetable.unplaced"]["value"] == len(MODULES)


async def test_explains_missing_instructors(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _world(db, instructors=0)
    plan = await _run(client, app, db, w["staff"])
    assert plan["validator"]["ok"] is True
    assert {u["stage"] for u in plan["unassigned"]} == {"instructors"}
    assert "担当できる講師が登録されていません" in plan["unassigned"][0]["reason"]


async def test_classroom_outage_moves_the_session(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _world(db)
    async with db.write() as s:
        from courses.models.resources import RoomOutage

        s.add(
            RoomOutage(
                campus_id=w["campus_id"],
                classroom_id=w["classroom_id"],
                start_date=date(2026, 6, 9),
                end_date=date(2026, 6, 9),
            )
        )
    plan = await _run(client, app, db, w["staff"])
    assert plan["validator"]["ok"] and plan["unassigned"] == []
    rows = (
        await client.get(
            "/api/staff/timetable",
            params={"campus": "tokyo", "from": "2026-06-01", "to": "2026-06-30", "plan_id": plan["id"]},
            headers=b.bearer(w["staff"]),
        )
    ).json()["modules"]
    assert not any(m["day"] == "2026-06-09" and m["classroom_id"] == w["classroom_id"] for m in rows)


async def test_campus_scoping(client: AsyncTestClient[Litestar], app: Litestar, db: Database) -> None:
    w = await _world(db)
    outsider = b.bearer(w["outsider"])
    body = {
        "campus": "tokyo",
        "from": "2026-06-01",
        "to": "2026-06-30",
        "time_limit_s": 5,
        "kinds": ["timetable"],
    }
    assert (await client.post("/api/staff/solver-runs", json=body, headers=outsider)).status_code == 403
    plan = await _run(client, app, db, w["staff"])
    assert (await client.get(f"/api/staff/plans/{plan['id']}", headers=outsider)).status_code == 403
    r = await client.get("/api/staff/timetable", params={"campus": "tokyo"}, headers=outsider)
    assert r.status_code == 403
    r = await client.get(
        "/api/staff/timetable", params={"campus": "sendai", "plan_id": plan["id"]}, headers=outsider
    )
    assert r.status_code == 403
    assert (
        await client.get("/staff/timetable", params={"campus": "tokyo"}, headers=outsider)
    ).status_code == 403
    assert (
        await client.get("/staff/timetable", params={"plan": plan["id"]}, headers=outsider)
    ).status_code == 403
    iid = w["instructors"][0]
    assert (await client.get(f"/staff/instructors/{iid}/assignments", headers=outsider)).status_code == 403
    assert (
        await client.get("/api/staff/timetable", params={"campus": "tokyo"}, headers=b.bearer(w["learner"]))
    ).status_code == 403
    bad = {**body, "kinds": ["timetable", "everything"]}
    r = await client.post("/api/staff/solver-runs", json=bad, headers=b.bearer(w["staff"]))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "kinds"


async def test_publishing_a_timetable_tells_each_instructor_their_modules_once(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    from sqlmodel import select

    from courses.models import OutboxMessage
    from courses.models.resources import Instructor

    w = await _world(db)
    staff = b.bearer(w["staff"])
    plan = await _run(client, app, db, w["staff"])
    preview = (
        await client.get(
            "/api/staff/timetable",
            params={"campus": "tokyo", "from": "2026-06-01", "to": "2026-06-30", "plan_id": plan["id"]},
            headers=staff,
        )
    ).json()["modules"]
    assert (await client.post(f"/api/staff/plans/{plan['id']}/publish", headers=staff)).status_code == 200
    async with db.read() as s:
        mails = list(
            await s.exec(select(OutboxMessage).where(OutboxMessage.subject.startswith("【ご担当の講義】")))
        )  # type: ignore[attr-defined]
        teachers = {i.id: i for i in await s.exec(select(Instructor))}
    teaching = {m["instructor_id"] for m in preview}
    assert sorted(m.to_email for m in mails) == sorted(teachers[i].email for i in teaching)
    for mail in mails:
        iid = next(i for i in teaching if teachers[i].email == mail.to_email)
        mine = [m for m in preview if m["instructor_id"] == iid]
        assert mail.body.count("・2026年6月") == len(mine)
        assert all(m["module"] in mail.body and "第" in mail.body for m in mine)
    # the same timetable published again tells nobody anything new
    again = await _run(client, app, db, w["staff"], pin_published=True)
    assert (await client.post(f"/api/staff/plans/{again['id']}/publish", headers=staff)).status_code == 200
    async with db.read() as s:
        total = list(
            await s.exec(select(OutboxMessage).where(OutboxMessage.subject.startswith("【ご担当の講義")))
        )  # type: ignore[attr-defined]
    assert len(total) == len(mails)

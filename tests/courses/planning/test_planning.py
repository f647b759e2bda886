"""Solver runs through the API: queue, solve off the event loop, inspect, compare, publish, re-solve."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.core.db import Database
from courses.enrollment import service as enrollment
from courses.models import DormRoom, Enrollment
from courses.models.resources import PracticumSite, PracticumSiteAvailability, RoomOutage
from courses.planning.runner import Runner
from tests.courses import builders as b

START = date(2026, 6, 8)  # a Monday; two blocks: 8-10 June and 22-24 June


async def _campus(
    db: Database, *, women: int = 4, rooms: int = 6, learners: int = 5, practicum: bool = False
) -> dict:
    """A campus with ``rooms`` single rooms (the last ``women`` on a women's floor), one session in
    two blocks, and ``learners`` lodging learners (alternating female/male)."""
    async with db.write() as s:
        await b.category(s, "finance")
        campus = await b.campus(s, "tokyo")
        other = await b.campus(s, "sendai")
        for i in range(rooms):
            zone = "women" if i >= rooms - women else "men"
            s.add(
                DormRoom(
                    campus_id=campus.id or 0,
                    room_number=f"{300 + i}",
                    floor=3,
                    kind="single",
                    zone=zone,
                    accessible=i == 0,
                )
            )
        course = await b.course(s, "KEI01", days=6, has_practicum=practicum)
        sess = await b.session(s, course, campus, start=START, blocks=[(0, 3), (14, 3)], capacity=40)
        staff = await b.user(s, role="staff", campuses=[campus])
        outsider = await b.user(s, role="staff", campuses=[other])
        people = []
        for i in range(learners):
            learner = await b.user(s, gender="female" if i % 2 == 0 else "male")
            result = await s.run_sync(
                enrollment.enroll,
                user=learner,
                session_id=sess.id or 0,
                lodging=True,
                now=datetime(2026, 5, 15, tzinfo=UTC),
                check_window=False,
                notify=False,
            )
            people.append((learner, result.id))
        if practicum:
            for k in range(3):
                site = PracticumSite(
                    campus_id=campus.id or 0,
                    name=f"実習先{k}",
                    company_name=f"受入{k}株式会社",
                    industry="E",
                    travel_minutes=20 + 10 * k,
                    capacity_per_day=8,
                )
                s.add(site)
                await s.flush()
                s.add(
                    PracticumSiteAvailability(
                        site_id=site.id or 0, start_date=date(2026, 4, 1), end_date=date(2027, 3, 31)
                    )
                )
        return {
            "session_id": sess.id,
            "staff": await b.token(s, staff),
            "outsider": await b.token(s, outsider),
            "learners": [(await b.token(s, u), eid) for u, eid in people],
        }


def _runner(app: Litestar, db: Database) -> Runner:
    # a thread pool in tests (CP-SAT releases the GIL); one test below uses the real process pool.
    # The test's own Database: the app's engine belongs to the test client's event loop.
    return Runner(db, app.state.clock, executor=ThreadPoolExecutor(max_workers=1))


async def _run(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database, token: str, **body: object
) -> dict:
    request = {"campus": "tokyo", "from": "2026-06-01", "to": "2026-06-30", "time_limit_s": 5} | body
    r = await client.post("/api/staff/solver-runs", json=request, headers=b.bearer(token))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    runner = _runner(app, db)
    assert await runner.run_once()
    runner.close()
    run = (await client.get(f"/api/staff/solver-runs/{r.json()['id']}", headers=b.bearer(token))).json()
    assert run["status"] == "done", run
    return run


def _no_double_booking(assignments: list[dict]) -> None:
    """Independent of the solver and of the service's validator: one learner per single room and block."""
    seen = set()
    for a in assignments:
        key = (a["room_id"], a["block"])
        assert key not in seen, key
        seen.add(key)


async def test_run_lifecycle_publish_and_learner_sees_room(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _campus(db)
    run = await _run(client, app, db, w["staff"], kinds=["rooms"])
    plan_id = run["progress"]["plans"][0]
    plan = (await client.get(f"/api/staff/plans/{plan_id}", headers=b.bearer(w["staff"]))).json()
    assert plan["status"] in ("optimal", "feasible")
    assert plan["validator"]["ok"] is True
    assert plan["unassigned"] == []
    assert len(plan["assignments"]) == 5 * 2  # every learner, both blocks
    _no_double_booking(plan["assignments"])
    assert set(plan["breakdown"]) and all("cost" in v for v in plan["breakdown"].values())
    # nothing is shown to learners before publication
    token, _eid = w["learners"][0]
    mine = (await client.get("/api/me/enrollments", headers=b.bearer(token))).json()
    assert mine[0]["room"] is None
    r = await client.post(f"/api/staff/plans/{plan_id}/publish", headers=b.bearer(w["staff"]))
    assert r.status_code == 200 and r.json()["published_at"]
    mine = (await client.get("/api/me/enrollments", headers=b.bearer(token))).json()
    assert mine[0]["room"] in {a["room"] for a in plan["assignments"]}
    again = await client.post(f"/api/staff/plans/{plan_id}/publish", headers=b.bearer(w["staff"]))
    assert again.status_code == 409


async def test_women_shortage_is_explained(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _campus(db, women=1, rooms=6, learners=5)  # 3 women, 1 women's room
    run = await _run(client, app, db, w["staff"], kinds=["rooms"])
    plan = (
        await client.get(f"/api/staff/plans/{run['progress']['plans'][0]}", headers=b.bearer(w["staff"]))
    ).json()
    assert plan["validator"]["ok"] is True
    assert len({u["learner_id"] for u in plan["unassigned"]}) == 2  # the fewest left unhoused
    text = " ".join(plan["messages"]) + " ".join(u["reason"] for u in plan["unassigned"])
    assert "6月8日" in text and "女性" in text


async def test_resolve_after_cancellation_moves_few(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _campus(db, women=4, rooms=8, learners=6)
    first = await _run(client, app, db, w["staff"], kinds=["rooms"])
    first_id = first["progress"]["plans"][0]
    await client.post(f"/api/staff/plans/{first_id}/publish", headers=b.bearer(w["staff"]))
    token, eid = w["learners"][0]
    assert (await client.delete(f"/api/enrollments/{eid}", headers=b.bearer(token))).status_code == 200
    second = await _run(client, app, db, w["staff"], kinds=["rooms"], pin_published=False)
    second_id = second["progress"]["plans"][0]
    plan = (await client.get(f"/api/staff/plans/{second_id}", headers=b.bearer(w["staff"]))).json()
    assert plan["moved"] == 0 and len(plan["assignments"]) == 5 * 2
    compare = (await client.get(f"/api/staff/plans/{second_id}/compare", headers=b.bearer(w["staff"]))).json()
    assert compare["published_plan_id"] == first_id and compare["moves"] == []


async def test_practicum_groups_at_sites(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _campus(db, learners=8, rooms=10, women=5, practicum=True)
    run = await _run(client, app, db, w["staff"], kinds=["rooms", "practicum"])
    ids = run["progress"]["plans"]
    assert len(ids) == 2
    plan = (await client.get(f"/api/staff/plans/{ids[1]}", headers=b.bearer(w["staff"]))).json()
    assert plan["kind"] == "practicum" and plan["validator"]["ok"] is True
    assert len(plan["assignments"]) == 8 and plan["unassigned"] == []


async def test_scoping_and_bad_requests(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _campus(db)
    body = {"campus": "tokyo", "from": "2026-06-01", "to": "2026-06-30", "time_limit_s": 5}
    r = await client.post("/api/staff/solver-runs", json=body, headers=b.bearer(w["outsider"]))
    assert r.status_code == 403
    for bad, field in (
        ({"time_limit_s": 0}, "time_limit_s"),
        ({"to": "2026-05-01"}, "to"),
        ({"from": "2026-02-30"}, "from"),
        ({"kinds": ["everything"]}, "kinds"),
        ({"campus": "atlantis"}, "campus"),
    ):
        r = await client.post("/api/staff/solver-runs", json=body | bad, headers=b.bearer(w["staff"]))
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["errors"][0]["field"] == field
    run = await _run(client, app, db, w["staff"], kinds=["rooms"])
    plan_id = run["progress"]["plans"][0]
    assert (
        await client.get(f"/api/staff/plans/{plan_id}", headers=b.bearer(w["outsider"]))
    ).status_code == 403
    assert (
        await client.get(f"/api/staff/solver-runs/{run['id']}", headers=b.bearer(w["outsider"]))
    ).status_code == 403
    assert (
        await client.post(f"/api/staff/plans/{plan_id}/publish", headers=b.bearer(w["outsider"]))
    ).status_code == 403


@pytest.mark.slow
async def test_solves_in_a_worker_process(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _campus(db)
    r = await client.post(
        "/api/staff/solver-runs",
        json={
            "campus": "tokyo",
            "from": "2026-06-01",
            "to": "2026-06-30",
            "time_limit_s": 5,
            "kinds": ["rooms"],
        },
        headers=b.bearer(w["staff"]),
    )
    runner = Runner(db, app.state.clock, workers=1)
    try:
        assert await runner.run_once()
    finally:
        runner.close()
    run = (await client.get(f"/api/staff/solver-runs/{r.json()['id']}", headers=b.bearer(w["staff"]))).json()
    assert run["status"] == "done" and run["progress"]["plans"]
    async with db.read() as s:
        assert len(list(await s.exec(select(Enrollment)))) == 5


async def test_planning_pages(client: AsyncTestClient[Litestar], app: Litestar, db: Database) -> None:
    w = await _campus(db)
    staff = b.bearer(w["staff"])
    page = await client.get("/staff/planning", headers=staff)
    assert page.status_code == 200 and "計算を開始" in page.text
    form = {
        "campus": "tokyo",
        "kind_rooms": "on",
        "from": "2026-06-01",
        "to": "2026-06-30",
        "time_limit_s": "5",
        "_csrf_token": client.cookies.get("csrftoken", ""),
    }
    r = await client.post("/staff/planning/runs", data=form, headers=staff, follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/staff/runs/")
    run_url = r.headers["location"]
    runner = _runner(app, db)
    assert await runner.run_once()
    runner.close()
    assert "状態" in (await client.get(run_url, headers=staff)).text
    progress = (await client.get(run_url + "/progress", headers=staff)).json()
    plan_id = progress["progress"]["plans"][0]
    detail = await client.get(f"/staff/plans/{plan_id}", headers=staff)
    assert detail.status_code == 200 and "評価の内訳" in detail.text and "違反なし" in detail.text
    bad = {**form, "time_limit_s": "0"}
    r = await client.post("/staff/planning/runs", data=bad, headers=staff, follow_redirects=False)
    assert "error=" in r.headers["location"]


async def test_pinned_resolve_releases_a_room_taken_out_of_service(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    """A published room that goes out of service in the second block is not pinned there."""
    from courses.models.resources import RoomOutage

    w = await _campus(db, women=4, rooms=8, learners=4)
    first = await _run(client, app, db, w["staff"], kinds=["rooms"])
    first_id = first["progress"]["plans"][0]
    await client.post(f"/api/staff/plans/{first_id}/publish", headers=b.bearer(w["staff"]))
    plan = (await client.get(f"/api/staff/plans/{first_id}", headers=b.bearer(w["staff"]))).json()
    victim = next(a for a in plan["assignments"] if a["block"] == 1)
    async with db.write() as s:
        room = await s.get(DormRoom, victim["room_id"])
        assert room is not None
        s.add(
            RoomOutage(
                campus_id=room.campus_id,
                dorm_room_id=room.id,
                start_date=date(2026, 6, 22),
                end_date=date(2026, 6, 23),
                reason="配管工事",
            )
        )
    second = await _run(client, app, db, w["staff"], kinds=["rooms"], pin_published=True)
    plan2 = (
        await client.get(f"/api/staff/plans/{second['progress']['plans'][0]}", headers=b.bearer(w["staff"]))
    ).json()
    assert plan2["validator"]["ok"] is True and plan2["unassigned"] == []
    moved = [
        a for a in plan2["assignments"] if a["enrollment_id"] == victim["enrollment_id"] and a["block"] == 1
    ]
    assert moved and moved[0]["room_id"] != victim["room_id"]
    # everyone else keeps their published room
    before = {(a["enrollment_id"], a["block"]): a["room_id"] for a in plan["assignments"]}
    changed = [a for a in plan2["assignments"] if before[(a["enrollment_id"], a["block"])] != a["room_id"]]
    assert len(changed) <= 2


async def test_only_one_instance_claims_a_run(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database, database_url: str
) -> None:
    """Service instances share the queue: of several concurrent claims exactly one wins each run."""
    import asyncio

    from courses.planning.runner import claim_next

    w = await _campus(db)
    for _ in range(3):
        r = await client.post(
            "/api/staff/solver-runs",
            json={"campus": "tokyo", "from": "2026-06-01", "to": "2026-06-30", "time_limit_s": 5},
            headers=b.bearer(w["staff"]),
        )
        assert r.status_code == 202
    instances = [Database.connect(database_url) for _ in range(4)]
    try:
        claimed = await asyncio.gather(*(claim_next(d, app.state.clock()) for d in instances * 2))
    finally:
        for d in instances:
            await d.dispose()
    ids = [run.id for run in claimed if run is not None]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 3


async def test_an_outage_stored_to_the_end_of_the_calendar_does_not_break_room_runs(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    """A row written before the console bounded its dates: the run clips it to the stay and works."""
    w = await _campus(db, rooms=7)
    async with db.write() as s:
        room = (await s.exec(select(DormRoom).where(DormRoom.room_number == "301"))).one()
        s.add(
            RoomOutage(
                campus_id=room.campus_id,
                dorm_room_id=room.id,
                start_date=date(2026, 6, 1),
                end_date=date(9999, 12, 31),
            )
        )
    run = await _run(client, app, db, w["staff"], kinds=["rooms"])
    plan_id = run["progress"]["plans"][0]
    plan = (await client.get(f"/api/staff/plans/{plan_id}", headers=b.bearer(w["staff"]))).json()
    assert plan["validator"]["ok"] is True and plan["unassigned"] == []
    assert "301" not in {a["room"] for a in plan["assignments"]}

"""The rooms plan as nights x rooms: who sleeps where, empty beds, outages, changes from the published plan."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from courses.core.db import Database
from courses.models import DormRoom, Enrollment, User
from courses.models.plans import PlannedRoom
from courses.models.resources import RoomOutage
from tests.courses import builders as b
from tests.courses.planning.test_planning import _campus, _run

WEEK = "from=2026-06-08&to=2026-06-10"  # the first block: days 8-10 June, nights 8 and 9


async def _names(db: Database) -> dict[int, str]:
    async with db.read() as s:
        rows = await s.exec(select(Enrollment.id, User.name).join(User, col(User.id) == Enrollment.user_id))
        return {int(e or 0): n for e, n in rows}


async def test_who_sleeps_where_night_by_night(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _campus(db)
    async with db.write() as s:
        room = (await s.exec(select(DormRoom).where(DormRoom.room_number == "305"))).one()
        s.add(
            RoomOutage(
                campus_id=room.campus_id,
                dorm_room_id=room.id,
                start_date=date(2026, 6, 9),
                end_date=date(2026, 6, 9),
            )
        )
    staff = b.bearer(w["staff"])
    run = await _run(client, app, db, w["staff"], kinds=["rooms"])
    plan_id = run["progress"]["plans"][0]
    plan = (await client.get(f"/api/staff/plans/{plan_id}", headers=staff)).json()
    r = await client.get(f"/api/staff/plans/{plan_id}/rooms?{WEEK}", headers=staff)
    assert r.status_code == 200, r.text
    view = r.json()
    assert (view["from"], view["to"], view["published"]) == ("2026-06-08", "2026-06-10", False)
    rooms = {x["room_number"]: x for x in view["rooms"]}
    assert sorted(rooms) == [f"{300 + i}" for i in range(6)]
    # every first-block assignment of the plan is in its room on both nights, and nowhere else
    seen = {
        (x["room_id"], n["date"], o["enrollment_id"])
        for x in view["rooms"]
        for n in x["nights"]
        for o in n["occupants"]
    }
    expected = {
        (a["room_id"], night, a["enrollment_id"])
        for a in plan["assignments"]
        if a["block"] == 0
        for night in ("2026-06-08", "2026-06-09")
    }
    assert seen == expected and len(expected) == 10
    names = await _names(db)
    for x in view["rooms"]:
        for n in x["nights"]:
            assert all(o["name"] == names[o["enrollment_id"]] for o in n["occupants"])
            assert n["empty_beds"] == (0 if n["out_of_service"] else x["beds"] - len(n["occupants"]))
    # the room out of service that night holds nobody and says so; the last day is nobody's night
    assert rooms["305"]["nights"][1] == {
        "date": "2026-06-09",
        "out_of_service": True,
        "empty_beds": 0,
        "occupants": [],
    }
    assert [t["occupied_beds"] for t in view["totals"]] == [5, 5, 0]
    assert [t["beds"] for t in view["totals"]] == [6, 5, 6]
    # the page and the CSV say the same
    page = await client.get(f"/staff/plans/{plan_id}/rooms?{WEEK}", headers=staff)
    assert page.status_code == 200 and "使用停止" in page.text and "3階" in page.text
    assert all(names[e] in page.text for _, _, e in expected)
    plan_page = await client.get(f"/staff/plans/{plan_id}", headers=staff)
    assert f"/staff/plans/{plan_id}/rooms" in plan_page.text
    csv = await client.get(f"/staff/plans/{plan_id}/rooms.csv?{WEEK}", headers=staff)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("日付（泊）,部屋")
    assert sum(1 for line in lines if line.startswith("2026-06-08") and "（空き）" not in line) == 5
    assert any(line.startswith("2026-06-09,305,") and "使用停止" in line for line in lines)
    # the workbook holds the same rows as the CSV, cell for cell
    xlsx = await client.get(f"/staff/plans/{plan_id}/rooms.xlsx?{WEEK}", headers=staff)
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    import csv as csv_module
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).worksheets[0]
    cells = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    rows = list(csv_module.reader(io.StringIO(csv.content.decode("utf-8-sig"))))
    assert [[c.strip() for c in r] for r in cells] == [[c.strip() for c in r[: len(cells[0])]] for r in rows]


async def test_an_unpublished_plan_marks_who_would_move(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _campus(db)
    staff = b.bearer(w["staff"])
    first = (await _run(client, app, db, w["staff"], kinds=["rooms"]))["progress"]["plans"][0]
    assert (await client.post(f"/api/staff/plans/{first}/publish", headers=staff)).status_code == 200
    second = (await _run(client, app, db, w["staff"], kinds=["rooms"], pin_published=True))["progress"][
        "plans"
    ][0]
    # move one learner of the published plan elsewhere, as if an earlier plan had put them there
    async with db.write() as s:
        row = (
            await s.exec(select(PlannedRoom).where(PlannedRoom.plan_id == first, PlannedRoom.block_seq == 0))
        ).first()
        assert row is not None
        other = (await s.exec(select(DormRoom).where(DormRoom.id != row.dorm_room_id))).first()
        assert other is not None
        moved, row.dorm_room_id = row.enrollment_id, other.id or 0
        s.add(row)
    view = (await client.get(f"/api/staff/plans/{second}/rooms?{WEEK}", headers=staff)).json()
    assert view["compared_with_plan_id"] == first
    changed = {
        o["enrollment_id"] for x in view["rooms"] for n in x["nights"] for o in n["occupants"] if o["changed"]
    }
    assert changed == {moved}
    page = await client.get(f"/staff/plans/{second}/rooms?{WEEK}", headers=staff)
    assert 'class="changed"' in page.text and "変更" in page.text
    # the published plan itself compares with nothing
    mine = (await client.get(f"/api/staff/plans/{first}/rooms?{WEEK}", headers=staff)).json()
    assert mine["compared_with_plan_id"] is None and mine["published"] is True


async def test_ranges_and_who_may_look(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _campus(db)
    staff = b.bearer(w["staff"])
    plan_id = (await _run(client, app, db, w["staff"], kinds=["rooms"]))["progress"]["plans"][0]
    default = (await client.get(f"/api/staff/plans/{plan_id}/rooms", headers=staff)).json()
    assert default["from"] == "2026-06-01" and default["to"] == "2026-06-07"  # the plan's first week
    backwards = await client.get(
        f"/api/staff/plans/{plan_id}/rooms?from=2026-06-10&to=2026-06-08", headers=staff
    )
    assert backwards.status_code == 400 and backwards.json()["errors"][0]["field"] == "to"
    too_long = await client.get(
        f"/api/staff/plans/{plan_id}/rooms?from=2026-06-01&to=2026-07-15", headers=staff
    )
    assert too_long.status_code == 400 and "31" in too_long.json()["detail"]
    page = await client.get(f"/staff/plans/{plan_id}/rooms?from=2026-06-10&to=2026-06-08", headers=staff)
    assert page.status_code == 400 and "終了日" in page.text
    outsider = b.bearer(w["outsider"])
    assert (await client.get(f"/api/staff/plans/{plan_id}/rooms", headers=outsider)).status_code in (403, 404)
    assert (await client.get(f"/staff/plans/{plan_id}/rooms.csv", headers=outsider)).status_code in (403, 404)
    learner = b.bearer(w["learners"][0][0])
    assert (await client.get(f"/api/staff/plans/{plan_id}/rooms", headers=learner)).status_code == 403


async def test_the_roster_shows_each_room_once_published(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _campus(db)
    staff = b.bearer(w["staff"])
    plan_id = (await _run(client, app, db, w["staff"], kinds=["rooms"]))["progress"]["plans"][0]
    roster = f"/api/staff/sessions/{w['session_id']}/roster"
    assert all(r["room"] is None for r in (await client.get(roster, headers=staff)).json()["enrollments"])
    assert (await client.post(f"/api/staff/plans/{plan_id}/publish", headers=staff)).status_code == 200
    plan = (await client.get(f"/api/staff/plans/{plan_id}", headers=staff)).json()
    rooms: dict[int, list[str]] = {}
    for a in sorted(plan["assignments"], key=lambda a: a["block"]):
        rooms.setdefault(a["enrollment_id"], []).append(a["room"])
    listed = (await client.get(roster, headers=staff)).json()["enrollments"]
    for r in listed:
        numbers = rooms[r["enrollment_id"]]
        assert r["room"] == (numbers[0] if len(set(numbers)) == 1 else "・".join(numbers))
    csv = (await client.get(roster + ".csv", headers=staff)).content.decode("utf-8-sig").splitlines()
    assert csv[0].endswith("部屋（公開中の部屋割り）,実習先（公開中の計画）")
    assert all(
        any(line.startswith(f"{r['enrollment_id']},") and r["room"] in line for line in csv) for r in listed
    )
    page = await client.get(f"/staff/sessions/{w['session_id']}", headers=staff)
    assert page.status_code == 200 and all(r["room"] in page.text for r in listed)


async def test_the_plan_page_speaks_plain_japanese(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _campus(db, women=1, learners=5)  # three women, one women's room
    staff = b.bearer(w["staff"])
    plan_id = (await _run(client, app, db, w["staff"], kinds=["rooms"]))["progress"]["plans"][0]
    plan = (await client.get(f"/api/staff/plans/{plan_id}", headers=staff)).json()
    left_out = {u["learner_id"] for u in plan["unassigned"]}
    assert left_out
    page = (await client.get(f"/staff/plans/{plan_id}", headers=staff)).text
    names = await _names(db)
    assert all(names[e] in page for e in left_out)  # by name, not by enrollment id
    assert "部屋を割り当てられなかった受講者" in page and "<code>unhoused</code>" not in page
    assert any(word in page for word in ("最適（証明済み）", "実行可能（"))
    listing = (await client.get("/staff/planning?campus=tokyo", headers=staff)).text
    assert f"部屋割りの計画 #{plan_id}" in listing


def test_status_words_say_how_far_from_optimal_a_plan_may_be() -> None:
    from courses.core.web import plan_status, rule_label

    assert plan_status("optimal", 0.0, 100) == "最適（証明済み）"
    assert plan_status("feasible", 0.007, 993) == "実行可能（最適まで最大 0.7%）"
    assert plan_status("feasible", 0.0004, 999) == "実行可能（最適まで最大 0.1%未満）"
    assert plan_status("feasible", 0.0, 0) == "実行可能（最適かどうかは未証明）"
    assert plan_status("timed_out", 0.0, 0).startswith("時間切れ")
    assert rule_label("timetable.unplaced") == "時間割: 時間割に入らなかったモジュール"
    assert rule_label("instructors.cost") == "講師: 講師謝金・旅費（円）"
    assert rule_label("unhoused") == "部屋を割り当てられなかった受講者"


async def test_publishing_tells_each_learner_their_room_once(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    from courses.models import OutboxMessage

    w = await _campus(db)
    staff = b.bearer(w["staff"])
    first = (await _run(client, app, db, w["staff"], kinds=["rooms"]))["progress"]["plans"][0]
    assert (await client.post(f"/api/staff/plans/{first}/publish", headers=staff)).status_code == 200
    plan = (await client.get(f"/api/staff/plans/{first}", headers=staff)).json()
    async with db.read() as s:
        mails = list(
            await s.exec(select(OutboxMessage).where(col(OutboxMessage.subject).contains("宿泊のお部屋")))
        )
        people = {u.email: u for u in await s.exec(select(User))}
    assert len(mails) == 5  # every learner, once, with both blocks
    rooms_of: dict[int, set[str]] = {}
    for a in plan["assignments"]:
        rooms_of.setdefault(a["enrollment_id"], set()).add(a["room"])
    async with db.read() as s:
        by_user = {e.user_id: e.id for e in await s.exec(select(Enrollment))}
    for mail in mails:
        eid = by_user[people[mail.to_email].id]
        assert all(f"{room}号室" in mail.body for room in rooms_of[eid])
        assert "6月8日" in mail.body and "6月22日" in mail.body
    # a re-solve that keeps everyone where they are tells nobody again
    second = (await _run(client, app, db, w["staff"], kinds=["rooms"], pin_published=True))["progress"][
        "plans"
    ][0]
    assert (await client.post(f"/api/staff/plans/{second}/publish", headers=staff)).status_code == 200
    async with db.read() as s:
        again = list(
            await s.exec(select(OutboxMessage).where(col(OutboxMessage.subject).contains("宿泊のお部屋")))
        )
    assert len(again) == 5


async def test_publishing_a_practicum_plan_tells_each_learner_their_site(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    from courses.models import OutboxMessage
    from courses.models.resources import PracticumSite

    w = await _campus(db, practicum=True)
    staff = b.bearer(w["staff"])
    plan_id = (await _run(client, app, db, w["staff"], kinds=["practicum"]))["progress"]["plans"][0]
    plan = (await client.get(f"/api/staff/plans/{plan_id}", headers=staff)).json()
    assert plan["assignments"]
    assert (await client.post(f"/api/staff/plans/{plan_id}/publish", headers=staff)).status_code == 200
    async with db.read() as s:
        mails = list(
            await s.exec(select(OutboxMessage).where(col(OutboxMessage.subject).contains("企業実習先")))
        )
        sites = {x.id: x for x in await s.exec(select(PracticumSite))}
        users = {u.email: u.id for u in await s.exec(select(User))}
        by_user = {e.user_id: e.id for e in await s.exec(select(Enrollment))}
    site_of = {a["enrollment_id"]: a["site_id"] for a in plan["assignments"]}
    assert len(mails) == len(site_of)
    for mail in mails:
        site = sites[site_of[by_user[users[mail.to_email]]]]
        assert site.name in mail.body and f"約{site.travel_minutes}分" in mail.body


async def test_staff_actions_and_publication_are_audited_in_japanese(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    from courses.models.resources import AuditLog

    w = await _campus(db, learners=2)
    staff = b.bearer(w["staff"])
    async with db.write() as s:
        admin = b.bearer(await b.token(s, await b.user(s, role="admin")))
        walk_in = await b.user(s, "walkin@example.jp")
    sid = w["session_id"]
    r = await client.post(
        f"/api/staff/sessions/{sid}/enrollments",
        json={"email": "walkin@example.jp", "lodging": False},
        headers=staff,
    )
    assert r.status_code == 201, r.text
    enrolled = r.json()["id"]
    assert (await client.post(f"/api/staff/enrollments/{enrolled}/cancel", headers=staff)).status_code == 200
    plan_id = (await _run(client, app, db, w["staff"], kinds=["rooms"]))["progress"]["plans"][0]
    assert (await client.post(f"/api/staff/plans/{plan_id}/publish", headers=staff)).status_code == 200
    # an edit that changes nothing writes nothing
    async with db.write() as s:
        from courses.core import audit

        assert (
            await audit.record(
                s,
                None,
                "update",
                "courses",
                1,
                None,
                {"a": 1, "version": 1},
                {"a": 1, "version": 2},
                datetime.now(UTC),
            )
            is None
        )
    async with db.read() as s:
        logged = [
            (x.action, x.entity, x.entity_id)
            for x in await s.exec(select(AuditLog).order_by(col(AuditLog.id)))
        ]
    assert logged == [
        ("enroll", "enrollment", enrolled),
        ("cancel", "enrollment", enrolled),
        ("publish", "plan", plan_id),
    ]
    page = (await client.get("/admin/audit", headers=admin)).text
    assert "職員による申込" in page and "中止・キャンセル" in page and "公開" in page
    assert walk_in.name in page and "状態: confirmed → cancelled" in page
    options = [line for line in page.splitlines() if "<option" in line and 'name="entity"' in line]
    labels = re.findall(r'<option value="([^"]*)"', options[0]) if options else []
    assert labels and len(labels) == len(set(labels))


async def test_practicum_groups_per_host_company(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _campus(db, practicum=True)
    staff = b.bearer(w["staff"])
    plan_id = (await _run(client, app, db, w["staff"], kinds=["practicum"]))["progress"]["plans"][0]
    plan = (await client.get(f"/api/staff/plans/{plan_id}", headers=staff)).json()
    r = await client.get(f"/api/staff/plans/{plan_id}/sites", headers=staff)
    assert r.status_code == 200, r.text
    sites = r.json()["sites"]
    listed = {(h["site_id"], x["enrollment_id"]) for h in sites for g in h["groups"] for x in g["learners"]}
    assert listed == {(a["site_id"], a["enrollment_id"]) for a in plan["assignments"]}
    names = await _names(db)
    for h in sites:
        for day in h["per_day"]:
            on_day = sum(len(g["learners"]) for g in h["groups"] if day["date"] in g["days"])
            assert day["learners"] == on_day <= h["capacity_per_day"]
        for g in h["groups"]:
            assert g["days"] and all(x["name"] == names[x["enrollment_id"]] for x in g["learners"])
    page = await client.get(f"/staff/plans/{plan_id}/sites", headers=staff)
    assert page.status_code == 200 and all(names[e] in page.text for _, e in listed)
    assert (
        f"/staff/plans/{plan_id}/sites" in (await client.get(f"/staff/plans/{plan_id}", headers=staff)).text
    )
    one = sites[0]
    csv = await client.get(f"/staff/plans/{plan_id}/sites.csv?site={one['site_id']}", headers=staff)
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("実習先,受入企業") and len(lines) == 1 + sum(
        len(g["learners"]) for g in one["groups"]
    )
    assert all(line.startswith(one["name"] + ",") for line in lines[1:])
    outsider = b.bearer(w["outsider"])
    assert (await client.get(f"/api/staff/plans/{plan_id}/sites", headers=outsider)).status_code in (403, 404)
    rooms_plan = (await _run(client, app, db, w["staff"], kinds=["rooms"]))["progress"]["plans"][0]
    assert (await client.get(f"/api/staff/plans/{rooms_plan}/sites", headers=staff)).status_code == 400


async def test_a_finished_run_names_the_kind_of_each_plan(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    w = await _campus(db, practicum=True)
    staff = b.bearer(w["staff"])
    run = await _run(client, app, db, w["staff"], kinds=["rooms", "practicum"])
    kinds = run["progress"]["plan_kinds"]
    for plan_id, kind in zip(run["progress"]["plans"], kinds, strict=True):
        assert (await client.get(f"/api/staff/plans/{plan_id}", headers=staff)).json()["kind"] == kind
    assert sorted(kinds) == ["practicum", "rooms"]
    page = await client.get(f"/staff/runs/{run['id']}", headers=staff)
    assert '<progress id="elapsed"' in page.text and 'id="chart"' in page.text


async def test_the_staff_dashboard_warns_of_full_sessions_short_nights_and_stale_plans(
    client: AsyncTestClient[Litestar], app: Litestar, db: Database
) -> None:
    from courses.models import CourseSession
    from courses.staff.dashboard import overview

    w = await _campus(db, rooms=3, women=1, learners=5)  # five lodgers, three beds
    staff = b.bearer(w["staff"])
    plan_id = (await _run(client, app, db, w["staff"], kinds=["rooms"]))["progress"]["plans"][0]
    assert (await client.post(f"/api/staff/plans/{plan_id}/publish", headers=staff)).status_code == 200
    async with db.write() as s:
        sess = await s.get(CourseSession, w["session_id"])
        assert sess is not None
        sess.capacity = 5  # now full: the next one waits
        s.add(sess)
    r = await client.post(
        f"/api/sessions/{w['session_id']}/enrollments",
        json={"lodging": True},
        headers=b.bearer(w["learners"][0][0]),
    )
    assert r.status_code == 409  # already enrolled; use a new learner
    async with db.write() as s:
        late = await b.token(s, await b.user(s))
    r = await client.post(
        f"/api/sessions/{w['session_id']}/enrollments", json={"lodging": True}, headers=b.bearer(late)
    )
    assert r.status_code == 201 and r.json()["status"] == "waitlisted"
    async with db.write() as s:  # a learner of the plan changed their booking after it was made
        from datetime import timedelta

        from courses.models.plans import PlanVersion

        plan = await s.get(PlanVersion, plan_id)
        assert plan is not None
        changed = await s.get(Enrollment, w["learners"][1][1])
        assert changed is not None
        changed.updated_at = plan.created_at + timedelta(minutes=5)
        s.add(changed)
    async with db.read() as s:
        view = await overview(s, sess.campus_id, date(2026, 6, 1))
    nights = {n.night: n for n in view.nights}
    assert (nights[date(2026, 6, 8)].demand, nights[date(2026, 6, 8)].beds) == (5, 3)
    assert (nights[date(2026, 6, 10)].demand, nights[date(2026, 6, 22)].demand) == (0, 5)
    line = next(x for x in view.sessions if x.session.id == w["session_id"])
    assert line.waiting == 1 and line.fill == 1.0
    text = " ".join(view.warnings)
    assert "キャンセル待ちが1名" in text and "ベッド数を超える夜が4夜" in text and f"計画 #{plan_id}" in text
    page = await client.get("/staff", headers=staff)
    assert page.status_code == 200 and "ベッド数を超える夜が" in page.text and "<svg" in page.text
    roster = await client.get(f"/staff/sessions/{w['session_id']}", headers=staff)
    assert "キャンセル待ち 1名" in roster.text

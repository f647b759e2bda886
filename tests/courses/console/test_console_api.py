"""The staff console API: validation messages, version checks, audit entries, session rules, CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.core.db import Database
from courses.models import CourseSession, Enrollment, OutboxMessage
from courses.models.resources import AuditLog, Instructor, PracticumSite, RoomOutage
from tests.courses import builders as b

Client = AsyncTestClient[Litestar]


@dataclass
class World:
    tokyo_id: int
    sanjo_id: int
    session_id: int
    draft_id: int
    classroom_id: int
    dorm_id: int
    instructor_id: int
    site_id: int
    staff: dict[str, str]
    other: dict[str, str]
    admin: dict[str, str]
    learner: dict[str, str]
    learners: list[str]


async def world(db: Database, capacity: int = 2) -> World:
    async with db.write() as s:
        await b.category(s, "finance")
        tokyo = await b.campus(s, "tokyo")
        sanjo = await b.campus(s, "sanjo")
        course = await b.course(s, "ZAI01")
        sess = await b.session(s, course, tokyo, start=date(2026, 6, 10), capacity=capacity)
        draft = await b.session(s, course, tokyo, start=date(2026, 9, 7), status="draft")
        room = await b.classroom(s, tokyo)
        dorm = await b.dorm_room(s, tokyo)
        inst = await b.instructor(s, tokyo)
        site = await b.practicum_site(s, tokyo)
        staff = await b.token(s, await b.user(s, role="staff", campuses=[tokyo]))
        other = await b.token(s, await b.user(s, role="staff", campuses=[sanjo]))
        admin = await b.token(s, await b.user(s, role="admin"))
        learner_tokens = [await b.token(s, await b.user(s)) for _ in range(4)]
    return World(
        tokyo.id or 0,
        sanjo.id or 0,
        sess.id or 0,
        draft.id or 0,
        room.id,
        dorm.id,
        inst.id,
        site.id,
        b.bearer(staff),
        b.bearer(other),
        b.bearer(admin),
        b.bearer(learner_tokens[0]),
        learner_tokens,
    )


def field_messages(r: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in r.json().get("errors", [])}


async def test_classroom_create_edit_and_validation_messages(client: Client, db: Database) -> None:
    w = await world(db)
    r = await client.post(
        "/api/console/classrooms", json={"campus": "tokyo", "name": "", "seats": "abc"}, headers=w.staff
    )
    assert r.status_code == 400
    msgs = field_messages(r)
    assert msgs["name"] == "研修室名を入力してください。"
    assert msgs["seats"] == "座席数は半角の整数で入力してください。"
    r = await client.post(
        "/api/console/classrooms", json={"campus": "tokyo", "name": "第9研修室", "seats": 0}, headers=w.staff
    )
    assert field_messages(r)["seats"] == "座席数は1以上500以下で入力してください。"
    r = await client.post(
        "/api/console/classrooms", json={"campus": "tokyo", "name": "第1研修室", "seats": 30}, headers=w.staff
    )
    assert r.status_code == 409 and "同じ名前" in field_messages(r)["name"]
    r = await client.post(
        "/api/console/classrooms", json={"campus": "sanjo", "name": "X", "seats": 30}, headers=w.staff
    )
    assert r.status_code == 403
    r = await client.post(
        "/api/console/classrooms", json={"campus": "tokyo", "name": "第9研修室", "seats": 30}, headers=w.staff
    )
    assert r.status_code == 201
    room = r.json()
    assert room["campus"] == "tokyo" and room["version"] == 1
    r = await client.patch(
        f"/api/console/classrooms/{room['id']}", json={"seats": 36, "version": 1}, headers=w.staff
    )
    assert r.status_code == 200 and r.json()["seats"] == 36 and r.json()["version"] == 2
    r = await client.patch(f"/api/console/classrooms/{room['id']}", json={"seats": 36}, headers=w.staff)
    assert r.status_code == 400 and "version" in field_messages(r)


async def test_concurrent_edit_is_refused_with_explanation(client: Client, db: Database) -> None:
    w = await world(db)
    url = f"/api/console/instructors/{w.instructor_id}"
    first = await client.patch(url, json={"fee_per_module_yen": 60000, "version": 1}, headers=w.staff)
    assert first.status_code == 200
    second = await client.patch(url, json={"fee_per_module_yen": 70000, "version": 1}, headers=w.staff)
    assert second.status_code == 409
    assert "他の職員が先に" in second.json()["detail"]
    async with db.read() as s:
        row = await s.get(Instructor, w.instructor_id)
    assert row is not None and row.fee_per_module_yen == 60000 and row.version == 2


async def test_every_change_is_audited_with_before_and_after(client: Client, db: Database) -> None:
    w = await world(db)
    await client.patch(
        f"/api/console/sites/{w.site_id}", json={"capacity_per_day": 9, "version": 1}, headers=w.staff
    )
    await client.post(f"/api/console/sites/{w.site_id}/archive", json={"version": 2}, headers=w.staff)
    r = await client.get("/api/admin/audit-log", params={"entity": "sites"}, headers=w.admin)
    items = r.json()["items"]
    assert [i["action"] for i in items] == ["archive", "update"]
    update = items[1]
    assert update["before"]["capacity_per_day"] == 6 and update["after"]["capacity_per_day"] == 9
    assert update["user_name"] and update["campus_id"] == w.tokyo_id
    # archived, not deleted
    async with db.read() as s:
        site = await s.get(PracticumSite, w.site_id)
    assert site is not None and site.archived
    # filters
    r = await client.get("/api/admin/audit-log", params={"campus": "sanjo"}, headers=w.admin)
    assert r.json()["total"] == 0
    r = await client.get("/api/admin/audit-log", params={"from": "2030-01-01"}, headers=w.admin)
    assert r.json()["total"] == 0
    # staff may not read the log
    assert (await client.get("/api/admin/audit-log", headers=w.staff)).status_code == 403


async def test_instructor_validation_and_home_campus_scope(client: Client, db: Database) -> None:
    w = await world(db)
    body = {
        "name": "田中 誠",
        "name_kana": "たなか まこと",
        "kind": "outsider",
        "home_prefecture": "48",
        "subjects": "finance,cooking",
        "max_modules_per_month": 3,
        "fee_per_module_yen": 50000,
        "travel_cost_yen": 10000,
        "email": "not-an-email",
        "availability": "2026-06-31..2026-07-01",
    }
    r = await client.post("/api/console/instructors", json=body, headers=w.staff)
    msgs = field_messages(r)
    assert msgs["kind"].startswith("区分は次から選んでください")
    assert (
        msgs["home_prefecture"]
        == "居住地（都道府県）は都道府県コード（01〜47）または都道府県名で入力してください。"
    )
    assert "cooking" in msgs["subjects"]
    assert msgs["email"] == "メールアドレスの形式が正しくありません。"
    assert "実在しない日付" in msgs["availability"]
    body.update(
        kind="external",
        home_prefecture="新潟県",
        subjects="finance",
        email="t@example.jp",
        availability="6-9",
    )
    r = await client.post("/api/console/instructors", json=body, headers=w.other)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (
        made["name_kana"] == "タナカ マコト"
        and made["home_prefecture"] == "15"
        and made["home_campus"] is None
    )
    assert made["availability"] == [{"start": "2026-06-01", "end": "2026-09-30"}]
    # an expert without a home campus may be edited by staff of any campus
    r = await client.patch(
        f"/api/console/instructors/{made['id']}",
        json={"max_modules_per_month": 5, "version": 1},
        headers=w.staff,
    )
    assert r.status_code == 200
    # but a Tokyo instructor not by Sanjo staff, who do not see them either
    assert (
        await client.get(f"/api/console/instructors/{w.instructor_id}", headers=w.other)
    ).status_code == 403
    names = [
        i["name"] for i in (await client.get("/api/console/instructors", headers=w.other)).json()["items"]
    ]
    assert names == ["田中 誠"]


async def test_session_capacity_down_refused_up_promotes(client: Client, db: Database) -> None:
    w = await world(db, capacity=2)
    for t in w.learners[:3]:
        await client.post(
            f"/api/sessions/{w.session_id}/enrollments", json={"lodging": False}, headers=b.bearer(t)
        )
    url = f"/api/console/sessions/{w.session_id}"
    r = await client.patch(url, json={"capacity": 1, "version": 1}, headers=w.staff)
    assert r.status_code == 409
    assert "受講決定者が2名いるため" in field_messages(r)["capacity"] and r.json()["confirmed_count"] == 2
    r = await client.patch(url, json={"capacity": 3, "version": 1}, headers=w.staff)
    assert r.status_code == 200, r.text
    assert r.json()["confirmed_count"] == 3 and len(r.json()["promoted"]) == 1 and r.json()["version"] == 2
    async with db.read() as s:
        statuses = sorted(e.status for e in await s.exec(select(Enrollment)))
    assert statuses == ["confirmed"] * 3


async def test_moving_dates_needs_confirmation_and_tells_learners(client: Client, db: Database) -> None:
    w = await world(db)
    await client.post(
        f"/api/sessions/{w.session_id}/enrollments", json={"lodging": False}, headers=b.bearer(w.learners[0])
    )
    url = f"/api/console/sessions/{w.session_id}"
    move = {"blocks": "2026-06-17..2026-06-18", "version": 1}
    r = await client.patch(url, json=move, headers=w.staff)
    assert r.status_code == 409 and r.json()["affected_count"] == 1
    assert r.json()["affected"][0]["email"].endswith("@example.jp")
    async with db.read() as s:
        before = len(list(await s.exec(select(OutboxMessage))))
    r = await client.patch(url, json={**move, "confirm_affected": True}, headers=w.staff)
    assert r.status_code == 200 and r.json()["notified"] == 1
    assert r.json()["start_date"] == "2026-06-17"
    async with db.read() as s:
        mails = list(await s.exec(select(OutboxMessage)))
    assert len(mails) == before + 1 and "日程" in mails[-1].subject


async def test_session_create_publish_copy_and_window_checks(client: Client, db: Database) -> None:
    w = await world(db)
    body = {
        "campus": "tokyo",
        "course": "ZAI01",
        "capacity": 20,
        "lodging": True,
        "blocks": "2026-10-05..2026-10-06",
        "application_opens": "2026-06-01",
        "application_closes": "2026-10-05",
    }
    r = await client.post("/api/console/sessions", json=body, headers=w.staff)
    assert r.status_code == 400 and "初日" in field_messages(r)["application_closes"]
    body["application_closes"] = "2026-09-28"
    r = await client.post("/api/console/sessions", json={**body, "course": "NOPE"}, headers=w.staff)
    assert field_messages(r)["course"] == "研修コード「NOPE」の研修はありません。"
    r = await client.post("/api/console/sessions", json=body, headers=w.staff)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["status"] == "draft" and made["code"] == "2026-TOK-ZAI01-01"
    # hidden from the public until published
    assert (await client.get(f"/api/sessions/{made['id']}")).status_code == 404
    r = await client.post(f"/api/console/sessions/{made['id']}/publish", json={"version": 1}, headers=w.staff)
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert (await client.get(f"/api/sessions/{made['id']}")).status_code == 200
    r = await client.post(f"/api/console/sessions/{made['id']}/publish", json={"version": 2}, headers=w.staff)
    assert r.status_code == 409
    r = await client.post(f"/api/console/sessions/{made['id']}/copy", headers=w.staff)
    assert r.status_code == 201 and r.json()["code"] == "2027-TOK-ZAI01-01"
    assert r.json()["start_date"] == "2027-10-04" and r.json()["status"] == "draft"
    r = await client.post(f"/api/console/sessions/{made['id']}/copy", headers=w.staff)
    assert r.status_code == 409


async def test_cancel_session_tells_everyone_and_is_audited(client: Client, db: Database) -> None:
    w = await world(db)
    for t in w.learners[:2]:
        await client.post(
            f"/api/sessions/{w.session_id}/enrollments", json={"lodging": False}, headers=b.bearer(t)
        )
    r = await client.post(
        f"/api/console/sessions/{w.session_id}/cancel", json={"version": 1}, headers=w.staff
    )
    assert r.status_code == 200 and r.json()["enrollments_cancelled"] == 2
    async with db.read() as s:
        row = await s.get(CourseSession, w.session_id)
        logs = list(await s.exec(select(AuditLog).where(AuditLog.entity == "session")))
    assert row is not None and row.status == "cancelled"
    assert logs[-1].action == "cancel"


async def test_outages_and_dorm_rooms(client: Client, db: Database) -> None:
    w = await world(db)
    url = f"/api/console/dorm-rooms/{w.dorm_id}/outages"
    r = await client.post(url, json={"start_date": "2026-07-10", "end_date": "2026-07-01"}, headers=w.staff)
    assert field_messages(r)["end_date"] == "終了日は開始日以降の日付にしてください。"
    r = await client.post(
        url, json={"start_date": "2026-07-01", "end_date": "2026-07-10", "reason": "改修"}, headers=w.staff
    )
    assert r.status_code == 201
    assert (
        await client.post(url, json={"start_date": "2026-07-01", "end_date": "2026-07-10"}, headers=w.other)
    ).status_code == 403
    async with db.read() as s:
        outage = (await s.exec(select(RoomOutage))).one()
    assert outage.dorm_room_id == w.dorm_id and outage.classroom_id is None
    assert (await client.delete(f"/api/console/outages/{outage.id}", headers=w.other)).status_code == 403
    assert (await client.delete(f"/api/console/outages/{outage.id}", headers=w.staff)).status_code == 204


async def test_csv_export_and_import_with_preview_and_row_errors(client: Client, db: Database) -> None:
    w = await world(db)
    r = await client.get("/api/console/sites/export.csv", headers=w.staff)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    assert "三条精機" in r.content.decode("utf-8-sig")
    r = await client.get("/api/console/sites/export.csv", params={"encoding": "cp932"}, headers=w.staff)
    assert "三条精機" in r.content.decode("cp932")
    header = "campus,name,company_name,industry,address,travel_minutes,capacity_per_day,excluded_companies,availability\n"
    good = "tokyo,立川食品（本社工場）,株式会社立川食品,E,東京都立川市1-1,25,8,株式会社A;株式会社B,all\n"
    bad = "tokyo,,株式会社X,Z,,abc,8,,\nsanjo,三条刃物,株式会社三条刃物,E,,20,5,,\n"
    files = {"file": ("sites.csv", (header + good + bad).encode("cp932"), "text/csv")}
    r = await client.post("/api/console/sites/import", files=files, data={"dry_run": "true"}, headers=w.staff)
    report = r.json()
    assert r.status_code == 200 and report["rows"] == 3
    errors = {(e["row"], e["field"]): e["message"] for e in report["errors"]}
    assert errors[(3, "name")] == "表示名を入力してください。"
    assert "A〜T" in errors[(3, "industry")]
    assert errors[(3, "travel_minutes")] == "移動時間（分）は半角の整数で入力してください。"
    assert "権限" in errors[(4, "campus")]
    r = await client.post(
        "/api/console/sites/import", files=files, data={"dry_run": "false"}, headers=w.staff
    )
    assert r.status_code == 422 and not r.json()["applied"]
    files = {"file": ("sites.csv", (header + good).encode("utf-8-sig"), "text/csv")}
    r = await client.post(
        "/api/console/sites/import", files=files, data={"dry_run": "false"}, headers=w.staff
    )
    assert r.status_code == 200 and r.json()["applied"] and r.json()["created"] == 1
    async with db.read() as s:
        made = (
            await s.exec(select(PracticumSite).where(PracticumSite.company_name == "株式会社立川食品"))
        ).one()
    assert made.excluded_companies == "株式会社A\n株式会社B"


async def test_admin_manages_staff_accounts(client: Client, db: Database) -> None:
    w = await world(db)
    body = {
        "email": "new.staff@smrj.example.jp",
        "name": "新人 職員",
        "role": "staff",
        "campuses": "sanjo",
        "password": "short",
    }
    r = await client.post("/api/admin/staff", json=body, headers=w.admin)
    assert field_messages(r)["password"] == "初期パスワードは10文字以上にしてください。"
    r = await client.post("/api/admin/staff", json={**body, "password": "long enough pw"}, headers=w.admin)
    assert r.status_code == 201 and r.json()["campuses"] == "sanjo"
    staff_id = r.json()["id"]
    r = await client.patch(f"/api/admin/staff/{staff_id}", json={"campuses": "sanjo,tokyo"}, headers=w.admin)
    assert r.json()["campuses"] == "sanjo,tokyo"
    r = await client.post("/api/auth/login", json={"email": body["email"], "password": "long enough pw"})
    token = r.json().get("token") or r.json().get("access_token")
    r = await client.post(f"/api/admin/staff/{staff_id}/deactivate", headers=w.admin)
    assert r.status_code == 200 and not r.json()["active"] and r.json()["campuses"] == ""
    if token:
        assert (await client.get("/api/console/sessions", headers=b.bearer(token))).status_code == 401
    assert (await client.post("/api/admin/staff", json=body, headers=w.staff)).status_code == 403


async def test_dorm_room_list_api_and_page(client: Client, db: Database) -> None:
    w = await world(db)
    async with db.write() as s:
        tokyo = await s.get(b.Campus, w.tokyo_id)
        assert tokyo is not None
        await b.dorm_room(s, tokyo, "105")
    r = await client.get("/api/console/dorm-rooms", params={"campus": "tokyo"}, headers=w.staff)
    assert r.status_code == 200, r.text
    body = r.json()
    items = body["items"] if isinstance(body, dict) else body
    assert [i["room_number"] for i in items] == ["105", "201"]
    r = await client.get("/console/dorm-rooms", params={"campus": "tokyo"}, headers=w.staff)
    assert r.status_code == 200 and "105" in r.text and "201" in r.text


async def test_outage_dates_are_bounded_and_nothing_is_saved(client: Client, db: Database) -> None:
    w = await world(db)
    url = f"/api/console/dorm-rooms/{w.dorm_id}/outages"
    for start, end, bad in [
        ("2026-07-01", "9999-12-31", "end_date"),
        ("1900-01-01", "2026-07-01", "start_date"),
        ("2026-07-10", "2026-07-01", "end_date"),
    ]:
        r = await client.post(url, json={"start_date": start, "end_date": end}, headers=w.staff)
        assert r.status_code == 400, (start, end, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert bad in field_messages(r), (start, end)
    assert (
        "2025-04-01から2032-03-31まで"
        in field_messages(
            await client.post(
                url, json={"start_date": "2026-07-01", "end_date": "9999-12-31"}, headers=w.staff
            )
        )["end_date"]
    )
    # availability ranges of instructors are bounded the same way
    r = await client.get(f"/api/console/instructors/{w.instructor_id}", headers=w.staff)
    r = await client.patch(
        f"/api/console/instructors/{w.instructor_id}",
        json={"version": r.json()["version"], "availability": "2026-06-01..9999-12-31"},
        headers=w.staff,
    )
    assert r.status_code == 400 and "availability" in field_messages(r)
    async with db.read() as s:
        assert list(await s.exec(select(RoomOutage))) == []

"""Attendance per half-day (issue #19): staff of the session's campus only, everyone present by
default, saving again replaces the half-day, check-in by code or QR token only in its half-day and
only for a confirmed learner, and the completion rule exactly at its threshold."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.accounts.guards import SESSION_COOKIE
from courses.accounts.service import issue_token
from courses.attendance import service
from courses.core.db import Database
from courses.enrollment import service as enrollment
from courses.models.attendance import AttendanceMark
from tests.conftest import JST
from tests.courses import builders as b

START = date(2026, 6, 1)
# two blocks: 6/1-6/2 and 6/8-6/10, i.e. five days and ten half-days
DAYS = [date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 8), date(2026, 6, 9), date(2026, 6, 10)]
SECRET = "test-secret-key-" + "x" * 32


async def world(db: Database, *, has_practicum: bool = False) -> dict[str, Any]:
    now = datetime(2026, 5, 15, 1, 0, tzinfo=UTC)
    async with db.write() as s:
        await b.category(s, "finance")
        tokyo = await b.campus(s, "tokyo")
        sendai = await b.campus(s, "sendai")
        course = await b.course(s, "ATT01", days=5, has_practicum=has_practicum)
        course.practicum_days = 1
        sess = await b.session(s, course, tokyo, start=START, blocks=[(0, 2), (7, 3)], capacity=2)
        w: dict[str, Any] = {
            "session": sess,
            "course": course,
            "staff": await b.user(s, role="staff", campuses=[tokyo]),
            "other_staff": await b.user(s, role="staff", campuses=[sendai]),
            "l1": await b.user(s),
            "l2": await b.user(s),
            "waiting": await b.user(s),
            "stranger": await b.user(s),
        }
        for who in ("l1", "l2", "waiting"):
            r = await s.run_sync(
                enrollment.enroll,
                user=w[who],
                session_id=sess.id or 0,
                lodging=False,
                now=now,
                check_window=False,
                notify=False,
            )
            w[f"e_{who}"] = r.id
        assert r.status == "waitlisted"  # capacity 2: the third waits
        for who in ("staff", "other_staff", "l1", "l2", "waiting", "stranger"):
            w[f"t_{who}"] = await b.token(s, w[who])
            w[f"c_{who}"] = await issue_token(s, w[who], "web", datetime.now(UTC))
    return w


def at(app: Litestar, day: date, hour: int, minute: int = 0) -> datetime:
    moment = datetime.combine(day, time(hour, minute), tzinfo=JST)
    app.state.clock = lambda: moment
    return moment


def sheet_url(w: dict[str, Any], day: date = START, half: str = "am") -> str:
    return f"/api/staff/sessions/{w['session'].id}/attendance/{day.isoformat()}/{half}"


async def sign_in(client: AsyncTestClient[Litestar], cookie: str) -> str:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    await client.get("/me")
    return client.cookies.get("csrftoken", "")


async def test_only_staff_of_the_sessions_campus_take_attendance(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await world(db)
    url = sheet_url(w)
    for who in ("other_staff",):
        assert (await client.get(url, headers=b.bearer(w[f"t_{who}"]))).status_code == 403
        assert (await client.put(url, json={}, headers=b.bearer(w[f"t_{who}"]))).status_code == 403
        summary = f"/api/staff/sessions/{w['session'].id}/attendance"
        assert (await client.get(summary, headers=b.bearer(w[f"t_{who}"]))).status_code == 403
    for who in ("l1", "stranger"):  # learners are refused by the guard
        assert (await client.get(url, headers=b.bearer(w[f"t_{who}"]))).status_code == 403
        assert (await client.put(url, json={}, headers=b.bearer(w[f"t_{who}"]))).status_code == 403
    page = f"/staff/sessions/{w['session'].id}/attendance"
    csrf = await sign_in(client, w["c_other_staff"])
    assert (await client.get(page)).status_code == 403
    r = await client.post(page, data={"day": "2026-06-01", "half": "am", "_csrf_token": csrf})
    assert r.status_code == 403
    csrf = await sign_in(client, w["c_l1"])
    assert (await client.get(page, follow_redirects=False)).status_code == 403
    async with db.read() as s:
        assert list(await s.exec(select(AttendanceMark))) == []


async def test_everyone_is_present_by_default_and_saving_again_replaces(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await world(db)
    staff = b.bearer(w["t_staff"])
    first = (await client.get(sheet_url(w), headers=staff)).json()
    assert first["saved"] is False
    assert {x["enrollment_id"]: x["present"] for x in first["learners"]} == {w["e_l1"]: True, w["e_l2"]: True}
    assert len(first["check_in"]["code"]) == 6  # the waiting learner is not on the sheet

    saved = (await client.put(sheet_url(w), json={}, headers=staff)).json()
    assert saved["saved"] is True and saved["saved_by"] == w["staff"].name and saved["saved_at"]
    assert all(x["present"] for x in saved["learners"])

    again = await client.put(sheet_url(w), json={"absent": [w["e_l2"]]}, headers=staff)
    assert again.status_code == 200, again.text
    assert {x["enrollment_id"]: x["present"] for x in again.json()["learners"]} == {
        w["e_l1"]: True,
        w["e_l2"]: False,
    }
    async with db.read() as s:
        marks = list(await s.exec(select(AttendanceMark)))
    assert len(marks) == 2 and {m.present for m in marks} == {True, False}  # replaced, not added

    # the waiting learner, a day the session does not meet and a wrong half are refused
    bad = await client.put(sheet_url(w), json={"absent": [w["e_waiting"]]}, headers=staff)
    assert bad.status_code == 400
    assert (await client.put(sheet_url(w, date(2026, 6, 3)), json={}, headers=staff)).status_code == 400
    assert (await client.put(sheet_url(w, half="noon"), json={}, headers=staff)).status_code == 400
    assert (await client.put(sheet_url(w), json={"present": []}, headers=staff)).status_code == 400


async def test_the_phone_page_saves_one_half_day(
    app: Litestar, db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await world(db)
    at(app, START, 9)
    csrf = await sign_in(client, w["c_staff"])
    page = f"/staff/sessions/{w['session'].id}/attendance"
    r = await client.get(page)
    assert r.status_code == 200
    assert r.text.count(f'name="p_{w["e_l1"]}" value="on" class="w-auto" checked') == 2  # 午前 and 午後
    assert "出席コード" in r.text and "/me/check-in?t=" in r.text  # today: the check-in is shown
    # the QR code drawn on the page encodes exactly the check-in address printed under it
    import html
    import re

    from courses.attendance.api import qr_svg

    urls = [
        html.unescape(u)
        for u in re.findall(r'<code class="wrap-anywhere">([^<]+/me/check-in\?t=[^<]+)</code>', r.text)
    ]
    assert urls and all(qr_svg(u) in r.text for u in urls)
    form = {"day": "2026-06-01", "half": "pm", f"p_{w['e_l1']}": "on", "_csrf_token": csrf}
    r = await client.post(page, data=form, follow_redirects=False)
    assert r.status_code in (302, 303) and "msg=saved" in r.headers["location"]
    sheet = (await client.get(sheet_url(w, half="pm"), headers=b.bearer(w["t_staff"]))).json()
    assert {x["enrollment_id"]: x["present"] for x in sheet["learners"]} == {
        w["e_l1"]: True,
        w["e_l2"]: False,
    }
    morning = (await client.get(sheet_url(w), headers=b.bearer(w["t_staff"]))).json()
    assert morning["saved"] is False
    shown = (await client.get(page + "?day=2026-06-01")).text
    assert "保存: " + w["staff"].name in shown and "出席率" in shown
    assert (await client.get(page + "?day=2026-06-03")).status_code == 400


async def test_check_in_by_code_only_in_its_half_day(
    app: Litestar, db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await world(db)
    sid = w["session"].id
    at(app, START, 9, 30)
    code = service.checkin_code(SECRET, sid, START, "am")
    assert code == (await client.get(sheet_url(w), headers=b.bearer(w["t_staff"]))).json()["check_in"]["code"]

    r = await client.post("/api/me/check-in", json={"code": code.lower()}, headers=b.bearer(w["t_l1"]))
    assert r.status_code == 200 and r.json() == {
        "session_id": sid,
        "day": "2026-06-01",
        "half": "am",
        "present": True,
    }
    # neither the waiting learner nor someone not enrolled can use it
    for who in ("waiting", "stranger"):
        r = await client.post("/api/me/check-in", json={"code": code}, headers=b.bearer(w[f"t_{who}"]))
        assert r.status_code == 400, who
    # the afternoon does not take the morning's code, nor a day the session does not meet
    at(app, START, 12, 0)
    r = await client.post("/api/me/check-in", json={"code": code}, headers=b.bearer(w["t_l2"]))
    assert r.status_code == 400
    at(app, date(2026, 6, 3), 9)
    other_day = service.checkin_code(SECRET, sid, date(2026, 6, 3), "am")
    r = await client.post("/api/me/check-in", json={"code": other_day}, headers=b.bearer(w["t_l2"]))
    assert r.status_code == 400
    async with db.read() as s:
        marks = list(await s.exec(select(AttendanceMark)))
    assert [(m.enrollment_id, m.half, m.source, m.present) for m in marks] == [
        (w["e_l1"], "am", "checkin", True)
    ]
    sheet = (await client.get(sheet_url(w), headers=b.bearer(w["t_staff"]))).json()
    assert [x["source"] for x in sheet["learners"] if x["enrollment_id"] == w["e_l1"]] == ["checkin"]


async def test_check_in_by_qr_token_page(
    app: Litestar, db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await world(db)
    sid = w["session"].id
    token = service.checkin_token(SECRET, sid, DAYS[2], "pm")
    at(app, DAYS[2], 14)
    await sign_in(client, w["c_l2"])
    r = await client.get(f"/me/check-in?t={token}")
    assert r.status_code == 200 and "午後の出席を登録しました" in r.text
    again = await client.get(f"/me/check-in?t={token}")  # opening it twice changes nothing
    assert again.status_code == 200
    # a tampered token, the waiting learner, and the same token once the half-day is over
    assert (await client.get(f"/me/check-in?t={token[:-2]}xx")).status_code == 400
    await sign_in(client, w["c_waiting"])
    assert (await client.get(f"/me/check-in?t={token}")).status_code == 403
    await sign_in(client, w["c_l1"])
    at(app, DAYS[3], 0, 1)
    r = await client.get(f"/me/check-in?t={token}")
    assert r.status_code == 400 and "受付時間外" in r.text
    async with db.read() as s:
        marks = list(await s.exec(select(AttendanceMark)))
    assert [(m.enrollment_id, m.day, m.half) for m in marks] == [(w["e_l2"], DAYS[2], "pm")]
    # the typed code works on the page too
    at(app, DAYS[2], 15)
    csrf = await sign_in(client, w["c_l1"])
    code = service.checkin_code(SECRET, sid, DAYS[2], "pm")
    r = await client.post("/me/check-in", data={"code": f" {code} ", "_csrf_token": csrf})
    assert r.status_code == 200 and "出席を登録しました" in r.text
    r = await client.post("/me/check-in", data={"code": "AAAAAA", "_csrf_token": csrf})
    assert r.status_code == 400 and "受付時間外" in r.text


async def _attend(
    client: AsyncTestClient[Litestar], w: dict[str, Any], absent_in: list[tuple[date, str]]
) -> None:
    """Save all ten half-days: l1 always present, l2 absent in ``absent_in``."""
    for day in DAYS:
        for half in ("am", "pm"):
            absent = [w["e_l2"]] if (day, half) in absent_in else []
            r = await client.put(
                sheet_url(w, day, half), json={"absent": absent}, headers=b.bearer(w["t_staff"])
            )
            assert r.status_code == 200, r.text


def _by_enrollment(summary: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {x["enrollment_id"]: x for x in summary["learners"]}


async def test_completion_exactly_at_the_threshold(db: Database, client: AsyncTestClient[Litestar]) -> None:
    assert service.meets(8, 10, 80) and not service.meets(7, 10, 80)
    assert service.meets(4, 5, 80) and not service.meets(79, 100, 80) and not service.meets(0, 0, 80)
    w = await world(db)
    url = f"/api/staff/sessions/{w['session'].id}/attendance"
    await _attend(client, w, [(DAYS[0], "am"), (DAYS[1], "pm")])  # 8 of 10 = 80 %
    rows = _by_enrollment((await client.get(url, headers=b.bearer(w["t_staff"]))).json())
    assert rows[w["e_l2"]]["attended_half_days"] == 8 and rows[w["e_l2"]]["half_days"] == 10
    assert rows[w["e_l2"]]["percent"] == 80 and rows[w["e_l2"]]["completed"] is True
    assert rows[w["e_l1"]]["percent"] == 100 and rows[w["e_l1"]]["completed"] is True

    await _attend(client, w, [(DAYS[0], "am"), (DAYS[1], "pm"), (DAYS[2], "am")])  # 7 of 10
    rows = _by_enrollment((await client.get(url, headers=b.bearer(w["t_staff"]))).json())
    assert rows[w["e_l2"]]["attended_half_days"] == 7 and rows[w["e_l2"]]["completed"] is False

    # the rule is the course's: at 70 % the same attendance completes
    admin_token = await _admin_token(db)
    r = await client.put(
        f"/api/attendance/courses/{w['course'].id}/completion-rule",
        json={"completion_min_percent": 70},
        headers=b.bearer(admin_token),
    )
    assert r.status_code == 200
    rows = _by_enrollment((await client.get(url, headers=b.bearer(w["t_staff"]))).json())
    assert rows[w["e_l2"]]["completed"] is True
    r = await client.put(
        f"/api/attendance/courses/{w['course'].id}/completion-rule",
        json={"completion_min_percent": 0},
        headers=b.bearer(admin_token),
    )
    assert r.status_code == 400


async def _admin_token(db: Database) -> str:
    async with db.write() as s:
        return await b.token(s, await b.user(s, role="admin"))


async def test_practicum_days_must_be_attended(db: Database, client: AsyncTestClient[Litestar]) -> None:
    w = await world(db, has_practicum=True)
    await _attend(client, w, [(DAYS[-1], "pm")])  # 9 of 10, but the last day is the practicum
    url = f"/api/staff/sessions/{w['session'].id}/attendance"
    rows = _by_enrollment((await client.get(url, headers=b.bearer(w["t_staff"]))).json())
    assert rows[w["e_l2"]]["percent"] == 90 and rows[w["e_l2"]]["completed"] is False
    assert rows[w["e_l2"]]["practicum_missed"] == ["2026-06-10 午後"]
    assert rows[w["e_l1"]]["completed"] is True


async def test_learner_sees_attendance_on_my_page(
    app: Litestar, db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await world(db)
    await _attend(client, w, [(DAYS[0], "am"), (DAYS[1], "pm"), (DAYS[2], "am")])
    await sign_in(client, w["c_l2"])
    page = (await client.get("/me")).text
    assert "出席 7 / 10コマ（70%、修了には80%以上）" in page
    mine = (await client.get("/api/me/attendance", headers=b.bearer(w["t_l2"]))).json()
    assert mine[0]["attended_half_days"] == 7 and mine[0]["completed"] is False


async def test_a_check_in_link_opened_before_signing_in_comes_back_after(
    app: Litestar, db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await world(db)
    token = service.checkin_token(SECRET, w["session"].id, START, "am")
    at(app, START, 9)
    client.cookies.clear()
    r = await client.get(f"/me/check-in?t={token}", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code in (302, 303)
    login = await client.get(r.headers["location"])
    assert f'value="/me/check-in?t={token}"' in login.text
    r = await client.post(
        "/login",
        data={
            "email": w["l1"].email,
            "password": b.PASSWORD,
            "next": f"/me/check-in?t={token}",
            "_csrf_token": client.cookies.get("csrftoken", ""),
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == f"/me/check-in?t={token}"
    assert "出席を登録しました" in (await client.get(r.headers["location"])).text

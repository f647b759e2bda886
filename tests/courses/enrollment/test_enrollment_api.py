"""Enrollment through the API: seats, waiting list, idempotency, eligibility and cancellation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.core.db import Database
from courses.models import CourseSession, Enrollment, OutboxMessage
from tests.courses import builders as b


@dataclass
class World:
    session_id: int
    support_session_id: int
    kyushu_session_id: int
    tokens: list[str]
    support_token: str
    staff_token: str
    other_staff_token: str


async def world(db: Database, *, capacity: int = 2, learners: int = 4) -> World:
    async with db.write() as s:
        await b.category(s, "finance")
        tokyo = await b.campus(s, "tokyo")
        kyushu = await b.campus(s, "kyushu", has_lodging=False)
        sme_course = await b.course(s, "ZAI01")
        support_course = await b.course(s, "SHI01", audience="support")
        sess = await b.session(s, sme_course, tokyo, start=date(2026, 6, 10), capacity=capacity)
        support = await b.session(s, support_course, tokyo, start=date(2026, 6, 20))
        kyu = await b.session(s, sme_course, kyushu, start=date(2026, 6, 24))
        tokens = [await b.token(s, await b.user(s)) for _ in range(learners)]
        support_token = await b.token(s, await b.user(s, kind="support_agency", industry="R"))
        staff_token = await b.token(s, await b.user(s, role="staff", campuses=[tokyo]))
        other_staff = await b.token(s, await b.user(s, role="staff", campuses=[kyushu]))
    return World(sess.id or 0, support.id or 0, kyu.id or 0, tokens, support_token, staff_token, other_staff)


async def enroll(client: AsyncTestClient[Litestar], token: str, session_id: int, **body: object):  # type: ignore[no-untyped-def]
    headers = b.bearer(token)
    if "key" in body:
        headers["Idempotency-Key"] = str(body.pop("key"))
    return await client.post(
        f"/api/sessions/{session_id}/enrollments", json=body or {"lodging": False}, headers=headers
    )


async def test_seats_then_waiting_list_in_order(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await world(db, capacity=2, learners=4)
    answers = [(await enroll(client, t, w.session_id)).json() for t in w.tokens]
    assert [a["status"] for a in answers] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [a["waitlist_position"] for a in answers] == [None, None, 1, 2]
    r = await client.get(f"/api/sessions/{w.session_id}")
    assert r.json()["seats_left"] == 0


async def test_second_enrollment_is_409_and_idempotent_retry_replays(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await world(db)
    first = await enroll(client, w.tokens[0], w.session_id, key="abc-1", lodging=True)
    again = await enroll(client, w.tokens[0], w.session_id, key="abc-1", lodging=True)
    assert first.status_code == 201 and again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replay") == "true"
    dup = await enroll(client, w.tokens[0], w.session_id, lodging=True)
    assert dup.status_code == 409
    assert dup.headers["content-type"].startswith("application/problem+json")
    async with db.read() as s:
        rows = list(await s.exec(select(Enrollment)))
    assert len(rows) == 1


async def test_eligibility_refusals_have_reasons(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await world(db)
    # an SME learner in a support-staff course, and the reverse
    r = await enroll(client, w.tokens[0], w.support_session_id)
    assert r.status_code == 422 and "支援機関" in r.json()["detail"]
    r = await enroll(client, w.support_token, w.session_id)
    assert r.status_code == 422 and "中小企業" in r.json()["detail"]
    # lodging where the campus has none
    r = await enroll(client, w.tokens[0], w.kyushu_session_id, lodging=True)
    assert r.status_code == 422 and "宿泊" in r.json()["detail"]
    # in English when asked
    r = await client.post(
        f"/api/sessions/{w.kyushu_session_id}/enrollments",
        json={"lodging": True},
        headers={**b.bearer(w.tokens[0]), "Accept-Language": "en"},
    )
    assert r.json()["detail"] == "This session offers no lodging; apply without lodging."
    # bad body
    r = await client.post(
        f"/api/sessions/{w.session_id}/enrollments", json={"lodging": "yes"}, headers=b.bearer(w.tokens[0])
    )
    assert r.status_code == 400
    r = await client.post(
        f"/api/sessions/{w.session_id}/enrollments",
        content=b"{not json",
        headers={**b.bearer(w.tokens[0]), "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["title"]
    # nothing was written by any refusal
    async with db.read() as s:
        assert list(await s.exec(select(Enrollment))) == []


async def test_company_above_sme_thresholds_is_refused(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await world(db)
    async with db.write() as s:
        big = await b.token(s, await b.user(s, industry="I", employees=400, capital_yen=2_000_000_000))
    r = await enroll(client, big, w.session_id)
    assert r.status_code == 422 and "中小企業基本法" in r.json()["detail"]


async def test_application_window(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await world(db)
    async with db.write() as s:
        row = await s.get(CourseSession, w.session_id)
        assert row is not None
        row.application_closes = date(2026, 5, 14)  # the day before the test clock's "today"
        s.add(row)
    r = await enroll(client, w.tokens[0], w.session_id)
    assert r.status_code == 422 and "終了" in r.json()["detail"]


async def test_cancel_promotes_first_waiting_and_tells_them(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await world(db, capacity=1, learners=3)
    ids = [(await enroll(client, t, w.session_id)).json()["id"] for t in w.tokens]
    r = await client.delete(f"/api/enrollments/{ids[0]}", headers=b.bearer(w.tokens[0]))
    assert r.status_code == 200
    mine = (await client.get("/api/me/enrollments", headers=b.bearer(w.tokens[1]))).json()
    assert mine[0]["status"] == "confirmed"
    third = (await client.get("/api/me/enrollments", headers=b.bearer(w.tokens[2]))).json()
    assert third[0]["status"] == "waitlisted" and third[0]["waitlist_position"] == 1
    async with db.read() as s:
        subjects = [m.subject for m in await s.exec(select(OutboxMessage))]
        session = await s.get(CourseSession, w.session_id)
    assert any("繰り上げ" in subj for subj in subjects)
    assert session is not None and session.confirmed_count == 1
    # someone else's enrollment cannot be cancelled (and is not even revealed)
    r = await client.delete(f"/api/enrollments/{ids[1]}", headers=b.bearer(w.tokens[2]))
    assert r.status_code == 404


async def test_my_page_feed_is_icalendar(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await world(db)
    await enroll(client, w.tokens[0], w.session_id)
    r = await client.get("/api/me/calendar.ics", headers=b.bearer(w.tokens[0]))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in r.text and "DTSTART;VALUE=DATE:20260610" in r.text


async def test_staff_roster_manual_enroll_promote_and_cancel_session(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await world(db, capacity=1, learners=2)
    await enroll(client, w.tokens[0], w.session_id)
    waiting = (await enroll(client, w.tokens[1], w.session_id)).json()
    staff = b.bearer(w.staff_token)
    roster = (await client.get(f"/api/staff/sessions/{w.session_id}/roster", headers=staff)).json()
    assert [e["status"] for e in roster["enrollments"]] == ["confirmed", "waitlisted"]
    csv = await client.get(f"/api/staff/sessions/{w.session_id}/roster.csv", headers=staff)
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf") and "受講決定" in csv.text
    # promotion never goes above capacity
    r = await client.post(f"/api/staff/enrollments/{waiting['id']}/promote", headers=staff)
    assert r.status_code == 409
    # staff of another campus see nothing of this session
    other = b.bearer(w.other_staff_token)
    assert (await client.get(f"/api/staff/sessions/{w.session_id}/roster", headers=other)).status_code == 403
    assert (await client.post(f"/api/staff/sessions/{w.session_id}/cancel", headers=other)).status_code == 403
    # a learner is not staff
    assert (
        await client.get(f"/api/staff/sessions/{w.session_id}/roster", headers=b.bearer(w.tokens[0]))
    ).status_code == 403
    r = await client.post(f"/api/staff/sessions/{w.session_id}/cancel", headers=staff)
    assert r.status_code == 200 and r.json()["enrollments_cancelled"] == 2
    async with db.read() as s:
        statuses = {e.status for e in await s.exec(select(Enrollment))}
        subjects = [m.subject for m in await s.exec(select(OutboxMessage))]
    assert statuses == {"cancelled"}
    assert sum("開催中止" in x for x in subjects) == 2

"""A place that frees up once cancelling already costs a fee is offered to the first on the waiting
list, who accepts it within a set time or lets it pass to the next; outside the charge period it is
given outright. Nobody owes a fee for a place they did not take themselves."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.background import release_lapsed
from courses.core.db import Database
from courses.models import Enrollment, OutboxMessage
from tests.conftest import JST, TODAY
from tests.courses import builders as b

NOW = datetime.combine(TODAY, time(10, 0), tzinfo=JST)


async def _queue(
    db: Database, client: AsyncTestClient[Litestar], start_in: int, waiting: int
) -> dict[str, Any]:
    """A one-seat session starting in ``start_in`` days: one learner holds the seat, ``waiting`` wait."""
    async with db.write() as s:
        await b.category(s)
        campus = await b.campus(s)
        course = await b.course(s, fee_yen=30_000)
        sess = await b.session(
            s,
            course,
            campus,
            start=TODAY + timedelta(days=start_in),
            capacity=1,
            closes=TODAY + timedelta(days=1),
        )
        people = [await b.user(s, f"p{i}@example.jp") for i in range(waiting + 1)]
        tokens = [await b.token(s, u) for u in people]
    ids = []
    for token in tokens:
        r = await client.post(f"/api/sessions/{sess.id}/enrollments", json={}, headers=b.bearer(token))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return {"session": sess, "tokens": tokens, "ids": ids, "emails": [u.email for u in people]}


async def _mine(client: AsyncTestClient[Litestar], token: str) -> dict[str, Any]:
    r = await client.get("/api/me/enrollments", headers=b.bearer(token))
    return r.json()[0]  # type: ignore[no-any-return]


async def _subjects(db: Database, email: str) -> list[str]:
    async with db.read() as s:
        return [m.subject for m in await s.exec(select(OutboxMessage).where(OutboxMessage.to_email == email))]


async def test_in_the_charge_period_the_place_is_offered_and_declining_it_costs_nothing(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _queue(db, client, start_in=5, waiting=2)  # 5 days before: cancelling costs 30 %
    t = w["tokens"]
    r = await client.delete(f"/api/enrollments/{w['ids'][0]}", headers=b.bearer(t[0]))
    assert r.json()["cancellation_fee_yen"] == 9_000  # the one who held the seat pays the late fee
    first = await _mine(client, t[1])
    assert first["status"] == "confirmed" and first["accept_by"] is not None
    deadline = datetime.fromisoformat(first["accept_by"]).astimezone(JST)
    assert deadline == NOW + timedelta(hours=48)  # 48 hours, before the first day's midnight
    assert any(s.startswith("【要回答】") for s in await _subjects(db, w["emails"][1]))
    page = await client.get("/me", headers=b.bearer(t[1]))
    assert "空きが出ました（回答待ち）" in page.text and f"/me/enrollments/{w['ids'][1]}/accept" in page.text
    # declining: no fee, and the place is offered to the next
    r = await client.delete(f"/api/enrollments/{w['ids'][1]}", headers=b.bearer(t[1]))
    assert r.status_code == 200 and r.json()["cancellation_fee_yen"] == 0
    second = await _mine(client, t[2])
    assert second["status"] == "confirmed" and second["accept_by"] is not None
    # accepting: now the place is theirs, and cancelling it would cost the fee
    r = await client.post(f"/api/enrollments/{w['ids'][2]}/accept", headers=b.bearer(t[2]))
    assert r.status_code == 200 and r.json()["accept_by"] is None
    assert (await _mine(client, t[2]))["accept_by"] is None
    again = await client.post(f"/api/enrollments/{w['ids'][2]}/accept", headers=b.bearer(t[2]))
    assert again.status_code == 409
    other = await client.post(f"/api/enrollments/{w['ids'][2]}/accept", headers=b.bearer(t[0]))
    assert other.status_code == 404  # someone else's place
    r = await client.delete(f"/api/enrollments/{w['ids'][2]}", headers=b.bearer(t[2]))
    assert r.json()["cancellation_fee_yen"] == 9_000


async def test_a_place_not_accepted_in_time_passes_to_the_next(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _queue(db, client, start_in=5, waiting=2)
    t = w["tokens"]
    await client.delete(f"/api/enrollments/{w['ids'][0]}", headers=b.bearer(t[0]))
    assert await release_lapsed(db, NOW + timedelta(hours=47)) == 0  # not yet
    assert await release_lapsed(db, NOW + timedelta(hours=49)) == 1
    async with db.read() as s:
        rows = {e.id: e for e in await s.exec(select(Enrollment))}
        session = await s.get(type(w["session"]), w["session"].id)
    assert rows[w["ids"][1]].status == "cancelled"
    assert rows[w["ids"][2]].status == "confirmed" and rows[w["ids"][2]].confirm_by is not None
    assert session is not None and session.confirmed_count == 1  # the seat moved, never doubled
    told = await _subjects(db, w["emails"][1])
    assert any(s.startswith("【お知らせ】") for s in told)  # told it passed on, not "cancelled"
    assert not any(s.startswith("【キャンセル受付】") for s in told)
    late = await client.post(f"/api/enrollments/{w['ids'][1]}/accept", headers=b.bearer(t[1]))
    assert late.status_code == 409


async def test_outside_the_charge_period_the_place_is_given_outright(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _queue(db, client, start_in=30, waiting=1)
    t = w["tokens"]
    r = await client.delete(f"/api/enrollments/{w['ids'][0]}", headers=b.bearer(t[0]))
    assert r.json()["cancellation_fee_yen"] == 0
    promoted = await _mine(client, t[1])
    assert promoted["status"] == "confirmed" and promoted["accept_by"] is None
    assert any(s.startswith("【受講決定】") for s in await _subjects(db, w["emails"][1]))

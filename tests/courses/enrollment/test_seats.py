"""``insert_and_take_seat``: the enrollment's insert, its seat and its confirmation, one statement on
PostgreSQL, through both executors (``Database.transact``, and an ORM session's ``run_sync`` as bulk registration uses)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from courses.core.db import Database
from courses.core.notifications import outbox_row
from courses.core.tx import Tx, as_tx, run_sync
from courses.enrollment.seats import insert_and_take_seat
from courses.models import CourseSession, Enrollment, OutboxMessage, User
from tests.courses import builders as b

NOW = datetime(2026, 5, 15, 1, 0, tzinfo=UTC)


def _row(session_id: int, user_id: int) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "user_id": user_id,
        "status": "confirmed",
        "lodging": True,
        "waitlist_seq": None,
        "source": "self",
        "organization_id": None,
        "batch_id": None,
        "registered_name": None,
        "created_at": NOW,
        "updated_at": NOW,
    }


async def _two_seats_four_people(db: Database) -> tuple[int, list[User]]:
    """A session of two seats, and four people to enroll in it."""
    async with db.write() as s:
        await b.category(s, "finance")
        course = await b.course(s, "ZAI01")
        sess = await b.session(s, course, await b.campus(s, "tokyo"), start=date(2026, 6, 10), capacity=2)
        users = [await b.user(s) for _ in range(4)]
    return sess.id or 0, users


async def _enroll_alternately(
    db: Database, sid: int, users: list[User], *, tell: bool
) -> list[tuple[int, bool]]:
    """Each user in turn through ``Database.transact`` and an ORM session's ``run_sync``, alternately;
    with a confirmation letter each when ``tell``."""

    def letter(user_id: int) -> dict[str, Any] | None:
        return outbox_row(f"u{user_id}@example.jp", user_id, f"件名 {user_id}", "本文", NOW) if tell else None

    def on_tx(tx: Tx, user_id: int) -> tuple[int, bool]:
        return insert_and_take_seat(tx, _row(sid, user_id), letter(user_id))

    def on_session(session: Session, user_id: int) -> tuple[int, bool]:
        return insert_and_take_seat(as_tx(session), _row(sid, user_id), letter(user_id))

    got = []
    for n, user in enumerate(users):
        if n % 2 == 0:
            got.append(await db.transact(on_tx, user.id or 0))
        else:
            async with db.write() as s:
                got.append(await run_sync(s, on_session, user.id or 0))
    return got


async def test_a_seat_while_one_is_free_and_nothing_else_of_the_session_changes(db: Database) -> None:
    sid, users = await _two_seats_four_people(db)
    async with db.read() as s:
        before = (await s.exec(select(CourseSession).where(CourseSession.id == sid))).one().model_dump()

    got = await _enroll_alternately(db, sid, users, tell=False)
    assert [seated for _, seated in got] == [True, True, False, False]

    async with db.read() as s:
        after = (await s.exec(select(CourseSession).where(CourseSession.id == sid))).one().model_dump()
        rows = {e.id: e for e in await s.exec(select(Enrollment).where(Enrollment.session_id == sid))}
    assert after == {**before, "confirmed_count": 2}  # the seat counter, and nothing else
    assert sorted(rows) == sorted(i for i, _ in got)
    assert {rows[i].user_id for i, _ in got} == {u.id for u in users}
    assert all(r.lodging and r.source == "self" for r in rows.values())

    # a second place for the same person fails on the unique index, and takes no seat
    with pytest.raises(IntegrityError):
        await _enroll_alternately(db, sid, users[:1], tell=False)
    async with db.read() as s:
        again = (await s.exec(select(CourseSession).where(CourseSession.id == sid))).one()
    assert again.confirmed_count == 2


async def test_the_confirmation_is_queued_only_with_a_seat(db: Database) -> None:
    sid, users = await _two_seats_four_people(db)

    got = await _enroll_alternately(db, sid, users, tell=True)
    assert [seated for _, seated in got] == [True, True, False, False]

    async with db.read() as s:
        told = list(await s.exec(select(OutboxMessage)))
    assert sorted((m.user_id, m.to_email, m.subject) for m in told) == [
        (u.id, f"u{u.id}@example.jp", f"件名 {u.id}") for u in users[:2]
    ]
    # SQLite gives the time back without its zone
    assert all(m.created_at.replace(tzinfo=UTC) == NOW and m.sent_at is None for m in told)
    assert all(m.body.startswith("本文\n\n――\n中小企業大学校") for m in told)  # signed
    assert all(m.attempts == 0 and m.last_error == "" for m in told)

    # a twin's failure leaves no letter behind either
    with pytest.raises(IntegrityError):
        await _enroll_alternately(db, sid, users[:1], tell=True)
    async with db.read() as s:
        assert len(list(await s.exec(select(OutboxMessage)))) == 2

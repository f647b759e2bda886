"""A bulk upload racing single enrollments never oversells, and its rows keep their order (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.bulk import service as bulk
from courses.core.db import Database
from courses.core.tx import run_sync
from courses.enrollment import service as enrollment
from courses.models import CourseSession, Enrollment, OutboxMessage, User
from courses.models.bulk import BulkBatch, RegistrationInvitation
from tests.courses import builders as b
from tests.courses.bulk.test_bulk_api import csv_file, org_world, sme_row


async def test_bulk_commit_racing_single_enrollments(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await org_world(db, capacity=10)
    async with db.write() as s:
        singles = [await b.token(s, await b.user(s)) for _ in range(40)]
    content = csv_file(*(sme_row(w.sme, n) for n in range(30)))

    async def bulk_upload():  # type: ignore[no-untyped-def]
        return await client.post(
            f"/api/organizations/{w.id}/bulk-registrations",
            files={"file": ("list.csv", content, "text/csv")},
            data={"dry_run": "false", "consent": "true"},
            headers=b.bearer(w.token),
        )

    async def single(token: str):  # type: ignore[no-untyped-def]
        return await client.post(
            f"/api/sessions/{w.sme_id}/enrollments", json={"lodging": False}, headers=b.bearer(token)
        )

    jobs = [single(t) for t in singles[:20]] + [bulk_upload()] + [single(t) for t in singles[20:]]
    results = await asyncio.gather(*jobs)
    assert all(r.status_code == 201 for r in results), [r.text for r in results if r.status_code != 201][:2]
    bulk_rows = results[20].json()["rows"]
    assert len(bulk_rows) == 30

    async with db.read() as s:
        session = await s.get(CourseSession, w.sme_id)
        rows = list(
            await s.exec(
                select(Enrollment).where(Enrollment.session_id == w.sme_id).order_by(col(Enrollment.id))
            )
        )
    confirmed = [e for e in rows if e.status == "confirmed"]
    assert session is not None and len(confirmed) == session.confirmed_count == 10
    assert len(rows) == 70
    # the bulk rows that waited joined the waiting list in row order, with nobody jumping inside the batch
    waiting_bulk = sorted(
        (e for e in rows if e.source == "bulk" and e.status == "waitlisted"), key=lambda e: e.id or 0
    )
    seqs = [e.waitlist_seq for e in waiting_bulk]
    assert seqs == sorted(seqs) and seqs == list(range(seqs[0] or 0, (seqs[0] or 0) + len(seqs)))
    by_id = {e.id: e for e in rows}
    answered = [(r["row"], by_id[r["enrollment_id"]]) for r in bulk_rows]
    assert [row for row, _ in answered] == list(range(2, 32))
    assert [e.status for _, e in answered] == sorted([e.status for _, e in answered])  # confirmed first
    all_seqs = [e.waitlist_seq for e in rows if e.status == "waitlisted"]
    assert len(all_seqs) == len(set(all_seqs)) == 60


async def test_a_lost_attempt_is_undone_at_its_savepoint_and_the_batch_registered_again(
    client: AsyncTestClient[Litestar], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit runs in the request's one write transaction, each attempt in a SAVEPOINT. The first
    attempt loses row 7 (p5) after two rounds of flushing and emptying the identity map: on PostgreSQL
    because the same person enrolled meanwhile (a real twin, committed from another connection, that
    the insert then collides with), on SQLite (one writer at a time, so no twin can commit) by
    raising the loss after the row was written. Nothing of the lost attempt stays, and the second
    attempt, in the same transaction, sees the twin.

    p5 asks for another session than the others: the batch holds the row lock of the session it
    took seats in, which the twin's seat would wait for."""
    w = await org_world(db, capacity=10)
    rows = [sme_row(w.nolodging, n, lodging="無") if n == 5 else sme_row(w.sme, n) for n in range(8)]
    content = csv_file(*rows)
    monkeypatch.setattr(bulk, "FLUSH_EVERY", 2)
    real_register = bulk._register
    calls: list[str] = []

    async def register(s: AsyncSession, plan: bulk.RowPlan, user: User, *args: Any) -> None:
        calls.append(plan.email)
        lose = len(calls) == 6  # the first attempt's sixth row
        if lose and not db.sqlite:
            # the twin (through the app's Database: the app runs on an event loop of its own)
            async with client.app.state.db.write() as other:
                await run_sync(
                    other,
                    enrollment.enroll,
                    user=user,
                    session_id=plan.session_id or 0,
                    lodging=False,
                    now=datetime.now(UTC),
                    source="self",
                    check_window=False,
                    notify=False,
                )
            # the batch checked p5 just before the twin committed: its insert then collides
            real_load = enrollment.load_offer_for

            def checked_before(tx: Any, session_id: int, user_id: int) -> Any:
                monkeypatch.setattr(enrollment, "load_offer_for", real_load)
                offer, profile, _enrolled = real_load(tx, session_id, user_id)
                return offer, profile, False

            monkeypatch.setattr(enrollment, "load_offer_for", checked_before)
        await real_register(s, plan, user, *args)
        if lose and db.sqlite:
            raise bulk._RaceLost

    monkeypatch.setattr(bulk, "_register", register)
    r = await client.post(
        f"/api/organizations/{w.id}/bulk-registrations",
        files={"file": ("list.csv", content, "text/csv")},
        data={"dry_run": "false", "consent": "true"},
        headers=b.bearer(w.token),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    # the second attempt registered the rows again, in order; on PostgreSQL the twin's row is theirs
    emails = [f"p{n}@example.jp" for n in range(8)]
    assert calls[:6] == emails[:6]
    assert calls[6:] == [e for e in emails if db.sqlite or e != "p5@example.jp"]
    statuses = {row["email"]: row["status"] for row in body["rows"]}
    assert statuses["p5@example.jp"] == ("confirmed" if db.sqlite else "already_registered")
    assert body["summary"]["confirmed"] == (8 if db.sqlite else 7)

    async with db.read() as s:
        batches = list(await s.exec(select(BulkBatch)))
        enrolled = list(await s.exec(select(Enrollment)))
        sme = await s.get(CourseSession, w.sme_id)
        other = (await s.exec(select(CourseSession).where(CourseSession.code == w.nolodging))).one()
        invited = list(await s.exec(select(RegistrationInvitation)))
        told = list(
            await s.exec(select(OutboxMessage).where(col(OutboxMessage.to_email).like("p%@example.jp")))
        )
    assert len(batches) == 1 and batches[0].id == body["batch_id"]
    assert batches[0].confirmed == body["summary"]["confirmed"]
    # the lost attempt's enrollments and seats are gone: one enrollment a person, each seat counted once
    assert len(enrolled) == len({e.user_id for e in enrolled}) == 8
    assert [e for e in enrolled if e.source == "bulk" and e.batch_id != batches[0].id] == []
    assert [e.source for e in enrolled].count("bulk") == body["summary"]["confirmed"]
    assert sme is not None and sme.confirmed_count == 7
    assert other.confirmed_count == 1
    assert all(e.status == "confirmed" for e in enrolled)
    assert invited == []
    assert len(told) == body["summary"]["confirmed"]  # one message a member, none of the lost attempt

"""A bulk upload racing single enrollments never oversells, and its rows keep their order (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from courses.core.db import Database
from courses.models import CourseSession, Enrollment
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

"""Runs of a dead service instance: reclaimed after a stale heartbeat, queued once more, then failed
with a reason; never reclaimed twice at once, and a slow instance that lost its run saves nothing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.core.db import Database
from courses.models.plans import PlanVersion, RunStatus, SolverRun
from courses.planning import plans, runner
from courses.planning.runner import Runner, beat, claim_next, reclaim_stale
from tests.conftest import JST
from tests.courses import builders as b

T0 = datetime(2026, 5, 15, 10, 0, tzinfo=JST)
STALE = 60.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def _runs(db: Database, n: int = 1) -> tuple[list[int], str]:
    """``n`` queued room runs on one campus, and a bearer token of that campus's staff."""
    async with db.write() as s:
        campus = await b.campus(s, "tokyo")
        staff = await b.user(s, role="staff", campuses=[campus])
        ids = []
        for _ in range(n):
            run = await runner.create_run(
                s,
                campus=campus,
                kinds=["rooms"],
                date_from=date(2026, 6, 1),
                date_to=date(2026, 6, 30),
                time_limit_s=5,
                pin_published=False,
                user_id=staff.id,
                now=T0,
            )
            ids.append(run.id or 0)
        return ids, await b.token(s, staff)


async def _row(db: Database, run_id: int) -> SolverRun:
    async with db.read() as s:
        row = await s.get(SolverRun, run_id)
    assert row is not None
    return row


async def test_a_stale_run_is_requeued_once_and_a_fresh_one_is_left_alone(db: Database) -> None:
    (dead, alive), _ = await _runs(db, 2)
    assert (await claim_next(db, at(0))).id == dead  # type: ignore[union-attr]
    assert (await claim_next(db, at(50))).id == alive  # type: ignore[union-attr]

    assert await reclaim_stale(db, at(61), stale_after_s=STALE) == {dead: RunStatus.QUEUED}
    row = await _row(db, dead)
    assert (row.status, row.attempts, row.claimed_by, row.heartbeat_at) == ("queued", 1, "", None)
    assert "再実行" in row.error and "queued again" in row.error
    untouched = await _row(db, alive)
    assert (untouched.status, untouched.attempts, untouched.error) == ("running", 1, "")

    assert await reclaim_stale(db, at(62), stale_after_s=STALE) == {}  # once, not again
    again = await claim_next(db, at(63))
    assert again is not None and (again.id, again.attempts) == (dead, 2)


async def test_a_heartbeat_keeps_a_long_run(db: Database) -> None:
    (run_id,), _ = await _runs(db)
    run = await claim_next(db, at(0))
    assert run is not None
    for t in range(5, 300, 5):  # a five-minute solve, beating every 5 s
        assert await beat(db, run, at(t))
        assert await reclaim_stale(db, at(t + 1), stale_after_s=STALE) == {}
    assert (await _row(db, run_id)).status == "running"


async def test_a_run_that_dies_twice_fails_with_the_reason(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    (run_id,), token = await _runs(db)
    await claim_next(db, at(0))
    assert await reclaim_stale(db, at(61), stale_after_s=STALE) == {run_id: RunStatus.QUEUED}
    await claim_next(db, at(70))
    assert await reclaim_stale(db, at(100), stale_after_s=STALE) == {}  # second attempt still fresh
    assert await reclaim_stale(db, at(131), stale_after_s=STALE) == {run_id: RunStatus.FAILED}

    row = await _row(db, run_id)
    assert (row.status, row.attempts) == ("failed", 2) and row.finished_at is not None
    assert await claim_next(db, at(140)) is None  # no third attempt
    assert await reclaim_stale(db, at(1000), stale_after_s=STALE) == {}

    api = (await client.get(f"/api/staff/solver-runs/{run_id}", headers=b.bearer(token))).json()
    assert api["status"] == "failed" and api["attempts"] == 2
    assert "2回とも途中で応答しなくなった" in api["error"]
    assert "stopped responding (no heartbeat for 60 s) on each of its 2 attempts" in api["error"]
    page = await client.get(f"/staff/runs/{run_id}", headers=b.bearer(token))
    assert page.status_code == 200 and "この計算を打ち切りました" in page.text


async def test_concurrent_reclaimers_take_each_run_exactly_once(db: Database, database_url: str) -> None:
    ids, _ = await _runs(db, 3)
    for i in ids:
        assert (await claim_next(db, at(0))).id == i  # type: ignore[union-attr]
    instances = [Database.connect(database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(
            *(reclaim_stale(d, at(61), stale_after_s=STALE) for d in instances * 2)
        )
    finally:
        for d in instances:
            await d.dispose()
    won = [run_id for result in results for run_id in result]
    assert sorted(won) == ids  # every run once, none twice
    for i in ids:
        row = await _row(db, i)
        assert (row.status, row.attempts) == ("queued", 1)


def _outcome() -> plans.SolveOutcome:
    return plans.SolveOutcome(
        kind="rooms", status="optimal", objective=0, best_bound=0, gap=0, moved=0, solve_seconds=0,
        breakdown={}, unassigned=[], messages=[], violations=[], rooms=[], sites=[],
    )  # fmt: skip


def _slow_solve(release: threading.Event, started: threading.Event) -> Callable[..., plans.SolveOutcome]:
    def solve(kind: str, problem: Any, time_limit: float, progress_path: str) -> plans.SolveOutcome:
        started.set()
        release.wait(10)
        return _outcome()

    return solve


async def test_the_working_instance_beats_while_it_solves(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    (run_id,), _ = await _runs(db)
    release, started = threading.Event(), threading.Event()
    monkeypatch.setattr(runner, "solve_in_worker", _slow_solve(release, started))
    now = [at(0)]
    worker = Runner(db, lambda: now[0], executor=ThreadPoolExecutor(1), heartbeat_s=0.05)
    task = asyncio.create_task(worker.run_once())
    try:
        await asyncio.to_thread(started.wait, 10)
        now[0] = at(30)
        await asyncio.sleep(0.3)  # several heartbeats
        assert await reclaim_stale(db, at(61), stale_after_s=STALE) == {}  # beat at 30 s: alive
        release.set()
        assert await task
    finally:
        release.set()
        worker.close()
    row = await _row(db, run_id)
    assert row.status == "done" and row.attempts == 1
    assert row.heartbeat_at is not None and row.started_at is not None
    assert row.heartbeat_at > row.started_at


async def test_an_instance_that_lost_its_run_saves_nothing(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (run_id,), _ = await _runs(db)
    release, started = threading.Event(), threading.Event()
    monkeypatch.setattr(runner, "solve_in_worker", _slow_solve(release, started))
    slow = Runner(db, lambda: at(0), executor=ThreadPoolExecutor(1), heartbeat_s=0.05)
    task = asyncio.create_task(slow.run_once())
    other = Database.connect(database_url)
    try:
        await asyncio.to_thread(started.wait, 10)
        # another instance sees no heartbeat for a minute (the slow one's clock stands still)
        assert await reclaim_stale(other, at(61), stale_after_s=STALE) == {run_id: RunStatus.QUEUED}
        taken = await claim_next(other, at(62))
        assert taken is not None and taken.attempts == 2
        # the slow instance's next heartbeat finds the run gone: it stops without saving
        assert await asyncio.wait_for(task, 5)
    finally:
        release.set()
        slow.close()
        await other.dispose()
    row = await _row(db, run_id)
    assert row.status == "running" and row.attempts == 2
    async with db.read() as s:
        assert list(await s.exec(select(PlanVersion).where(PlanVersion.run_id == run_id))) == []

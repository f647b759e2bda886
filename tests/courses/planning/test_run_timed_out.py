"""A run in which learners were left out because the time limit ran out says so, and asks for more time."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core.db import Database
from courses.models.plans import RunStatus, SolverRun
from courses.planning import runner
from scheduler.rooms import DormRoom, Lodger, LodgingSession, RoomsProblem, StayBlock, solve_rooms
from tests.conftest import JST
from tests.courses import builders as b

T0 = datetime(2026, 5, 15, 10, 0, tzinfo=JST)


def _problem() -> RoomsProblem:
    """The greedy fill alone leaves the woman who needs the accessible room out; a full solve houses all."""
    rooms = [
        DormRoom(1, 1, "101", accessible=True),
        DormRoom(2, 1, "102"),
        DormRoom(3, 1, "103", zone="women"),
    ]
    session = LodgingSession(10, 1, (StayBlock(date(2026, 6, 9), date(2026, 6, 12)),))
    lodgers = [Lodger(1, 10, "male"), Lodger(2, 10, "female"), Lodger(3, 10, "female", True)]
    return RoomsProblem(rooms, [session], lodgers)


def test_only_a_plan_cut_short_by_the_limit_counts_as_timed_out() -> None:
    short = runner.outcome_of("rooms", solve_rooms(_problem(), time_limit=0), [], 0.0)
    assert [u["code"] for u in short.unassigned] == ["timed_out"]
    assert runner.timed_out_kinds([short]) == ["rooms"]
    full = runner.outcome_of("rooms", solve_rooms(_problem(), time_limit=5), [], 0.0)
    assert full.unassigned == [] and runner.timed_out_kinds([full]) == []


async def _done_runs(db: Database, *progress: dict[str, object]) -> tuple[list[int], str]:
    """Finished runs with the given progress records, and a bearer token of their campus's staff."""
    ids = []
    async with db.write() as s:
        campus = await b.campus(s, "tokyo")
        staff = await b.user(s, role="staff", campuses=[campus])
        for record in progress:
            ids.append(await _done_run(s, campus, staff, record))
        return ids, await b.token(s, staff)


async def _done_run(s: Any, campus: Any, staff: Any, progress: dict[str, object]) -> int:
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
    row = await s.get(SolverRun, run.id)
    assert row is not None
    row.status = RunStatus.DONE
    row.progress_json = json.dumps(progress)
    s.add(row)
    return run.id or 0


async def test_the_run_page_asks_for_more_time_only_when_the_limit_left_someone_out(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    (cut, done), token = await _done_runs(
        db, {"plans": [], "timed_out": ["rooms"]}, {"plans": [], "timed_out": []}
    )
    page = (await client.get(f"/staff/runs/{cut}", headers=b.bearer(token))).text
    assert '<p id="more-time" class="notice notice-error">' in page
    assert "時間を延ばして再実行してください" in page
    page = (await client.get(f"/staff/runs/{done}", headers=b.bearer(token))).text
    assert '<p id="more-time" class="notice notice-error" hidden>' in page


def test_the_worker_reports_the_bound_so_far_beside_the_best_objective(tmp_path: Path) -> None:
    """What the run page draws: the best objective and the proven lower bound, never above it."""
    path = tmp_path / "progress.json"
    outcome = runner.solve_in_worker("rooms", _problem(), 5, str(path))
    data = json.loads(path.read_text())
    assert data["kind"] == "rooms" and data["best_bound"] is not None
    assert data["best_bound"] <= data["best_objective"] + 1e-9
    assert data["best_bound"] == pytest.approx(outcome.best_bound) or outcome.best_bound == outcome.objective

"""The solver-run queue: claim a queued run, build its problems, solve them in a worker process,
store the plans. Never solves on the event loop.

Any number of service instances may run this loop against one PostgreSQL database: a run is
claimed by a conditional UPDATE (``status = 'queued'`` → ``'running'``), which exactly one instance
wins. Progress (best objective so far, elapsed seconds) goes from the worker process through a small
file that the loop copies into the run row, so the run page can show it.

An instance can die with a run in hand. The claiming instance therefore refreshes the run's
``heartbeat_at`` every few seconds while it works; a running run whose heartbeat is older than the
stale threshold is reclaimed by whichever instance notices first, again by a conditional UPDATE, and
queued again. ``attempts`` counts the claims: a run whose second attempt also dies is marked failed
with the reason, instead of being retried forever. Every write of the claiming instance (heartbeat,
progress, the finished plans) is conditional on still owning the run (status running and its own
attempt), so an instance that was merely slow and lost its run can never save over the new owner's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import socket
import tempfile
import time
from concurrent.futures import Executor
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core.db import Database
from courses.core.db_outage import database_unavailable, outage_log
from courses.core.errors import FieldError, InvalidInput, not_found
from courses.models import Campus
from courses.models.plans import PlanKind, RunStatus, SolverRun
from courses.planning import plans, timetable_job
from courses.planning.timetable_solve import solve_job
from courses.planning.worker_pool import solver_pool

log = logging.getLogger(__name__)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
MAX_TIME_LIMIT_S = 600.0
MAX_RANGE_DAYS = 400
HEARTBEAT_INTERVAL_S = 5.0  # how often the claiming instance refreshes heartbeat_at
STALE_AFTER_S = 60.0  # default: a running run whose heartbeat is older than this is reclaimed
MIN_STALE_BEATS = 3  # the threshold is never shorter than this many heartbeat intervals
MAX_ATTEMPTS = 2  # a run is claimed at most this often; the next death fails it


class RunLost(Exception):
    """This instance no longer owns the run: another instance reclaimed it after a stale heartbeat."""


async def create_run(
    s: AsyncSession,
    *,
    campus: Campus,
    kinds: list[str],
    date_from: date,
    date_to: date,
    time_limit_s: float,
    pin_published: bool,
    user_id: int | None,
    now: datetime,
) -> SolverRun:
    errors = []
    bad = [k for k in kinds if k not in {PlanKind.ROOMS, PlanKind.PRACTICUM, PlanKind.TIMETABLE}]
    if not kinds or bad:
        errors.append(
            FieldError(
                "kinds",
                "計画の種類は rooms・practicum・timetable から選んでください。",
                "kinds: rooms, practicum and/or timetable",
            )
        )
    if date_from > date_to:
        errors.append(
            FieldError("to", "終了日は開始日以降にしてください。", "'to' must not be before 'from'")
        )
    elif (date_to - date_from).days > MAX_RANGE_DAYS:
        errors.append(
            FieldError(
                "to", f"期間は{MAX_RANGE_DAYS}日以内にしてください。", f"at most {MAX_RANGE_DAYS} days"
            )
        )
    if not 1 <= time_limit_s <= MAX_TIME_LIMIT_S:
        errors.append(
            FieldError(
                "time_limit_s",
                f"制限時間は1〜{MAX_TIME_LIMIT_S:.0f}秒で指定してください。",
                f"time_limit_s must be between 1 and {MAX_TIME_LIMIT_S:.0f}",
            )
        )
    if errors:
        raise InvalidInput("実行条件に誤りがあります。", "The run request is invalid.", errors=errors)
    run = SolverRun(
        campus_id=campus.id or 0,
        kinds=",".join(dict.fromkeys(kinds)),
        date_from=date_from,
        date_to=date_to,
        time_limit_s=time_limit_s,
        pin_published=pin_published,
        created_by=user_id,
        created_at=now,
    )
    s.add(run)
    await s.flush()
    return run


async def get_run(s: AsyncSession, run_id: int) -> SolverRun:
    run = await s.get(SolverRun, run_id)
    if run is None:
        raise not_found("実行", "Run", run_id)
    return run


async def claim_next(db: Database, now: datetime) -> SolverRun | None:
    """Take the oldest queued run, unless another instance takes it first."""
    async with db.read() as s:
        candidates = list(
            await s.exec(
                select(SolverRun.id)
                .where(SolverRun.status == RunStatus.QUEUED)
                .order_by(col(SolverRun.id))
                .limit(5)
            )
        )
    for run_id in candidates:
        async with db.write() as s:
            won = (
                await s.exec(
                    update(SolverRun)
                    .where(col(SolverRun.id) == run_id, col(SolverRun.status) == RunStatus.QUEUED)
                    .values(
                        status=RunStatus.RUNNING,
                        claimed_by=WORKER_ID,
                        started_at=now,
                        heartbeat_at=now,
                        attempts=col(SolverRun.attempts) + 1,
                    )
                    .returning(col(SolverRun.id))
                )
            ).first()
        if won is not None:
            async with db.read() as s:
                return await s.get(SolverRun, run_id)
    return None


def stale_threshold(stale_after_s: float, heartbeat_s: float = HEARTBEAT_INTERVAL_S) -> float:
    """The stale threshold actually used: never shorter than a few heartbeat intervals, so that one
    late heartbeat of a live instance never loses it its run."""
    return max(float(stale_after_s), MIN_STALE_BEATS * heartbeat_s)


def _stale(cutoff: datetime) -> ColumnElement[bool]:
    """A running run whose last sign of life is older than ``cutoff`` (a run claimed before the
    heartbeat existed counts from its start)."""
    last_seen = func.coalesce(col(SolverRun.heartbeat_at), col(SolverRun.started_at))
    return and_(col(SolverRun.status) == RunStatus.RUNNING, last_seen < cutoff)


def _owned(run: SolverRun) -> ColumnElement[bool]:
    """The run is still this attempt's: running, claimed by us, not reclaimed since."""
    return and_(
        col(SolverRun.id) == run.id,
        col(SolverRun.status) == RunStatus.RUNNING,
        col(SolverRun.claimed_by) == run.claimed_by,
        col(SolverRun.attempts) == run.attempts,
    )


def requeued_note(attempts: int) -> str:
    return (
        f"計算を担当していたサービスが応答しなくなったため、再実行します（{attempts + 1}回目）。"
        f" / The service instance working on this run stopped responding; it is queued again"
        f" (attempt {attempts + 1})."
    )


def abandoned_reason(attempts: int, stale_after_s: float) -> str:
    return (
        f"計算を担当していたサービスが{attempts}回とも途中で応答しなくなった"
        f"（{stale_after_s:.0f}秒以上応答なし）ため、この計算を打ち切りました。"
        "もう一度実行してください。繰り返す場合は期間を短くするか、管理者に連絡してください。"
        f" / The service instance working on this run stopped responding (no heartbeat for"
        f" {stale_after_s:.0f} s) on each of its {attempts} attempts, so the run was abandoned."
        " Start it again; if this recurs, shorten the date range or contact an administrator."
    )


async def reclaim_stale(
    db: Database, now: datetime, *, stale_after_s: float = STALE_AFTER_S, max_attempts: int = MAX_ATTEMPTS
) -> dict[int, str]:
    """A running run without a heartbeat for ``stale_after_s`` belonged to an instance that died:
    queue it again, or fail it once it has been claimed ``max_attempts`` times.

    Each reclaim is one conditional UPDATE that re-checks staleness and the attempt it saw, so of
    several instances reclaiming at once exactly one wins, and a run whose owner beat in between is
    left alone. Returns the reclaimed run ids with their new status.
    """
    cutoff = now - timedelta(seconds=stale_after_s)
    async with db.read() as s:
        candidates = list(
            await s.exec(
                select(SolverRun.id, SolverRun.attempts)
                .where(_stale(cutoff))
                .order_by(col(SolverRun.id))
                .limit(20)
            )
        )
    reclaimed: dict[int, str] = {}
    for run_id, attempts in candidates:
        assert run_id is not None  # a primary key
        values: dict[str, Any]
        if attempts >= max_attempts:
            values = {
                "status": RunStatus.FAILED,
                "finished_at": now,
                "error": abandoned_reason(attempts, stale_after_s),
            }
        else:
            values = {
                "status": RunStatus.QUEUED,
                "claimed_by": "",
                "heartbeat_at": None,
                "progress_json": "{}",
                "error": requeued_note(attempts),
            }
        async with db.write() as s:
            won = (
                await s.exec(
                    update(SolverRun)
                    .where(col(SolverRun.id) == run_id, col(SolverRun.attempts) == attempts, _stale(cutoff))
                    .values(**values)
                    .returning(col(SolverRun.id))
                )
            ).first()
        if won is not None:
            log.warning("solver run %s: stale heartbeat, now %s", run_id, values["status"])
            reclaimed[run_id] = values["status"]
    return reclaimed


async def beat(db: Database, run: SolverRun, now: datetime) -> bool:
    """Refresh the run's heartbeat; False when this instance no longer owns the run."""
    async with db.write() as s:
        row = (
            await s.exec(
                update(SolverRun).where(_owned(run)).values(heartbeat_at=now).returning(col(SolverRun.id))
            )
        ).first()
    return row is not None


def solve_in_worker(kind: str, problem: Any, time_limit: float, progress_path: str) -> plans.SolveOutcome:
    """Runs in the worker process: solve, validate independently, and return plain data."""
    from scheduler import validate
    from scheduler.practicum import solve_practicum
    from scheduler.rooms import solve_rooms

    started = time.monotonic()

    def progress(best: float, elapsed: float, bound: float | None = None) -> None:
        with contextlib.suppress(OSError):
            tmp = progress_path + ".tmp"
            data = {"kind": kind, "best_objective": best, "elapsed": elapsed, "best_bound": bound}
            Path(tmp).write_text(json.dumps(data))
            os.replace(tmp, progress_path)

    if kind == PlanKind.TIMETABLE:
        return solve_job(problem, time_limit, progress)
    if kind == PlanKind.ROOMS:
        rooms = solve_rooms(problem, time_limit=time_limit, num_workers=2, progress=progress)
        return outcome_of(kind, rooms, validate.validate_rooms(problem, rooms), time.monotonic() - started)
    sites = solve_practicum(problem, time_limit=time_limit, num_workers=2, progress=progress)
    return outcome_of(kind, sites, validate.validate_practicum(problem, sites), time.monotonic() - started)


def outcome_of(kind: str, sol: Any, violations: list[Any], seconds: float) -> plans.SolveOutcome:
    """A rooms or practicum solution and its validator's verdict as the plain data a plan is saved from."""
    if kind == PlanKind.ROOMS:
        unassigned = [asdict(u) for u in sol.unhoused]
        messages = [x.message for x in sol.shortages] or list(getattr(sol, "messages", []))
        rooms = [(a.session_id, a.learner_id, a.block, a.room_id) for a in sol.assignments]
        sites: list[tuple[int, int, int]] = []
    else:
        unassigned = [asdict(u) for u in sol.unplaced]
        messages = list(getattr(sol, "messages", []))
        rooms = []
        sites = [(p.session_id, p.learner_id, p.site_id) for p in sol.placements]
    return plans.SolveOutcome(
        kind=kind,
        status=sol.status,
        objective=float(sol.objective),
        best_bound=float(sol.best_bound),
        gap=float(sol.gap),
        moved=int(sol.moved),
        solve_seconds=round(seconds, 3),
        breakdown={
            k: {"value": v.value, "weight": v.weight, "cost": v.cost} for k, v in sol.breakdown.items()
        },
        unassigned=unassigned,
        messages=messages,
        violations=[asdict(v) for v in violations],
        rooms=rooms,
        sites=sites,
    )


def timed_out_kinds(outcomes: list[plans.SolveOutcome]) -> list[str]:
    """The kinds of plan in which someone was left out because the time limit ran out (not for want of
    rooms or sites): the run page then asks for a longer limit."""
    return [
        o.kind
        for o in outcomes
        if o.status == "timed_out" or any(u.get("code") == "timed_out" for u in o.unassigned)
    ]


class Runner:
    """Owns the worker pool of one service process and works the queue."""

    def __init__(
        self,
        db: Database,
        clock: Any,
        workers: int = 1,
        executor: Executor | None = None,
        *,
        stale_after_s: float = STALE_AFTER_S,
        heartbeat_s: float = HEARTBEAT_INTERVAL_S,
    ) -> None:
        self.db, self.clock = db, clock
        self.executor = executor or solver_pool(workers)
        self.progress_dir = Path(tempfile.mkdtemp(prefix="solver-progress-"))
        self.heartbeat_s = heartbeat_s
        self.stale_after_s = stale_threshold(stale_after_s, heartbeat_s)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        # a worker process still writing progress just fails its next write
        shutil.rmtree(self.progress_dir, ignore_errors=True)

    async def run_once(self) -> bool:
        """Reclaim the runs of dead instances, then work one queued run if there is one; True when
        a run was processed."""
        await reclaim_stale(self.db, self.clock(), stale_after_s=self.stale_after_s)
        run = await claim_next(self.db, self.clock())
        if run is None:
            return False
        lost = asyncio.Event()
        alive = asyncio.create_task(self._keep_alive(run, lost))
        try:
            await self._work(run, lost)
        except RunLost:
            log.warning("solver run %s was reclaimed by another instance; result discarded", run.id)
        except Exception as exc:  # a bad model or a crashed worker fails the run, never the service
            log.exception("solver run %s failed", run.id)
            await self._finish(run, RunStatus.FAILED, error=_error_text(exc))
        finally:
            alive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await alive
        return True

    async def _keep_alive(self, run: SolverRun, lost: asyncio.Event) -> None:
        """Refresh the heartbeat every ``heartbeat_s`` while the run is worked (loading, solving,
        saving); set ``lost`` when another instance has reclaimed it."""
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                if not await beat(self.db, run, self.clock()):
                    lost.set()
                    return
            except Exception:  # a missed beat is retried; the threshold allows several
                log.exception("solver run %s: heartbeat failed", run.id)

    async def _work(self, run: SolverRun, lost: asyncio.Event) -> None:
        kinds = [k for k in run.kinds.split(",") if k]
        problems = []
        async with self.db.read() as s:
            for kind in kinds:
                build: Any = {
                    PlanKind.ROOMS: plans.build_rooms_problem,
                    PlanKind.PRACTICUM: plans.build_practicum_problem,
                    PlanKind.TIMETABLE: timetable_job.build_timetable_job,
                }[PlanKind(kind)]
                problems.append(
                    (
                        kind,
                        await build(
                            s, run.campus_id, run.date_from, run.date_to, pin_published=run.pin_published
                        ),
                    )
                )
        loop = asyncio.get_running_loop()
        per_kind = run.time_limit_s / max(1, len(problems))
        outcomes = []
        for kind, problem in problems:
            progress_path = str(self.progress_dir / f"run-{run.id}-{kind}.json")
            future = loop.run_in_executor(
                self.executor, solve_in_worker, kind, problem, per_kind, progress_path
            )
            while not future.done():
                await asyncio.wait({future}, timeout=0.5)
                if lost.is_set():
                    raise RunLost(run.id)
                await self._copy_progress(run, progress_path)
            outcomes.append(await future)
        async with self.db.write() as s:
            # the first statement both checks and ends our ownership, so plans are saved once
            finished = (
                await s.exec(
                    update(SolverRun)
                    .where(_owned(run))
                    .values(status=RunStatus.DONE, finished_at=self.clock(), error="")
                    .returning(col(SolverRun.id))
                )
            ).first()
            if finished is None:
                raise RunLost(run.id)
            fresh = await s.get(SolverRun, run.id)
            assert fresh is not None
            plan_ids = [(await plans.save_plan(s, fresh, outcome, self.clock())).id for outcome in outcomes]
            progress = json.loads(fresh.progress_json or "{}")
            progress["plans"] = plan_ids
            progress["plan_kinds"] = [outcome.kind for outcome in outcomes]  # in the order of "plans"
            progress["timed_out"] = timed_out_kinds(outcomes)
            fresh.progress_json = json.dumps(progress)
            s.add(fresh)

    async def _copy_progress(self, run: SolverRun, path: str) -> None:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError):
            return
        async with self.db.write() as s:
            fresh = await s.get(SolverRun, run.id)
            if fresh is None:
                return
            progress = json.loads(fresh.progress_json or "{}")
            progress[data["kind"]] = {
                "best_objective": data["best_objective"],
                "best_bound": data.get("best_bound"),  # None where the solver proves none while it runs
                "elapsed": round(data["elapsed"], 2),
            }
            await s.exec(update(SolverRun).where(_owned(run)).values(progress_json=json.dumps(progress)))

    async def _finish(self, run: SolverRun, status: str, *, error: str = "") -> None:
        async with self.db.write() as s:
            await s.exec(
                update(SolverRun)
                .where(_owned(run))
                .values(status=status, error=error, finished_at=self.clock())
            )

    async def loop_forever(self, interval: float = 1.0) -> None:
        while True:
            try:
                worked = await self.run_once()
            except Exception as exc:
                if database_unavailable(exc):
                    outage_log.note(exc, "solver queue waiting")
                else:
                    log.exception("solver queue")
                worked = False
            if not worked:
                await asyncio.sleep(interval)


def _error_text(exc: Exception) -> str:
    problems = getattr(exc, "problems", None)
    if problems:
        return "問題データに誤りがあります: " + "; ".join(str(p) for p in problems[:20])
    return f"計算に失敗しました（{type(exc).__name__}: {str(exc)[:500]}）"

"""The solver-run queue: claim a queued run, build its problems, solve them in a worker process,
store the plans. Never solves on the event loop.

Any number of service instances may run this loop against one PostgreSQL database: a run is
claimed by a conditional UPDATE (``status = 'queued'`` → ``'running'``), which exactly one instance
wins. Progress (best objective so far, elapsed seconds) goes from the worker process through a small
file that the loop copies into the run row, so the run page can show it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import socket
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.db import Database
from courses.errors import FieldError, InvalidInput, not_found
from courses.models import Campus
from courses.models.plans import PlanKind, RunStatus, SolverRun
from courses.services import plans, timetable

log = logging.getLogger(__name__)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
MAX_TIME_LIMIT_S = 600.0
MAX_RANGE_DAYS = 400


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
                await s.exec(  # type: ignore[call-overload]
                    update(SolverRun)
                    .where(col(SolverRun.id) == run_id, col(SolverRun.status) == RunStatus.QUEUED)
                    .values(status=RunStatus.RUNNING, claimed_by=WORKER_ID, started_at=now)
                    .returning(SolverRun.id)
                )
            ).first()
        if won is not None:
            async with db.read() as s:
                return await s.get(SolverRun, run_id)
    return None


def solve_in_worker(kind: str, problem: Any, time_limit: float, progress_path: str) -> plans.SolveOutcome:
    """Runs in the worker process: solve, validate independently, and return plain data."""
    from scheduler import validate
    from scheduler.practicum import solve_practicum
    from scheduler.rooms import solve_rooms

    started = time.monotonic()

    def progress(best: float, elapsed: float) -> None:
        with contextlib.suppress(OSError):
            tmp = progress_path + ".tmp"
            Path(tmp).write_text(json.dumps({"kind": kind, "best_objective": best, "elapsed": elapsed}))
            os.replace(tmp, progress_path)

    if kind == PlanKind.TIMETABLE:
        from courses.services.timetable import solve_job

        return solve_job(problem, time_limit, progress)
    if kind == PlanKind.ROOMS:
        sol = solve_rooms(problem, time_limit=time_limit, num_workers=2, progress=progress)
        violations = validate.validate_rooms(problem, sol)
        unassigned = [asdict(u) for u in sol.unhoused]
        messages = [x.message for x in sol.shortages] or list(getattr(sol, "messages", []))
        rooms = [(a.session_id, a.learner_id, a.block, a.room_id) for a in sol.assignments]
        sites: list[tuple[int, int, int]] = []
    else:
        sol = solve_practicum(problem, time_limit=time_limit, num_workers=2, progress=progress)  # type: ignore[assignment]
        violations = validate.validate_practicum(problem, sol)  # type: ignore[arg-type]
        unassigned = [asdict(u) for u in sol.unplaced]  # type: ignore[attr-defined]
        messages = list(getattr(sol, "messages", []))
        rooms = []
        sites = [(p.session_id, p.learner_id, p.site_id) for p in sol.placements]  # type: ignore[attr-defined]
    return plans.SolveOutcome(
        kind=kind,
        status=sol.status,
        objective=float(sol.objective),
        best_bound=float(sol.best_bound),
        gap=float(sol.gap),
        moved=int(sol.moved),
        solve_seconds=round(time.monotonic() - started, 3),
        breakdown={
            k: {"value": v.value, "weight": v.weight, "cost": v.cost} for k, v in sol.breakdown.items()
        },
        unassigned=unassigned,
        messages=messages,
        violations=[asdict(v) for v in violations],
        rooms=rooms,
        sites=sites,
    )


class Runner:
    """Owns the worker pool of one service process and works the queue."""

    def __init__(self, db: Database, clock: Any, workers: int = 1, executor: Executor | None = None) -> None:
        self.db, self.clock = db, clock
        self.executor = executor or ProcessPoolExecutor(
            max_workers=max(1, workers), mp_context=multiprocessing.get_context("spawn")
        )
        self.progress_dir = Path(tempfile.mkdtemp(prefix="solver-progress-"))

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def run_once(self) -> bool:
        """Work one queued run if there is one; True when a run was processed."""
        run = await claim_next(self.db, self.clock())
        if run is None:
            return False
        try:
            await self._work(run)
        except Exception as exc:  # a bad model or a crashed worker fails the run, never the service
            log.exception("solver run %s failed", run.id)
            await self._finish(run, RunStatus.FAILED, error=_error_text(exc))
        return True

    async def _work(self, run: SolverRun) -> None:
        kinds = [k for k in run.kinds.split(",") if k]
        problems = []
        async with self.db.read() as s:
            for kind in kinds:
                build: Any = {
                    PlanKind.ROOMS: plans.build_rooms_problem,
                    PlanKind.PRACTICUM: plans.build_practicum_problem,
                    PlanKind.TIMETABLE: timetable.build_timetable_job,
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
                await self._copy_progress(run, progress_path)
            outcomes.append(await future)
        async with self.db.write() as s:
            fresh = await s.get(SolverRun, run.id)
            assert fresh is not None
            plan_ids = [(await plans.save_plan(s, fresh, outcome, self.clock())).id for outcome in outcomes]
            fresh.status = RunStatus.DONE
            fresh.finished_at = self.clock()
            progress = json.loads(fresh.progress_json or "{}")
            progress["plans"] = plan_ids
            fresh.progress_json = json.dumps(progress)
            s.add(fresh)

    async def _copy_progress(self, run: SolverRun, path: str) -> None:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError):
            return
        async with self.db.write() as s:
            fresh = await s.get(SolverRun, run.id)
            if fresh is not None:
                progress = json.loads(fresh.progress_json or "{}")
                progress[data["kind"]] = {
                    "best_objective": data["best_objective"],
                    "elapsed": round(data["elapsed"], 2),
                }
                fresh.progress_json = json.dumps(progress)
                s.add(fresh)

    async def _finish(self, run: SolverRun, status: str, *, error: str = "") -> None:
        async with self.db.write() as s:
            fresh = await s.get(SolverRun, run.id)
            if fresh is not None:
                fresh.status = status
                fresh.error = error
                fresh.finished_at = self.clock()
                s.add(fresh)

    async def loop_forever(self, interval: float = 1.0) -> None:
        while True:
            try:
                worked = await self.run_once()
            except Exception:
                log.exception("solver queue")
                worked = False
            if not worked:
                await asyncio.sleep(interval)


def _error_text(exc: Exception) -> str:
    problems = getattr(exc, "problems", None)
    if problems:
        return "問題データに誤りがあります: " + "; ".join(str(p) for p in problems[:20])
    return f"計算に失敗しました（{type(exc).__name__}: {str(exc)[:500]}）"


def run_dict(run: SolverRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "campus_id": run.campus_id,
        "kinds": run.kinds.split(","),
        "from": run.date_from.isoformat(),
        "to": run.date_to.isoformat(),
        "time_limit_s": run.time_limit_s,
        "pin_published": run.pin_published,
        "status": run.status,
        "progress": json.loads(run.progress_json or "{}"),
        "error": run.error,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }

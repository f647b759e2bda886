"""Background work of a service process: delivering the notification outbox, queueing the reminders
and the survey emails that are due, passing on waiting-list places not accepted in time, working the
solver queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from courses.core.db import Database
from courses.core.db_outage import database_unavailable, outage_log
from courses.core.notifications import deliver_pending
from courses.core.tx import run_sync
from courses.enrollment.reminders import send_due
from courses.enrollment.service import release_unaccepted
from courses.models import Enrollment, EnrollmentStatus
from courses.planning.runner import Runner
from courses.surveys.service import send_due as send_surveys

log = logging.getLogger(__name__)
MAIL_INTERVAL_S = 10


async def _mail_loop(app: Any) -> None:
    while True:
        try:
            await deliver_pending(app.state.db, app.state.settings, app.state.clock())
        except Exception as exc:  # keep delivering later; never take the service down
            if database_unavailable(exc):
                outage_log.note(exc, "outbox delivery waiting")
            else:
                log.exception("outbox delivery failed")
        await asyncio.sleep(MAIL_INTERVAL_S)


async def _reminder_loop(app: Any) -> None:
    """Every ``reminder_interval_s``, queue the reminders and survey emails due today (each goes out
    once, whatever other instances or the `send-reminders` and `send-surveys` commands do)."""
    while True:
        await asyncio.sleep(app.state.settings.reminder_interval_s)
        try:
            await send_due(app.state.db, app.state.clock(), app.state.settings.base_url)
        except Exception as exc:  # try again at the next round; never take the service down
            if database_unavailable(exc):
                outage_log.note(exc, "reminders waiting")
            else:
                log.exception("reminders failed")
        try:  # places given from the waiting list and not accepted in time pass to the next person
            await release_lapsed(app.state.db, app.state.clock())
        except Exception as exc:
            if database_unavailable(exc):
                outage_log.note(exc, "waiting-list places waiting")
            else:
                log.exception("releasing unaccepted places failed")
        try:  # the survey the day after a session's last day, the same way (once per learner)
            await send_surveys(app.state.db, app.state.clock(), app.state.settings.base_url)
        except Exception as exc:
            if database_unavailable(exc):
                outage_log.note(exc, "survey emails waiting")
            else:
                log.exception("survey emails failed")


async def release_lapsed(db: Database, now: datetime) -> int:
    """``release_unaccepted`` in one write transaction (the write lock only when something lapsed)."""
    async with db.read() as s:
        due = (
            await s.exec(
                select(func.count()).where(
                    Enrollment.status == EnrollmentStatus.CONFIRMED,
                    col(Enrollment.confirm_by).is_not(None),
                    col(Enrollment.confirm_by) < now.astimezone(UTC),
                )
            )
        ).one()
    if not due:
        return 0
    async with db.write() as s:
        return await run_sync(s, release_unaccepted, now)


def start_background(app: Any) -> None:
    tasks: list[asyncio.Task[None]] = []
    if app.state.settings.smtp_host:
        tasks.append(asyncio.create_task(_mail_loop(app)))
    if app.state.settings.reminder_interval_s > 0:
        tasks.append(asyncio.create_task(_reminder_loop(app)))
    solver = None
    if app.state.settings.solver_workers > 0:
        settings = app.state.settings
        solver = Runner(
            app.state.db,
            app.state.clock,
            workers=settings.solver_workers,
            stale_after_s=settings.solver_stale_after_s,
        )
        tasks.append(asyncio.create_task(solver.loop_forever()))
    app.state.background = tasks

    async def stop() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if solver is not None:
            solver.close()

    app.state.stop_background = stop

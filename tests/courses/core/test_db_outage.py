"""An unreachable database: 503 with Retry-After and one log line, not a 500 and a traceback each time."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from courses.app import create_app
from courses.core import db_outage
from courses.core.db import Database
from courses.core.settings import Settings
from courses.planning.runner import Runner

PATHS = ["/health", "/api/sessions", "/api/campuses", "/", "/api/auth/me", "/staff"]


def _unreachable(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}"  # a directory: SQLite cannot open it
    return "postgresql+asyncpg://postgres@127.0.0.1:1/none"  # nothing listens on port 1


@pytest.fixture
def fresh_outage_log(monkeypatch: pytest.MonkeyPatch) -> db_outage.OutageLog:
    log = db_outage.OutageLog()
    monkeypatch.setattr(db_outage, "outage_log", log)
    from courses.core import problems
    from courses.planning import runner

    monkeypatch.setattr(problems, "outage_log", log)
    monkeypatch.setattr(runner, "outage_log", log)
    return log


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_requests_get_503_with_retry_after_and_one_log_line(
    kind: str,
    tmp_path: Path,
    clock: Callable[[], datetime],
    fresh_outage_log: db_outage.OutageLog,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(database_url=_unreachable(kind, tmp_path), secret_key="k" * 40, solver_workers=0)
    app = create_app(settings, clock=clock)
    async with AsyncTestClient(app=app) as client:
        # Litestar configures logging when the app starts; listen to the service's loggers after it
        caplog.handler.setLevel(logging.INFO)
        logging.getLogger("courses").addHandler(caplog.handler)
        for _ in range(3):
            for path in PATHS:
                html = {"Accept": "text/html"} if not path.startswith(("/api", "/health")) else {}
                auth = {"Authorization": "Bearer some-token", "Cookie": "sid=some-session"}
                r = await client.get(path, headers={**html, **auth})
                assert r.status_code == 503, (path, r.status_code, r.text[:200])
                assert r.headers["retry-after"] == "5"
                if html:
                    assert "データベースに接続できません" in r.text
                else:
                    assert r.headers["content-type"].startswith("application/problem+json")
                    assert r.json()["type"].endswith("/unavailable")
    logging.getLogger("courses").removeHandler(caplog.handler)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].exc_info is None and "database unavailable" in errors[0].getMessage()
    assert fresh_outage_log.refused == 3 * len(PATHS) - 1  # counted for the next report


async def test_the_solver_queue_waits_without_a_traceback_per_pass(
    tmp_path: Path,
    clock: Callable[[], datetime],
    fresh_outage_log: db_outage.OutageLog,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = Database.connect(_unreachable("sqlite", tmp_path))
    runner = Runner(db, clock, executor=ThreadPoolExecutor(max_workers=1))
    task = asyncio.create_task(runner.loop_forever(interval=0.01))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    runner.close()
    await db.dispose()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None, [r.getMessage() for r in errors]
    assert fresh_outage_log.refused >= 5  # it kept trying, quietly


def test_a_failed_statement_is_not_an_outage() -> None:
    assert not db_outage.database_unavailable(ValueError("a bug of ours"))
    assert not db_outage.database_unavailable(sqlite3.OperationalError("no such table: campus"))
    assert db_outage.database_unavailable(sqlite3.OperationalError("database is locked"))
    assert not db_outage.database_unavailable(ConnectionRefusedError("not raised by a database driver"))

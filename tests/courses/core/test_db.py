"""The two ways to write: ``Database.write`` (async ORM) and ``Database.transact`` (a synchronous
function, on SQLite run by the writer thread). Both commit on success, roll back on error, and queue
behind each other instead of failing on a locked database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import bindparam, func, insert, select
from sqlmodel import Session

from courses.core.db import Database, create_engine
from courses.core.settings import Pools
from courses.core.tx import Tx, as_tx
from courses.models import Campus, table_of

NOW = datetime(2026, 5, 15, 9, tzinfo=UTC)


_CAMPUSES = table_of(Campus)
_ADD = insert(_CAMPUSES).returning(_CAMPUSES.c.id)
_COUNT = select(func.count().label("n")).where(_CAMPUSES.c.code.startswith(bindparam("prefix")))


def _add_campus(db: Session | Tx, code: str, fail: bool = False) -> int:
    row = {"code": code, "name_ja": f"テスト{code}", "name_en": f"Test {code}", "prefecture": "13"}
    campus_id = int(
        as_tx(db).scalar(_ADD, {**row, "address": "東京都", "has_lodging": True, "sort_order": 0})
    )
    if fail:
        raise ValueError("refused after the insert")
    return campus_id


def _count(tx: Tx, prefix: str) -> int:
    return int(tx.scalar(_COUNT, {"prefix": prefix}))


async def test_transact_commits_and_returns(db: Database) -> None:
    campus_id = await db.transact(_add_campus, "tx1")
    assert campus_id > 0
    assert await db.query(_count, "tx1") == 1
    async with db.read() as s:
        assert (await s.get(Campus, campus_id)) is not None


async def test_transact_rolls_back_when_the_function_raises(db: Database) -> None:
    with pytest.raises(ValueError, match="refused"):
        await db.transact(_add_campus, "tx2", fail=True)
    assert await db.query(_count, "tx2") == 0


async def test_async_and_sync_writers_queue_behind_each_other(db: Database) -> None:
    async def async_writer(i: int) -> None:
        async with db.write() as s:
            await s.run_sync(_add_campus, f"mix-a{i}")
            await asyncio.sleep(0.005)  # hold the transaction across an await

    jobs = [async_writer(i) for i in range(10)] + [db.transact(_add_campus, f"mix-s{i}") for i in range(30)]
    await asyncio.wait_for(asyncio.gather(*jobs), timeout=60)
    assert await db.query(_count, "mix-") == 40


async def test_transact_inside_write_is_refused_not_deadlocked(db: Database) -> None:
    async with db.write():
        with pytest.raises(RuntimeError, match="run_sync"):
            await db.transact(_add_campus, "nested")
    assert await db.query(_count, "nested") == 0


def test_every_pool_size_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Pool sizes come from Settings (read from the environment once), not from os.environ deep in
    the database layer."""
    from courses.core.settings import Settings

    for name, value in {
        "SQLITE_POOL_SIZE": "3",
        "SQLITE_READ_THREADS": "5",
        "PG_POOL_SIZE": "7",
        "PG_MAX_OVERFLOW": "2",
        "PG_DIRECT_POOL_SIZE": "4",
        "ACCESS_LOG": "0",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert settings.pools == Pools(
        sqlite_pool_size=3, sqlite_read_threads=5, pg_pool_size=7, pg_max_overflow=2, pg_direct_pool_size=4
    )
    assert settings.access_log is False
    monkeypatch.delenv("SQLITE_POOL_SIZE")  # read once: the Database uses what Settings holds
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pools.db'}", pools=settings.pools)
    assert engine.pool.size() == 3  # type: ignore[attr-defined]

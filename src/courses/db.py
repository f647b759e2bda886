"""Database engine and transactions for SQLite (embedded default) and PostgreSQL.

SQLite needs care to be correct under concurrency (see shared/STACK_NOTES.md): the driver's own
transaction handling is switched off and we emit BEGIN ourselves, BEGIN IMMEDIATE for write
transactions, so that a capacity check can never be overtaken by another writer. Inside one process
write transactions are also serialised with an asyncio lock, which keeps SQLite's busy-wait tail short.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _install_sqlite_transactions(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from opening (or not opening) transactions behind our back.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode != "NONE":  # read sessions run each SELECT on its own: no BEGIN/ROLLBACK round trips
            conn.exec_driver_sql(f"BEGIN {mode}")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine with the settings each backend needs to be safe under load."""
    if is_sqlite(url):
        path = make_url(url).database
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # aiosqlite runs a thread per connection: a few connections shared by many requests beat
        # dozens of threads fighting over the GIL (writers are serialised anyway).
        size = int(os.environ.get("SQLITE_POOL_SIZE", "4"))
        engine = create_async_engine(url, echo=echo, pool_size=size, max_overflow=0, pool_timeout=60)
        _install_sqlite_transactions(engine)
        return engine
    return create_async_engine(url, echo=echo, pool_size=20, max_overflow=10, pool_pre_ping=True)


@dataclass
class Database:
    """The engine plus the two kinds of transaction the service uses."""

    url: str
    engine: AsyncEngine
    _write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def connect(cls, url: str) -> Database:
        return cls(url=url, engine=create_engine(url))

    @property
    def sqlite(self) -> bool:
        return is_sqlite(self.url)

    def __post_init__(self) -> None:
        def maker(sqlite_begin: str) -> async_sessionmaker[AsyncSession]:
            bind = self.engine.execution_options(sqlite_begin=sqlite_begin) if self.sqlite else self.engine
            return async_sessionmaker(bind, class_=AsyncSession, expire_on_commit=False)

        self._readers = maker("NONE")
        self._writers = maker("IMMEDIATE")

    def _maker(self, *, write: bool) -> async_sessionmaker[AsyncSession]:
        return self._writers if write else self._readers

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; closing it ends (rolls back) its transaction, loaded rows stay usable."""
        async with self._maker(write=False)() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed when the block ends, rolled back on error."""
        if self.sqlite:
            async with self._write_lock, self._maker(write=True)() as session, session.begin():
                yield session
        else:
            async with self._maker(write=True)() as session, session.begin():
                yield session

    async def dispose(self) -> None:
        await self.engine.dispose()

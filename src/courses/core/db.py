"""Database engine and transactions for SQLite (embedded default) and PostgreSQL.

SQLite needs care to be correct under concurrency: the driver's own
transaction handling is switched off and we emit BEGIN ourselves, BEGIN IMMEDIATE for write
transactions, so that a capacity check can never be overtaken by another writer. Inside one process
write transactions are also serialised, which keeps SQLite's busy-wait tail short.

The busiest write (an enrollment) and the busiest read (who holds a token) run as synchronous
functions over a ``courses.core.tx.Tx`` through ``Database.transact`` and ``Database.query``. On SQLite
they run on one writer thread (or a few reader threads) with a plain sqlite3 connection, so the whole
transaction is a single hand-off from the event loop instead of three or four per statement through
aiosqlite's thread while holding the write lock. On PostgreSQL they run on a connection of a small
asyncpg pool of their own, inside a greenlet, without the async engine's per-statement machinery.
Either way the statements, and the code that takes seats, are the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

import asyncpg
from sqlalchemy import Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util import greenlet_spawn
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core.settings import Pools
from courses.core.tx import AsyncpgTx, SessionTx, Tx, run_sync

P = ParamSpec("P")
T = TypeVar("T")
_in_write: contextvars.ContextVar[bool] = contextvars.ContextVar("in_write", default=False)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _install_sqlite_transactions(engine: AsyncEngine | Engine) -> None:
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from opening (or not opening) transactions behind our back.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode != "NONE":  # read sessions run each SELECT on its own: no BEGIN/ROLLBACK round trips
            conn.exec_driver_sql(f"BEGIN {mode}")


def create_engine(url: str, *, echo: bool = False, pools: Pools | None = None) -> AsyncEngine:
    """Create the async engine with the settings each backend needs to be safe under load."""
    pools = pools or Pools()
    if is_sqlite(url):
        path = make_url(url).database
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, echo=echo, pool_size=pools.sqlite_pool_size, max_overflow=0, pool_timeout=60
        )
        _install_sqlite_transactions(engine)
        return engine
    return create_async_engine(
        url, echo=echo, pool_size=pools.pg_pool_size, max_overflow=pools.pg_max_overflow, pool_pre_ping=True
    )


def _create_sqlite_sync(url: str, size: int) -> Engine | None:
    """A synchronous engine on the same SQLite file for the writer or reader threads (None in memory)."""
    parsed = make_url(url)
    if not parsed.database or parsed.database == ":memory:":
        return None
    engine = create_sync_engine(
        parsed.set(drivername="sqlite+pysqlite"),
        pool_size=size,
        max_overflow=0,
        connect_args={"check_same_thread": False},  # used by the writer thread, disposed from the loop
    )
    _install_sqlite_transactions(engine)
    return engine


@dataclass
class Database:
    """The engine and the transactions the service uses: ``read`` and ``write`` (async sessions), and
    ``query`` and ``transact`` (a synchronous function in one hand-off; see the module docstring)."""

    url: str
    engine: AsyncEngine
    _write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _writer_engine: Engine | None = None
    _writer: ThreadPoolExecutor | None = None
    _reader_engine: Engine | None = None
    _reader: ThreadPoolExecutor | None = None
    _direct: asyncpg.Pool | None = None
    _direct_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pools: Pools = field(default_factory=Pools)
    # write transactions this process has run (caches of rendered pages are dropped when it moves)
    writes: int = 0
    _direct_turn: asyncio.Semaphore = field(init=False)

    @classmethod
    def connect(cls, url: str, pools: Pools | None = None) -> Database:
        pools = pools or Pools()
        return cls(url=url, engine=create_engine(url, pools=pools), pools=pools)

    @property
    def _direct_size(self) -> int:
        return self.pools.pg_direct_pool_size

    @property
    def sqlite(self) -> bool:
        return self._sqlite

    def __post_init__(self) -> None:
        self._direct_turn = asyncio.Semaphore(self._direct_size)
        self._sqlite = is_sqlite(self.url)  # parsing the URL on every transaction showed in profiles

        def maker(write: bool) -> async_sessionmaker[AsyncSession]:
            # Reads run each statement on its own, without BEGIN and ROLLBACK round trips: SQLite
            # (no BEGIN is emitted) and PostgreSQL (autocommit) alike.
            if self.sqlite:
                bind = self.engine.execution_options(sqlite_begin="IMMEDIATE" if write else "NONE")
            else:
                bind = self.engine if write else self.engine.execution_options(isolation_level="AUTOCOMMIT")
            return async_sessionmaker(bind, class_=AsyncSession, expire_on_commit=False)

        self._readers = maker(write=False)
        self._writers = maker(write=True)
        if self.sqlite:
            self._writer_engine = _create_sqlite_sync(self.url, 1)
            if self._writer_engine is not None:
                self._writer_bind = self._writer_engine.execution_options(sqlite_begin="IMMEDIATE")
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
            readers = self.pools.sqlite_read_threads
            self._reader_engine = _create_sqlite_sync(self.url, readers)
            if self._reader_engine is not None:
                self._reader_bind = self._reader_engine.execution_options(sqlite_begin="NONE")
                self._reader = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="sqlite-reader")

    def _maker(self, *, write: bool) -> async_sessionmaker[AsyncSession]:
        return self._writers if write else self._readers

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading: each statement runs on its own (no BEGIN); loaded rows stay usable."""
        async with self._maker(write=False)() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed when the block ends, rolled back on error."""
        token = _in_write.set(True)
        try:
            if not self.sqlite:
                async with self._maker(write=True)() as session, session.begin():
                    yield session
                return
            async with (
                self._write_lock,
                self._holding_writer(),
                self._maker(write=True)() as session,
                session.begin(),
            ):
                yield session
        finally:
            self.writes += 1
            # It may end in another context than it began: Litestar resolves two or more dependencies
            # of a handler in a task group, so ``writing`` is entered in a task of its own and closed
            # in the request's, and the mark was set in that task's context only.
            with contextlib.suppress(ValueError):
                _in_write.reset(token)

    async def transact(self, fn: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(tx, *args, **kwargs)``, synchronous code over a ``Tx``, as one write transaction:
        committed when it returns, rolled back when it raises (the exception reaches the caller)."""
        if _in_write.get():
            raise RuntimeError("Database.transact inside Database.write: use session.run_sync instead")
        try:
            if not self.sqlite and self._direct_size > 0:
                async with self._direct_connection() as conn, conn.transaction():
                    return await greenlet_spawn(partial(fn, AsyncpgTx(conn), *args, **kwargs))
            if self._writer is None:  # PostgreSQL through the engine, or SQLite in memory
                async with self.write() as session:
                    return await run_sync(session, _on_session, fn, args, kwargs)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._writer, lambda: self._run_in_writer(fn, args, kwargs))
        finally:
            self.writes += 1

    async def query(self, fn: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(tx, *args, **kwargs)``, synchronous code over a ``Tx`` that only reads, each
        statement on its own (used where every request reads, e.g. signing in by token)."""
        if not self.sqlite and self._direct_size > 0:
            async with self._direct_connection() as conn:
                return await greenlet_spawn(partial(fn, AsyncpgTx(conn), *args, **kwargs))
        if self._reader is None:
            async with self.read() as session:
                return await run_sync(session, _on_session, fn, args, kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, lambda: self._run_in_reader(fn, args, kwargs))

    def _run_in_reader(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        with Session(self._reader_bind, expire_on_commit=False) as session:
            return fn(SessionTx(session), *args, **kwargs)

    def _run_in_writer(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        with Session(self._writer_bind, expire_on_commit=False) as session, session.begin():
            return fn(SessionTx(session), *args, **kwargs)

    @asynccontextmanager
    async def _direct_connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of the asyncpg pool of ``transact`` and ``query`` on PostgreSQL, handed out
        first come, first served.

        The pool is opened on first use (a pool belongs to the event loop that opened it). Waiting
        happens at a semaphore of the pool's size, which asyncio hands on in arrival order; asyncpg's
        own queue lets a request that just arrived take a connection from one woken to receive it,
        which sent the unlucky to the back again (with 64 clients on 10 connections, p99 was three
        to four times p50).
        """
        if self._direct is None:
            async with self._direct_lock:
                if self._direct is None:
                    dsn = (
                        make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
                    )
                    self._direct = await asyncpg.create_pool(
                        dsn, min_size=1, max_size=self._direct_size, reset=_rollback_if_open
                    )
        async with self._direct_turn, self._direct.acquire() as conn:
            yield conn

    @asynccontextmanager
    async def _holding_writer(self) -> AsyncIterator[None]:
        """Keep the writer thread waiting while an async write transaction runs, so that SQLite
        writers queue in this process instead of sleeping in SQLite's busy handler."""
        if self._writer is None:
            yield
            return
        loop = asyncio.get_running_loop()
        entered: asyncio.Future[None] = loop.create_future()
        done = threading.Event()

        def enter() -> None:
            if not entered.done():  # the waiting request may have been cancelled meanwhile
                entered.set_result(None)

        def hold() -> None:
            loop.call_soon_threadsafe(enter)
            done.wait()

        self._writer.submit(hold)
        try:
            await entered
            yield
        finally:
            done.set()

    async def dispose(self) -> None:
        if self._direct is not None:
            await self._direct.close()
            self._direct = None
        for pool in (self._writer, self._reader):
            if pool is not None:
                pool.shutdown(wait=True)
        for engine in (self._writer_engine, self._reader_engine):
            if engine is not None:
                engine.dispose()
        await self.engine.dispose()


def _on_session(session: Session, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    return fn(SessionTx(session), *args, **kwargs)


async def _rollback_if_open(conn: asyncpg.Connection) -> None:
    """Reset a connection given back to the direct pool. ``transact`` and ``query`` change no session
    settings, so asyncpg's default reset (four statements, one round trip per release) has nothing to
    undo; only a transaction left open by a cancelled request is rolled back."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")

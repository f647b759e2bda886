"""Explicitly marked dependencies that handlers ask for by name.

A handler takes the database in one of three ways:

- ``reading: Reading``: a read session for the whole request (statements run on their own, no
  transaction is held); most pages and lookups.
- ``writing: Writing``: one write transaction for the whole request (SQLite's ``BEGIN IMMEDIATE``
  under the process's write lock; PostgreSQL's ``BEGIN``), committed after the handler returns and
  its response is built, rolled back when the handler raises. For handlers that do nothing slow
  besides the database.
- ``db: DB``: the ``Database`` itself, for a handler that must keep the write lock short, because it
  hashes a password (argon2), parses an upload or waits for the solver before it writes. It opens
  ``db.read()`` / ``db.write()`` blocks itself.

A handler that catches a refusal to answer with a page wraps the work that may be refused in
``undone_on_error(writing)``: a caught error inside ``writing`` alone would still commit what was
written before it. What must follow the commit outside the database (the token cache) is registered
with ``after_commit(writing, fn)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core.db import Database

DB = NamedDependency[Database]
Reading = NamedDependency[AsyncSession]
Writing = NamedDependency[AsyncSession]


# Each provider below takes the caller (the ``user`` dependency, which ``courses.app`` provides) and
# ignores it. That makes Litestar resolve ``user`` first and the session after it, in sequence: two
# dependencies of a handler that do not depend on each other are resolved in an anyio task group,
# which costs about 0.1 ms a request (measured), a twentieth of an enrollment.


def provide_db(state: State, user: NamedDependency[object]) -> Database:
    db: Database = state.db
    return db


async def provide_reading(state: State, user: NamedDependency[object]) -> AsyncIterator[AsyncSession]:
    async with provide_db(state, user).read() as session:
        yield session


async def provide_writing(state: State, user: NamedDependency[object]) -> AsyncIterator[AsyncSession]:
    """Litestar throws the handler's exception in here, so the block rolls back; it commits when
    the response has been built and before it is sent, so a failed commit is the caller's error."""
    async with provide_db(state, user).write() as session:
        yield session


@asynccontextmanager
async def undone_on_error(writing: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Inside the request's write transaction, a SAVEPOINT: what the block wrote is undone when it
    raises, and the error goes on to the handler, which may answer with a page and still commit
    nothing of it."""
    async with writing.begin_nested():
        yield writing


def after_commit(writing: AsyncSession, fn: Callable[[], None]) -> None:
    """Run ``fn`` once the request's transaction has committed, and not at all when it rolls back:
    for what lives outside the database and must follow it, such as forgetting the cached sign-ins
    that the transaction changed (forgotten earlier, a concurrent request could cache the old row
    again before the commit)."""

    def run(_session: Any) -> None:
        fn()

    event.listen(writing.sync_session, "after_commit", run, once=True)


DEPENDENCIES = {
    "db": Provide(provide_db, sync_to_thread=False),
    "reading": Provide(provide_reading),
    "writing": Provide(provide_writing),
}

"""Telling an unreachable database from a failed statement, and saying so once, not per request.

When the database is down every request and every background pass fails the same way; the web
answers 503 with Retry-After and the loops wait, while the log gets one line per half minute.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import traceback

import asyncpg
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)


def exception_chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes; the chain is short, never followed forever."""
    out: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(out) < 10:
        out.append(cause)
        cause = cause.__cause__ or cause.__context__
    return out


# SQLite's words for a database it cannot reach (its OperationalError also covers bad SQL, which is ours)
_SQLITE_UNAVAILABLE = ("unable to open database", "database is locked", "disk i/o error", "readonly database")

_PG_UNAVAILABLE = (
    asyncpg.exceptions.PostgresConnectionError,  # refused, rejected, lost
    asyncpg.exceptions.OperatorInterventionError,  # starting up, shutting down
    asyncpg.exceptions.TooManyConnectionsError,
)


def database_unavailable(exc: BaseException) -> bool:
    """True when the database cannot be reached (refused, down, timed out, locked), as opposed to a
    statement it refused: the service should answer 503 and the client retry."""
    for cause in exception_chain(exc):
        if isinstance(cause, sqlite3.OperationalError):
            return any(words in str(cause).lower() for words in _SQLITE_UNAVAILABLE)
        if isinstance(cause, sa_exc.TimeoutError | sa_exc.DisconnectionError):
            return True  # no connection free in the pool, or one lost
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, _PG_UNAVAILABLE):
            return True
        if isinstance(cause, OSError):
            # refused, unreachable or timed out, but only on the way to the database
            frames = traceback.extract_tb(cause.__traceback__)
            return any("/asyncpg/" in f.filename or "/sqlalchemy/" in f.filename for f in frames)
    return False


class OutageLog:
    """One log line per ``every`` seconds while the database is unreachable, with the number of
    failures since the last line, instead of a traceback per request or per pass of a loop."""

    def __init__(self, every: float = 30.0) -> None:
        self.every, self.last, self.refused = every, -float("inf"), 0

    def note(self, exc: BaseException, what: str) -> None:
        """Count one failure of ``what`` (a request answered 503, a pass of a background loop)."""
        self.refused += 1
        now = time.monotonic()
        if now - self.last < self.every:
            return
        log.error(
            "database unavailable, %s (%d time(s) since the last report): %s: %s",
            what,
            self.refused,
            type(exc).__name__,
            str(exc).splitlines()[0][:200] if str(exc) else "",
        )
        self.last, self.refused = now, 0


outage_log = OutageLog()  # one per process: the web handlers and the background loops share it

"""Sign-in throttling: failures counted per (email, source address) and per source address.

Each attempt first *reserves* its place with one conditional UPDATE: the counter goes up before
the password is checked, and once an attempt is over the free allowance the row is locked while
it runs. Parallel guesses therefore cannot run ahead of the count: beyond the allowance only one
attempt at a time is checked, and the rest are refused without any password work.

- The pair (email, address) gets `FREE_PER_PAIR` failures, then waits that double (1 s, 2 s, 4 s
  … up to 15 minutes). A guesser from one address does not lock out the owner signing in from
  another.
- The address gets `FREE_PER_ADDRESS` failures across all emails before the same back-off.
- Emails are counted whether or not an account exists, so known and unknown accounts answer alike.
- Failures older than `FORGET_AFTER_S` are forgotten; a success clears its pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

FREE_PER_PAIR = 5
FREE_PER_ADDRESS = 30
MAX_WAIT_S = 15 * 60
IN_FLIGHT_S = 30  # how long a reserved attempt beyond the allowance holds the lock while it runs
FORGET_AFTER_S = 24 * 3600

_ENSURE = text(
    "INSERT INTO signin_throttle (key, failures, locked_until, updated) VALUES (:key, 0, 0, :now) "
    "ON CONFLICT (key) DO NOTHING"
)
# The one statement that counts an attempt. It matches only while the key may try: below the
# allowance, or after its wait has passed. Past the allowance it also locks the key while the
# attempt runs, so a burst gets one attempt through, not one per request.
_RESERVE = text(
    "UPDATE signin_throttle SET "
    "failures = CASE WHEN updated < :stale THEN 1 ELSE failures + 1 END, "
    "locked_until = CASE WHEN updated >= :stale AND failures + 1 > :free THEN :in_flight "
    "ELSE locked_until END, "
    "updated = :now "
    "WHERE key = :key AND (updated < :stale OR failures < :free OR locked_until <= :now) "
    "RETURNING failures"
)
_LOCKED_UNTIL = text("SELECT locked_until FROM signin_throttle WHERE key = :key")
_AFTER_FAILURE = text(
    "UPDATE signin_throttle SET locked_until = :until WHERE key = :key AND failures = :failures"
)
_CLEAR = text("DELETE FROM signin_throttle WHERE key = :key")
_CLEAR_EMAIL = text("DELETE FROM signin_throttle WHERE key LIKE :prefix ESCAPE '\\'")


@dataclass(frozen=True)
class Refused:
    """The attempt may not run; `wait_s` is when to try again (the message and Retry-After)."""

    wait_s: int


@dataclass(frozen=True)
class Reservation:
    """An attempt that may check its password: the counts it holds, to settle afterwards."""

    keys: tuple[tuple[str, int, int], ...]  # (key, failures after this attempt, free allowance)


def _pair(email: str, address: str) -> str:
    return f"pair:{email}|{address}"


def _address(address: str) -> str:
    return f"addr:{address}"


def wait_after(failures: int, free: int) -> int:
    """Seconds to wait after `failures` failures with `free` allowed: 0, then 1, 2, 4 … 15 min."""
    over = failures - free
    return 0 if over < 0 else min(MAX_WAIT_S, 2 ** min(over, 20))


def _epoch(now: datetime) -> int:
    return math.floor(now.timestamp())


async def reserve(s: AsyncSession, email: str, address: str, now: datetime) -> Reservation | Refused:
    """Count this attempt against its address and its (email, address) pair, or refuse it.

    Run it in its own write transaction, committed before the password is checked.
    """
    t = _epoch(now)
    held: list[tuple[str, int, int]] = []
    for key, free in ((_address(address), FREE_PER_ADDRESS), (_pair(email, address), FREE_PER_PAIR)):
        await s.exec(_ENSURE.bindparams(key=key, now=t))  # type: ignore[call-overload]
        params = {
            "key": key,
            "now": t,
            "stale": t - FORGET_AFTER_S,
            "free": free,
            "in_flight": t + IN_FLIGHT_S,
        }
        failures = (await s.exec(_RESERVE.bindparams(**params))).scalar()  # type: ignore[call-overload]
        if failures is None:
            until = (await s.exec(_LOCKED_UNTIL.bindparams(key=key))).scalar() or t  # type: ignore[call-overload]
            # an attempt on a locked pair still counts against its address, as a failure
            await settle(s, Reservation(tuple(held)), False, now)
            return Refused(max(1, int(until) - t))
        held.append((key, int(failures), free))
    return Reservation(tuple(held))


async def settle(s: AsyncSession, reservation: Reservation, ok: bool, now: datetime) -> None:
    """After the check: a success clears its pair; a failure sets the wait its count has earned."""
    t = _epoch(now)
    for key, failures, free in reservation.keys:
        if ok and key.startswith("pair:"):
            await s.exec(_CLEAR.bindparams(key=key))  # type: ignore[call-overload]
        elif not ok or failures > free:
            # a success past the allowance only releases the in-flight lock of its address
            wait = wait_after(failures, free) if not ok else 0
            await s.exec(_AFTER_FAILURE.bindparams(key=key, until=t + wait, failures=failures))  # type: ignore[call-overload]


async def forget_email(s: AsyncSession, email: str) -> None:
    """A new password (set or reset) clears the email's counts from every address."""
    escaped = email.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    await s.exec(_CLEAR_EMAIL.bindparams(prefix=f"pair:{escaped}|%"))  # type: ignore[call-overload]

"""Sign-in throttling: counted per (email, address) and per address, atomically, alike for all emails."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.accounts import service as accounts
from courses.accounts import throttle as signin_throttle
from courses.accounts.guards import authenticate
from courses.core.db import Database
from courses.core.errors import TooManyAttempts, Unauthorized
from tests.courses import builders as b

NOW = datetime(2026, 6, 1, 10, 0)
WRONG = {"email": "taro@example.jp", "password": "wrong password!"}


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password actually checked (argon2), by email hash given."""
    checked: list[str] = []
    real = accounts.verify_password

    async def counting(stored: str | None, password: str) -> bool:
        checked.append(password)
        return await real(stored, password)

    monkeypatch.setattr(accounts, "verify_password", counting)
    return checked


async def test_parallel_guesses_cannot_run_ahead_of_the_count(
    client: AsyncTestClient[Litestar], db: Database, verifications: list[str]
) -> None:
    async with db.write() as s:
        await b.user(s, "taro@example.jp")
    for _ in range(signin_throttle.FREE_PER_PAIR):
        assert (await client.post("/api/auth/token", json=WRONG)).status_code == 401
    assert len(verifications) == signin_throttle.FREE_PER_PAIR

    answers = await asyncio.gather(*(client.post("/api/auth/token", json=WRONG) for _ in range(200)))
    statuses = [r.status_code for r in answers]
    # the one attempt the first back-off step lets through at most; the rest never reach argon2
    assert len(verifications) <= signin_throttle.FREE_PER_PAIR + 1
    assert statuses.count(429) >= 199 and not set(statuses) - {401, 429}


async def test_a_burst_from_nothing_checks_no_more_than_the_allowance(
    client: AsyncTestClient[Litestar], db: Database, verifications: list[str]
) -> None:
    async with db.write() as s:
        await b.user(s, "taro@example.jp")
    answers = await asyncio.gather(*(client.post("/api/auth/token", json=WRONG) for _ in range(100)))
    assert len(verifications) <= signin_throttle.FREE_PER_PAIR + 1
    assert sum(r.status_code == 429 for r in answers) >= 100 - signin_throttle.FREE_PER_PAIR - 1


async def test_a_guesser_elsewhere_does_not_lock_the_owner_out(db: Database) -> None:
    async with db.write() as s:
        await b.user(s, "owner@example.jp")
    for _ in range(signin_throttle.FREE_PER_PAIR):
        with pytest.raises(Unauthorized):
            await authenticate(db, "owner@example.jp", "guess", "203.0.113.9", NOW)
    with pytest.raises(TooManyAttempts):
        await authenticate(db, "owner@example.jp", b.PASSWORD, "203.0.113.9", NOW)
    user = await authenticate(db, "owner@example.jp", b.PASSWORD, "198.51.100.7", NOW)
    assert user.email == "owner@example.jp"


async def test_one_address_guessing_many_accounts_is_slowed_down(db: Database) -> None:
    for i in range(signin_throttle.FREE_PER_ADDRESS):
        with pytest.raises(Unauthorized):
            await authenticate(db, f"person{i}@example.jp", "guess", "203.0.113.9", NOW)
    with pytest.raises(TooManyAttempts):
        await authenticate(db, "someone.else@example.jp", "guess", "203.0.113.9", NOW)


async def test_the_wait_passes_and_doubles(db: Database) -> None:
    async with db.write() as s:
        await b.user(s, "taro@example.jp")
    t = NOW
    for _ in range(signin_throttle.FREE_PER_PAIR):
        with pytest.raises(Unauthorized):
            await authenticate(db, "taro@example.jp", "guess", "203.0.113.9", t)
    with pytest.raises(TooManyAttempts) as refused:
        await authenticate(db, "taro@example.jp", "guess", "203.0.113.9", t)
    assert refused.value.extra["retry_after"] == 1
    t += timedelta(seconds=1)
    with pytest.raises(Unauthorized):  # the wait has passed: checked again, and wrong again
        await authenticate(db, "taro@example.jp", "guess", "203.0.113.9", t)
    with pytest.raises(TooManyAttempts) as refused:
        await authenticate(db, "taro@example.jp", b.PASSWORD, "203.0.113.9", t)
    assert refused.value.extra["retry_after"] == 2
    t += timedelta(seconds=2)
    user = await authenticate(db, "taro@example.jp", b.PASSWORD, "203.0.113.9", t)
    assert user.email == "taro@example.jp"
    with pytest.raises(Unauthorized):  # a success cleared the count: five free tries again
        await authenticate(db, "taro@example.jp", "guess", "203.0.113.9", t)


def _shape(r: Any) -> tuple[int, str | None, Any]:
    body = r.json()
    body.pop("instance", None)
    return r.status_code, r.headers.get("retry-after"), body


async def test_known_and_unknown_accounts_answer_alike(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    async with db.write() as s:
        await b.user(s, "taro@example.jp")
    known = [_shape(await client.post("/api/auth/token", json=WRONG)) for _ in range(7)]
    client.cookies.clear()
    unknown = [
        _shape(await client.post("/api/auth/token", json={**WRONG, "email": "nobody@example.jp"}))
        for _ in range(7)
    ]
    assert known == unknown
    assert [k[0] for k in known] == [401] * 5 + [429] * 2


async def test_retry_after_matches_the_message(client: AsyncTestClient[Litestar], db: Database) -> None:
    for _ in range(signin_throttle.FREE_PER_PAIR):
        await client.post("/api/auth/token", json=WRONG)
    r = await client.post("/api/auth/token", json=WRONG)
    assert r.status_code == 429
    said = re.search(r"(\d+)秒後", r.json()["detail"])
    assert said and r.headers["retry-after"] == said.group(1)
    en = await client.post("/api/auth/token", json=WRONG, headers={"Accept-Language": "en"})
    said_en = re.search(r"in (\d+) seconds", en.json()["detail"])
    assert said_en and en.headers["retry-after"] == said_en.group(1)


async def test_the_login_form_is_throttled_too(
    client: AsyncTestClient[Litestar], db: Database, verifications: list[str]
) -> None:
    async with db.write() as s:
        await b.user(s, "taro@example.jp")
    await client.get("/login")
    statuses = []
    for _ in range(8):
        r = await client.post(
            "/login",
            data={**WRONG, "_csrf_token": client.cookies.get("csrftoken", "")},
            follow_redirects=False,
        )
        statuses.append(r.status_code)
    assert statuses == [401] * 5 + [429] * 3
    assert len(verifications) == 5
    said = re.search(r"(\d+)秒後", r.text)
    assert said and r.headers["retry-after"] == said.group(1)
    # the form and the API share the count
    assert (await client.post("/api/auth/token", json=WRONG)).status_code == 429

"""``courses.core.tx``: the statements ``Database.transact`` and ``query`` run read and fail the same on
SQLite (through a SQLAlchemy session) and PostgreSQL (directly on asyncpg)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select as orm_select

from courses.accounts import service as accounts
from courses.core.db import Database
from courses.core.tx import SessionTx, Tx, _compile, detached
from courses.models import Campus, CourseSession, User, table_of
from tests.conftest import ON_POSTGRES
from tests.courses import builders as b

NOW = datetime(2026, 5, 15, 9, tzinfo=UTC)
_SESSIONS = table_of(CourseSession)
_CAMPUSES = table_of(Campus)
_SESSION_ROW = select(
    _SESSIONS.c.code, _SESSIONS.c.start_date, _SESSIONS.c.lodging, _SESSIONS.c.capacity
).where(_SESSIONS.c.id == bindparam("sid"))
_ADD_CAMPUS = insert(_CAMPUSES).returning(_CAMPUSES.c.id)


def _campus_row(code: str) -> dict[str, object]:
    return {
        "code": code,
        "name_ja": "テスト校",
        "name_en": "Test",
        "prefecture": "13",
        "address": "東京都",
        "has_lodging": True,
        "sort_order": 0,
    }


async def _one_session(db: Database) -> int:
    async with db.write() as s:
        await b.category(s, "finance")
        campus = await b.campus(s, "tokyo")
        course = await b.course(s, "ZAI01")
        sess = await b.session(s, course, campus, start=date(2026, 6, 10), capacity=7)
    return sess.id or 0


async def test_rows_are_read_by_name_with_their_python_types(db: Database) -> None:
    sid = await _one_session(db)

    def read(tx: Tx) -> tuple[object, ...]:
        row = tx.first(_SESSION_ROW, {"sid": sid})
        assert row is not None
        missing = tx.first(_SESSION_ROW, {"sid": sid + 1000})
        return row["code"], row["start_date"], row["lodging"], row["capacity"], missing

    code, start, lodging, capacity, missing = await db.query(read)
    assert isinstance(code, str) and code
    assert start == date(2026, 6, 10)
    assert lodging is True
    assert capacity == 7
    assert missing is None


async def test_a_unique_violation_is_sqlalchemys_integrity_error_and_nothing_stays(db: Database) -> None:
    def add_twice(tx: Tx) -> None:
        tx.scalar(_ADD_CAMPUS, _campus_row("twice"))
        tx.scalar(_ADD_CAMPUS, _campus_row("twice"))

    with pytest.raises(IntegrityError):
        await db.transact(add_twice)
    count = select(func.count().label("n")).where(_CAMPUSES.c.code == "twice")
    assert await db.query(lambda tx: tx.scalar(count)) == 0


async def test_a_number_beyond_the_column_is_a_400_not_a_500(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    async with db.write() as s:
        token = await b.token(s, await b.user(s))
    beyond_int32 = 2**40  # PostgreSQL's integer column refuses it; SQLite's 64-bit one finds no session
    r = await client.post(f"/api/sessions/{beyond_int32}/enrollments", json={}, headers=b.bearer(token))
    assert r.status_code == (400 if ON_POSTGRES else 404), r.text[:200]
    r = await client.post(f"/api/sessions/{10**20}/enrollments", json={}, headers=b.bearer(token))
    assert r.status_code == 400, r.text[:200]


async def test_a_token_user_is_detached_so_adding_it_updates_rather_than_inserts(db: Database) -> None:
    async with db.write() as s:
        user = await b.user(s)
        secret = await accounts.issue_token(s, user, "api", NOW)
    found = await db.query(accounts.user_for_token, secret, "api", NOW)
    assert found is not None and found.id == user.id and found.email == user.email
    found.name = "改名 太郎"
    async with db.write() as s:
        s.add(found)
    async with db.read() as s:
        rows = list(await s.exec(orm_select(User).where(User.email == user.email)))
    assert [(r.id, r.name) for r in rows] == [(user.id, "改名 太郎")]


async def test_an_expired_or_unknown_token_is_nobody(db: Database) -> None:
    async with db.write() as s:
        secret = await accounts.issue_token(s, await b.user(s), "api", NOW)
    later = NOW.replace(year=NOW.year + 1)
    assert await db.query(accounts.user_for_token, secret, "api", later) is None
    assert await db.query(accounts.user_for_token, secret, "web", NOW) is None
    assert await db.query(accounts.user_for_token, "no such token", "api", NOW) is None


def test_detached_builds_the_instance_a_session_would_load() -> None:
    row = {c.key: None for c in table_of(User).columns} | {"id": 5, "email": "a@example.jp", "name": "甲"}
    user = detached(User, row)
    assert (user.id, user.email, user.name) == (5, "a@example.jp", "甲")
    from sqlalchemy import inspect

    state = inspect(user)
    assert state.detached and state.key is not None and not state.modified


def test_statements_asyncpg_cannot_run_as_compiled_are_refused_at_once() -> None:
    expanding = select(_CAMPUSES.c.id).where(_CAMPUSES.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="array"):
        _compile(expanding, frozenset({"ids"}))
    with pytest.raises(ValueError, match="columns"):
        _compile(text("SELECT 1"), frozenset())
    clash = select(_CAMPUSES.c.id, _SESSIONS.c.id).join(_SESSIONS, _SESSIONS.c.campus_id == _CAMPUSES.c.id)
    with pytest.raises(ValueError, match="apart"):
        _compile(clash, frozenset())


def test_compiled_statements_are_built_once_per_set_of_keys() -> None:
    first = _compile(_SESSION_ROW, frozenset({"sid"}))
    assert _compile(_SESSION_ROW, frozenset({"sid"})) is first
    assert first.order == ("sid",)
    assert first.names == ("code", "start_date", "lodging", "capacity")
    assert "$1" in first.sql


def test_session_tx_is_what_orm_callers_pass() -> None:
    from sqlmodel import Session

    from courses.core.tx import as_tx

    session = Session()
    wrapped = as_tx(session)
    assert isinstance(wrapped, SessionTx) and wrapped.session is session
    assert as_tx(wrapped) is wrapped


def test_token_cache_gives_each_request_its_own_user_and_forgets_after_its_ttl() -> None:
    from courses.accounts.guards import TokenCache

    cache = TokenCache(ttl=60)
    row = {c.key: None for c in table_of(User).columns} | {
        "id": 9,
        "email": "b@example.jp",
        "role": "learner",
    }
    cache.put("secret", detached(User, row))
    cache.put("nobody", None)
    hit, first = cache.get("secret")
    _, second = cache.get("secret")
    assert hit and first is not None and second is not None and first is not second
    first.name = "書き換え"
    assert second.name is None and cache.get("secret")[1].name is None  # type: ignore[union-attr]
    assert cache.get("nobody") == (True, None)
    assert cache.get("unknown") == (False, None)
    cache.evict("secret")
    assert cache.get("secret") == (False, None)
    stale = TokenCache(ttl=-1)
    stale.put("secret", first)
    assert stale.get("secret") == (False, None)


async def test_columns_left_out_take_their_defaults_as_sqlalchemy_would(db: Database) -> None:
    row = _campus_row("defaults")
    del row["has_lodging"], row["sort_order"]  # defaults True and 0 in the model
    campus_id = await db.transact(lambda tx: tx.scalar(_ADD_CAMPUS, row))
    async with db.read() as s:
        campus = await s.get(Campus, campus_id)
    assert campus is not None and campus.has_lodging is True and campus.sort_order == 0


def test_a_left_out_column_whose_default_is_computed_is_refused() -> None:
    from sqlalchemy import Column, DateTime, Integer, MetaData, Table

    table = Table(
        "stamped",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", DateTime, default=lambda: NOW),
    )
    with pytest.raises(ValueError, match="at"):
        _compile(insert(table), frozenset({"id"}))

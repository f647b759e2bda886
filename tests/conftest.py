"""Shared fixtures: a migrated database per test (SQLite by default, PostgreSQL via TEST_DATABASE_URL).

The schema is built once per run by the real migrations; each test then gets a clean copy (SQLite:
a copy of the migrated file; PostgreSQL: every table truncated), so no test sees another's leftovers.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.app import create_app
from courses.core.db import Database
from courses.core.migrate import upgrade
from courses.core.settings import Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
TODAY = date(2026, 5, 15)  # a fixed "today" inside fiscal year 2026, so dates in tests never drift
JST = ZoneInfo("Asia/Tokyo")


def pytest_report_header(config: pytest.Config) -> str:
    if ON_POSTGRES:
        return f"database tests: PostgreSQL at {TEST_DATABASE_URL}"
    return "database tests: SQLite (set TEST_DATABASE_URL=postgresql+asyncpg://... to run them on PostgreSQL)"


async def _truncate_postgres(url: str) -> None:
    from sqlalchemy import text

    from courses.core.db import create_engine

    engine = create_engine(url)
    async with engine.begin() as conn:
        names = (
            await conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            )
        ).scalars()
        tables = ", ".join(f'"{n}"' for n in names)
        if tables:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


async def _admin(url: str, statement: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    conn = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test run's own next to TEST_DATABASE_URL's, so that runs never collide;
    dropped at the end."""
    from sqlalchemy.engine import make_url

    base = make_url(TEST_DATABASE_URL)
    name = f"{base.database}_run{os.getpid()}"
    asyncio.run(_admin(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(_admin(TEST_DATABASE_URL, f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> str:
    """The migrated, empty schema: a SQLite file to copy, or this run's PostgreSQL database."""
    if ON_POSTGRES:
        url: str = request.getfixturevalue("postgres_url")
        upgrade(url)
        return url
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return str(path)


@pytest.fixture
async def database_url(migrated_template: str, tmp_path: Path) -> str:
    if ON_POSTGRES:
        await _truncate_postgres(migrated_template)
        return migrated_template
    target = tmp_path / "test.db"
    shutil.copy(migrated_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database.connect(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> Callable[[], datetime]:
    return lambda: datetime.combine(TODAY, time(10, 0), tzinfo=JST)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key="test-secret-key-" + "x" * 32, solver_workers=0)


@pytest.fixture
def app(settings: Settings, clock: Callable[[], datetime]) -> Litestar:
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as c:
        yield c


@pytest.fixture
async def seeded(db: Database) -> Database:
    """The database with the full seed catalog, laid out on the fiscal year of TODAY."""
    from courses.seeding import seeds as seeding

    async with db.write() as s:
        await seeding.load_catalog(s, TODAY)
    return db

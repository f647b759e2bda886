"""Migrations build the whole schema from nothing and take it down again, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect

from courses.db import create_engine
from courses.migrate import downgrade, upgrade
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL


def _tables(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = create_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(run())


def test_sqlite_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    assert {"campus", "course", "course_session", "session_block", "dorm_room", "classroom"} <= _tables(url)
    downgrade(url, "base")
    assert _tables(url) <= {"alembic_version"}
    upgrade(url)
    assert "course_session" in _tables(url)


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL not configured: set TEST_DATABASE_URL (.ci/run does)")
def test_postgres_schema_is_migrated(migrated_template: str) -> None:
    tables = _tables(TEST_DATABASE_URL)
    assert {"campus", "course", "course_session", "session_block", "dorm_room", "classroom"} <= tables

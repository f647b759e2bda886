"""Migrations build the whole schema from nothing and take it down again, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect

from courses.core.db import create_engine
from courses.core.migrate import downgrade, upgrade
from tests.conftest import ON_POSTGRES


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
    tables = _tables(migrated_template)
    assert {"campus", "course", "course_session", "session_block", "dorm_room", "classroom"} <= tables


def test_upgrading_a_populated_sqlite_database_keeps_its_rows(tmp_path: Path) -> None:
    """Later migrations alter tables that hold data and are referenced by foreign keys."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")

    async def fill_and_count(fill: bool) -> tuple[int, int]:
        from sqlalchemy import text

        engine = create_engine(url)
        async with engine.begin() as conn:
            if fill:
                await conn.execute(
                    text(
                        "INSERT INTO campus (id, code, name_ja, name_en, prefecture, address, has_lodging, sort_order) "
                        "VALUES (1, 'tokyo', '東京校', 'Tokyo', '東京都', '東大和市', 1, 1)"
                    )
                )
                await conn.execute(
                    text(
                        "INSERT INTO category (id, code, name_ja, name_en, sort_order) VALUES (1, 'finance', '財務', 'Finance', 0)"
                    )
                )
                await conn.execute(
                    text(
                        "INSERT INTO course (id, code, title_ja, title_en, audience, category, description, days, fee_yen, "
                        "default_capacity, residential, has_practicum) VALUES (1, 'ZAI01', '財務', 'Finance', 'sme', 'finance', '', 2, 30000, 30, 1, 0)"
                    )
                )
                await conn.execute(
                    text(
                        "INSERT INTO course_session (id, code, course_id, campus_id, capacity, confirmed_count, waitlist_seq, lodging, "
                        "start_date, end_date, application_opens, application_closes, status, version, created_at) VALUES "
                        "(1, 'S1', 1, 1, 30, 0, 0, 1, '2026-06-10', '2026-06-11', '2026-02-10', '2026-06-03', 'published', 1, '2026-01-01 00:00:00')"
                    )
                )
            courses = (await conn.execute(text("SELECT count(*) FROM course"))).scalar_one()
            sessions = (await conn.execute(text("SELECT count(*) FROM course_session"))).scalar_one()
        await engine.dispose()
        return int(courses), int(sessions)

    assert asyncio.run(fill_and_count(True)) == (1, 1)
    upgrade(url)  # every later migration, on a database with rows in it
    assert asyncio.run(fill_and_count(False)) == (1, 1)

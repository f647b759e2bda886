"""Command line of the service: ``python -m courses migrate|seed|serve|run|create-user|send-reminders|send-surveys``."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from datetime import date
from typing import TYPE_CHECKING, Any

from courses.core.settings import Settings

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession


async def _seed(settings: Settings, *, only_if_empty: bool) -> int:
    from courses.core.clock import japan_now
    from courses.core.db import Database
    from courses.seeding import seeds as seeding

    db = Database.connect(settings.database_url, settings.pools)
    try:
        async with db.write() as s:
            if not await seeding.database_is_empty(s):
                if only_if_empty:
                    print("seeds: the database already has data; nothing loaded")
                    return 0
                print("seeds: the database is not empty; refusing to load twice", file=sys.stderr)
                return 1
            today = japan_now().date()
            report = await seeding.load_catalog(s, today)
            extra = await _seed_demo(s, today)
        print(
            f"seeds: {report.campuses} campuses, {report.classrooms} classrooms, {report.dorm_rooms} dorm rooms, "
            f"{report.courses} courses, {report.sessions} sessions{extra}"
        )
        return 0
    finally:
        await db.dispose()


async def _seed_demo(session: AsyncSession, today: date) -> str:
    """Demo accounts and enrollments."""
    from courses.seeding import demo

    return await demo.load_demo(session, today)


async def _send_reminders(settings: Settings) -> int:
    """Queue the reminders due now, once (for deployments that run it from cron)."""
    from courses.core.clock import japan_now
    from courses.core.db import Database
    from courses.enrollment.reminders import send_due

    db = Database.connect(settings.database_url, settings.pools)
    try:
        sent = await send_due(db, japan_now(), settings.base_url)
    finally:
        await db.dispose()
    counts = ", ".join(f"{kind}: {n}" for kind, n in sent.counts.items())
    print(f"reminders: {sent.total} queued ({counts})")
    return 0


async def _send_surveys(settings: Settings) -> int:
    """Queue the survey emails due now (the day after a session's last day), once."""
    from courses.core.clock import japan_now
    from courses.core.db import Database
    from courses.surveys.service import send_due

    db = Database.connect(settings.database_url, settings.pools)
    try:
        sent = await send_due(db, japan_now(), settings.base_url)
    finally:
        await db.dispose()
    print(f"surveys: {sent.total} queued")
    return 0


def _print_demo_accounts() -> None:
    from courses.seeding.demo import DEMO_FILE

    if DEMO_FILE.exists():
        print(f"demo accounts (role, email, password; kept in {DEMO_FILE}):")
        for line in DEMO_FILE.read_text(encoding="utf-8").splitlines():
            print(f"  {line}")


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the app: one process, on the event loop the settings name."""
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": settings.event_loop,
        "log_level": "info",
        "access_log": settings.access_log,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="courses", description="SME University course service")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    seed = sub.add_parser("seed", help="load the seed files into an empty database")
    seed.add_argument("--if-empty", action="store_true", help="do nothing when data is already there")
    sub.add_parser("serve", help="serve the web application")
    sub.add_parser("run", help="migrate, seed if empty, and serve")
    user = sub.add_parser("create-user", help="create a staff member or administrator")
    user.add_argument("--email", required=True)
    user.add_argument("--name", required=True)
    user.add_argument("--role", choices=["staff", "admin", "coordinator"], required=True)
    user.add_argument("--campus", action="append", default=[], help="campus code (staff; repeatable)")
    user.add_argument("--password", help="read from the COURSES_PASSWORD variable or a prompt if omitted")
    sub.add_parser("send-reminders", help="queue the reminder emails due today (the service also does it)")
    sub.add_parser("send-surveys", help="queue the survey emails due today (the service also does it)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()

    if args.command in {"migrate", "run"}:
        from courses.core.migrate import upgrade

        upgrade(settings.database_url)
        print("migrations: up to date")
    if args.command == "seed":
        return asyncio.run(_seed(settings, only_if_empty=args.if_empty))
    if args.command == "run":
        code = asyncio.run(_seed(settings, only_if_empty=True))
        if code:
            return code
    if args.command in {"serve", "run"}:
        import uvicorn

        from courses.app import create_app

        print(f"serving on http://{settings.host}:{settings.port}/  (API schema: /schema)")
        _print_demo_accounts()
        app = create_app(settings)
        # What is alive now (modules, the app and its routes) lives as long as the process: moved
        # out of the collector's reach, a full collection under load pauses for a few milliseconds
        # instead of a hundred.
        gc.collect()
        gc.freeze()
        from courses.core.security import MaskSecretsInAccessLog

        logging.getLogger("uvicorn.access").addFilter(MaskSecretsInAccessLog())
        uvicorn.run(app, **uvicorn_options(settings))
        return 0
    if args.command == "send-reminders":
        return asyncio.run(_send_reminders(settings))
    if args.command == "send-surveys":
        return asyncio.run(_send_surveys(settings))
    if args.command == "create-user":
        from courses.accounts.cli import create_user

        return asyncio.run(create_user(settings, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

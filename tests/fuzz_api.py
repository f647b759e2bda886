"""Property-based fuzzing of the HTTP API from its own OpenAPI document (``make fuzz``).

Starts the service on a free port over a fresh SQLite database holding the seed catalog and one
account per role, then runs Schemathesis against ``/schema/openapi.json`` as an anonymous caller,
a learner, a member of staff and an administrator (last: it may deactivate accounts). Every
answer must be free of server errors, and its status code, content type and body must be what the
document says. Bounded: ``FUZZ_MAX_EXAMPLES`` examples per operation (default 5) and
``FUZZ_MAX_TIME`` seconds per role (default 30); ``FUZZ_SEED`` fixes the draw (default 2026).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
TODAY = date(2026, 5, 15)


async def _prepare(url: str) -> dict[str, str]:
    """Migrate and seed the database; bearer tokens of a learner, of Tokyo's staff and of an admin."""
    from courses.accounts.service import issue_token
    from courses.core.db import Database
    from courses.core.migrate import upgrade
    from courses.seeding import seeds as seeding
    from tests.courses import builders as b

    await asyncio.to_thread(upgrade, url)
    db = Database.connect(url)
    async with db.write() as s:
        await seeding.load_catalog(s, TODAY)
    async with db.write() as s:
        from sqlmodel import select

        from courses.models import Campus

        tokyo = (await s.exec(select(Campus).where(Campus.code == "tokyo"))).one()
        learner = await b.user(s, "fuzz.learner@example.jp")
        staff = await b.user(s, "fuzz.staff@example.jp", role="staff", campuses=[tokyo])
        admin = await b.user(s, "fuzz.admin@example.jp", role="admin")
        now = datetime.now(UTC)
        tokens = {
            role: await issue_token(s, user, "api", now)
            for role, user in [("learner", learner), ("staff", staff), ("admin", admin)]
        }
    await db.dispose()
    return tokens


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(base: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"fuzz: the service exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("fuzz: the service did not answer /health in time")


def main() -> int:
    max_examples = os.environ.get("FUZZ_MAX_EXAMPLES", "5")
    max_time = os.environ.get("FUZZ_MAX_TIME", "30")
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/fuzz.db"
        tokens = asyncio.run(_prepare(url))
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "COURSES_VAR_DIR": tmp,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "SOLVER_WORKERS": "0",
            "ACCESS_LOG": "0",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        }
        server = subprocess.Popen([sys.executable, "-m", "courses", "serve"], env=env, cwd=tmp)
        base = f"http://127.0.0.1:{port}"
        failed = []
        try:
            _wait_until_up(base, server)
            for role in ["anonymous", "learner", "staff", "admin"]:
                auth = ["-H", f"Authorization: Bearer {tokens[role]}"] if role in tokens else []
                print(f"== fuzz as {role} ==", flush=True)
                command = [
                    str(Path(sys.executable).with_name("st")),
                    "run",
                    f"{base}/schema/openapi.json",
                    "--checks",
                    CHECKS,
                    "--max-examples",
                    max_examples,
                    "--max-time",
                    max_time,
                    "--exclude-name",
                    "DELETE /api/auth/token",  # revoking its own token would leave the rest of the run anonymous
                    "--seed",
                    os.environ.get("FUZZ_SEED", "2026"),
                    "--generation-database",
                    "none",
                    "--workers",
                    "1",
                    "--no-color",
                    *auth,
                ]
                if subprocess.run(command, check=False, cwd=tmp).returncode != 0:
                    failed.append(role)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("fuzz: " + (f"failures as {', '.join(failed)}" if failed else "no failures"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

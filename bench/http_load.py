"""HTTP throughput and latency of the running service, on SQLite and (when reachable) PostgreSQL.

Starts the real service (uvicorn, one worker) on a fresh database with the seed catalog and a few
thousand learners with API tokens, then drives it with wrk (64 connections, 2 threads) and prints
requests per second, p50/p99 latency and the server's CPU time per request of:
  GET /health, GET / (catalog page), POST enrollments spread over every open session, and POST
  enrollments all into one hot session — each with its ratio to /health of the same round.
The four run in turn, BENCH_ROUNDS times (3), each from an idle server (what a previous run left in
flight is waited for), and the table gives the median with the range: single runs on a two-core
machine shared with wrk and the database differ by 10-30 %.
Needs `wrk` (Debian package). PostgreSQL: BENCH_PG_URL, default postgresql+asyncpg://postgres@127.0.0.1:5432/test
(the bench drops and recreates the schema there, so never point it at a database you care about).
On PostgreSQL it runs twice: as deployed, and with PG_DIRECT_POOL_SIZE=0 (enrollment and token sign-in
through SQLAlchemy's async engine instead of core/tx.py's asyncpg executor). BENCH_BACKENDS (e.g.
"sqlite" or "postgresql") keeps only the backends whose names start so.
The catalog page is requested by a visitor who is not signed in, so it is served from the two-second
page cache between writes; a signed-in person's page is rendered every time.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
LEARNERS = int(os.environ.get("BENCH_LEARNERS", "12000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
HEALTH = "GET /health"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def prepare(url: str, token_file: Path) -> tuple[list[int], list[int]]:
    """Migrate, seed, and create learners with tokens; returns the open SME sessions to spread
    enrollments over, and one hot session (of the seeds' capacity) for each round."""
    from datetime import UTC, datetime

    from argon2 import PasswordHasher
    from sqlmodel import col, select

    from courses.accounts import service as accounts
    from courses.core.clock import japan_now
    from courses.core.db import Database
    from courses.models import Course, CourseSession, LearnerProfile, User
    from courses.seeding import seeds as seeding

    db = Database.connect(url)
    today = japan_now().date()
    async with db.write() as s:
        await seeding.load_catalog(s, today)
    async with db.read() as s:
        rows = list(
            await s.exec(
                select(CourseSession.id, CourseSession.lodging)
                .join(Course, col(Course.id) == CourseSession.course_id)
                .where(
                    Course.audience == "sme",
                    CourseSession.status == "published",
                    col(CourseSession.application_opens) <= today,
                    col(CourseSession.application_closes) >= today,
                )
            )
        )
    sessions = [int(r[0]) for r in rows]
    hot, sessions = sessions[:ROUNDS], sessions[ROUNDS:]
    async with db.write() as s:
        # every session big enough that the spread run measures seat-taking, not the waiting list
        for sid in sessions:
            row = await s.get(CourseSession, sid)
            assert row is not None
            row.capacity = 100_000
            s.add(row)
    password_hash = PasswordHasher().hash("bench password 123")
    now = datetime.now(UTC)
    tokens = []
    batch = 1000
    for start in range(0, LEARNERS, batch):
        async with db.write() as s:
            users = [
                User(
                    email=f"bench{i}@example.jp",
                    password_hash=password_hash,
                    name=f"負荷 {i}",
                    name_kana="フカ",
                    feed_token=f"feed-{i}",
                    created_at=now,
                    email_verified_at=now,
                )
                for i in range(start, min(LEARNERS, start + batch))
            ]
            s.add_all(users)
            await s.flush()
            for u in users:
                s.add(
                    LearnerProfile(
                        user_id=u.id,
                        organization_kind="sme",
                        company="株式会社負荷",
                        industry="E",
                        employees=50,
                        capital_yen=10_000_000,
                        prefecture="13",
                    )
                )
                tokens.append(await accounts.issue_token(s, u, "api", now))
    await db.dispose()
    token_file.write_text("\n".join(tokens) + "\n")
    return sessions, hot


LUA = r"""
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local sessions = {%(sessions)s}
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = 0
end
function request()
  -- thread t sends requests t, t+T, t+2T, ... (from this round's offset on); request i is learner
  -- i mod L in session (i div L + i mod L) mod S: every (learner, session) pair at most once
  local i = %(offset)d + tid + counter * %(threads)d
  counter = counter + 1
  local token = tokens[(i %% #tokens) + 1]
  local session = sessions[(math.floor(i / #tokens) + i %% #tokens) %% #sessions + 1]
  return wrk.format("POST", "/api/sessions/" .. session .. "/enrollments",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, '{"lodging": false}')
end
"""


def wrk(url: str, script: Path | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "rps": rps,
        "p50": ms("50%"),
        "p99": ms("99%"),
        "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "requests": float(total.group(1)) if total else 0.0,
    }


def settle(base: str, quiet_ms: float = 20.0, timeout: float = 30.0) -> float:
    """Wait until the server has finished what the last run left in flight (wrk stops sending at
    the end of its run, but the server still works through the requests it had accepted), so that
    each endpoint is measured from an idle server. Returns the seconds waited."""
    started = time.perf_counter()
    quiet = 0
    with httpx.Client(timeout=10) as client:
        while quiet < 3 and time.perf_counter() - started < timeout:
            t = time.perf_counter()
            client.get(base + "/health")
            quiet = quiet + 1 if (time.perf_counter() - t) * 1000 < quiet_ms else 0
            time.sleep(0.05)
    return time.perf_counter() - started


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user and system) the server process has used; NaN where /proc is not there. Per
    request, it is what a change costs the service itself, whatever share of the two cores wrk and
    the database leave it in a run."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_backend(
    name: str, url: str, workdir: Path, extra_env: dict[str, str] | None = None
) -> dict[str, list[dict[str, float]]]:
    from courses.core.migrate import upgrade

    if url.startswith("postgresql"):
        asyncio.run(_reset_pg(url))
    upgrade(url)
    token_file = workdir / f"tokens-{name}.txt"
    started = time.perf_counter()
    sessions, hot = asyncio.run(prepare(url, token_file))
    if len(hot) < ROUNDS or LEARNERS > 100_000:
        raise SystemExit(
            "http_load: too few open sessions for the rounds, or more learners than a round's offset"
        )
    print(
        f"[{name}] prepared {LEARNERS} learners, {len(sessions)} open sessions in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORT": str(port),
        "COURSES_VAR_DIR": str(workdir),
        "SECRET_KEY": "bench-" + "k" * 40,
        "ACCESS_LOG": "0",
        **(extra_env or {}),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "courses", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        ids = ",".join(map(str, sessions))
        results: dict[str, list[dict[str, float]]] = {}
        for r in range(ROUNDS):
            spread = workdir / f"spread-{name}-{r}.lua"
            # each round's spread run starts where no earlier round's requests reached
            spread.write_text(
                LUA % {"tokens": token_file, "sessions": ids, "threads": 2, "offset": r * 100_000}
            )
            hot_script = workdir / f"hot-{name}-{r}.lua"
            hot_script.write_text(
                LUA % {"tokens": token_file, "sessions": str(hot[r]), "threads": 2, "offset": 0}
            )
            runs = [
                (HEALTH, base + "/health", None),
                ("GET / (catalog page)", base + "/", None),
                ("POST enroll, spread over sessions", base + "/", spread),
                ("POST enroll, one hot session", base + "/", hot_script),
            ]
            for label, target, script in runs:
                waited = settle(base)
                if waited > 1:
                    print(f"[{name}] waited {waited:.1f} s for the previous run's requests", flush=True)
                cpu = server_cpu_s(server.pid)
                result = wrk(target, script)
                settle(base)  # what the server accepted is done, and counted
                result["cpu_ms"] = 1000 * (server_cpu_s(server.pid) - cpu) / max(result["requests"], 1)
                results.setdefault(label, []).append(result)
        return results
    finally:
        server.terminate()
        server.wait(timeout=10)


async def _reset_pg(url: str) -> None:
    from sqlalchemy import text

    from courses.core.db import create_engine

    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def pg_reachable(url: str) -> bool:
    import asyncpg

    async def ping() -> None:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"), timeout=3)
        await conn.close()

    try:
        asyncio.run(ping())
        return True
    except Exception:
        return False


def _spread(values: list[float], fmt: str) -> str:
    """The median of a round's figures, and their range when there are several."""
    mid = statistics.median(values)
    if len(values) == 1:
        return format(mid, fmt)
    return f"{mid:{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


def main() -> int:
    if shutil.which("wrk") is None:
        print("http_load: wrk is not installed (apt-get install wrk); skipped")
        return 0
    backends: list[tuple[str, str | None, dict[str, str]]] = [("sqlite", None, {})]
    if pg_reachable(PG_URL):
        backends.append(("postgresql", PG_URL, {}))
        # the same service with enrollment and token sign-in through SQLAlchemy's async engine instead
        # of core/tx.py's asyncpg executor: the measurement that keeps (or retires) that layer
        backends.append(
            ("postgresql, engine only (PG_DIRECT_POOL_SIZE=0)", PG_URL, {"PG_DIRECT_POOL_SIZE": "0"})
        )
    else:
        print(f"http_load: PostgreSQL not reachable at {PG_URL}; SQLite only")
    print(
        f"wrk: {CONNECTIONS} connections, 2 threads, {DURATION} s per endpoint and round, {ROUNDS} rounds; "
        "server: uvicorn, 1 worker"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        wanted = os.environ.get("BENCH_BACKENDS", "")
        for name, url, extra in backends:
            if wanted and not any(name.startswith(w.strip()) for w in wanted.split(",")):
                continue
            url = url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
            results = run_backend(name.split(",")[0] if not extra else "pg-engine", url, workdir, extra)
            health = [r["rps"] for r in results[HEALTH]]
            print(f"\n{name} (median of {ROUNDS} rounds, each endpoint in turn, range in brackets):")
            print(
                "| endpoint | req/s | p50 ms | p99 ms | ratio to /health (same round) "
                "| server CPU ms/request | non-2xx |"
            )
            print("|---|---|---|---|---|---|---|")
            for label, runs in results.items():
                ratios = [r["rps"] / h for r, h in zip(runs, health, strict=True)]
                non2xx = sum(r["non2xx"] for r in runs)
                print(
                    f"| {label} | {_spread([r['rps'] for r in runs], '.0f')} | {_spread([r['p50'] for r in runs], '.1f')} "
                    f"| {_spread([r['p99'] for r in runs], '.1f')} | {_spread(ratios, '.2f')} "
                    f"| {_spread([r['cpu_ms'] for r in runs], '.2f')} | {non2xx:.0f} |"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

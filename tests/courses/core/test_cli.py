"""The command line a new deployment uses: migrate, seed (with demo accounts), create staff."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="the CLI is exercised once, on SQLite")


def _cli(tmp_path: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "COURSES_VAR_DIR": str(tmp_path),
    }
    if password:
        env["COURSES_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "courses", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_migrate_seed_and_create_staff(tmp_path: Path) -> None:
    assert _cli(tmp_path, "migrate").returncode == 0
    seeded = _cli(tmp_path, "seed", "--if-empty")
    assert seeded.returncode == 0, seeded.stderr
    assert "700 sessions" in seeded.stdout and "5 demo accounts" in seeded.stdout
    demo = (tmp_path / "demo-accounts.txt").read_text(encoding="utf-8")
    assert "admin@demo.sme-univ.example" in demo and "staff.tokyo@demo.sme-univ.example" in demo
    assert oct((tmp_path / "demo-accounts.txt").stat().st_mode)[-3:] == "600"
    again = _cli(tmp_path, "seed", "--if-empty")
    assert again.returncode == 0 and "nothing loaded" in again.stdout

    ok = _cli(
        tmp_path,
        "create-user",
        "--role",
        "staff",
        "--email",
        "Tanaka@Example.jp",
        "--name",
        "田中 一郎",
        "--campus",
        "tokyo",
        "--campus",
        "sendai",
        password="a good long password",
    )
    assert ok.returncode == 0, ok.stderr
    dup = _cli(
        tmp_path,
        "create-user",
        "--role",
        "admin",
        "--email",
        "tanaka@example.jp",
        "--name",
        "x",
        password="a good long password",
    )
    assert dup.returncode == 1 and "already exists" in dup.stderr
    no_campus = _cli(
        tmp_path,
        "create-user",
        "--role",
        "staff",
        "--email",
        "b@example.jp",
        "--name",
        "x",
        password="a good long password",
    )
    assert no_campus.returncode == 2 and "--campus" in no_campus.stderr
    bad_campus = _cli(
        tmp_path,
        "create-user",
        "--role",
        "staff",
        "--email",
        "c@example.jp",
        "--name",
        "x",
        "--campus",
        "atlantis",
        password="a good long password",
    )
    assert bad_campus.returncode == 2 and "atlantis" in bad_campus.stderr
    short = _cli(
        tmp_path, "create-user", "--role", "admin", "--email", "d@example.jp", "--name", "x", password="short"
    )
    assert short.returncode == 2

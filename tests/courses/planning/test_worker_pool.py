"""The solver's worker processes die with the service, even when it is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SERVICE = """
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor

from courses.planning import worker_pool


def without_prctl(parent_pid):
    sys.platform = "elsewhere"  # as on a system without prctl: only the watchdog thread is left
    worker_pool.exit_with_parent(parent_pid)


if __name__ == "__main__":
    if sys.argv[1] == "pool":
        pool = worker_pool.solver_pool(1)
    else:
        pool = ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn"), initializer=without_prctl, initargs=(os.getpid(),)
        )
    print(pool.submit(os.getpid).result(), flush=True)
    pool.submit(time.sleep, 120)  # a long solve in hand
    time.sleep(0.5)
    print("busy", flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    """Running, and not merely a zombie waiting for a parent (a container's init may never reap it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see the worker")
@pytest.mark.parametrize("mechanism", ["pool", "watchdog"])
def test_worker_exits_when_the_service_is_killed(mechanism: str, tmp_path: Path) -> None:
    script = tmp_path / "service.py"
    script.write_text(SERVICE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    service = subprocess.Popen(
        [sys.executable, str(script), mechanism], stdout=subprocess.PIPE, text=True, env=env
    )
    worker = 0
    try:
        assert service.stdout is not None
        worker = int(service.stdout.readline())
        assert service.stdout.readline().strip() == "busy"
        assert _alive(worker)
        os.kill(service.pid, signal.SIGKILL)
        service.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker), f"worker {worker} outlived its killed parent"
    finally:
        service.kill()
        if worker and _alive(worker):
            os.kill(worker, signal.SIGKILL)

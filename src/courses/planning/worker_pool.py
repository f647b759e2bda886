"""The solver's worker processes, which end when the service process that started them ends.

A service killed with SIGKILL runs no clean-up, and a worker in the middle of a solve would go on
(up to ten minutes of CP-SAT on every core it has) as an orphan. Each worker therefore asks Linux
to kill it when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and also watches its parent's pid
from a thread, which covers other systems and the moment before the ``prctl`` took effect.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCH_INTERVAL_S = 0.5


def solver_pool(workers: int) -> ProcessPoolExecutor:
    """Fresh interpreters (spawn: no copy of the service's threads or connections), each tied to us."""
    return ProcessPoolExecutor(
        max_workers=max(1, workers),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    )


def exit_with_parent(parent_pid: int) -> None:
    """Run in each worker as it starts: end this process as soon as ``parent_pid`` is gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the prctl above
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    # An orphan is re-parented (to init or a subreaper), so a changed parent pid means ours died.
    while os.getppid() == parent_pid:
        time.sleep(WATCH_INTERVAL_S)
    os._exit(1)

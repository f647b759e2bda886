"""`make bench`: run every benchmark script in turn; each prints its own figures."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# in this order; a script that is missing is reported, not fatal
SCRIPTS = [
    "http_load.py",
    "bulk_upload.py",
    "invoices.py",
    "scheduler_year.py",
    "rooms_hard_year.py",
    "year_pipeline.py",
    "timetable_year.py",
    "annual_report.py",
]


def main() -> int:
    failed = []
    for name in SCRIPTS:
        path = HERE / name
        print(f"\n===== {name} =====", flush=True)
        if not path.exists():
            print(f"(not present: {path})")
            continue
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(path), *sys.argv[1:]])
        print(f"[{name}: exit {code}, {time.perf_counter() - started:.1f} s]", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

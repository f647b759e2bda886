"""Run the solver on the ITC-2007 track 3 instances and print a markdown table.

    .venv/bin/python bench/itc2007.py [--time-limit 60] [--seed 0] [--workers 2] [--chains 2] [comp01 comp07 ...]

Every solution is re-scored by the independent scorer (``scheduler.itc2007.cost``). The last
column is the machine's 1-minute load average when the instance finished: the solver itself
accounts for 1-2 of it; beyond 2, other work shared the 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from scheduler.itc2007 import reader, writer  # noqa: E402
from scheduler.itc2007.cost import score  # noqa: E402
from scheduler.itc2007.solver import solve  # noqa: E402

BENCH = Path(os.environ.get("ITC2007_DIR") or ROOT.parent / "shared" / "benchmarks" / "itc2007")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("instances", nargs="*", help="e.g. comp01 comp07 (default: all 21)")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers")
    parser.add_argument("--chains", type=int, default=2, help="annealing chains at once, a process each")
    parser.add_argument("--dir", type=Path, default=BENCH, help="folder with compNN.ctt and best_known.csv")
    parser.add_argument("--solutions", type=Path, help="folder to write the .sol files into")
    args = parser.parse_args(argv)

    with (args.dir / "best_known.csv").open() as f:
        known = {
            row["instance"]: row for row in csv.DictReader(line for line in f if not line.startswith("#"))
        }
    names = args.instances or sorted(known)
    print(f"seed {args.seed}, {args.workers} CP-SAT workers, {args.chains} annealing chains\n")
    print(
        "| instance | hard violations | our soft cost | best known | winner's average | time limit (s) "
        "| load average (1 min) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        inst = reader.read(args.dir / f"{name}.ctt")
        start = time.monotonic()
        result = solve(
            inst, time_limit=args.time_limit, seed=args.seed, num_workers=args.workers, chains=args.chains
        )
        elapsed = time.monotonic() - start
        s = score(inst, result.lectures)
        if args.solutions:
            args.solutions.mkdir(parents=True, exist_ok=True)
            writer.write(args.solutions / f"{name}.sol", result.lectures)
        row = known.get(name, {})
        hard = s.hard if result.lectures else "no solution"
        print(
            f"| {name} | {hard} | {s.soft} | {row.get('best_known_2013', '-')} | "
            f"{row.get('mueller_itc2007_avg', '-')} | {args.time_limit:g} ({elapsed:.0f}) | "
            f"{os.getloadavg()[0]:.1f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

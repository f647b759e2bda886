"""``python -m scheduler itc2007 INSTANCE.ctt --time-limit S -o OUT.sol [--seed N] [--workers N] [--chains N]``."""

from __future__ import annotations

import argparse
import time

from scheduler.itc2007 import reader, writer
from scheduler.itc2007.cost import score
from scheduler.itc2007.solver import solve


def main(argv: list[str]) -> int:
    """Solve one instance, write the solution, and print its cost as the independent scorer sees it."""
    parser = argparse.ArgumentParser(prog="python -m scheduler itc2007", description=__doc__)
    parser.add_argument("instance", help="ITC-2007 track 3 instance (.ctt)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("-o", "--output", help="solution file to write (competition format)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default 2)")
    parser.add_argument(
        "--chains", type=int, default=2, help="annealing chains at once, one process each (default 2)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every improvement")
    args = parser.parse_args(argv)

    inst = reader.read(args.instance)
    start = time.monotonic()
    result = solve(
        inst,
        time_limit=args.time_limit,
        seed=args.seed,
        num_workers=args.workers,
        chains=args.chains,
        verbose=args.verbose,
    )
    elapsed = time.monotonic() - start
    if args.output and result.lectures:
        writer.write(args.output, result.lectures)
    s = score(inst, result.lectures)
    print(f"instance {inst.name} ({args.instance}): status {result.status} in {elapsed:.1f}s")
    print(f"hard violations: {s.hard}")
    print(f"soft cost: {s.soft}")
    print(s.summary())
    for line in s.details[:20]:
        print(f"  {line}")
    return 0 if result.lectures and s.hard == 0 else 1

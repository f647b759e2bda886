"""Command line: ``python -m scheduler solve|itc2007 ...``.

Each sub-command lives in its own module and is imported only when used, so that the start-up
cost of OR-Tools is paid by the command that needs it.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    usage = "usage: python -m scheduler {solve,itc2007} ... (see --help of each)"
    if not args or args[0] in {"-h", "--help"}:
        print(usage)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "solve":
        from scheduler.cli_solve import main as solve_main

        return solve_main(rest)
    if command == "itc2007":
        from scheduler.itc2007.cli import main as itc_main

        return itc_main(rest)
    print(f"unknown command {command!r}\n{usage}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

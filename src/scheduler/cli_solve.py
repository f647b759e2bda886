"""``python -m scheduler solve PROBLEM.json -o SOLUTION.json [--time-limit S] [--workers N]``.

Solves the rooms and/or practicum problem of the file, re-checks each plan with the independent
validator, and writes plans and verdicts as JSON. Exit codes: 0 plan written and sound; 1 plan written
but not proven sound (violations, or no plan within the limit); 2 unusable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from scheduler.solvekit import ProblemError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scheduler solve", description="Assign dormitory rooms and practicum sites."
    )
    parser.add_argument("problem", help="problem JSON file (see docs/scheduler-json.md)")
    parser.add_argument("-o", "--output", required=True, help="where to write the solution JSON")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per problem (default 30)")
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default 2)")
    return parser


SHOWN_ERRORS = 50


def report_input_errors(problems: list[str]) -> None:
    """One line for one defect; else the first ``SHOWN_ERRORS`` of them and how many more there are."""
    if len(problems) == 1:
        print(f"error: {problems[0]}", file=sys.stderr)
        return
    print(f"error: the problem file cannot be solved as given ({len(problems)} problems):", file=sys.stderr)
    for line in problems[:SHOWN_ERRORS]:
        print(f"  - {line}", file=sys.stderr)
    if len(problems) > SHOWN_ERRORS:
        print(f"  ... and {len(problems) - SHOWN_ERRORS} more", file=sys.stderr)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.time_limit <= 0 or args.workers < 1:
        print("error: --time-limit must be positive and --workers at least 1", file=sys.stderr)
        return 2
    from scheduler.io import load_problem, solution_to_dict

    try:
        problem = load_problem(args.problem)
        output: dict[str, Any] = {}
        sound = True
        if problem.rooms is not None:
            from scheduler.rooms import solve_rooms
            from scheduler.validate import validate_rooms

            rooms = solve_rooms(problem.rooms, time_limit=args.time_limit, num_workers=args.workers)
            violations = validate_rooms(problem.rooms, rooms)
            output["rooms"] = solution_to_dict(rooms, violations)
            sound = sound and not violations and rooms.status in ("optimal", "feasible")
            print(
                f"rooms: {rooms.status}, {len(rooms.assignments)} stays housed, {len(rooms.unhoused)} unhoused, "
                f"{rooms.moved} moved, objective {rooms.objective}, {len(violations)} violations"
            )
            for message in rooms.messages:
                print(f"  {message}")
        if problem.practicum is not None:
            from scheduler.practicum import solve_practicum
            from scheduler.validate import validate_practicum

            practicum = solve_practicum(
                problem.practicum, time_limit=args.time_limit, num_workers=args.workers
            )
            violations = validate_practicum(problem.practicum, practicum)
            output["practicum"] = solution_to_dict(practicum, violations)
            sound = sound and not violations and practicum.status in ("optimal", "feasible")
            print(
                f"practicum: {practicum.status}, {len(practicum.placements)} placed, "
                f"{len(practicum.unplaced)} unplaced, {practicum.moved} moved, objective {practicum.objective}, "
                f"{len(violations)} violations"
            )
            for message in practicum.messages:
                print(f"  {message}")
    except ProblemError as error:
        report_input_errors(error.problems)
        return 2
    try:
        Path(args.output).write_text(
            json.dumps(output, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    except OSError as error:
        print(f"error: cannot write {args.output}: {error.strerror or error}", file=sys.stderr)
        return 2
    return 0 if sound else 1

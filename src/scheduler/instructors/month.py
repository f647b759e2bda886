"""A month solved on its own: its modules, its offered candidates, its answer and its lower bound."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from scheduler.instructor_types import Instructor, InstructorProblem, Teaching
from scheduler.instructors.board import _Board
from scheduler.instructors.lp import _floor, _narrow
from scheduler.instructors.model import _solve_part
from scheduler.instructors.pruning import _month


def _months(teachings: list[Teaching]) -> list[list[Teaching]]:
    """The modules of each month, months in date order.

    Months are nearly independent: the load rules count per month, and only the travel day
    crosses a month's end, which solving in date order against the board respects.
    """
    by_month: dict[tuple[int, int], list[Teaching]] = defaultdict(list)
    for t in teachings:
        by_month[_month(t.day)].append(t)
    return [by_month[m] for m in sorted(by_month)]


def _groups(teachings: list[Teaching], offers: Mapping[str, list[Instructor]]) -> list[list[Teaching]]:
    """Groups of modules that share no candidate in ``offers``: independent models."""
    parent = list(range(len(teachings)))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first_of: dict[str, int] = {}
    for k, t in enumerate(teachings):
        for i in offers[t.module_id]:
            parent[find(k)] = find(first_of.setdefault(i.id, k))
    groups: dict[int, list[Teaching]] = defaultdict(list)
    for k, t in enumerate(teachings):
        groups[find(k)].append(t)
    return sorted(groups.values(), key=lambda g: (g[0].day, g[0].module_id))


@dataclass
class _Month:
    """One month's modules, the candidates offered to its model, and its current answer.

    A month is solved on a board of its own, as if no other month existed: that is a relaxation
    of the year (only the travel day crosses a month's end), so the months' lower bounds add up
    to a lower bound of the year. The merge then restores the travel day across months' ends.
    """

    teachings: list[Teaching]
    allowed: Mapping[str, list[Instructor]] = field(default_factory=dict)  # every candidate
    offers: Mapping[str, list[Instructor]] = field(default_factory=dict)
    board: _Board = field(default_factory=_Board)
    lp: float | None = None  # LP bound of the month (None if the LP did not run)
    values: Mapping[tuple[str, str], float] = field(default_factory=dict)  # LP solution
    reduced: Mapping[tuple[str, str], float] = field(default_factory=dict)  # LP reduced costs
    below: float = 0.0  # candidates with a reduced cost below this are offered
    floor: float = math.inf  # no answer using a candidate the offers leave out is below this
    lower: float = 0.0  # best proven lower bound of the month alone (see ``_bound_of``)
    status: str = "feasible"
    proved: bool = False  # the month's answer reached its lower bound
    exhausted: bool = False  # CP-SAT proved every part optimal over the offers: more time won't help
    assignment: dict[str, str] = field(default_factory=dict)
    terms: dict[str, int] = field(default_factory=dict)

    @property
    def value(self) -> int:
        return sum(self.terms.values())


def _offer(problem: InstructorProblem, month: _Month, below: float) -> None:
    """Offer the month's model the candidates that matter by its LP, up to reduced cost ``below``."""
    if month.lp is None:
        month.offers = month.allowed
        return
    month.below = below
    month.offers = _narrow(problem, month.teachings, month.allowed, month.values, month.reduced, below)
    month.floor = _floor(problem, month.allowed, month.offers, month.lp, month.reduced)


def _bound_of(month: _Month, parts: list[float | None]) -> float:
    """The month's lower bound from one solve: its LP bound, or better, CP-SAT's bounds of the
    parts (each proven over the offered candidates), as far as the reduced-cost floor covers the
    candidates left out. Without an LP the offers are every candidate: CP-SAT's bounds hold as they are."""
    best = month.lp - 1e-6 * abs(month.lp) - 1.0 if month.lp is not None else 0.0
    if parts and all(b is not None for b in parts):
        proven = sum(b for b in parts if b is not None)
        if month.floor < math.inf:  # GLOP's tolerances: a yen and a millionth below
            proven = min(proven, month.floor - 1e-6 * abs(month.floor) - 1.0)
        best = max(best, proven)
    return max(month.lower, best)


def _solve_month(problem: InstructorProblem, month: _Month, seconds: float, resolve: bool = False) -> bool:
    """Solve one month on its own board, a CP-SAT model per group of modules sharing no offered
    candidate. With ``resolve``, start from the month's answer and keep the better.

    Returns True if a pin cannot be honoured.
    """
    start = time.monotonic()
    board = month.board
    teaching = {t.module_id: t for t in month.teachings}
    old = dict(month.assignment)
    if resolve:
        for mid in month.assignment:
            board.drop(mid)
    mark = len(board.log)
    got_all: dict[str, str] = {}
    terms: dict[str, int] = defaultdict(int)
    statuses = []
    bounds: list[float | None] = []
    offers = month.offers
    groups = _groups(month.teachings, offers)
    left = len(month.teachings)
    for part in groups:
        budget = max(0.0, seconds - (time.monotonic() - start)) * len(part) / left
        left -= len(part)
        hint = {t.module_id: old[t.module_id] for t in part if t.module_id in old} if resolve else None
        status, got, values, bound = _solve_part(problem, part, offers, board, budget, hint)
        if status == "infeasible":
            return True
        statuses.append(status)
        bounds.append(bound)
        for mid, iid in got.items():
            board.take(teaching[mid], iid)
        got_all.update(got)
        for name, v in values.items():
            terms[name] += v
    month.lower = _bound_of(month, bounds)
    kept = resolve and sum(terms.values()) >= month.value
    if kept:  # the earlier answer stays, with its status
        board.undo(mark)
        for mid, iid in old.items():
            board.take(teaching[mid], iid)
    else:
        month.assignment, month.terms = got_all, dict(terms)
    month.proved = month.value <= month.lower + 0.5
    month.exhausted = month.proved or all(s == "optimal" for s in statuses)
    if month.proved:
        month.status = "optimal"
    elif not kept:
        month.status = "greedy" if "greedy" in statuses else "feasible"
    return False

"""A lower bound of the instructor stage's objective, for the plan's gap."""

from __future__ import annotations

import time

from scheduler.instructor_types import InstructorProblem, price
from scheduler.instructors.board import _Board
from scheduler.instructors.lp import _lp_guide
from scheduler.instructors.month import _months
from scheduler.instructors.pruning import _non_local, candidates


def lp_bound(problem: InstructorProblem, seconds: float = 5.0) -> float:
    """A lower bound of the instructor objective: the LP relaxation of the pruned model without
    the travel-day rule (assignment, one place at a time, monthly maximum, load above target,
    pins, change). No row of it spans two months, so it is the sum of the month LPs the solver
    itself builds (``_lp_guide``). Falls back to the cheapest candidate per
    module if an LP fails or the months take longer than ``seconds``."""
    w = problem.weights
    cands = candidates(problem)
    simple = 0.0
    for t in problem.teachings:
        costs = [w.cost * price(problem, t, i) + _non_local(problem, t, i) for i in cands[t.module_id]]
        simple += min([*costs, w.unassigned])
    started = time.monotonic()
    total = 0.0
    for month in _months(list(problem.teachings)):
        guide = _lp_guide(problem, month, cands, _Board())
        if guide is None or time.monotonic() - started > seconds:
            return simple
        total += guide[1]
    return max(simple, total - 1e-6 * abs(total))

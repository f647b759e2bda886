"""``assign_instructors``: the year solved month by month within the time limit."""

from __future__ import annotations

import time
from collections import defaultdict

from scheduler.instructor_types import InstructorProblem, InstructorSolution
from scheduler.instructors.explain import _pin_infeasible, _solution
from scheduler.instructors.lp import _lp_guide
from scheduler.instructors.merge import _crossing, _merge
from scheduler.instructors.model import MIN_CP_SECONDS
from scheduler.instructors.month import _Month, _months, _offer, _solve_month
from scheduler.instructors.pruning import candidates
from scheduler.timetable_validate import instructor_penalties

LP_SECONDS = 0.0005  # first guess of the time a month's LP takes per module (about 0.3 ms measured)


RC_STEP = 10_000  # reduced cost (yen) up to which candidates are offered, and by which it widens


def assign_instructors(problem: InstructorProblem) -> InstructorSolution:
    """Assign instructors within ``problem.time_limit`` seconds.

    Solved month by month, each month on its own (see ``_Month``). Per month: the LP relaxation
    (GLOP) picks the candidates that matter (``_narrow``) and gives the month's first bound; then
    one CP-SAT model per group of modules sharing no candidate, started from a greedy fill in the
    LP's order, so a complete answer exists from the start. Time left re-solves the months whose
    answer is furthest from their bound. The merge (``_merge``) then gives another instructor to
    the few modules that break the travel day across a month's end.

    ``bound`` is the sum of the months' lower bounds: no answer over the pruned candidates is
    cheaper. ``status`` is ``optimal`` if the answer reaches it; ``greedy`` if some part kept its
    greedy fill because CP-SAT found nothing.
    """
    start = time.monotonic()
    cands = candidates(problem)
    teaching = {t.module_id: t for t in problem.teachings}
    for mid, iid in problem.pins.items():
        if mid in teaching and all(i.id != iid for i in cands[mid]):
            return _pin_infeasible(problem, start)
    w = problem.weights
    todo = [t for t in problem.teachings if cands[t.module_id]]
    fixed: dict[str, int] = defaultdict(int)  # modules nobody can teach: the same in every answer
    for t in problem.teachings:
        if not cands[t.module_id]:
            fixed["unassigned"] += w.unassigned
            if t.module_id in problem.previous:
                fixed["change"] += w.change
    months = [_Month(ts) for ts in _months(todo)]
    # The months' LPs first (at most half the time): they choose the candidates each month's model
    # is offered and give its first bound. Short of time, none: the month is offered everyone.
    left = len(todo)
    lp_rate = LP_SECONDS  # seconds per module the months' LPs took so far
    lp_seconds, lp_modules = 0.0, 0
    for month in months:
        ts = month.teachings
        month.allowed = {t.module_id: [i for i in cands[t.module_id] if month.board.fits(t, i)] for t in ts}
        if (problem.time_limit - (time.monotonic() - start)) / 2 > lp_rate * left:
            lp_start = time.monotonic()
            guide = _lp_guide(problem, ts, month.allowed, month.board)
            lp_seconds += time.monotonic() - lp_start
            lp_modules += len(ts)
            lp_rate = lp_seconds / lp_modules
            if guide is not None:
                month.values, month.lp, month.reduced = guide
        left -= len(ts)
        _offer(problem, month, RC_STEP)
    # CP-SAT, month by month, the time shared by size, a tenth held back for the rounds below and
    # the merge. Smallest first: what a month proved early leaves goes to the larger, harder ones.
    deadline = start + problem.time_limit
    left = len(todo)
    for month in sorted(months, key=lambda m: len(m.teachings)):
        remaining = deadline - 0.1 * problem.time_limit - time.monotonic()
        share = max(0.0, remaining) * len(month.teachings) / left
        left -= len(month.teachings)
        if _solve_month(problem, month, share):
            return _pin_infeasible(problem, start)
    # Time left: rounds over the months not proved, the furthest from their bound first, each
    # from its answer. A month whose model was solved to the end is first offered the candidates
    # of the next reduced-cost step (only they can lower its answer or raise its bound). Some time
    # stays for the merge if months' answers break the travel day across a month's end.
    crossing = len(_crossing(months))
    reserve = min(
        crossing * max(4 * MIN_CP_SECONDS, 0.05 * problem.time_limit), (deadline - time.monotonic()) / 3
    )
    progress = True
    while progress:
        again = sorted((m for m in months if not m.proved), key=lambda m: m.lower - m.value)
        again = [m for m in again if not m.exhausted or (m.lp is not None and m.floor < m.value)]
        if not again or deadline - reserve - time.monotonic() < 2 * MIN_CP_SECONDS:
            break
        before = [(m.value, m.lower, sum(map(len, m.offers.values()))) for m in months]
        for k, month in enumerate(again):
            remaining = deadline - reserve - time.monotonic()
            if remaining < 2 * MIN_CP_SECONDS:
                break
            if month.exhausted and month.lp is not None:  # at least the next candidate left out
                _offer(problem, month, max(month.below + RC_STEP, month.floor - month.lp + 1))
            share = max(remaining / (len(again) - k), min(remaining, 4 * MIN_CP_SECONDS))
            if _solve_month(problem, month, share, resolve=True):
                return _pin_infeasible(problem, start)
        progress = before != [(m.value, m.lower, sum(map(len, m.offers.values()))) for m in months]
    board = _merge(problem, months, cands, deadline)
    if board is None:
        return _pin_infeasible(problem, start)
    assignment = {mid: iid for mid, (_t, iid) in board.assigned.items()}
    terms = defaultdict(int, instructor_penalties(problem, assignment))
    for name in ("unassigned", "cost", "non_local", "load_above_target", "change"):
        terms.setdefault(name, 0)
    bound = sum(fixed.values()) + sum(m.lower for m in months)
    objective = sum(terms.values())
    statuses = [m.status for m in months]
    if objective <= bound + 0.5:
        status = "optimal"
    elif "greedy" in statuses:
        status = "greedy"
    else:
        status = "feasible"
    return _solution(problem, status, assignment, dict(terms), start, bound)

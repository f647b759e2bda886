"""Instructors: give every placed module a qualified, available instructor, year-wide.

Instructors travel between campuses, so campuses are not solved apart. Each module is pruned to
its ``candidates_per_module`` cheapest qualified, available instructors (pinned and previous
instructors are always kept). The load rules count per month and only the travel day crosses a
month's end, so each month is solved on its own: an LP relaxation picks the few candidates that
matter (and, by its reduced costs, which others may), then CP-SAT (one boolean per module × kept
candidate) starts from a greedy fill in the LP's order; time left re-solves the months furthest
from their bound, widening their candidates. The months' answers are then merged, reconciling the
few that break the travel day across a month's end. The months' proven bounds add up to the
solution's ``bound``, a lower bound of the year over the pruned candidates.

Hard rules: the instructor teaches the module's subject and is available on its day; no
instructor teaches two modules at once; between days at different campuses there is at least one
travel day; no instructor exceeds his or her load per month (in half days).

Soft rules (named, weighted, reported with their share of the objective): ``unassigned``,
``cost`` (fee + travel, in yen), ``non_local`` (instructor from another prefecture),
``load_above_target`` (half days above the target per month; a target, not the maximum, keeps the
model LP-friendly) and ``change`` (minimal change against a previous assignment).
If CP-SAT has no time or finds nothing, the greedy fill is returned as the answer of last resort.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from scheduler.instructor_types import (  # noqa: F401  (re-exported: the solver's public types)
    Instructor,
    InstructorProblem,
    InstructorSolution,
    InstructorWeights,
    Teaching,
    Unassigned,
    price,
    qualified_available,
)
from scheduler.timetable_validate import instructor_penalties

LOCAL_KEPT = 3  # local candidates always kept per module, beyond the K cheapest if need be
LP_SECONDS = 0.0005  # first guess of the time a month's LP takes per module (about 0.3 ms measured)
MIN_CP_SECONDS = 0.3  # below this a CP-SAT part cannot beat its hint; the greedy fill is kept
LP_EXTRA = 4  # candidates kept per module beyond those the month's LP uses (see _narrow)
RC_STEP = 10_000  # reduced cost (yen) up to which candidates are offered, and by which it widens


def candidates(problem: InstructorProblem) -> dict[str, list[Instructor]]:
    """The K cheapest qualified, available instructors of each module (+ pinned and previous).

    If fewer than ``LOCAL_KEPT`` of the K live in the campus's prefecture, the cheapest local
    ones are added, so pruning never leaves a module with only travelling instructors.
    """
    by_id = {i.id: i for i in problem.instructors}
    by_subject: dict[str, list[Instructor]] = defaultdict(list)
    for i in problem.instructors:
        for subject in i.subjects:
            by_subject[subject].append(i)
    k = problem.candidates_per_module
    out = {}
    for t in problem.teachings:
        here = problem.campus_prefecture.get(t.campus)
        ok = sorted(
            (i for i in by_subject.get(t.subject, ()) if t.day in i.available),
            key=lambda i: (price(problem, t, i) + _non_local(problem, t, i), i.id),
        )
        keep = ok[:k]
        missing = LOCAL_KEPT - sum(1 for i in keep if i.home_prefecture == here)
        if missing > 0:
            keep += [i for i in ok[k:] if i.home_prefecture == here][:missing]
        for extra in (problem.pins.get(t.module_id), problem.previous.get(t.module_id)):
            if extra in by_id and by_id[extra] not in keep and qualified_available(t, by_id[extra]):
                keep.append(by_id[extra])
        out[t.module_id] = keep
    return out


def _non_local(problem: InstructorProblem, t: Teaching, i: Instructor) -> int:
    local = problem.campus_prefecture.get(t.campus) == i.home_prefecture
    return 0 if local else problem.weights.non_local


def _month(d: date) -> tuple[int, int]:
    return (d.year, d.month)


def _reason(problem: InstructorProblem, t: Teaching) -> str:
    qualified = [i for i in problem.instructors if t.subject in i.subjects]
    if not qualified:
        return f"科目「{t.subject}」を担当できる講師が登録されていません"
    if not any(t.day in i.available for i in qualified):
        return f"科目「{t.subject}」の講師は{t.day.isoformat()}に全員都合がつきません"
    return (
        f"科目「{t.subject}」の講師は{t.day.isoformat()}に他の授業・移動日・月間担当上限のため"
        "割り当てられません"
    )


@dataclass
class _Board:
    """Assignments decided so far (across parts), with what each instructor is busy with."""

    assigned: dict[str, tuple[Teaching, str]] = field(default_factory=dict)
    busy: dict[tuple[str, date, int], str] = field(default_factory=dict)
    on_day: dict[tuple[str, date], set[str]] = field(default_factory=lambda: defaultdict(set))
    load: dict[tuple[str, tuple[int, int]], int] = field(default_factory=lambda: defaultdict(int))
    log: list[tuple[bool, Teaching, str]] = field(default_factory=list)

    def copy(self) -> _Board:
        on_day: dict[tuple[str, date], set[str]] = defaultdict(set)
        on_day.update({k: set(v) for k, v in self.on_day.items()})
        return _Board(dict(self.assigned), dict(self.busy), on_day, defaultdict(int, self.load))

    def blockers(self, t: Teaching, i: Instructor) -> set[str] | None:
        """Modules to take from ``i`` before ``i`` can teach ``t``; None if even that is not enough."""
        out = {self.busy[i.id, d, h] for d, h in t.halves() if (i.id, d, h) in self.busy}
        for k in (-1, 0, 1):
            for mid in self.on_day.get((i.id, t.day + timedelta(k)), ()):
                if self.assigned[mid][0].campus != t.campus:
                    out.add(mid)
        month = _month(t.day)
        freed = sum(
            self.assigned[mid][0].half_days for mid in out if _month(self.assigned[mid][0].day) == month
        )
        if self.load[i.id, month] - freed + t.half_days > i.max_load_per_month:
            return None
        return out

    def on_day_mids(self, iid: str, month: tuple[int, int]) -> list[str]:
        return [
            mid for (j, d), mids in self.on_day.items() if j == iid and _month(d) == month for mid in mids
        ]

    def blockers_without(self, t: Teaching, i: Instructor, mid: str) -> set[str] | None:
        mark = len(self.log)
        self.drop(mid)
        out = self.blockers(t, i)
        self.undo(mark)
        return out

    def fits(self, t: Teaching, i: Instructor) -> bool:
        """``i`` can still teach ``t``: free, no campus change without a travel day, under the maximum."""
        return self.blockers(t, i) == set()

    def take(self, t: Teaching, iid: str) -> None:
        self.assigned[t.module_id] = (t, iid)
        for d, h in t.halves():
            self.busy[iid, d, h] = t.module_id
        self.on_day[iid, t.day].add(t.module_id)
        self.load[iid, _month(t.day)] += t.half_days
        self.log.append((True, t, iid))

    def drop(self, mid: str) -> None:
        t, iid = self.assigned.pop(mid)
        for d, h in t.halves():
            del self.busy[iid, d, h]
        self.on_day[iid, t.day].discard(mid)
        self.load[iid, _month(t.day)] -= t.half_days
        self.log.append((False, t, iid))

    def undo(self, mark: int) -> None:
        while len(self.log) > mark:
            took, t, iid = self.log.pop()
            if took:
                self.drop(t.module_id)
            else:
                self.take(t, iid)
            self.log.pop()


def _insert(
    t: Teaching, cands: Mapping[str, list[Instructor]], board: _Board, depth: int, tabu: set[str]
) -> bool:
    """Give ``t`` an instructor, moving at most one module per step of an ejection chain."""
    for i in cands[t.module_id]:
        if board.fits(t, i):
            board.take(t, i.id)
            return True
    if depth == 0:
        return False
    for i in cands[t.module_id]:
        out = board.blockers(t, i)
        if out is None:  # over the monthly maximum: free one of the month's modules instead
            month = _month(t.day)
            choices = [
                {mid} for mid in board.on_day_mids(i.id, month) if board.blockers_without(t, i, mid) == set()
            ]
        else:
            choices = [out] if len(out) == 1 else []
        for out in choices:
            (moved,) = out
            if moved in tabu or moved not in cands:
                continue
            mark = len(board.log)
            mt = board.assigned[moved][0]
            board.drop(moved)
            board.take(t, i.id)
            if _insert(mt, cands, board, depth - 1, tabu | {t.module_id, moved}):
                return True
            board.undo(mark)
    return False


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


def _lp_guide(
    problem: InstructorProblem,
    part: list[Teaching],
    allowed: Mapping[str, list[Instructor]],
    board: _Board,
) -> tuple[dict[tuple[str, str], float], float, dict[tuple[str, str], float]] | None:
    """LP relaxation of one month without the travel day: its values per module × instructor,
    its objective (a lower bound of the month given the board) and the reduced cost of each
    module × instructor. None if the LP failed.

    At this scale the LP is almost integral, so it tells which few candidates matter, and its
    reduced costs which others may (``_floor``). The travel day's rows made GLOP fifteen times
    slower and neither the bound nor the answers better once CP-SAT proves the month. Rows are
    set coefficient by coefficient (``_row``): pywraplp's expression objects took twice as long to
    build a month's LP as GLOP took to solve it.
    """
    from ortools.linear_solver import pywraplp

    lp = pywraplp.Solver.CreateSolver("GLOP")
    if lp is None:
        return None
    w = problem.weights
    by_id = {i.id: i for i in problem.instructors}
    x: dict[tuple[str, str], Any] = {}
    objective: dict[Any, float] = defaultdict(float)
    constant = 0
    at: dict[tuple[str, date, int], list[Any]] = defaultdict(list)
    month: dict[tuple[str, tuple[int, int]], list[tuple[Any, float]]] = defaultdict(list)
    for t in part:
        lits = []
        constant += w.unassigned
        for i in allowed[t.module_id]:
            v = x[t.module_id, i.id] = lp.NumVar(0, 1, "")
            lits.append(v)
            objective[v] += w.cost * price(problem, t, i) + _non_local(problem, t, i) - w.unassigned
            for d, h in t.halves():
                at[i.id, d, h].append(v)
            month[i.id, _month(t.day)].append((v, t.half_days))
        if lits:
            _row(lp, -lp.infinity(), 1, ((v, 1) for v in lits))
        pinned = problem.pins.get(t.module_id)
        if pinned is not None and (t.module_id, pinned) in x:
            x[t.module_id, pinned].SetLb(1)
        prev = problem.previous.get(t.module_id)
        if prev is not None:
            constant += w.change
            if (t.module_id, prev) in x:
                objective[x[t.module_id, prev]] -= w.change
    for lits in at.values():
        if len(lits) > 1:
            _row(lp, -lp.infinity(), 1, ((v, 1) for v in lits))
    for (iid, m), loads in month.items():
        base = board.load[iid, m]
        _row(lp, -lp.infinity(), by_id[iid].max_load_per_month - base, loads)
        if base + len(loads) * 2 > problem.target_load_per_month:
            over = lp.NumVar(0, lp.infinity(), "")
            # over >= sum(loads) + base - target
            _row(lp, -lp.infinity(), problem.target_load_per_month - base, [*loads, (over, -1)])
            objective[over] += w.load_above_target
            # what the board already holds above the target is counted in earlier parts
            constant -= w.load_above_target * max(0, base - problem.target_load_per_month)
    goal = lp.Objective()
    for v, c in objective.items():
        goal.SetCoefficient(v, c)
    goal.SetMinimization()
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    values = {k: v.solution_value() for k, v in x.items()}
    return values, goal.Value() + constant, {k: v.reduced_cost() for k, v in x.items()}


def _row(lp: Any, lo: float, hi: float, terms: Iterable[tuple[Any, float]]) -> None:
    """The LP row ``lo <= sum(coefficient * variable) <= hi``; each variable at most once."""
    ct = lp.Constraint(lo, hi)
    for v, c in terms:
        ct.SetCoefficient(v, c)


def _narrow(
    problem: InstructorProblem,
    part: list[Teaching],
    allowed: Mapping[str, list[Instructor]],
    values: Mapping[tuple[str, str], float],
    reduced: Mapping[tuple[str, str], float],
    below: float,
    extra: int | None = None,
) -> dict[str, list[Instructor]]:
    """Per module: the candidates the LP uses (largest value first), then the ``LP_EXTRA``
    cheapest others (``extra``), any whose reduced cost is below ``below`` (so the month's bound
    can rise that far above the LP's, see ``_floor``) and any pinned or previous instructor, so
    the rounding has room to move."""
    extra = LP_EXTRA if extra is None else extra
    out = {}
    for t in part:
        mid = t.module_id
        used = sorted(
            (i for i in allowed[mid] if values.get((mid, i.id), 0.0) > 1e-6),
            key=lambda i: -values[mid, i.id],
        )
        rest = [i for i in allowed[mid] if i not in used]
        keep = used + rest[:extra]
        keep += [i for i in rest[extra:] if reduced.get((mid, i.id), 0.0) < below]
        for fixed in (problem.pins.get(mid), problem.previous.get(mid)):
            keep += [i for i in rest[extra:] if i.id == fixed]
        out[mid] = keep
    return out


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


def _floor(
    problem: InstructorProblem,
    allowed: Mapping[str, list[Instructor]],
    offers: Mapping[str, list[Instructor]],
    lp: float,
    reduced: Mapping[tuple[str, str], float],
) -> float:
    """Reduced-cost argument: every answer of the month that uses a candidate the offers leave
    out costs at least the LP bound plus that candidate's reduced cost. (A pinned module's other
    candidates are never used, so they do not count.)"""
    least = math.inf
    for mid, cands in allowed.items():
        if mid in problem.pins:
            continue
        kept = {i.id for i in offers[mid]}
        for i in cands:
            if i.id not in kept:
                least = min(least, reduced.get((mid, i.id), 0.0))
    return lp + least


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


def _crossing(months: list[_Month]) -> set[int]:
    """Months whose answer breaks the travel day with the previous month's answer: an instructor
    at one campus on a month's last day and at another on the next month's first."""
    out = set()
    for k in range(1, len(months)):
        where: dict[tuple[str, date], set[str]] = defaultdict(set)
        prev = {t.module_id: t for t in months[k - 1].teachings}
        for mid, iid in months[k - 1].assignment.items():
            where[iid, prev[mid].day].add(prev[mid].campus)
        here = {t.module_id: t for t in months[k].teachings}
        for mid, iid in months[k].assignment.items():
            t = here[mid]
            if where.get((iid, t.day - timedelta(1)), {t.campus}) != {t.campus}:
                out.add(k)
                break
    return out


def _merge(
    problem: InstructorProblem,
    months: list[_Month],
    cands: Mapping[str, list[Instructor]],
    deadline: float,
) -> _Board | None:
    """The months' answers on one board, in date order. Where a month's answer breaks the travel
    day with the previous month's (the only rule that crosses months), the two are reconciled in
    the time left (``_reconcile``). A module a month left without an instructor gets one by a
    short ejection chain if it can. None if two pins break the travel day."""
    board = _Board()
    by_id = {i.id: i for i in problem.instructors}
    for month in months:  # pins first: they never move
        teaching = {t.module_id: t for t in month.teachings}
        for mid, iid in month.assignment.items():
            if problem.pins.get(mid) == iid:
                if not board.fits(teaching[mid], by_id[iid]):
                    return None
                board.take(teaching[mid], iid)
    crossing = _crossing(months)
    for k, month in enumerate(months):
        mark = len(board.log)
        broken = _place(problem, month.teachings, month.assignment, cands, board)
        crossing.discard(k)
        remaining = deadline - time.monotonic()
        if broken and k and remaining >= 4 * MIN_CP_SECONDS:
            board.undo(mark)
            if _reconcile(problem, months[k - 1], month, cands, board, remaining / (1 + len(crossing))):
                return None
    return board


def _place(
    problem: InstructorProblem,
    teachings: list[Teaching],
    assignment: Mapping[str, str],
    cands: Mapping[str, list[Instructor]],
    board: _Board,
) -> bool:
    """Put an answer on the board in date order; a module whose instructor does not fit, or that
    has none, gets one by a short ejection chain if it can. True if some instructor did not fit."""
    by_id = {i.id: i for i in problem.instructors}
    broken = False
    for t in sorted(teachings, key=lambda t: (t.day, t.half, t.module_id)):
        iid = assignment.get(t.module_id)
        if t.module_id in board.assigned:
            continue
        if iid is not None and board.fits(t, by_id[iid]):
            board.take(t, iid)
            continue
        broken |= iid is not None
        if t.module_id not in problem.pins:
            _insert(t, cands, board, 3, set(problem.pins))
    return broken


def _reconcile(
    problem: InstructorProblem,
    before: _Month,
    month: _Month,
    cands: Mapping[str, list[Instructor]],
    board: _Board,
    seconds: float,
) -> bool:
    """Two consecutive months whose answers break the travel day between them (``board`` holds
    ``before`` as merged so far, not ``month``): either ``month`` is solved again against
    ``before``, or ``before`` against ``month``'s own answer; the cheaper board stays (the
    ejection chains may move modules of other months too, so each option starts from the board as
    it came and is kept as its log of moves). True if a pin cannot be honoured."""
    teaching = {t.module_id: t for t in before.teachings + month.teachings}
    held = {mid: iid for mid, (_t, iid) in board.assigned.items() if mid in teaching}
    mark = len(board.log)
    options = []
    for fixed, moving, answers in (
        (before, month, (held, month.assignment)),
        (month, before, (month.assignment, held)),
    ):
        for mid in teaching:
            if mid in board.assigned and problem.pins.get(mid) != board.assigned[mid][1]:
                board.drop(mid)
        _place(problem, fixed.teachings, answers[0], cands, board)
        _place(problem, moving.teachings, answers[1], cands, board)
        mids = {t.module_id for t in moving.teachings}
        hint = {mid: iid for mid, (_t, iid) in board.assigned.items() if mid in mids}
        # The chains may have given a module an instructor its model is not offered: offer it,
        # so that the parts stay apart and the hint is one of the model's answers.
        offers = {
            mid: [*kept, *(i for i in moving.allowed[mid] if i.id == hint.get(mid) and i not in kept)]
            for mid, kept in moving.offers.items()
        }
        again = _Month(moving.teachings, moving.allowed, offers, board=board)
        again.assignment = hint
        again.terms = _part_terms(problem, moving.teachings, hint, _Board())
        if _solve_month(problem, again, seconds / 2, resolve=True):
            return True
        got = {mid: iid for mid, (_t, iid) in board.assigned.items()}
        # the months not merged yet count as unassigned in both options alike
        options.append((sum(instructor_penalties(problem, got).values()), list(board.log[mark:])))
        board.undo(mark)
    for took, t, iid in min(options, key=lambda o: o[0])[1]:
        if took:
            board.take(t, iid)
        else:
            board.drop(t.module_id)
    return False


def _pin_infeasible(problem: InstructorProblem, start: float) -> InstructorSolution:
    teaching = {t.module_id for t in problem.teachings}
    bad = [
        Unassigned(
            mid, f"固定された講師{iid}はこのモジュールを担当できません（科目・日程・重複・移動日・上限）"
        )
        for mid, iid in problem.pins.items()
        if mid in teaching
    ]
    return InstructorSolution("infeasible", {}, bad, 0, {}, {}, time.monotonic() - start)


def _solve_part(
    problem: InstructorProblem,
    part: list[Teaching],
    cands: Mapping[str, list[Instructor]],
    board: _Board,
    seconds: float,
    hint: dict[str, str] | None = None,
) -> tuple[str, dict[str, str], dict[str, int], float | None]:
    """One month (or one group of it): one boolean per module × candidate the board still allows.

    Returns the status, the assignment, the weighted terms of the part and CP-SAT's lower bound
    of the part over these candidates (None if CP-SAT did not run or found nothing).
    """
    from ortools.sat.python import cp_model

    w = problem.weights
    target = problem.target_load_per_month
    allowed = {t.module_id: [i for i in cands[t.module_id] if board.fits(t, i)] for t in part}
    if seconds < MIN_CP_SECONDS:
        fill = _greedy_fill(part, allowed, board.copy(), problem.pins) if hint is None else hint
        if any(
            fill.get(t.module_id) != problem.pins[t.module_id] for t in part if t.module_id in problem.pins
        ):
            return "infeasible", {}, {}, None  # pins that clash with each other
        return "greedy", fill, _part_terms(problem, part, fill, board), None
    m = cp_model.CpModel()
    a: dict[tuple[str, str], Any] = {}
    # Each term: variables, coefficients and a constant, so its value is read back exactly.
    tv: dict[str, list[Any]] = defaultdict(list)
    tc: dict[str, list[int]] = defaultdict(list)
    const: dict[str, int] = defaultdict(int)
    mine: dict[str, list[tuple[Teaching, Any]]] = defaultdict(list)
    for t in part:
        lits = []
        for i in allowed[t.module_id]:
            lit = a[t.module_id, i.id] = m.new_bool_var(f"teaches[module={t.module_id},instructor={i.id}]")
            lits.append(lit)
            mine[i.id].append((t, lit))
            tv["cost"].append(lit)
            tc["cost"].append(w.cost * price(problem, t, i))
            if _non_local(problem, t, i):
                tv["non_local"].append(lit)
                tc["non_local"].append(w.non_local)
        pinned = problem.pins.get(t.module_id)
        if pinned is not None:
            if (t.module_id, pinned) not in a:
                return "infeasible", {}, {}, None
            m.add(a[t.module_id, pinned] == 1)
        if lits:
            m.add_at_most_one(lits)
        # unassigned = w * (1 - sum(lits))
        const["unassigned"] += w.unassigned
        tv["unassigned"] += lits
        tc["unassigned"] += [-w.unassigned] * len(lits)
        prev = problem.previous.get(t.module_id)
        if prev is not None:
            const["change"] += w.change
            keep = a.get((t.module_id, prev))
            if keep is not None:
                tv["change"].append(keep)
                tc["change"].append(-w.change)
    by_id = {i.id: i for i in problem.instructors}
    teaching = {t.module_id: t for t in part}
    travel: dict[tuple[str, date, str], Any] = {}
    over_of: dict[str, tuple[Any, int]] = {}
    for iid, taught in mine.items():
        _one_place_at_a_time(m, taught)
        travel.update(_travel_day(m, iid, taught))
        # Load per month (a part lies in one month): at most the maximum, penalised above the target.
        load = [t.half_days for t, _ in taught]
        lits = [lit for _, lit in taught]
        month = _month(taught[0][0].day)
        if sum(load) > by_id[iid].max_load_per_month - board.load[iid, month]:
            m.add(
                cp_model.LinearExpr.weighted_sum(lits, load)
                <= by_id[iid].max_load_per_month - board.load[iid, month]
            )
        if sum(load) + board.load[iid, month] > target:
            over = m.new_int_var(
                0, sum(load), f"load_above_target[instructor={iid},month={month[0]}-{month[1]:02d}]"
            )
            m.add(over >= cp_model.LinearExpr.weighted_sum(lits, load) + board.load[iid, month] - target)
            over_of[iid] = (over, board.load[iid, month])
            tv["load_above_target"].append(over)
            tc["load_above_target"].append(w.load_above_target)
    m.minimize(
        cp_model.LinearExpr.weighted_sum([v for n in tv for v in tv[n]], [c for n in tv for c in tc[n]])
        + sum(const.values())
    )
    # A complete answer from the start: the greedy fill of this part, given as a full hint.
    fill = _greedy_fill(part, allowed, board.copy(), problem.pins) if hint is None else hint
    for (mid, iid), lit in a.items():
        m.add_hint(lit, fill.get(mid) == iid)
    where = {(iid, teaching[mid].day, teaching[mid].campus) for mid, iid in fill.items()}
    for (iid, d, c), v in travel.items():
        m.add_hint(v, (iid, d, c) in where)
    month_load: dict[str, int] = defaultdict(int)
    for mid, iid in fill.items():
        month_load[iid] += teaching[mid].half_days
    for iid, (v, base) in over_of.items():
        m.add_hint(v, max(0, month_load[iid] + base - target))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = problem.num_workers
    solver.parameters.random_seed = problem.seed
    solver.parameters.relative_gap_limit = 1e-4
    code = solver.solve(m)
    if code == cp_model.INFEASIBLE:
        return "infeasible", {}, {}, None
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return "greedy", fill, _part_terms(problem, part, fill, board), None
    got = {mid: iid for (mid, iid), lit in a.items() if solver.boolean_value(lit)}
    proved = solver.objective_value <= solver.best_objective_bound + 0.5
    status = "optimal" if proved else "feasible"
    return status, got, _part_terms(problem, part, got, board), solver.best_objective_bound


def _part_terms(
    problem: InstructorProblem, part: list[Teaching], got: dict[str, str], board: _Board
) -> dict[str, int]:
    """Weighted terms of one part's assignment (the load counted with what the board holds)."""
    sub = dataclasses.replace(problem, teachings=tuple(part), pins={})
    values = instructor_penalties(sub, got)
    values["load_above_target"] = _load_above(problem, part, got, board)
    return values


def _load_above(problem: InstructorProblem, part: list[Teaching], fill: dict[str, str], board: _Board) -> int:
    """Weighted half days above the target in the part's month, counting what the board holds."""
    load: dict[tuple[str, tuple[int, int]], int] = defaultdict(int)
    for t in part:
        if t.module_id in fill:
            load[fill[t.module_id], _month(t.day)] += t.half_days
    target = problem.target_load_per_month
    return problem.weights.load_above_target * sum(
        max(0, n + board.load[key] - target) - max(0, board.load[key] - target) for key, n in load.items()
    )


def _one_place_at_a_time(m: Any, taught: list[tuple[Teaching, Any]]) -> None:
    """An instructor teaches at most one module in each half day."""
    at: dict[tuple[date, int], list[Any]] = defaultdict(list)
    for t, lit in taught:
        for h in t.halves():
            at[h].append(lit)
    for lits in at.values():
        if len(lits) > 1:
            m.add_at_most_one(lits)


def _travel_day(m: Any, iid: str, taught: list[tuple[Teaching, Any]]) -> dict[tuple[str, date, str], Any]:
    """Days at different campuses are at least a travel day apart: one campus a day, and the
    next day the same campus or none. Linear in days: "teaches at campus c on day d" booleans."""
    campus_day: dict[tuple[str, date], list[Any]] = defaultdict(list)
    for t, lit in taught:
        campus_day[t.campus, t.day].append(lit)
    if len({c for c, _ in campus_day}) < 2:
        return {}
    at: dict[date, dict[str, Any]] = defaultdict(dict)
    for (c, d), lits in campus_day.items():
        v = at[d][c] = m.new_bool_var(f"teaches_at[instructor={iid},campus={c},day={d.isoformat()}]")
        for lit in lits:
            m.add_implication(lit, v)
    for d, here in at.items():
        if len(here) > 1:
            m.add_at_most_one(list(here.values()))
        nxt = at.get(d + timedelta(1), {})
        for c, v in here.items():
            others = [o for c2, o in nxt.items() if c2 != c]
            if others:
                m.add(v + sum(others) <= 1)
    return {(iid, d, c): v for d, here in at.items() for c, v in here.items()}


def _greedy_fill(
    teachings: list[Teaching],
    cands: Mapping[str, list[Instructor]],
    board: _Board,
    pins: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Pinned instructors first, then the cheapest candidate the board still allows, module by
    module in date order, then short ejection chains for the modules left over, which never move
    a pinned module (updates ``board``)."""
    pins = pins or {}
    left = []
    for t in teachings:
        for i in cands[t.module_id]:
            if i.id == pins.get(t.module_id) and board.fits(t, i):
                board.take(t, i.id)
    for t in sorted(teachings, key=lambda t: (t.day, t.half, t.module_id)):
        if t.module_id in board.assigned or t.module_id in pins:  # a pin that did not fit stays out
            continue
        if not _insert(t, cands, board, 0, set(pins)):
            left.append(t)
    for t in left:
        _insert(t, cands, board, 3, set(pins))
    mine = {t.module_id for t in teachings}
    return {mid: iid for mid, (_t, iid) in board.assigned.items() if mid in mine}


def _solution(
    problem: InstructorProblem,
    status: str,
    assignment: dict[str, str],
    terms: dict[str, int],
    start: float,
    bound: float = 0.0,
) -> InstructorSolution:
    unassigned = [
        Unassigned(t.module_id, _reason(problem, t))
        for t in problem.teachings
        if t.module_id not in assignment
    ]
    objective = sum(terms.values())
    shares = {k: (v / objective if objective else 0.0) for k, v in terms.items()}
    return InstructorSolution(
        status, assignment, unassigned, objective, terms, shares, time.monotonic() - start, bound
    )


def _greedy(
    problem: InstructorProblem, cands: dict[str, list[Instructor]], start: float
) -> InstructorSolution:
    """Last resort: cheapest feasible candidate, module by module in date order."""
    assignment = _greedy_fill(list(problem.teachings), cands, _Board(), problem.pins)
    terms = instructor_penalties(problem, assignment)
    return _solution(problem, "greedy", assignment, terms, start)

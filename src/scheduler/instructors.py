"""Instructors: give every placed module a qualified, available instructor, year-wide.

Instructors travel between campuses, so campuses are not solved apart. Each module is pruned to
its ``candidates_per_module`` cheapest qualified, available instructors (pinned and previous
instructors are always kept). The load rules count per month, so months are solved one after the
other in date order: per month an LP relaxation picks the few candidates that matter and gives
the month's bound, then CP-SAT (one boolean per module × kept candidate) starts from a greedy
fill in the LP's order; time left re-solves the months whose model did not finish.

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
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

LOCAL_KEPT = 3  # local candidates always kept per module, beyond the K cheapest if need be
LP_SECONDS = 0.004  # first guess of the time a month's LP takes per module (reserved for later months)
LP_SECONDS_PLAIN = 0.001  # the same without the travel day
MIN_CP_SECONDS = 0.3  # below this a CP-SAT part cannot beat its hint; the greedy fill is kept
LP_EXTRA = 4  # candidates kept per module beyond those the month's LP uses (see _narrow)


@dataclass(frozen=True)
class Instructor:
    """An instructor (講師): what he or she teaches, when, how much, at what cost, from where."""

    id: str
    subjects: frozenset[str]
    available: frozenset[date]
    max_load_per_month: int  # half days
    fee_per_half_day: int  # yen
    home_prefecture: str
    travel_cost: Mapping[str, int] = field(default_factory=dict)  # yen per teaching day, by campus id


@dataclass(frozen=True)
class Teaching:
    """A placed module that needs an instructor (built from a timetable ``Placement``)."""

    module_id: str
    session_id: str
    campus: str
    subject: str
    day: date
    half: int  # 0 morning, 1 afternoon (start)
    half_days: int = 1

    def halves(self) -> list[tuple[date, int]]:
        return [(self.day, h) for h in range(self.half, self.half + self.half_days)]


@dataclass(frozen=True)
class InstructorWeights:
    unassigned: int = 10_000_000
    cost: int = 1  # per yen
    non_local: int = 20_000
    load_above_target: int = 30_000  # per half day above the target in a month
    change: int = 200_000


@dataclass(frozen=True)
class InstructorProblem:
    teachings: tuple[Teaching, ...]
    instructors: tuple[Instructor, ...]
    campus_prefecture: Mapping[str, str]
    target_load_per_month: int = 8  # half days
    pins: Mapping[str, str] = field(default_factory=dict)  # module id -> instructor id
    previous: Mapping[str, str] = field(default_factory=dict)  # module id -> instructor id
    weights: InstructorWeights = field(default_factory=InstructorWeights)
    candidates_per_module: int = 20
    time_limit: float = 30.0
    num_workers: int = 2
    seed: int = 0


@dataclass(frozen=True)
class Unassigned:
    module_id: str
    reason: str  # in Japanese, for the person in charge


@dataclass
class InstructorSolution:
    """``status``: optimal, feasible, infeasible, timed_out, or greedy (last-resort fill)."""

    status: str
    assignment: dict[str, str]  # module id -> instructor id
    unassigned: list[Unassigned]
    objective: int
    terms: dict[str, int]
    shares: dict[str, float]
    seconds: float


def price(problem: InstructorProblem, t: Teaching, i: Instructor) -> int:
    """Fee plus travel, in yen, for instructor ``i`` to teach ``t``."""
    return i.fee_per_half_day * t.half_days + i.travel_cost.get(t.campus, 0)


def qualified_available(t: Teaching, i: Instructor) -> bool:
    return t.subject in i.subjects and t.day in i.available


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
    travel: bool = True,
) -> tuple[dict[tuple[str, str], float], float] | None:
    """LP relaxation of one month: its values per module × instructor and its objective, a lower
    bound of the month given the board. None if the LP failed.

    At this scale the LP is almost integral, so it tells which few candidates matter. With
    ``travel`` it includes the travel day (twice the time; its support rounds better). Rows are
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
    if travel:
        _lp_travel_day(lp, part, allowed, x)
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
    return {k: v.solution_value() for k, v in x.items()}, goal.Value() + constant


def _row(lp: Any, lo: float, hi: float, terms: Iterable[tuple[Any, float]]) -> None:
    """The LP row ``lo <= sum(coefficient * variable) <= hi``; each variable at most once."""
    ct = lp.Constraint(lo, hi)
    for v, c in terms:
        ct.SetCoefficient(v, c)


def _lp_travel_day(
    lp: Any, part: list[Teaching], allowed: Mapping[str, list[Instructor]], x: Mapping[tuple[str, str], Any]
) -> None:
    """The travel day in the LP, as in the CP-SAT model (``_travel_day``): a "teaches at campus c
    on day d" variable per instructor, one campus a day, no other campus the next day."""
    campus_day: dict[str, dict[tuple[str, date], list[Any]]] = defaultdict(lambda: defaultdict(list))
    for t in part:
        for i in allowed[t.module_id]:
            campus_day[i.id][t.campus, t.day].append(x[t.module_id, i.id])
    inf = lp.infinity()
    for here in campus_day.values():
        if len({c for c, _ in here}) < 2:
            continue
        at: dict[date, dict[str, Any]] = defaultdict(dict)
        for (c, d), lits in here.items():
            v = at[d][c] = lp.NumVar(0, 1, "")
            for lit in lits:
                _row(lp, -inf, 0, ((lit, 1), (v, -1)))
        for d, by_campus in at.items():
            if len(by_campus) > 1:
                _row(lp, -inf, 1, ((v, 1) for v in by_campus.values()))
            nxt = at.get(d + timedelta(1), {})
            for c, v in by_campus.items():
                others = [o for c2, o in nxt.items() if c2 != c]
                if others:
                    _row(lp, -inf, 1, [(v, 1), *((o, 1) for o in others)])


def _narrow(
    problem: InstructorProblem,
    part: list[Teaching],
    allowed: Mapping[str, list[Instructor]],
    values: Mapping[tuple[str, str], float],
    extra: int = LP_EXTRA,
) -> dict[str, list[Instructor]]:
    """Per module: the candidates the LP uses (largest value first), then the ``LP_EXTRA``
    cheapest others (``extra``) and any pinned or previous instructor, so the rounding has room
    to move."""
    out = {}
    for t in part:
        mid = t.module_id
        used = sorted(
            (i for i in allowed[mid] if values.get((mid, i.id), 0.0) > 1e-6),
            key=lambda i: -values[mid, i.id],
        )
        rest = [i for i in allowed[mid] if i not in used]
        keep = used + rest[:extra]
        for fixed in (problem.pins.get(mid), problem.previous.get(mid)):
            keep += [i for i in rest[extra:] if i.id == fixed]
        out[mid] = keep
    return out


@dataclass
class _Month:
    """One month's modules, the candidates offered to its model, and its current answer."""

    teachings: list[Teaching]
    offers: Mapping[str, list[Instructor]] = field(default_factory=dict)
    restricted: bool = False
    bound: float = 0.0  # LP bound of the month given the board (0 if the LP did not run)
    status: str = "feasible"
    proved: bool = False  # every part's CP-SAT model proved optimal (over the offered candidates)
    assignment: dict[str, str] = field(default_factory=dict)
    terms: dict[str, int] = field(default_factory=dict)

    @property
    def value(self) -> int:
        return sum(self.terms.values())


def _solve_month(
    problem: InstructorProblem, month: _Month, board: _Board, seconds: float, resolve: bool = False
) -> bool:
    """Solve one month, a CP-SAT model per group of modules sharing no offered candidate, and
    record it on ``board``. With ``resolve``, start from the month's answer and keep the better.

    Returns True if a pin cannot be honoured.
    """
    start = time.monotonic()
    teaching = {t.module_id: t for t in month.teachings}
    old = (dict(month.assignment), dict(month.terms), month.status)
    if resolve:
        for mid in month.assignment:
            board.drop(mid)
    mark = len(board.log)
    got_all: dict[str, str] = {}
    terms: dict[str, int] = defaultdict(int)
    statuses = []
    offers = month.offers
    groups = _groups(month.teachings, offers)
    left = len(month.teachings)
    for part in groups:
        budget = max(0.0, seconds - (time.monotonic() - start)) * len(part) / left
        left -= len(part)
        hint = {t.module_id: old[0][t.module_id] for t in part if t.module_id in old[0]} if resolve else None
        status, got, values = _solve_part(problem, part, offers, board, budget, hint)
        if status == "infeasible":
            return True
        statuses.append(status)
        for mid, iid in got.items():
            board.take(teaching[mid], iid)
        got_all.update(got)
        for name, v in values.items():
            terms[name] += v
    if resolve and sum(terms.values()) >= sum(old[1].values()):
        board.undo(mark)
        for mid, iid in old[0].items():
            board.take(teaching[mid], iid)
        return False
    month.assignment, month.terms = got_all, dict(terms)
    month.proved = all(s == "optimal" for s in statuses)
    if "greedy" in statuses:
        month.status = "greedy"
    elif month.bound and not month.restricted and month.value <= month.bound + 0.5:
        month.status = "optimal"
    else:
        month.status = "feasible"
    return False


def assign_instructors(problem: InstructorProblem) -> InstructorSolution:
    """Assign instructors within ``problem.time_limit`` seconds.

    Solved month by month in date order against a board of what earlier months decided. Per
    month: the LP relaxation (GLOP) picks the candidates that matter (``_narrow``); then one
    CP-SAT model per group of modules sharing no candidate, started from a greedy fill in the
    LP's order, so a complete answer exists from the start. ``status`` is ``optimal`` only if
    every month reached its LP bound and no month's end restricted the next month; ``greedy`` if
    some part kept its greedy fill because CP-SAT found nothing.
    """
    start = time.monotonic()
    cands = candidates(problem)
    teaching = {t.module_id: t for t in problem.teachings}
    for mid, iid in problem.pins.items():
        if mid in teaching and all(i.id != iid for i in cands[mid]):
            return _pin_infeasible(problem, start)
    w = problem.weights
    todo = [t for t in problem.teachings if cands[t.module_id]]
    board = _Board()
    assignment: dict[str, str] = {}
    terms: dict[str, int] = defaultdict(int)
    for t in problem.teachings:
        if not cands[t.module_id]:
            terms["unassigned"] += w.unassigned
            if t.module_id in problem.previous:
                terms["change"] += w.change
    months = [_Month(ts) for ts in _months(todo)]
    left = len(todo)
    lp_rate = LP_SECONDS  # seconds per module a month's LP took
    for month in months:
        ts = month.teachings
        allowed = {t.module_id: [i for i in cands[t.module_id] if board.fits(t, i)] for t in ts}
        # Offers withdrawn because of the previous month's end: the month is then not exact.
        month.restricted = any(
            i not in allowed[t.module_id] and t.half_days <= i.max_load_per_month
            for t in ts
            for i in cands[t.module_id]
        )
        remaining = problem.time_limit - (time.monotonic() - start)
        guide = None
        if remaining > LP_SECONDS_PLAIN * left:  # short of time: the LP without the travel day
            lp_start = time.monotonic()
            guide = _lp_guide(problem, ts, allowed, board, travel=remaining > lp_rate * left)
            lp_rate = max(lp_rate, (time.monotonic() - lp_start) / len(ts))
        if guide is not None:
            month.bound = guide[1]
            month.offers = _narrow(problem, ts, allowed, guide[0])
        else:
            month.offers = allowed
        remaining = problem.time_limit - (time.monotonic() - start)
        remaining -= min(lp_rate, remaining / left) * (left - len(ts))
        left -= len(ts)
        if _solve_month(problem, month, board, remaining * len(ts) / max(1, len(ts) + left)):
            return _pin_infeasible(problem, start)
    # Time left: months whose model timed out again, the largest shortfall first, from the answer.
    again = sorted((m for m in months if not m.proved), key=lambda m: m.bound - m.value)
    for k, month in enumerate(again):
        remaining = problem.time_limit - (time.monotonic() - start)
        if remaining < 2 * MIN_CP_SECONDS:
            break
        _solve_month(problem, month, board, remaining / (len(again) - k), resolve=True)
    for month in months:
        assignment.update(month.assignment)
        for name, v in month.terms.items():
            terms[name] += v
    statuses = [m.status for m in months]
    order = ["greedy", "timed_out", "feasible", "optimal"]
    status = min(statuses, key=order.index) if statuses else "optimal"
    # Modules a part left without an instructor: one more ejection chain across the whole year.
    lost = [t for t in todo if t.module_id not in assignment and t.module_id not in problem.pins]
    if lost:
        for t in lost:
            _insert(t, cands, board, 3, set(problem.pins))
        assignment = {mid: iid for mid, (_t, iid) in board.assigned.items()}
        from scheduler.timetable_validate import instructor_penalties

        terms = defaultdict(int, instructor_penalties(problem, assignment))
        status = "feasible" if status == "optimal" else status
    for name in ("unassigned", "cost", "non_local", "load_above_target", "change"):
        terms.setdefault(name, 0)
    return _solution(problem, status, assignment, dict(terms), start)


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
) -> tuple[str, dict[str, str], dict[str, int]]:
    """One month (or one group of it): one boolean per module × candidate the board still allows.

    Returns the status, the assignment and the weighted terms of the part.
    """
    from ortools.sat.python import cp_model

    w = problem.weights
    target = problem.target_load_per_month
    allowed = {t.module_id: [i for i in cands[t.module_id] if board.fits(t, i)] for t in part}
    if seconds < MIN_CP_SECONDS:
        fill = _greedy_fill(part, allowed, board.copy()) if hint is None else hint
        return "greedy", fill, _part_terms(problem, part, fill, board)
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
                return "infeasible", {}, {}
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
    fill = _greedy_fill(part, allowed, board.copy()) if hint is None else hint
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
        return "infeasible", {}, {}
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return "greedy", fill, _part_terms(problem, part, fill, board)
    got = {mid: iid for (mid, iid), lit in a.items() if solver.boolean_value(lit)}
    proved = solver.objective_value <= solver.best_objective_bound + 0.5
    return ("optimal" if proved else "feasible"), got, _part_terms(problem, part, got, board)


def _part_terms(
    problem: InstructorProblem, part: list[Teaching], got: dict[str, str], board: _Board
) -> dict[str, int]:
    """Weighted terms of one part's assignment (the load counted with what the board holds)."""
    from scheduler.timetable_validate import instructor_penalties

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
    teachings: list[Teaching], cands: Mapping[str, list[Instructor]], board: _Board
) -> dict[str, str]:
    """Cheapest candidate the board still allows, module by module in date order, then short
    ejection chains for the modules left over (updates ``board``)."""
    left = []
    for t in sorted(teachings, key=lambda t: (t.day, t.half, t.module_id)):
        if not _insert(t, cands, board, 0, set()):
            left.append(t)
    for t in left:
        _insert(t, cands, board, 3, set())
    mine = {t.module_id for t in teachings}
    return {mid: iid for mid, (_t, iid) in board.assigned.items() if mid in mine}


def _solution(
    problem: InstructorProblem, status: str, assignment: dict[str, str], terms: dict[str, int], start: float
) -> InstructorSolution:
    unassigned = [
        Unassigned(t.module_id, _reason(problem, t))
        for t in problem.teachings
        if t.module_id not in assignment
    ]
    objective = sum(terms.values())
    shares = {k: (v / objective if objective else 0.0) for k, v in terms.items()}
    return InstructorSolution(
        status, assignment, unassigned, objective, terms, shares, time.monotonic() - start
    )


def _greedy(
    problem: InstructorProblem, cands: dict[str, list[Instructor]], start: float
) -> InstructorSolution:
    """Last resort: cheapest feasible candidate, module by module in date order."""
    assignment = _greedy_fill(list(problem.teachings), cands, _Board())
    from scheduler.timetable_validate import instructor_penalties

    terms = instructor_penalties(problem, assignment)
    return _solution(problem, "greedy", assignment, terms, start)

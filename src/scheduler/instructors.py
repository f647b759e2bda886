"""Instructors: give every placed module a qualified, available instructor, year-wide.

Instructors travel between campuses, so this is one model for the whole year, kept small by
pruning each module to its ``candidates_per_module`` cheapest qualified, available instructors
(pinned and previous instructors are always kept). One boolean per module × candidate.

Hard rules: the instructor teaches the module's subject and is available on its day; no
instructor teaches two modules at once; between days at different campuses there is at least one
travel day; no instructor exceeds his or her load per month (in half days).

Soft rules (named, weighted, reported with their share of the objective): ``unassigned``,
``cost`` (fee + travel, in yen), ``non_local`` (instructor from another prefecture),
``load_above_target`` (half days above the target per month; a target, not the maximum, keeps the
model LP-friendly) and ``change`` (minimal change against a previous assignment).
If CP-SAT finds nothing in time, a greedy fill is returned as the answer of last resort.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any


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
    """The K cheapest qualified, available instructors of each module (+ pinned and previous)."""
    by_id = {i.id: i for i in problem.instructors}
    out = {}
    for t in problem.teachings:
        ok = sorted(
            (i for i in problem.instructors if qualified_available(t, i)),
            key=lambda i: (price(problem, t, i) + _non_local(problem, t, i), i.id),
        )
        keep = ok[: problem.candidates_per_module]
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


def assign_instructors(problem: InstructorProblem) -> InstructorSolution:
    """Assign instructors within ``problem.time_limit`` seconds."""
    from ortools.sat.python import cp_model

    start = time.monotonic()
    w = problem.weights
    cands = candidates(problem)
    teaching = {t.module_id: t for t in problem.teachings}
    m = cp_model.CpModel()
    a: dict[tuple[str, str], Any] = {}
    terms: dict[str, list[Any]] = defaultdict(list)
    by_instr: dict[str, list[str]] = defaultdict(list)
    for t in problem.teachings:
        lits = []
        for i in cands[t.module_id]:
            lit = a[t.module_id, i.id] = m.new_bool_var(f"teaches[module={t.module_id},instructor={i.id}]")
            lits.append(lit)
            by_instr[i.id].append(t.module_id)
            terms["cost"].append(w.cost * price(problem, t, i) * lit)
            if _non_local(problem, t, i):
                terms["non_local"].append(w.non_local * lit)
        pinned = problem.pins.get(t.module_id)
        if pinned is not None:
            if (t.module_id, pinned) not in a:
                m.add_bool_or([])  # the pinned instructor cannot teach it: infeasible, explained below
            else:
                m.add(a[t.module_id, pinned] == 1)
        done = sum(lits)
        m.add(done <= 1)
        terms["unassigned"].append(w.unassigned * (1 - done))
        prev = problem.previous.get(t.module_id)
        if prev is not None:
            keep = a.get((t.module_id, prev))
            terms["change"].append(w.change * (1 - keep) if keep is not None else w.change)
            if keep is not None:
                m.add_hint(keep, 1)
    by_id = {i.id: i for i in problem.instructors}
    for iid, mids in by_instr.items():
        instr = by_id[iid]
        # Not in two places at once.
        at: dict[tuple[date, int], list[Any]] = defaultdict(list)
        for mid in mids:
            for h in teaching[mid].halves():
                at[h].append(a[mid, iid])
        for lits in at.values():
            if len(lits) > 1:
                m.add_at_most_one(lits)
        # A travel day between days at different campuses.
        campus_day: dict[tuple[str, date], list[Any]] = defaultdict(list)
        for mid in mids:
            campus_day[teaching[mid].campus, teaching[mid].day].append(a[mid, iid])
        campuses = {c for c, _ in campus_day}
        if len(campuses) > 1:
            works: dict[tuple[str, date], Any] = {}
            for (c, d), lits in campus_day.items():
                v = works[c, d] = m.new_bool_var(f"works_at[instructor={iid},campus={c},day={d}]")
                for lit in lits:
                    m.add_implication(lit, v)
            days = sorted({d for _, d in works})
            for d in days:
                nxt = d + timedelta(1)
                for c in campuses:
                    here = works.get((c, d))
                    if here is None:
                        continue
                    others = [v for (c2, d2), v in works.items() if c2 != c and d2 in (d, nxt)]
                    for o in others:
                        m.add_bool_or([here.Not(), o.Not()])
        # Load per month: at most the maximum, penalised above the target.
        month_load: dict[tuple[int, int], list[Any]] = defaultdict(list)
        for mid in mids:
            month_load[_month(teaching[mid].day)].append(teaching[mid].half_days * a[mid, iid])
        for (y, mo), loads in month_load.items():
            m.add(sum(loads) <= instr.max_load_per_month)
            if len(loads) > problem.target_load_per_month:
                over = m.new_int_var(
                    0, len(loads) * 2, f"load_above_target[instructor={iid},month={y}-{mo:02d}]"
                )
                m.add(over >= sum(loads) - problem.target_load_per_month)
                terms["load_above_target"].append(w.load_above_target * over)
    m.minimize(sum(v for vs in terms.values() for v in vs))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = problem.time_limit
    solver.parameters.num_workers = problem.num_workers
    solver.parameters.random_seed = problem.seed
    code = solver.solve(m)
    if code == cp_model.INFEASIBLE:
        bad = [
            Unassigned(
                mid, f"固定された講師{iid}はこのモジュールを担当できません（科目・日程・重複・移動日・上限）"
            )
            for mid, iid in problem.pins.items()
            if mid in teaching
        ]
        return InstructorSolution("infeasible", {}, bad, 0, {}, {}, time.monotonic() - start)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _greedy(problem, cands, start)
    assignment = {mid: iid for (mid, iid), lit in a.items() if solver.value(lit)}
    values = {
        name: int(sum(solver.value(v) if not isinstance(v, int) else v for v in vs))
        for name, vs in terms.items()
    }
    status = "optimal" if code == cp_model.OPTIMAL else "feasible"
    return _solution(problem, status, assignment, values, start)


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
    busy: set[tuple[str, date, int]] = set()
    where: dict[tuple[str, date], str] = {}
    load: dict[tuple[str, tuple[int, int]], int] = defaultdict(int)
    assignment: dict[str, str] = {}
    for t in sorted(problem.teachings, key=lambda t: (t.day, t.half, t.module_id)):
        for i in cands[t.module_id]:
            if any((i.id, d, h) in busy for d, h in t.halves()):
                continue
            near = [where.get((i.id, t.day + timedelta(k))) for k in (-1, 0, 1)]
            if any(c is not None and c != t.campus for c in near):
                continue
            if load[i.id, _month(t.day)] + t.half_days > i.max_load_per_month:
                continue
            assignment[t.module_id] = i.id
            busy.update((i.id, d, h) for d, h in t.halves())
            where[i.id, t.day] = t.campus
            load[i.id, _month(t.day)] += t.half_days
            break
    from scheduler.timetable_validate import instructor_penalties

    terms = instructor_penalties(problem, assignment)
    return _solution(problem, "greedy", assignment, terms, start)

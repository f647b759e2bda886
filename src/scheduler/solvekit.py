"""What every decomposed CP-SAT solve of this package shares: statuses, errors, costs and the run loop.

Rooms and practicum are both split into many small independent parts; this module runs one part under
a shared deadline, reports progress, and folds the parts' statuses and bounds into one answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

SolveStatus = Literal["optimal", "feasible", "infeasible", "timed_out", "model_invalid"]


class ProgressCallback(Protocol):
    """Called while a solve runs with the best objective so far, the elapsed seconds and, where the
    solver proves one, the lower bound so far: the sum of the bounds of the parts solved, the same
    sum the solution's ``best_bound`` is made of once every part is done."""

    def __call__(self, best: float, elapsed: float, bound: float | None = None, /) -> None: ...


MIN_PART_SECONDS = 1.0


class ProblemError(ValueError):
    """The problem given to a solver is malformed; ``problems`` lists every defect found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        shown = "; ".join(self.problems[:10])
        more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
        super().__init__(f"invalid problem: {shown}{more}")


@dataclass(frozen=True)
class RuleCost:
    """How much one named rule contributes to the objective: ``value`` units times ``weight``."""

    value: int
    weight: int

    @property
    def cost(self) -> int:
        return self.value * self.weight


@dataclass
class PartResult:
    """Outcome of one CP-SAT part: status, values of the named variables, objective and bound."""

    status: SolveStatus
    values: dict[str, int]
    objective: float
    bound: float
    seconds: float


class Deadline:
    """A shared wall-clock budget for all parts of one solve, plus the progress bookkeeping."""

    def __init__(self, time_limit: float, progress: ProgressCallback | None) -> None:
        self.start = time.perf_counter()
        self.end = self.start + max(0.0, float(time_limit))
        self.progress = progress
        self.done_objective = 0.0
        self.done_bound = 0.0  # the proven bounds of the parts finished, summed
        self.solve_seconds = 0.0

    def remaining(self) -> float:
        return self.end - time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def report(self, current: float = 0.0) -> None:
        if self.progress is not None:
            self.progress(self.done_objective + current, self.elapsed(), self.done_bound)


def run_part(
    model: cp_model.CpModel,
    named: dict[str, Any],
    deadline: Deadline,
    *,
    num_workers: int = 2,
    hints: dict[str, int] | None = None,
    share: float = 1.0,
    parameters: dict[str, Any] | None = None,
) -> PartResult:
    """Solve one part within what is left of the deadline and read back the named variables.

    Args:
        model: the part's model, objective already set.
        named: variables whose values the caller needs, by name.
        deadline: the shared budget; a part with no time left is reported as ``timed_out``.
        num_workers: CP-SAT search workers.
        hints: optional starting values by variable name.
        share: fraction of the remaining time this part may use (the rest is kept for later parts).
        parameters: extra CP-SAT parameters by name.
    """
    from ortools.sat.python import cp_model

    left = deadline.remaining()
    if left <= 0.001:
        return PartResult("timed_out", {}, 0.0, 0.0, 0.0)
    if hints:
        for name, value in hints.items():
            if name in named:
                model.add_hint(named[name], value)
    solver = cp_model.CpSolver()
    # Even a tiny part gets a useful slice (start-up alone costs milliseconds), never more than is left.
    solver.parameters.max_time_in_seconds = min(left, max(MIN_PART_SECONDS, left * min(1.0, max(0.0, share))))
    solver.parameters.num_workers = max(1, int(num_workers))
    for name, value in (parameters or {}).items():
        setattr(solver.parameters, name, value)

    class _Progress(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            deadline.report(self.objective_value)

    callback = _Progress() if deadline.progress is not None else None
    code = solver.solve(model, callback)
    seconds = solver.wall_time
    deadline.solve_seconds += seconds
    status: SolveStatus
    if code == cp_model.OPTIMAL:
        status = "optimal"
    elif code == cp_model.FEASIBLE:
        status = "feasible"
    elif code == cp_model.INFEASIBLE:
        status = "infeasible"
    elif code == cp_model.MODEL_INVALID:
        status = "model_invalid"
    else:
        status = "timed_out"
    if status not in ("optimal", "feasible"):
        return PartResult(status, {}, 0.0, 0.0, seconds)
    values = {name: int(solver.value(var)) for name, var in named.items()}
    result = PartResult(status, values, solver.objective_value, solver.best_objective_bound, seconds)
    deadline.done_objective += result.objective
    deadline.report()
    return result


def combine_statuses(statuses: Iterable[SolveStatus]) -> SolveStatus:
    """The status of a whole solve: its worst part decides (no parts at all is trivially optimal)."""
    order: list[SolveStatus] = ["model_invalid", "infeasible", "timed_out", "feasible", "optimal"]
    worst: SolveStatus = "optimal"
    for status in statuses:
        if order.index(status) < order.index(worst):
            worst = status
    return worst


def relative_gap(objective: float, bound: float) -> float:
    """Optimality gap as a fraction of the objective (0 when both are 0)."""
    if objective == bound:
        return 0.0
    return abs(objective - bound) / max(1.0, abs(objective))


def components(keys: list[int], overlaps: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected components of ``keys`` under the ``overlaps`` pairs (union-find), each sorted."""
    parent = {key: key for key in keys}

    def find(key: int) -> int:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for a, b in overlaps:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for key in keys:
        groups.setdefault(find(key), []).append(key)
    return [sorted(group) for _, group in sorted(groups.items())]


def overlapping_pairs(spans: dict[int, list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """Pairs of keys whose half-open integer spans [start, end) overlap, found by a sweep."""
    events = sorted((start, end, key) for key, items in spans.items() for start, end in items if end > start)
    pairs: list[tuple[int, int]] = []
    active: list[tuple[int, int]] = []
    for start, end, key in events:
        active = [(e, k) for e, k in active if e > start]
        pairs.extend((k, key) for _, k in active if k != key)
        active.append((end, key))
    return pairs

"""The instructor assignment problem and its solution: plain frozen dataclasses and the documented
price of a module for an instructor, shared by the solver (``scheduler.instructors``) and the
independent validator (``scheduler.timetable_validate``), which never imports the solver."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


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
    bound: float = 0.0  # no answer over the pruned candidates costs less (0: not known)


def price(problem: InstructorProblem, t: Teaching, i: Instructor) -> int:
    """Fee plus travel, in yen, for instructor ``i`` to teach ``t``."""
    return i.fee_per_half_day * t.half_days + i.travel_cost.get(t.campus, 0)


def qualified_available(t: Teaching, i: Instructor) -> bool:
    return t.subject in i.subjects and t.day in i.available

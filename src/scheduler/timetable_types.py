"""The campus timetable problem and its solution: plain frozen dataclasses, shared by the solver
(``scheduler.timetable``) and the independent validator (``scheduler.timetable_validate``), which
never imports the solver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

MORNING, AFTERNOON = 0, 1
HALF_NAMES = {MORNING: "午前", AFTERNOON: "午後"}
MODULE_KINDS = ("lecture", "exercise", "practicum")


@dataclass(frozen=True, order=True)
class Period:
    """A half day: ``half`` is ``MORNING`` (0) or ``AFTERNOON`` (1)."""

    day: date
    half: int

    def label(self) -> str:
        return f"{self.day.isoformat()} {HALF_NAMES[self.half]}"


@dataclass(frozen=True)
class DateBlock:
    """Consecutive dates (both ends included) when a session is on campus."""

    start: date
    end: date

    def days(self) -> list[date]:
        return [self.start + timedelta(n) for n in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class Module:
    """A teaching module of a session: half a day (``half_days=1``) or a full day (2).

    ``order`` is its position in the curriculum; ``target_day`` (0-based index of the session's
    teaching days) is the day the curriculum intends, if it says one.
    """

    id: str
    subject: str
    kind: str = "lecture"  # lecture | exercise | practicum
    half_days: int = 1
    order: int = 0
    target_day: int | None = None


@dataclass(frozen=True)
class Session:
    """One run of a course (開講回) on a campus, with its learners, date blocks and modules."""

    id: str
    campus: str
    learners: int
    blocks: tuple[DateBlock, ...]
    modules: tuple[Module, ...]

    def days(self) -> list[date]:
        return sorted({d for b in self.blocks for d in b.days()})


@dataclass(frozen=True)
class Classroom:
    id: str
    campus: str
    capacity: int
    unavailable: frozenset[Period] = frozenset()


@dataclass(frozen=True)
class Placement:
    """Where and when a module is taught: its first half-day period and its classroom."""

    module_id: str
    session_id: str
    start: Period
    classroom: str
    half_days: int = 1

    def periods(self) -> list[Period]:
        if self.half_days == 1:
            return [self.start]
        return [Period(self.start.day, MORNING), Period(self.start.day, AFTERNOON)]


@dataclass(frozen=True)
class Pin:
    """A fixed placement: the module starts at ``start`` (and in ``classroom`` if given)."""

    module_id: str
    start: Period
    classroom: str | None = None


@dataclass(frozen=True)
class TimetableWeights:
    unplaced: int = 100_000
    curriculum_order: int = 200
    spread: int = 20  # per day away from the intended day
    session_room: int = 50  # per classroom a session uses beyond the first
    change: int = 500  # per module moved from its previous placement


@dataclass(frozen=True)
class TimetableProblem:
    """Sessions and classrooms of one or more campuses; each campus is solved on its own."""

    sessions: tuple[Session, ...]
    classrooms: tuple[Classroom, ...]
    pins: tuple[Pin, ...] = ()
    previous: tuple[Placement, ...] = ()
    weights: TimetableWeights = field(default_factory=TimetableWeights)
    time_limit: float = 10.0  # seconds, for all campuses together
    rooms_per_session: int = 4  # classrooms considered per session: the smallest that fit
    num_workers: int = 2
    seed: int = 0


@dataclass(frozen=True)
class Unplaced:
    """Something the solver could not place, with a reason in Japanese for the person in charge."""

    id: str
    reason: str


@dataclass
class TimetableSolution:
    """``status`` is optimal, feasible, infeasible or timed_out.

    ``timed_out``: CP-SAT found no plan for some campus in the time limit; that campus's
    placements are then a greedy fill (the answer of last resort), still hard-feasible.
    """

    status: str
    placements: list[Placement]
    unplaced: list[Unplaced]
    objective: int
    terms: dict[str, int]  # weighted penalty per rule, as the validator counts them for this plan
    shares: dict[str, float]  # share of the objective per rule
    seconds: float


def allowed_starts(session: Session, module: Module) -> list[Period]:
    """Periods a module may start in: inside a block, and for a full day, the morning."""
    days = session.days()
    if module.half_days == 2:
        return [Period(d, MORNING) for d in days]
    return [Period(d, h) for d in days for h in (MORNING, AFTERNOON)]

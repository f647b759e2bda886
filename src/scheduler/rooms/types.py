"""The dormitory problem and its solution: rooms, sessions, lodgers, pins, weights and the plan found.

Validators (``scheduler.validate``) import these types only, never the solver modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from scheduler.solvekit import RuleCost, SolveStatus

GENDERS = ("female", "male", None)
ZONES = ("women", "men", "any")
ROOM_KINDS = ("single", "twin")
SME_AUDIENCE = "sme"


CATEGORY_LABELS = {
    "women": "女性用",
    "men": "男性用",
    "accessible": "バリアフリー対応",
    "unknown_gender": "性別未登録者用の個室",
}


# ---------------------------------------------------------------------------------------------------
# Problem and solution
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DormRoom:
    """One dormitory room. ``kind`` is "single" (1 bed) or "twin" (2 beds)."""

    room_id: int
    campus_id: int
    label: str
    floor: int = 1
    kind: str = "single"
    zone: str = "any"
    accessible: bool = False

    @property
    def beds(self) -> int:
        return 2 if self.kind == "twin" else 1


@dataclass(frozen=True)
class RoomOutage:
    """A room out of service on every night from ``first_night`` to ``last_night`` inclusive."""

    room_id: int
    first_night: date
    last_night: date


@dataclass(frozen=True)
class StayBlock:
    """A run of course days; learners sleep on the nights ``first_day`` .. ``last_day - 1``."""

    first_day: date
    last_day: date

    def nights(self) -> list[date]:
        count = (self.last_day - self.first_day).days
        return [self.first_day + timedelta(days=i) for i in range(max(0, count))]


@dataclass(frozen=True)
class LodgingSession:
    """A course session at a campus; a long course has several blocks. Audience "sme" = executives."""

    session_id: int
    campus_id: int
    blocks: tuple[StayBlock, ...]
    audience: str = "general"
    title: str = ""


@dataclass(frozen=True)
class Lodger:
    """A learner of a session who stays in the dormitory. ``gender`` is "female", "male" or None.

    A learner of unknown gender (None) gets a single room in an "any" zone: that is the only room
    nobody else's privacy depends on.
    """

    learner_id: int
    session_id: int
    gender: str | None = None
    needs_accessible: bool = False


@dataclass(frozen=True)
class RoomAssignment:
    """Learner ``learner_id`` of ``session_id`` sleeps in ``room_id`` for block number ``block`` (0-based).

    Used for the answer, for pins (hard) and for the previous plan of a re-solve.
    """

    session_id: int
    learner_id: int
    block: int
    room_id: int


@dataclass(frozen=True)
class RoomWeights:
    """Penalty per unit of each soft rule."""

    unhoused: int = 1000
    moved: int = 100
    room_change: int = 50
    sme_in_twin: int = 10


@dataclass
class RoomsProblem:
    """Everything the dormitory solver needs."""

    rooms: list[DormRoom]
    sessions: list[LodgingSession]
    lodgers: list[Lodger]
    outages: list[RoomOutage] = field(default_factory=list)
    pins: list[RoomAssignment] = field(default_factory=list)
    previous: list[RoomAssignment] = field(default_factory=list)
    weights: RoomWeights = field(default_factory=RoomWeights)


@dataclass(frozen=True)
class UnhousedLearner:
    """A learner left without a room for one block, and why (Japanese)."""

    session_id: int
    learner_id: int
    block: int
    category: str
    reason: str
    code: str = "shortage"
    """"shortage" (``nights`` over full), "no_suitable_room", "no_room_whole_block" or "timed_out"."""
    nights: tuple[date, ...] = ()


@dataclass(frozen=True)
class RoomShortage:
    """On nights ``first_night`` .. ``last_night`` of a campus, ``shortage`` more rooms of a category were needed.

    ``category`` is "women", "men", "accessible" or "unknown_gender".
    """

    campus_id: int
    first_night: date
    last_night: date
    category: str
    shortage: int
    session_ids: tuple[int, ...]
    message: str
    resolution: str = ""


@dataclass
class RoomsSolution:
    """The best plan found, with its status, costs per rule, and the learners it could not house."""

    status: SolveStatus
    assignments: list[RoomAssignment]
    unhoused: list[UnhousedLearner]
    shortages: list[RoomShortage]
    objective: int
    best_bound: float
    gap: float
    breakdown: dict[str, RuleCost]
    moved: int
    room_changes: int
    solve_seconds: float
    wall_seconds: float
    parts: int

    @property
    def messages(self) -> list[str]:
        return [shortage.message for shortage in self.shortages]

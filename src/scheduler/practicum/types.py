"""The practicum problem and its solution, plain dataclasses, and the site rules the check, the
model and the explanations share (who may go where, which site hosts which session, group sizes)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from scheduler.solvekit import (
    RuleCost,
    SolveStatus,
)


@dataclass(frozen=True)
class PracticumSite:
    """A host company near a campus. ``industry`` is a JSIC section letter ("A".."T")."""

    site_id: int
    campus_id: int
    name: str
    company: str
    industry: str
    travel_minutes: int
    capacity_per_day: int
    available_days: tuple[date, ...]
    excluded_companies: tuple[str, ...] = ()


@dataclass(frozen=True)
class PracticumSession:
    """A course session with practicum days; its learners go out in groups of min..max learners."""

    session_id: int
    campus_id: int
    days: tuple[date, ...]
    min_group_size: int = 4
    max_group_size: int = 8


@dataclass(frozen=True)
class PracticumLearner:
    """A learner of a practicum session: their company, its JSIC industry, and competitors they name."""

    learner_id: int
    session_id: int
    company: str = ""
    industry: str | None = None
    competitors: tuple[str, ...] = ()


@dataclass(frozen=True)
class PracticumPlacement:
    """Learner ``learner_id`` of ``session_id`` goes to ``site_id``; also used for pins and the previous plan."""

    session_id: int
    learner_id: int
    site_id: int


@dataclass(frozen=True)
class PracticumWeights:
    """Penalty per unit of each soft rule."""

    unplaced: int = 1000
    moved: int = 100
    industry_mismatch: int = 30
    travel_minutes: int = 1
    group_opened: int = 20
    group_above_balanced_size: int = 10


@dataclass
class PracticumProblem:
    """Everything the practicum solver needs."""

    sites: list[PracticumSite]
    sessions: list[PracticumSession]
    learners: list[PracticumLearner]
    pins: list[PracticumPlacement] = field(default_factory=list)
    previous: list[PracticumPlacement] = field(default_factory=list)
    weights: PracticumWeights = field(default_factory=PracticumWeights)


@dataclass(frozen=True)
class PracticumGroup:
    """The learners of one session sent together to one site."""

    session_id: int
    site_id: int
    learner_ids: tuple[int, ...]


@dataclass(frozen=True)
class UnplacedLearner:
    """A learner without a site, and why: ``code`` is "no_site", "too_few_learners", "capacity", "group_size"
    or "timed_out"; ``reason`` says it in Japanese."""

    session_id: int
    learner_id: int
    code: str
    reason: str


@dataclass
class PracticumSolution:
    """The best plan found, its status, costs per rule, groups, and the learners it could not place."""

    status: SolveStatus
    placements: list[PracticumPlacement]
    groups: list[PracticumGroup]
    unplaced: list[UnplacedLearner]
    messages: list[str]
    objective: int
    best_bound: float
    gap: float
    breakdown: dict[str, RuleCost]
    moved: int
    solve_seconds: float
    wall_seconds: float
    parts: int


def _norm(name: str | None) -> str:
    return "".join((name or "").split()).casefold()


def site_allowed(learner: PracticumLearner, site: PracticumSite) -> bool:
    """A learner is never sent to their own company, a competitor they name, or a site that excludes their
    company."""
    mine = _norm(learner.company)
    host = _norm(site.company)
    if mine and (mine == host or mine in {_norm(c) for c in site.excluded_companies}):
        return False
    return host not in {_norm(c) for c in learner.competitors}


def site_hosts_session(site: PracticumSite, session: PracticumSession) -> bool:
    """A site hosts a session only near its campus, on every practicum day, with room for a smallest group."""
    return (
        site.campus_id == session.campus_id
        and set(session.days) <= set(site.available_days)
        and site.capacity_per_day >= session.min_group_size
    )


def balanced_size(learners: int, session: PracticumSession) -> int:
    """The group size of the fewest equal groups: sizes above it are penalised to balance groups."""
    if learners <= 0:
        return session.max_group_size
    groups = math.ceil(learners / session.max_group_size)
    return max(session.min_group_size, math.ceil(learners / groups))


def jp_date(day: date) -> str:
    return f"{day.month}月{day.day}日"

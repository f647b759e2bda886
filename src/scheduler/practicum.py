"""Practicum sites: split the learners of each practicum session into groups and give each group a host.

Following SOLVER_NOTES, learners of one session with the same industry and the same set of sites they
must avoid are interchangeable: CP-SAT decides counts per learner type x site, each count linked to its
own "group at this site" switch, one part per campus and set of sessions whose practicum days overlap.
A session's group at a site is all its learners sent there, so group sizes are checked per session x
site. The model is elastic: an unplaced learner costs ``weights.unplaced`` and is explained in Japanese.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from scheduler.solvekit import (
    Deadline,
    ProblemError,
    ProgressCallback,
    RuleCost,
    SolveStatus,
    combine_statuses,
    components,
    relative_gap,
    run_part,
)

if TYPE_CHECKING:
    from ortools.sat.python import cp_model


PARAMETERS: dict[str, Any] = {"cp_model_presolve": False}
"""As for rooms, presolve stalled the bound of the largest parts of the synthetic year."""


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


# ---------------------------------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------------------------------


def check_practicum_problem(problem: PracticumProblem) -> None:
    """Raise ProblemError listing every malformed part of the problem; a valid problem passes silently."""
    errors: list[str] = []
    sites: dict[int, PracticumSite] = {}
    for site in problem.sites:
        if site.site_id in sites:
            errors.append(f"site {site.site_id} appears twice")
        sites[site.site_id] = site
        if site.capacity_per_day < 0 or site.travel_minutes < 0:
            errors.append(f"site {site.site_id}: capacity and travel minutes must not be negative")
    sessions: dict[int, PracticumSession] = {}
    for session in problem.sessions:
        if session.session_id in sessions:
            errors.append(f"practicum session {session.session_id} appears twice")
        sessions[session.session_id] = session
        if not 1 <= session.min_group_size <= session.max_group_size:
            errors.append(
                f"practicum session {session.session_id}: need 1 <= min_group_size <= max_group_size"
            )
        if not session.days:
            errors.append(f"practicum session {session.session_id}: no practicum days")
    learners: dict[tuple[int, int], PracticumLearner] = {}
    for learner in problem.learners:
        key = (learner.session_id, learner.learner_id)
        if key in learners:
            errors.append(
                f"learner {learner.learner_id} appears twice in practicum session {learner.session_id}"
            )
        learners[key] = learner
        if learner.session_id not in sessions:
            errors.append(f"learner {learner.learner_id}: unknown practicum session {learner.session_id}")
    for name in ("unplaced", "moved", "industry_mismatch", "travel_minutes", "group_opened"):
        if getattr(problem.weights, name) < 0:
            errors.append(f"weight {name} must not be negative")
    per_group: dict[tuple[int, int], int] = defaultdict(int)
    pinned: set[tuple[int, int]] = set()
    for pin in problem.pins:
        where = f"pin of learner {pin.learner_id} (session {pin.session_id}) to site {pin.site_id}"
        pin_learner = learners.get((pin.session_id, pin.learner_id))
        pin_site = sites.get(pin.site_id)
        pin_session = sessions.get(pin.session_id)
        if pin_learner is None or pin_site is None or pin_session is None:
            errors.append(f"{where}: unknown learner or site")
            continue
        if (pin.session_id, pin.learner_id) in pinned:
            errors.append(f"{where}: learner pinned twice")
        pinned.add((pin.session_id, pin.learner_id))
        if not site_hosts_session(pin_site, pin_session):
            errors.append(f"{where}: the site cannot host this session (campus, days or capacity)")
        if not site_allowed(pin_learner, pin_site):
            errors.append(f"{where}: own company, competitor or excluded company")
        per_group[(pin.session_id, pin.site_id)] += 1
    for (sid, site_id), count in per_group.items():
        if sid in sessions and count > sessions[sid].max_group_size:
            errors.append(
                f"pins put {count} learners of session {sid} at site {site_id}, above the group maximum"
            )
    if errors:
        raise ProblemError(errors)


# ---------------------------------------------------------------------------------------------------
# Decomposition
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Type:
    """Interchangeable learners: one session, industry, set of allowed sites and anchor (pin or previous)."""

    key: str
    session_id: int
    industry: str | None
    sites: list[int]
    members: list[int]
    pinned_site: int | None = None
    previous_site: int | None = None
    previous_count: int = 0


@dataclass
class _Part:
    campus_id: int
    session_ids: list[int]
    types: list[_Type]
    site_ids: list[int]


def _build_parts(problem: PracticumProblem) -> list[_Part]:
    """Split per campus and per set of sessions sharing a practicum day: sites are local, days are fixed."""
    sessions = {s.session_id: s for s in problem.sessions}
    sites_by_campus: dict[int, list[PracticumSite]] = defaultdict(list)
    for site in sorted(problem.sites, key=lambda s: s.site_id):
        sites_by_campus[site.campus_id].append(site)
    learners_by_session: dict[int, list[PracticumLearner]] = defaultdict(list)
    for learner in problem.learners:
        learners_by_session[learner.session_id].append(learner)
    pins = {(p.session_id, p.learner_id): p.site_id for p in problem.pins}
    previous = {(p.session_id, p.learner_id): p.site_id for p in problem.previous}
    by_campus: dict[int, list[int]] = defaultdict(list)
    for sid in sorted(learners_by_session):
        by_campus[sessions[sid].campus_id].append(sid)
    parts: list[_Part] = []
    for campus_id, sids in sorted(by_campus.items()):
        day_users: dict[date, list[int]] = defaultdict(list)
        for sid in sids:
            for day in set(sessions[sid].days):
                day_users[day].append(sid)
        pairs = [(users[0], other) for users in day_users.values() for other in users[1:]]
        for members in components(sids, pairs):
            types: dict[str, _Type] = {}
            used_sites: set[int] = set()
            site_sets: dict[tuple[int, ...], int] = {}
            for sid in members:
                session = sessions[sid]
                hosts = [s for s in sites_by_campus[campus_id] if site_hosts_session(s, session)]
                for learner in sorted(learners_by_session[sid], key=lambda x: x.learner_id):
                    allowed = [s.site_id for s in hosts if site_allowed(learner, s)]
                    pin = pins.get((sid, learner.learner_id))
                    prev = previous.get((sid, learner.learner_id)) if pin is None else None
                    prev_ok = prev if prev in allowed else None
                    anchor = f"pin{pin}" if pin is not None else f"prev{prev_ok}"
                    allowed_set = site_sets.setdefault(tuple(allowed), len(site_sets))
                    key = f"s{sid}i{learner.industry}a{allowed_set}{anchor}"
                    kind = types.get(key)
                    if kind is None:
                        kind = _Type(
                            key,
                            sid,
                            learner.industry,
                            [pin] if pin is not None else allowed,
                            [],
                            pin,
                            prev_ok,
                        )
                        types[key] = kind
                    kind.members.append(learner.learner_id)
                    if prev is not None:
                        kind.previous_count += 1
                    used_sites.update(kind.sites)
            parts.append(_Part(campus_id, members, list(types.values()), sorted(used_sites)))
    return parts


# ---------------------------------------------------------------------------------------------------
# The model of one part, one function per rule
# ---------------------------------------------------------------------------------------------------


class _PartModel:
    """Counts y[type, site] of learners sent, and a switch per session x site saying a group goes there."""

    def __init__(self, part: _Part, problem: PracticumProblem) -> None:
        from ortools.sat.python import cp_model

        self.part = part
        self.weights = problem.weights
        self.sites = {s.site_id: s for s in problem.sites}
        self.sessions = {s.session_id: s for s in problem.sessions}
        self.model = cp_model.CpModel()
        self.named: dict[str, Any] = {}
        self.y: dict[tuple[int, int], cp_model.IntVar] = {}
        self.used: dict[tuple[int, int], cp_model.IntVar] = {}
        self.size: dict[tuple[int, int], Any] = {}
        self.terms: list[Any] = []
        self.constant = 0

    def var(self, name: str, upper: int) -> cp_model.IntVar:
        variable = self.model.new_int_var(0, upper, name)
        self.named[name] = variable
        return variable

    def build(self) -> None:
        self.groups_at_sites()
        self.group_size_limits()
        self.site_capacity_per_day()
        self.unplaced_learners()
        self.industry_match_and_travel()
        self.fewer_groups()
        self.balanced_groups()
        self.minimal_change()
        self.model.minimize(sum(self.terms) + self.constant)

    def groups_at_sites(self) -> None:
        """Learners go only to sites allowed for them; each count is tied to its own session x site switch,
        which keeps the LP relaxation tight."""
        for t, kind in enumerate(self.part.types):
            session = self.sessions[kind.session_id]
            for site_id in kind.sites:
                upper = min(len(kind.members), session.max_group_size)
                count = self.var(f"sent[type={kind.key},site={site_id}]", upper)
                self.y[(t, site_id)] = count
                key = (kind.session_id, site_id)
                if key not in self.used:
                    self.used[key] = self.var(f"group[session={kind.session_id},site={site_id}]", 1)
                self.model.add(count <= upper * self.used[key])
            if kind.pinned_site is not None:
                self.model.add(self.y[(t, kind.pinned_site)] == len(kind.members))

    def group_size_limits(self) -> None:
        """A group holds between the course's minimum and maximum number of learners."""
        members: dict[tuple[int, int], list[Any]] = defaultdict(list)
        for (t, site_id), count in self.y.items():
            members[(self.part.types[t].session_id, site_id)].append(count)
        for key, counts in members.items():
            session = self.sessions[key[0]]
            size = sum(counts)
            self.size[key] = size
            self.model.add(size >= session.min_group_size * self.used[key])
            self.model.add(size <= session.max_group_size * self.used[key])

    def site_capacity_per_day(self) -> None:
        """A site hosts no more learners on a day than its capacity for that day."""
        per_day: dict[tuple[int, date], list[Any]] = defaultdict(list)
        uppers: dict[tuple[int, date], int] = defaultdict(int)
        for (sid, site_id), size in self.size.items():
            for day in set(self.sessions[sid].days):
                per_day[(site_id, day)].append(size)
                uppers[(site_id, day)] += self.sessions[sid].max_group_size
        for (site_id, day), sizes in per_day.items():
            if uppers[(site_id, day)] > self.sites[site_id].capacity_per_day:
                self.model.add(sum(sizes) <= self.sites[site_id].capacity_per_day)

    def unplaced_learners(self) -> None:
        """Every learner should get a site; each one left without is penalised heavily."""
        for t, kind in enumerate(self.part.types):
            counts = [self.y[(t, site_id)] for site_id in kind.sites]
            unplaced = self.var(f"unplaced[type={kind.key}]", len(kind.members))
            self.model.add(sum(counts) + unplaced == len(kind.members))
            self.terms.append(self.weights.unplaced * unplaced)

    def industry_match_and_travel(self) -> None:
        """Prefer a host of the learner's own industry and a short trip from the campus."""
        for (t, site_id), count in self.y.items():
            site = self.sites[site_id]
            mismatch = self.part.types[t].industry != site.industry
            cost = (
                self.weights.travel_minutes * site.travel_minutes + self.weights.industry_mismatch * mismatch
            )
            if cost:
                self.terms.append(cost * count)

    def fewer_groups(self) -> None:
        """Each group needs a host and an accompanying instructor, so each one opened costs a little."""
        for used in self.used.values():
            self.terms.append(self.weights.group_opened * used)

    def balanced_groups(self) -> None:
        """Groups of a session are balanced: each learner above the balanced size of a group is penalised."""
        totals: dict[int, int] = defaultdict(int)
        for kind in self.part.types:
            totals[kind.session_id] += len(kind.members)
        for (sid, site_id), size in self.size.items():
            session = self.sessions[sid]
            target = balanced_size(totals[sid], session)
            if target >= session.max_group_size:
                continue
            above = self.var(f"above_balanced[session={sid},site={site_id}]", session.max_group_size - target)
            self.model.add(above >= size - target)
            self.terms.append(self.weights.group_above_balanced_size * above)

    def minimal_change(self) -> None:
        """A re-solve keeps each learner at their previous site; each learner moved is penalised."""
        for t, kind in enumerate(self.part.types):
            if not kind.previous_count:
                continue
            if kind.previous_site is None:
                self.constant += self.weights.moved * kind.previous_count
            else:
                self.terms.append(
                    self.weights.moved * (kind.previous_count - self.y[(t, kind.previous_site)])
                )


# ---------------------------------------------------------------------------------------------------
# Solve
# ---------------------------------------------------------------------------------------------------


def solve_practicum(
    problem: PracticumProblem,
    *,
    time_limit: float = 30.0,
    num_workers: int = 2,
    progress: ProgressCallback | None = None,
) -> PracticumSolution:
    """Group the learners of every practicum session and give each group a site.

    Args:
        problem: sites, sessions, learners, pins and the previous plan (for a re-solve).
        time_limit: wall-clock seconds for the whole solve, shared by all parts by size.
        num_workers: CP-SAT search workers per part.
        progress: optional callback(best objective so far, elapsed seconds).

    Returns:
        The best plan found; ``status`` says whether it is proven optimal.

    Raises:
        ProblemError: if the problem is malformed (unknown ids, bad values, impossible pins).
    """
    check_practicum_problem(problem)
    deadline = Deadline(time_limit, progress)
    parts = _build_parts(problem)
    sizes = [sum(len(t.sites) for t in part.types) + 1 for part in parts]
    left = sum(sizes)
    statuses: list[SolveStatus] = []
    bound = 0.0
    sent: dict[tuple[int, int], int] = {}
    failed: dict[int, SolveStatus] = {}
    for part, size in zip(parts, sizes, strict=True):
        part_model = _PartModel(part, problem)
        part_model.build()
        hints = {
            f"sent[type={t.key},site={t.previous_site}]": len(t.members)
            for t in part.types
            if t.previous_site is not None
        }
        result = run_part(
            part_model.model,
            part_model.named,
            deadline,
            num_workers=num_workers,
            hints=hints,
            share=size / left,
            parameters=PARAMETERS,
        )
        left -= size
        statuses.append(result.status)
        if result.status in ("optimal", "feasible"):
            bound += result.bound
            sent.update(_learner_sites(part, result.values))
        else:
            failed.update({sid: result.status for sid in part.session_ids})
    placements = [PracticumPlacement(sid, learner, site) for (sid, learner), site in sorted(sent.items())]
    solution = _score(problem, placements, combine_statuses(statuses), failed)
    solution.best_bound = min(bound, solution.objective)
    solution.gap = relative_gap(solution.objective, solution.best_bound)
    solution.solve_seconds = deadline.solve_seconds
    solution.wall_seconds = deadline.elapsed()
    solution.parts = len(parts)
    return solution


def _learner_sites(part: _Part, values: dict[str, int]) -> dict[tuple[int, int], int]:
    """Hand the counts to learners: pinned and previous learners first to their own site."""
    chosen: dict[tuple[int, int], int] = {}
    for kind in part.types:
        left = {site_id: values.get(f"sent[type={kind.key},site={site_id}]", 0) for site_id in kind.sites}
        for learner in kind.members:
            wanted = kind.pinned_site if kind.pinned_site is not None else kind.previous_site
            site_id = wanted if wanted is not None and left.get(wanted, 0) > 0 else None
            if site_id is None:
                site_id = next((s for s in sorted(left) if left[s] > 0), None)
            if site_id is not None:
                left[site_id] -= 1
                chosen[(kind.session_id, learner)] = site_id
    return chosen


def _score(
    problem: PracticumProblem,
    placements: list[PracticumPlacement],
    status: SolveStatus,
    failed: dict[int, SolveStatus],
) -> PracticumSolution:
    """Count each rule on the concrete plan and explain every unplaced learner."""
    weights = problem.weights
    sites = {s.site_id: s for s in problem.sites}
    sessions = {s.session_id: s for s in problem.sessions}
    learners = {(x.session_id, x.learner_id): x for x in problem.learners}
    given = {(p.session_id, p.learner_id): p.site_id for p in placements}
    members: dict[tuple[int, int], list[int]] = defaultdict(list)
    for p in placements:
        members[(p.session_id, p.site_id)].append(p.learner_id)
    groups = [PracticumGroup(sid, site, tuple(sorted(ids))) for (sid, site), ids in sorted(members.items())]
    totals: dict[int, int] = defaultdict(int)
    for learner in problem.learners:
        totals[learner.session_id] += 1
    mismatch = sum(
        learners[(p.session_id, p.learner_id)].industry != sites[p.site_id].industry for p in placements
    )
    travel = sum(sites[p.site_id].travel_minutes for p in placements)
    above = sum(
        max(0, len(g.learner_ids) - balanced_size(totals[g.session_id], sessions[g.session_id]))
        for g in groups
    )
    moved = sum(
        1
        for p in problem.previous
        if (p.session_id, p.learner_id) in learners and given.get((p.session_id, p.learner_id)) != p.site_id
    )
    unplaced, messages = explain_unplaced(problem, placements, failed)
    breakdown = {
        "unplaced": RuleCost(len(unplaced), weights.unplaced),
        "moved": RuleCost(moved, weights.moved),
        "industry_mismatch": RuleCost(mismatch, weights.industry_mismatch),
        "travel_minutes": RuleCost(travel, weights.travel_minutes),
        "group_opened": RuleCost(len(groups), weights.group_opened),
        "group_above_balanced_size": RuleCost(above, weights.group_above_balanced_size),
    }
    return PracticumSolution(
        status=status,
        placements=placements,
        groups=groups,
        unplaced=unplaced,
        messages=messages,
        objective=sum(cost.cost for cost in breakdown.values()),
        best_bound=0.0,
        gap=0.0,
        breakdown=breakdown,
        moved=moved,
        solve_seconds=0.0,
        wall_seconds=0.0,
        parts=0,
    )


# ---------------------------------------------------------------------------------------------------
# Telling a person why
# ---------------------------------------------------------------------------------------------------


def explain_unplaced(
    problem: PracticumProblem,
    placements: list[PracticumPlacement],
    failed: dict[int, SolveStatus] | None = None,
) -> tuple[list[UnplacedLearner], list[str]]:
    """Say, in Japanese, why each learner without a site has none, and sum it up per session.

    The reasons are checked in order: no site may take them at all; the session is smaller than one
    group; on some practicum day no allowed site has room left; otherwise the group sizes do not work out.
    """
    failed = failed or {}
    sites = sorted(problem.sites, key=lambda s: s.site_id)
    sessions = {s.session_id: s for s in problem.sessions}
    given = {(p.session_id, p.learner_id): p.site_id for p in placements}
    load: dict[tuple[int, date], int] = defaultdict(int)
    group_size: dict[tuple[int, int], int] = defaultdict(int)
    for p in placements:
        group_size[(p.session_id, p.site_id)] += 1
        for day in sessions[p.session_id].days:
            load[(p.site_id, day)] += 1
    totals: dict[int, int] = defaultdict(int)
    for learner in problem.learners:
        totals[learner.session_id] += 1
    unplaced: list[UnplacedLearner] = []
    short_days: dict[tuple[int, date], int] = defaultdict(int)
    for learner in sorted(problem.learners, key=lambda x: (x.session_id, x.learner_id)):
        if (learner.session_id, learner.learner_id) in given:
            continue
        session = sessions[learner.session_id]
        sid = session.session_id
        allowed = [s for s in sites if site_hosts_session(s, session) and site_allowed(learner, s)]
        span = f"{jp_date(min(session.days))}〜{jp_date(max(session.days))}"
        if sid in failed:
            code, reason = "timed_out", "制限時間内に実習先の割当ての解が見つかりませんでした"
        elif not allowed:
            code = "no_site"
            reason = f"自社・競合先・受入れを断られた会社を除くと、実習日（{span}）に受け入れ可能な実習先がありません"
        elif totals[sid] < session.min_group_size:
            code = "too_few_learners"
            reason = f"研修{sid}の実習受講者が{totals[sid]}名で、最小グループ人数{session.min_group_size}名に満たない"
        else:
            tight = []
            for day in sorted(set(session.days)):
                room = False
                for site in allowed:
                    free = site.capacity_per_day - load[(site.site_id, day)]
                    size = group_size[(sid, site.site_id)]
                    need = 1 if size else session.min_group_size
                    room = room or (free >= need and size < session.max_group_size)
                if not room:
                    tight.append(day)
                    short_days[(sid, day)] += 1
            if tight:
                code = "capacity"
                reason = (
                    "、".join(jp_date(d) for d in tight[:5]) + "、条件に合う実習先の受入枠に空きがありません"
                )
            else:
                code = "group_size"
                reason = f"グループ人数（{session.min_group_size}〜{session.max_group_size}名）と受入枠を両立する組み方がありません"
        unplaced.append(UnplacedLearner(sid, learner.learner_id, code, reason))
    messages: list[str] = []
    per_session: dict[tuple[int, str], list[UnplacedLearner]] = defaultdict(list)
    for item in unplaced:
        per_session[(item.session_id, item.reason)].append(item)
    for (sid, reason), items in sorted(per_session.items()):
        messages.append(f"研修{sid}：{len(items)}名の実習先が未定（{reason}）")
    for (sid, day), count in sorted(short_days.items()):
        messages.append(f"{jp_date(day)}、研修{sid}の実習先の受入枠が{count}名分不足")
    return unplaced, messages

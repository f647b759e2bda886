"""Dormitory rooms: give every lodging learner one room for each block of their session.

The model follows the trial in SOLVER_NOTES: learners of one session block with the same gender and
access need are interchangeable, and so are rooms of one floor, type, zone, accessibility and outage
pattern. CP-SAT decides integer counts per learner group x room pool, one part per campus and set of
sessions whose stays overlap; a first-fit pass then gives real room numbers. Each stay is a fixed
interval, so counts that fit every night always admit an assignment.

Keeping one room across the blocks of a long course is not an interval (two stays with a gap, whose
room may serve others in between), and counts that merely allow it can promise what no room numbering
reaches. So keeping is modelled as intervals too: a learner who keeps a room holds it from the first
night of one block to the last night of the next, and during the gap the held rooms may be lent to
learners of one-block sessions whose whole stay falls in that gap. Every count solution is then realised
by first fit at exactly the cost the model counts, and ``optimal`` is a statement about real plans (see
``solve_rooms``). The model is elastic: a learner left without a room costs ``weights.unhoused`` and is
explained in Japanese.

A re-solve after late changes keeps the previous plan wherever it is still allowed and weighs it, part by
part, against the counts' optimum given room numbers that favour each learner's previous room; the
cheaper plan, counted on the rooms, is kept (``solve_rooms``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from scheduler.solvekit import (
    Deadline,
    ProblemError,
    ProgressCallback,
    RuleCost,
    SolveStatus,
    combine_statuses,
    components,
    overlapping_pairs,
    relative_gap,
    run_part,
)

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

GENDERS = ("female", "male", None)
ZONES = ("women", "men", "any")
ROOM_KINDS = ("single", "twin")
SME_AUDIENCE = "sme"
REFIT_SECONDS = 1.0
EXACT_CELLS = 4000
"""Parts with at most this many learner blocks x rooms get an exact room-level model when the counts' plan
is not proven optimal (small rooms problems, re-solves of a few sessions)."""

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


# ---------------------------------------------------------------------------------------------------
# Rules that decide which rooms a learner may use at all (hard)
# ---------------------------------------------------------------------------------------------------


def room_fits(gender: str | None, needs_accessible: bool, room: DormRoom) -> bool:
    """A learner may sleep only in their gender's zone or an "any" zone, in an accessible room if they need
    one, and, if their gender is unknown, only in a single room of an "any" zone."""
    if needs_accessible and not room.accessible:
        return False
    if gender is None:
        return room.zone == "any" and room.kind == "single"
    if gender == "female":
        return room.zone in ("women", "any")
    return room.zone in ("men", "any")


def category_of(gender: str | None, needs_accessible: bool) -> str:
    """The shortage category a learner is counted in when explaining why they were not housed."""
    if needs_accessible:
        return "accessible"
    if gender is None:
        return "unknown_gender"
    return "women" if gender == "female" else "men"


def jp_date(day: date) -> str:
    return f"{day.month}月{day.day}日"


# ---------------------------------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------------------------------


def check_rooms_problem(problem: RoomsProblem) -> None:
    """Raise ProblemError listing every malformed part of the problem; a valid problem passes silently."""
    errors: list[str] = []
    rooms: dict[int, DormRoom] = {}
    for room in problem.rooms:
        if room.room_id in rooms:
            errors.append(f"room {room.room_id} appears twice")
        rooms[room.room_id] = room
        if room.kind not in ROOM_KINDS:
            errors.append(f"room {room.room_id}: kind must be single or twin, not {room.kind!r}")
        if room.zone not in ZONES:
            errors.append(f"room {room.room_id}: zone must be women, men or any, not {room.zone!r}")
    sessions: dict[int, LodgingSession] = {}
    for session in problem.sessions:
        if session.session_id in sessions:
            errors.append(f"session {session.session_id} appears twice")
        sessions[session.session_id] = session
        spans = sorted((b.first_day, b.last_day) for b in session.blocks)
        for first, last in spans:
            if last < first:
                errors.append(
                    f"session {session.session_id}: a block ends ({last}) before it starts ({first})"
                )
        for (_, last), (first, _) in pairwise(spans):
            if first < last:
                errors.append(f"session {session.session_id}: its blocks overlap")
    seen: set[tuple[int, int]] = set()
    lodgers: dict[tuple[int, int], Lodger] = {}
    for lodger in problem.lodgers:
        key = (lodger.session_id, lodger.learner_id)
        if key in seen:
            errors.append(f"learner {lodger.learner_id} lodges twice in session {lodger.session_id}")
        seen.add(key)
        lodgers[key] = lodger
        if lodger.session_id not in sessions:
            errors.append(f"learner {lodger.learner_id}: unknown session {lodger.session_id}")
        if lodger.gender not in GENDERS:
            errors.append(
                f"learner {lodger.learner_id}: gender must be female, male or null, not {lodger.gender!r}"
            )
    for outage in problem.outages:
        if outage.room_id not in rooms:
            errors.append(f"outage of unknown room {outage.room_id}")
        if outage.last_night < outage.first_night:
            errors.append(f"outage of room {outage.room_id} ends before it starts")
    for name in ("unhoused", "moved", "room_change", "sme_in_twin"):
        if getattr(problem.weights, name) < 0:
            errors.append(f"weight {name} must not be negative")
    errors.extend(_check_pins(problem, rooms, sessions, lodgers))
    if errors:
        raise ProblemError(errors)


def _check_pins(
    problem: RoomsProblem,
    rooms: dict[int, DormRoom],
    sessions: dict[int, LodgingSession],
    lodgers: dict[tuple[int, int], Lodger],
) -> list[str]:
    """Pins are hard, so a pin that breaks a hard rule is an input error rather than an infeasible model."""
    errors: list[str] = []
    out_nights = _out_nights(problem)
    pinned: set[tuple[int, int, int]] = set()
    beds: dict[tuple[int, int], list[tuple[int, str | None]]] = defaultdict(list)
    for pin in problem.pins:
        where = f"pin of learner {pin.learner_id} (session {pin.session_id}, block {pin.block})"
        lodger = lodgers.get((pin.session_id, pin.learner_id))
        room = rooms.get(pin.room_id)
        session = sessions.get(pin.session_id)
        if lodger is None or room is None or session is None:
            errors.append(f"{where}: unknown lodger or room {pin.room_id}")
            continue
        if not 0 <= pin.block < len(session.blocks):
            errors.append(f"{where}: the session has no such block")
            continue
        if not session.blocks[pin.block].nights():
            errors.append(f"{where}: the block has no night to sleep in")
            continue
        if (pin.session_id, pin.learner_id, pin.block) in pinned:
            errors.append(f"{where}: pinned twice")
        pinned.add((pin.session_id, pin.learner_id, pin.block))
        if room.campus_id != session.campus_id:
            errors.append(f"{where}: room {room.label} is on another campus")
        if not room_fits(lodger.gender, lodger.needs_accessible, room):
            errors.append(
                f"{where}: room {room.label} does not suit this learner (zone, type or accessibility)"
            )
        nights = [n.toordinal() for n in session.blocks[pin.block].nights()]
        if any(n in out_nights.get(room.room_id, set()) for n in nights):
            errors.append(f"{where}: room {room.label} is out of service during the block")
        for night in nights:
            beds[(room.room_id, night)].append((pin.session_id, lodger.gender))
    for (room_id, night), users in sorted(beds.items()):
        room = rooms[room_id]
        if len(users) > room.beds or (len(users) == 2 and users[0] != users[1]):
            errors.append(f"pins overbook room {room.label} on {date.fromordinal(night)}")
    return errors


def _out_nights(problem: RoomsProblem) -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    for outage in problem.outages:
        out[outage.room_id].update(range(outage.first_night.toordinal(), outage.last_night.toordinal() + 1))
    return out


# ---------------------------------------------------------------------------------------------------
# Decomposition into parts
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Group:
    """Interchangeable learners: same session block, gender, access need and anchor (pin or previous pool)."""

    key: str
    session_id: int
    block: int
    gender: str | None
    needs_accessible: bool
    sme: bool
    start: int
    end: int  # exclusive: nights are start .. end-1
    members: list[int]
    pinned_pool: int | None = None
    previous_pool: int | None = None
    previous_rooms: dict[int, int] = field(default_factory=dict)
    pinned_rooms: dict[int, int] = field(default_factory=dict)
    previous_moves_anyway: int = 0
    previous_hold: str | None = None  # the hold whose room the members borrowed in the previous plan

    @property
    def share_class(self) -> tuple[int, int, str | None]:
        return (self.session_id, self.block, self.gender)


@dataclass
class _Pool:
    """Interchangeable rooms of one campus within one part."""

    index: int
    rooms: list[DormRoom]
    out: frozenset[int]

    @property
    def sample(self) -> DormRoom:
        return self.rooms[0]

    @property
    def twin(self) -> bool:
        return self.sample.kind == "twin"


@dataclass
class _Part:
    campus_id: int
    session_ids: list[int]
    groups: list[_Group]
    pools: list[_Pool]


def _stay_span(block: StayBlock) -> tuple[int, int]:
    start = block.first_day.toordinal()
    return start, max(start, block.last_day.toordinal())


def _build_parts(problem: RoomsProblem) -> list[_Part]:
    """Split the year per campus and per set of sessions whose stays overlap: nothing is lost by it."""
    sessions = {s.session_id: s for s in problem.sessions}
    lodging = sorted({lodger.session_id for lodger in problem.lodgers})
    by_campus: dict[int, list[int]] = defaultdict(list)
    for sid in lodging:
        by_campus[sessions[sid].campus_id].append(sid)
    parts: list[_Part] = []
    rooms_by_campus: dict[int, list[DormRoom]] = defaultdict(list)
    for room in problem.rooms:
        rooms_by_campus[room.campus_id].append(room)
    out_nights = _out_nights(problem)
    pins = {(p.session_id, p.learner_id, p.block): p.room_id for p in problem.pins}
    previous = {(p.session_id, p.learner_id, p.block): p.room_id for p in problem.previous}
    lodgers_by_session: dict[int, list[Lodger]] = defaultdict(list)
    for lodger in problem.lodgers:
        lodgers_by_session[lodger.session_id].append(lodger)
    for campus_id, sids in sorted(by_campus.items()):
        spans = {sid: [_stay_span(b) for b in sessions[sid].blocks] for sid in sids}
        for members in components(sids, overlapping_pairs(spans)):
            nights: set[int] = set()
            for sid in members:
                for start, end in spans[sid]:
                    nights.update(range(start, end))
            if not nights:
                continue
            pinned_rooms = {room_id for (sid, _, _), room_id in pins.items() if sid in members}
            pools = _pools(rooms_by_campus[campus_id], pinned_rooms, out_nights, nights)
            pool_of = {room.room_id: pool.index for pool in pools for room in pool.rooms}
            groups = _groups(members, sessions, lodgers_by_session, pins, previous, pool_of)
            parts.append(_Part(campus_id, members, groups, pools))
    return parts


def _pools(
    rooms: list[DormRoom], pinned: set[int], out_nights: dict[int, set[int]], nights: set[int]
) -> list[_Pool]:
    """Rooms alike in floor, type, zone, access and outages within the part form a pool; pinned rooms stand alone."""
    buckets: dict[tuple[Any, ...], list[DormRoom]] = defaultdict(list)
    for room in sorted(rooms, key=lambda r: r.room_id):
        out = frozenset(out_nights.get(room.room_id, set()) & nights)
        alone = room.room_id if room.room_id in pinned else None
        key = (room.kind, room.zone, room.accessible, tuple(sorted(out)), alone)
        buckets[key].append(room)
    return [
        _Pool(i, members, frozenset(key[3]))
        for i, (key, members) in enumerate(sorted(buckets.items(), key=lambda kv: kv[1][0].room_id))
    ]


def _groups(
    members: list[int],
    sessions: dict[int, LodgingSession],
    lodgers_by_session: dict[int, list[Lodger]],
    pins: dict[tuple[int, int, int], int],
    previous: dict[tuple[int, int, int], int],
    pool_of: dict[int, int],
) -> list[_Group]:
    groups: dict[str, _Group] = {}
    borrowed = _previous_holds(members, sessions, lodgers_by_session, previous, pool_of)
    for sid in members:
        session = sessions[sid]
        for b, block in enumerate(session.blocks):
            start, end = _stay_span(block)
            if end <= start:
                continue
            for lodger in sorted(lodgers_by_session[sid], key=lambda x: x.learner_id):
                at = (sid, lodger.learner_id, b)
                pin = pins.get(at)
                prev = previous.get(at)
                pinned_pool = pool_of[pin] if pin is not None else None
                prev_pool = pool_of.get(prev) if prev is not None and pin is None else None
                anchor = f"pin{pinned_pool}" if pinned_pool is not None else f"prev{prev_pool}"
                hold = borrowed.get(at) if pin is None else None
                if hold is not None:
                    anchor += f"lent{hold[1]}"
                key = f"s{sid}b{b}g{lodger.gender}a{int(lodger.needs_accessible)}{anchor}"
                group = groups.get(key)
                if group is None:
                    group = _Group(
                        key,
                        sid,
                        b,
                        lodger.gender,
                        lodger.needs_accessible,
                        session.audience == SME_AUDIENCE,
                        start,
                        end,
                        [],
                        pinned_pool,
                        prev_pool,
                    )
                    group.previous_hold = hold[0] if hold is not None else None
                    groups[key] = group
                group.members.append(lodger.learner_id)
                if pin is not None:
                    group.pinned_rooms[lodger.learner_id] = pin
                    group.previous_moves_anyway += prev is not None and prev != pin
                elif prev is not None:
                    group.previous_rooms[lodger.learner_id] = prev
    return list(groups.values())


def _previous_holds(
    members: list[int],
    sessions: dict[int, LodgingSession],
    lodgers_by_session: dict[int, list[Lodger]],
    previous: dict[tuple[int, int, int], int],
    pool_of: dict[int, int],
) -> dict[tuple[int, int, int], tuple[str, str]]:
    """On a re-solve: learners of one-block sessions who slept, in the previous plan, in a room that a
    long-course learner kept across the blocks around their stay; by the name of that hold in the model
    (``kept_room[...]``) and a short tag for group keys."""
    windows: dict[int, list[tuple[int, int, str, str]]] = defaultdict(list)
    single: list[int] = []
    for sid in members:
        spans = [_stay_span(b) for b in sessions[sid].blocks]
        if len(spans) == 1:
            single.append(sid)
            continue
        for lodger in lodgers_by_session[sid]:
            for b in range(len(spans) - 1):
                room = previous.get((sid, lodger.learner_id, b))
                if room in pool_of and previous.get((sid, lodger.learner_id, b + 1)) == room:
                    name = (
                        f"kept_room[session={sid},gender={lodger.gender},"
                        f"access={int(lodger.needs_accessible)},block={b},pool={pool_of[room]}]"
                    )
                    tag = f"{sid}.{lodger.gender}.{int(lodger.needs_accessible)}.{b}"
                    windows[room].append((spans[b][1], spans[b + 1][0], name, tag))
    found: dict[tuple[int, int, int], tuple[str, str]] = {}
    for sid in single:
        start, end = _stay_span(sessions[sid].blocks[0])
        for lodger in lodgers_by_session[sid]:
            key = (sid, lodger.learner_id, 0)
            for first, stop, name, tag in windows.get(previous.get(key, -1), ()):
                if first <= start and end <= stop:
                    found[key] = (name, tag)
    return found


# ---------------------------------------------------------------------------------------------------
# The model of one part, one function per rule
# ---------------------------------------------------------------------------------------------------


class _PartModel:
    """Integer counts x[group, pool] and twin room counts r[class, pool] for one part."""

    def __init__(self, part: _Part, weights: RoomWeights, *, relaxed: bool = False) -> None:
        from ortools.sat.python import cp_model

        self.relaxed = relaxed
        self.part = part
        self.weights = weights
        self.model = cp_model.CpModel()
        self.named: dict[str, Any] = {}
        self.upper: dict[str, int] = {}
        self.x: dict[tuple[int, int], cp_model.IntVar] = {}
        self.r: dict[tuple[tuple[int, int, str | None], int], cp_model.IntVar] = {}
        self.terms: list[Any] = []
        self.constant = 0
        # (pool, (first night, end), count): rooms held between two blocks by learners who keep them
        self.holds: list[tuple[int, tuple[int, int], cp_model.IntVar]] = []
        # learners of group g in pool p who sleep, between two blocks, in rooms held by others
        self.lent: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
        self.lent_names: list[tuple[int, int, str, str]] = []  # group, pool, hold, lent count

    def var(self, name: str, upper: int) -> cp_model.IntVar:
        variable = self.model.new_int_var(0, upper, name)
        self.named[name] = variable
        self.upper[name] = upper
        return variable

    def build(self) -> None:
        self.allowed_pools()
        if self.relaxed:
            self.room_changes_at_least()
        else:
            self.same_room_across_blocks()
            self.held_rooms_lent_between_blocks()
        self.room_capacity_per_night()
        self.twin_sharing()
        self.unhoused_learners()
        self.sme_single_rooms_first()
        self.minimal_change()
        self.model.minimize(sum(self.terms) + self.constant)

    def allowed_pools(self) -> None:
        """A group may use a pool only if its rooms suit the learners and are in service on all their nights;
        a pinned group stays in its pinned pool."""
        for g, group in enumerate(self.part.groups):
            for pool in self.part.pools:
                if group.pinned_pool is not None and pool.index != group.pinned_pool:
                    continue
                if not room_fits(group.gender, group.needs_accessible, pool.sample):
                    continue
                if any(group.start <= night < group.end for night in pool.out):
                    continue
                count = self.var(f"housed[group={group.key},pool={pool.index}]", len(group.members))
                self.x[(g, pool.index)] = count
            if group.pinned_pool is not None:
                pinned = self.x[(g, group.pinned_pool)]
                self.model.add(pinned == len(group.members))

    def room_capacity_per_night(self) -> None:
        """No pool holds more stays on a night than it has rooms (single) or rooms in use (twin); a
        single room kept across blocks counts on the nights between them too.

        Checking the first night of every stay suffices: stays are intervals, so the busiest night of
        any set of them is the first night of one of them.
        """
        for pool in self.part.pools:
            size = len(pool.rooms)
            users = [(g, self.part.groups[g]) for (g, p) in self.x if p == pool.index]
            spans: list[tuple[tuple[int, int], Any, int]]  # (stay, rooms it takes, at most)
            if pool.twin:
                classes: dict[tuple[int, int, str | None], tuple[int, int]] = {}
                for _, group in users:
                    classes[group.share_class] = (group.start, group.end)
                spans = [(span, self.r_var(cls, pool), size) for cls, span in classes.items()]
            else:
                # a learner lent a held room sleeps in a room the hold already counts
                spans = [
                    (
                        (group.start, group.end),
                        self.x[(g, pool.index)] - sum(self.lent[(g, pool.index)]),
                        len(group.members),
                    )
                    for g, group in users
                ]
                spans += [
                    (gap, held, self.upper[held.name]) for p, gap, held in self.holds if p == pool.index
                ]
            for night in sorted({span[0] for span, _, _ in spans}):
                active = [(count, most) for (start, end), count, most in spans if start <= night < end]
                if sum(most for _, most in active) > size:
                    self.model.add(sum(count for count, _ in active) <= size)

    def r_var(self, cls: tuple[int, int, str | None], pool: _Pool) -> cp_model.IntVar:
        key = (cls, pool.index)
        if key not in self.r:
            sid, block, gender = cls
            name = f"twin_rooms[session={sid},block={block},gender={gender},pool={pool.index}]"
            self.r[key] = self.var(name, len(pool.rooms))
        return self.r[key]

    def twin_sharing(self) -> None:
        """A twin room holds two learners at most, and only two of the same session block and gender."""
        members: dict[tuple[tuple[int, int, str | None], int], list[Any]] = defaultdict(list)
        for (g, p), count in self.x.items():
            if self.part.pools[p].twin:
                members[(self.part.groups[g].share_class, p)].append(count)
        for (cls, p), counts in members.items():
            self.model.add(sum(counts) <= 2 * self.r_var(cls, self.part.pools[p]))
            self.model.add(self.r_var(cls, self.part.pools[p]) <= sum(counts))

    def unhoused_learners(self) -> None:
        """Every lodging learner should get a room; each one left without is penalised heavily."""
        for g, group in enumerate(self.part.groups):
            counts = [count for (gg, _), count in self.x.items() if gg == g]
            unhoused = self.var(f"unhoused[group={group.key}]", len(group.members))
            self.model.add(sum(counts) + unhoused == len(group.members))
            self.terms.append(self.weights.unhoused * unhoused)

    def sme_single_rooms_first(self) -> None:
        """Executives and managers (audience "sme") get single rooms before twins are used."""
        for (g, p), count in self.x.items():
            if self.part.groups[g].sme and self.part.pools[p].twin:
                self.terms.append(self.weights.sme_in_twin * count)

    def same_room_across_blocks(self) -> None:
        """A learner of a long course keeps one room across its blocks; each change is penalised.

        Counts cannot see rooms, so keeping is modelled as an interval: ``kept_room`` learners of a
        session, gender and access need hold one single room of the pool from their block's first night
        to the last night of their next block, the nights between included (the hold is counted in
        ``room_capacity_per_night``). Intervals that fit every night always get room numbers by the
        first-fit pass, so the count of changes here is the count the concrete plan pays. Between the
        blocks a held room may be lent (``held_rooms_lent_between_blocks``). Twin rooms and pinned rooms
        get no hold: a learner there pays a change (the first-fit pass may still keep them in one room,
        which only lowers the cost). See ``solve_rooms`` for what optimal means.
        """
        totals: dict[tuple[int, str | None, bool, int], dict[int, list[Any]]] = defaultdict(
            lambda: defaultdict(list)
        )
        sizes: dict[tuple[int, str | None, bool, int], int] = defaultdict(int)
        spans: dict[tuple[int, int], tuple[int, int]] = {}
        for g, group in enumerate(self.part.groups):
            key = (group.session_id, group.gender, group.needs_accessible, group.block)
            sizes[key] += len(group.members)
            spans[(group.session_id, group.block)] = (group.start, group.end)
            for (gg, p), count in self.x.items():
                if gg == g:
                    totals[key][p].append(count)
        pinned = {group.pinned_pool for group in self.part.groups if group.pinned_pool is not None}
        for (sid, gender, access, block), pools in totals.items():
            following = (sid, gender, access, block + 1)
            if following not in totals:
                continue
            gap = (spans[(sid, block)][1], spans[(sid, block + 1)][0])
            kept = []
            for p in sorted(set(pools) & set(totals[following])):
                pool = self.part.pools[p]
                if pool.twin or p in pinned:
                    continue
                upper = min(sizes[(sid, gender, access, block)], sizes[following])
                name = f"kept_room[session={sid},gender={gender},access={int(access)},block={block},pool={p}]"
                keep = self.var(name, upper)
                self.model.add(keep <= sum(pools[p]))
                self.model.add(keep <= sum(totals[following][p]))
                if gap[0] < gap[1]:
                    self.holds.append((p, gap, keep))
                kept.append(keep)
            pairs = min(sizes[(sid, gender, access, block)], sizes[following])
            changes = self.var(f"room_changes[session={sid},gender={gender},block={block}]", pairs)
            self.model.add(changes + sum(kept) == pairs)
            self.terms.append(self.weights.room_change * changes)

    def room_changes_at_least(self) -> None:
        """Relaxed (for a bound): a learner housed in two consecutive blocks changes room unless both stays
        are in one pool, so changes >= (housed in both) - (kept in a pool) for each pair of blocks.

        Every valid plan satisfies this (room keeping needs no hold here), so the relaxed optimum is a lower
        bound on the cost of every valid plan of the part; the unhoused, executive and moved terms are exact.
        """
        counts: dict[tuple[int, str | None, bool], dict[int, dict[int, list[Any]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(list))
        )
        sizes: dict[tuple[int, str | None, bool, int], int] = defaultdict(int)
        for g, group in enumerate(self.part.groups):
            kind = (group.session_id, group.gender, group.needs_accessible)
            sizes[(*kind, group.block)] += len(group.members)
            counts[kind][group.block]  # a block with nobody housed still counts
            for (gg, p), count in self.x.items():
                if gg == g:
                    counts[kind][group.block][p].append(count)
        for kind, blocks in counts.items():
            order = sorted(blocks)
            for block, following in pairwise(order):
                size = sizes[(*kind, block)]
                here, there = blocks[block], blocks[following]
                kept = []
                for p in sorted(set(here) & set(there)):
                    keep = self.var(
                        f"same_pool[session={kind[0]},gender={kind[1]},access={int(kind[2])},block={block},pool={p}]",
                        size,
                    )
                    self.model.add(keep <= sum(here[p]))
                    self.model.add(keep <= sum(there[p]))
                    kept.append(keep)
                housed = sum(sum(c) for c in here.values()) + sum(sum(c) for c in there.values())
                name = f"room_changes[session={kind[0]},gender={kind[1]},access={int(kind[2])},block={block}]"
                changes = self.var(name, size)
                self.model.add(changes >= housed - size - sum(kept))
                self.terms.append(self.weights.room_change * changes)

    def held_rooms_lent_between_blocks(self) -> None:
        """A room held between two blocks may be lent to learners of one-block sessions whose whole stay
        falls between those blocks, at most one learner per held room on a night.

        All rooms of one hold share the same nights between the blocks, so counts that fit every night
        always admit room numbers there (interval colouring again). Learners of long courses are not lent
        held rooms (they may keep rooms of their own)."""
        long_courses = {group.session_id for group in self.part.groups if group.block > 0}
        for p, (first, end), held in self.holds:
            lent = []
            for g, group in enumerate(self.part.groups):
                count = self.x.get((g, p))
                if count is None or group.session_id in long_courses:
                    continue
                if first <= group.start and group.end <= end:
                    name = f"lent[group={group.key},hold={held.name}]"
                    borrowed = self.var(name, min(len(group.members), self.upper[held.name]))
                    self.lent[(g, p)].append(borrowed)
                    self.lent_names.append((g, p, held.name, name))
                    lent.append(((group.start, group.end), borrowed))
            for night in sorted({span[0] for span, _ in lent}):
                active = [count for (start, stop), count in lent if start <= night < stop]
                self.model.add(sum(active) <= held)
        for (g, p), counts in self.lent.items():
            self.model.add(sum(counts) <= self.x[(g, p)])

    def minimal_change(self) -> None:
        """A re-solve keeps each learner in their previous room; each learner moved is penalised."""
        for g, group in enumerate(self.part.groups):
            self.constant += self.weights.moved * group.previous_moves_anyway
            if not group.previous_rooms:
                continue
            stays = self.x.get((g, group.previous_pool)) if group.previous_pool is not None else None
            if group.previous_hold is not None:
                # they had a room held by a long-course learner: they keep it only if lent it again
                stays = self.named.get(f"lent[group={group.key},hold={group.previous_hold}]", stays)
            moved = len(group.previous_rooms)
            if stays is None:
                self.constant += self.weights.moved * moved
            else:
                self.terms.append(self.weights.moved * (moved - stays))


# ---------------------------------------------------------------------------------------------------
# From counts to room numbers
# ---------------------------------------------------------------------------------------------------


def _learner_pools(part: _Part, values: dict[str, int]) -> dict[tuple[int, int, int], int]:
    """Decide which learners of each group take which pool, keeping pins, previous pools and earlier blocks."""
    chosen: dict[tuple[int, int, int], int] = {}
    order = sorted(range(len(part.groups)), key=lambda g: (part.groups[g].block, part.groups[g].key))
    for g in order:
        group = part.groups[g]
        left = {
            pool.index: values.get(f"housed[group={group.key},pool={pool.index}]", 0) for pool in part.pools
        }
        waiting: list[int] = []
        for learner in group.members:
            wanted = group.pinned_pool if group.pinned_pool is not None else group.previous_pool
            if wanted is None:
                wanted = chosen.get((group.session_id, learner, group.block - 1))
            if wanted is not None and left.get(wanted, 0) > 0:
                left[wanted] -= 1
                chosen[(group.session_id, learner, group.block)] = wanted
            else:
                waiting.append(learner)
        for learner in waiting:
            earlier = chosen.get((group.session_id, learner, group.block - 1))
            for p in ([earlier] if earlier is not None else []) + sorted(left):
                if left.get(p, 0) > 0:
                    left[p] -= 1
                    chosen[(group.session_id, learner, group.block)] = p
                    break
    return chosen


def _keepers(
    part: _Part, chosen: dict[tuple[int, int, int], int], values: dict[str, int]
) -> dict[tuple[int, int, int], str]:
    """The learners who keep their room from a block into the next, as many per session, gender, access
    need and pool as the model's ``kept_room`` counts: (session, learner, block) keeps block -> block + 1,
    by the name of the hold it belongs to."""
    kept: dict[tuple[int, int, int], str] = {}
    for group in sorted(part.groups, key=lambda g: (g.block, g.key)):
        for learner in group.members:
            here = (group.session_id, learner, group.block)
            pool = chosen.get(here)
            if pool is None or chosen.get((group.session_id, learner, group.block + 1)) != pool:
                continue
            name = (
                f"kept_room[session={group.session_id},gender={group.gender},"
                f"access={int(group.needs_accessible)},block={group.block},pool={pool}]"
            )
            if values.get(name, 0) > 0:
                values[name] -= 1
                kept[here] = name
    return kept


def _lent_learners(
    part: _Part,
    chosen: dict[tuple[int, int, int], int],
    values: dict[str, int],
    lent_names: list[tuple[int, int, str, str]],
    kept: dict[tuple[int, int, int], str],
    previous: dict[tuple[int, int, int], int],
) -> dict[tuple[int, int, int], str]:
    """The learners who sleep in rooms held by others between two blocks, as many as the model's ``lent``
    counts: (session, learner, block) by the name of the hold whose rooms they borrow. On a re-solve,
    learners who slept in a room its keepers had before come first (they may get it back)."""
    held_before: dict[str, set[int]] = defaultdict(set)
    for key, hold in kept.items():
        if key in previous:
            held_before[hold].add(previous[key])
    lent: dict[tuple[int, int, int], str] = {}
    # A group lent rooms by the hold it borrowed from in the previous plan takes those first.
    ordered = sorted(lent_names, key=lambda item: part.groups[item[0]].previous_hold != item[2])
    for g, p, hold, name in ordered:
        group = part.groups[g]
        wanted = values.get(name, 0)
        keys = [(group.session_id, learner, group.block) for learner in group.members]
        keys.sort(key=lambda k: previous.get(k) not in held_before[hold])
        for key in keys:
            if wanted <= 0:
                break
            if chosen.get(key) == p and key not in lent:
                lent[key] = hold
                wanted -= 1
    return lent


def _first_fit(
    part: _Part,
    chosen: dict[tuple[int, int, int], int],
    problem_previous: dict[tuple[int, int, int], int],
    weights: RoomWeights = RoomWeights(),
    deadline: Deadline | None = None,
    num_workers: int = 2,
    kept: dict[tuple[int, int, int], str] | None = None,
    lent: dict[tuple[int, int, int], str] | None = None,
) -> dict[tuple[int, int, int], int]:
    """Give real rooms pool by pool, stays in order of their first night, preferring the room a learner is
    pinned to, had before, or had in the previous block.

    A learner in ``kept`` holds one room from that block to the end of the next: one interval, so the pass
    gives it one room whenever the counts fit. A learner in ``lent`` then gets one of the rooms held by
    that hold, which are all free on the nights between its blocks (interval colouring once more).
    """
    kept = kept or {}
    lent = lent or {}
    groups = {(g.session_id, g.block, m): g for g in part.groups for m in g.members}
    rooms_of: dict[tuple[int, int, int], int] = {}
    for pool in part.pools:
        # A unit is what one room takes: one learner, or up to two of one class in a twin.
        units: list[tuple[int, int, list[tuple[int, int, int]]]] = []
        stays = sorted(key for key, p in chosen.items() if p == pool.index and key not in lent)
        if pool.twin:
            by_class: dict[tuple[int, int, str | None], list[tuple[int, int, int]]] = defaultdict(list)
            for key in stays:
                by_class[groups[(key[0], key[2], key[1])].share_class].append(key)
            for keys in by_class.values():
                group = groups[(keys[0][0], keys[0][2], keys[0][1])]
                for pair in _twin_pairs(pool, keys, groups, problem_previous):
                    units.append((group.start, group.end, pair))
        else:
            for key in stays:
                if (key[0], key[1], key[2] - 1) in kept:
                    continue  # part of the unit of the learner's earlier block
                chain, last = [key], key
                while last in kept:
                    last = (last[0], last[1], last[2] + 1)
                    chain.append(last)
                first_group, last_group = groups[(key[0], key[2], key[1])], groups[(key[0], last[2], key[1])]
                units.append((first_group.start, last_group.end, chain))
        # Greedy passes, the best kept; an exact re-fit only if all add cost the counts did not foresee.
        misses = partial(_misses, pool, units, previous=problem_previous, weights=weights)
        fitted = _fit_pool(pool, units, groups, problem_previous, rooms_of)
        if misses(fitted):
            again = _fit_pool_previous_first(pool, units, groups, problem_previous, rooms_of)
            if again is not None and misses(again) < misses(fitted):
                fitted = again
        by_priority = sorted(units, key=lambda u: (not any(_pinned(groups, k) for k in u[2]), u[0], u[2]))
        for chains_first in (True, False):
            if not misses(fitted):
                break
            other = _fit_pool_chains_first(
                pool, by_priority, groups, problem_previous, rooms_of, chains_first=chains_first
            )
            if other is not None and misses(other) < misses(fitted):
                fitted = other
        if misses(fitted) and deadline is not None:
            fitted = _refit_pool(pool, units, fitted, problem_previous, weights, deadline, num_workers)
        rooms_of.update(fitted)
        rooms_of.update(_fit_lent(pool, chosen, kept, lent, fitted, groups, problem_previous))
    return rooms_of


def _twin_pairs(
    pool: _Pool,
    keys: list[tuple[int, int, int]],
    groups: dict[tuple[int, int, int], _Group],
    previous: dict[tuple[int, int, int], int],
) -> list[list[tuple[int, int, int]]]:
    """Split one class's learners in a twin pool into room-mates: those pinned to, or previously in, one
    room of the pool stay together, newcomers fill half-empty rooms, and no more rooms are used than
    half the learners rounded up (what the counts allow)."""
    in_pool = {room.room_id for room in pool.rooms}
    anchored: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    loose: list[tuple[int, int, int]] = []
    for key in sorted(keys):
        group = groups[(key[0], key[2], key[1])]
        anchor = group.pinned_rooms.get(key[1], previous.get(key))
        if anchor in in_pool and len(anchored[anchor]) < 2:
            anchored[anchor].append(key)
        else:
            loose.append(key)
    pairs = [anchored[room_id] for room_id in sorted(anchored)]
    for pair in pairs:
        if len(pair) == 1 and loose:
            pair.append(loose.pop(0))
    pairs += [loose[i : i + 2] for i in range(0, len(loose), 2)]
    singles = [pair for pair in pairs if len(pair) == 1]
    while len(pairs) > (len(keys) + 1) // 2 and len(singles) >= 2:
        first, second = singles.pop(), singles.pop()
        first.extend(second)
        pairs.remove(second)
    return pairs


def _fit_lent(
    pool: _Pool,
    chosen: dict[tuple[int, int, int], int],
    kept: dict[tuple[int, int, int], str],
    lent: dict[tuple[int, int, int], str],
    fitted: dict[tuple[int, int, int], int],
    groups: dict[tuple[int, int, int], _Group],
    previous: dict[tuple[int, int, int], int],
) -> dict[tuple[int, int, int], int]:
    """Room numbers for the learners lent held rooms: per hold, in order of first night, a held room free
    that night (all held rooms are free on every night between the blocks), the learner's previous room
    if it is one of them and free, else the one whose next previous-room claim comes latest."""
    rooms_of: dict[tuple[int, int, int], int] = {}
    by_hold: dict[str, list[tuple[int, int, tuple[int, int, int]]]] = defaultdict(list)
    for key, hold in lent.items():
        if chosen.get(key) == pool.index:
            group = groups[(key[0], key[2], key[1])]
            by_hold[hold].append((group.start, group.end, key))
    for hold, stays in by_hold.items():
        held = sorted({fitted[k] for k, name in kept.items() if name == hold and k in fitted})
        busy_until = dict.fromkeys(held, -(10**9))
        claims: dict[int, list[int]] = defaultdict(list)  # room -> first nights of those who had it
        for start, _, key in stays:
            if previous.get(key) in busy_until:
                claims[previous[key]].append(start)
        for start, end, key in sorted(stays):
            free = [r for r in held if busy_until[r] <= start]
            wish = previous.get(key)
            if wish in free:
                room_id: int | None = wish
            else:
                room_id = max(
                    free,
                    key=lambda r: (min((c for c in claims[r] if c >= start), default=10**9), -r),
                    default=None,
                )
            if wish is not None and wish in claims and start in claims[wish]:
                claims[wish].remove(start)
            if room_id is None:
                continue  # cannot happen when the counts fit; the learner is then reported unhoused
            busy_until[room_id] = end
            rooms_of[key] = room_id
    return rooms_of


def _misses(
    pool: _Pool,
    units: list[tuple[int, int, list[tuple[int, int, int]]]],
    fitted: dict[tuple[int, int, int], int],
    previous: dict[tuple[int, int, int], int],
    weights: RoomWeights,
) -> int:
    """Cost the pool's room numbers add to what the counts foresaw: a learner who loses their previous
    room although it is in this pool. (A learner the counts keep in one room is one unit, never split.)"""
    cost = 0
    in_pool = {room.room_id for room in pool.rooms}
    for _, _, keys in units:
        for key in keys:
            if key in previous and previous[key] in in_pool and fitted.get(key) != previous[key]:
                cost += weights.moved
    return cost


def _refit_pool(
    pool: _Pool,
    units: list[tuple[int, int, list[tuple[int, int, int]]]],
    fitted: dict[tuple[int, int, int], int],
    previous: dict[tuple[int, int, int], int],
    weights: RoomWeights,
    deadline: Deadline,
    num_workers: int,
) -> dict[tuple[int, int, int], int]:
    """Exact room numbers for one pool when the greedy pass broke a long course's room or a previous room.

    Rooms of a pool are interchangeable, so this only decides which room each unit takes: one boolean per
    unit x room, at most one unit per room on the first night of every unit (stays are intervals), and a
    reward for each learner who keeps their room into the next block or gets their previous room back.
    Starts from the greedy plan; keeps it if nothing better is found in time.
    """
    from ortools.sat.python import cp_model

    if deadline.remaining() <= 0.01:
        return fitted
    model = cp_model.CpModel()
    room_ids = [room.room_id for room in pool.rooms]
    unit_of = {key: u for u, (_, _, keys) in enumerate(units) for key in keys}
    y = {(u, r): model.new_bool_var(f"room[unit={u},room={r}]") for u in range(len(units)) for r in room_ids}
    for u, (_, _, keys) in enumerate(units):
        model.add_exactly_one(y[(u, r)] for r in room_ids)
        for r in room_ids:
            model.add_hint(y[(u, r)], fitted.get(keys[0]) == r)
    for night in sorted({start for start, _, _ in units}):
        active = [u for u, (start, end, _) in enumerate(units) if start <= night < end]
        if len(active) > 1:
            for r in room_ids:
                model.add_at_most_one(y[(u, r)] for u in active)
    reward: list[Any] = []
    for u, (_, _, keys) in enumerate(units):
        for key in keys:
            after = unit_of.get((key[0], key[1], key[2] + 1))
            if after is not None and after != u:
                keep = model.new_bool_var(f"same_room[learner={key[1]},block={key[2]}]")
                for r in room_ids:
                    model.add(y[(u, r)] == y[(after, r)]).only_enforce_if(keep)
                model.add_hint(keep, fitted.get(key) == fitted.get((key[0], key[1], key[2] + 1)))
                reward.append(weights.room_change * keep)
            if previous.get(key) in room_ids:
                reward.append(weights.moved * y[(u, previous[key])])
    model.maximize(sum(reward))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = min(deadline.remaining(), REFIT_SECONDS)
    solver.parameters.num_workers = max(1, num_workers)
    code = solver.solve(model)
    deadline.solve_seconds += solver.wall_time
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return fitted
    refitted: dict[tuple[int, int, int], int] = {}
    for u, (_, _, keys) in enumerate(units):
        room_id = next(r for r in room_ids if solver.boolean_value(y[(u, r)]))
        refitted.update(dict.fromkeys(keys, room_id))
    return refitted


def _fit_pool(
    pool: _Pool,
    units: list[tuple[int, int, list[tuple[int, int, int]]]],
    groups: dict[tuple[int, int, int], _Group],
    previous: dict[tuple[int, int, int], int],
    earlier: dict[tuple[int, int, int], int],
) -> dict[tuple[int, int, int], int]:
    """Room numbers for one pool's units: interval colouring in order of first night, with reservations.

    Pinned units take their room first (a pinned room is a pool of its own). The others go in order of
    first night, so a room free on a unit's first night is free for its whole stay and no unit is ever
    left out when the counts fit every night. When a long-course learner's block takes a room, the room
    is reserved for the learner's later blocks in this pool (and a re-solve reserves each learner's
    previous room); later units take a free room that breaks no reservation, the one whose next
    reservation comes soonest (best fit), and break one only when every free room is reserved.
    """
    rooms_of: dict[tuple[int, int, int], int] = {}
    order = {room.room_id: i for i, room in enumerate(pool.rooms)}
    fixed: dict[int, set[int]] = {}  # nights taken by pinned units
    busy_until = dict.fromkeys(order, -(10**9))
    stays_of = {key: (start, end) for start, end, keys in units for key in keys}
    # room -> [(first night, end, owner)]: nights a room is kept for someone who has not come yet.
    reserved: dict[int, list[tuple[int, int, tuple[int, int, int]]]] = {}

    def reserve(room_id: int, owner: tuple[int, int, int]) -> None:
        start, end = stays_of[owner]
        reserved.setdefault(room_id, []).append((start, end, owner))

    for key in stays_of:
        if previous.get(key) in order and not _pinned(groups, key):
            reserve(previous[key], key)
    rest = []
    for start, end, keys in units:
        pinned = [groups[(k[0], k[2], k[1])].pinned_rooms[k[1]] for k in keys if _pinned(groups, k)]
        if pinned:
            fixed.setdefault(pinned[0], set()).update(range(start, end))
            rooms_of.update(dict.fromkeys(keys, pinned[0]))
        else:
            rest.append((start, end, keys))
    rest.sort(key=lambda u: (u[0], u[1], u[2]))

    def free(room_id: int, start: int, end: int) -> bool:
        taken = fixed.get(room_id)
        return busy_until[room_id] <= start and (taken is None or taken.isdisjoint(range(start, end)))

    def clashes(room_id: int, start: int, end: int, mine: set[tuple[int, int, int]]) -> list[Any]:
        return [r for r in reserved.get(room_id, ()) if r[0] < end and start < r[1] and r[2] not in mine]

    for start, end, keys in rest:
        mine = set(keys)
        later = [(k[0], k[1], k[2] + 1) for k in keys if (k[0], k[1], k[2] + 1) in stays_of]
        wishes = [
            wish
            for k in keys
            for wish in (
                rooms_of.get((k[0], k[1], k[2] - 1)),
                earlier.get((k[0], k[1], k[2] - 1)),
                previous.get(k),
            )
            if wish in order
        ]
        choice = next((w for w in wishes if free(w, start, end) and not clashes(w, start, end, mine)), None)
        if choice is None:
            best: tuple[Any, ...] | None = None
            unreserved: int | None = None  # rooms nobody has reserved are alike: the first free one will do
            for room_id in order:
                if not free(room_id, start, end):
                    continue
                if room_id in reserved:
                    reserved[room_id] = [r for r in reserved[room_id] if r[1] > start]
                    if not reserved[room_id]:
                        del reserved[room_id]
                if room_id not in reserved:
                    if unreserved is not None:
                        continue
                    unreserved = room_id
                broken = len(clashes(room_id, start, end, mine))
                # Own later blocks: prefer a room nobody else has reserved then either.
                ahead = sum(len(clashes(room_id, *stays_of[k], mine | {k})) for k in later)
                following = min(
                    (r[0] for r in reserved.get(room_id, ()) if r[0] >= end and r[2] not in mine),
                    default=10**9,
                )
                rank = (broken, ahead, following, order[room_id])
                if best is None or rank < best:
                    best = rank
                    choice = room_id
        if choice is None:
            continue  # cannot happen when the counts fit every night; the learners are then reported unhoused
        for r in clashes(choice, start, end, mine):
            reserved[choice].remove(r)
        if not reserved.get(choice, True):
            del reserved[choice]
        busy_until[choice] = end
        rooms_of.update(dict.fromkeys(keys, choice))
        for k in later:
            reserve(choice, k)
    return rooms_of


def _fit_pool_previous_first(
    pool: _Pool,
    units: list[tuple[int, int, list[tuple[int, int, int]]]],
    groups: dict[tuple[int, int, int], _Group],
    previous: dict[tuple[int, int, int], int],
    earlier: dict[tuple[int, int, int], int],
) -> dict[tuple[int, int, int], int] | None:
    """Room numbers for a re-solve: pinned rooms, then each learner's previous room wherever it is free for
    the whole unit, then the others in order of first night; None if one of those finds no room.

    The counts keep a learner in their previous pool, not their room; the previous plan fitted those
    learners into those rooms, so giving them back first realises "same pool, same room" whenever the
    learners new to the pool still fit around them (not guaranteed: fixed rooms are no longer intervals).
    """
    busy: dict[int, set[int]] = {room.room_id: set() for room in pool.rooms}
    rooms_of: dict[tuple[int, int, int], int] = {}

    def claim(room_id: int | None, start: int, end: int, keys: list[tuple[int, int, int]]) -> bool:
        if room_id not in busy or not busy[room_id].isdisjoint(range(start, end)):
            return False
        busy[room_id].update(range(start, end))
        rooms_of.update(dict.fromkeys(keys, room_id))
        return True

    rest = []
    for start, end, keys in units:
        pinned = [groups[(k[0], k[2], k[1])].pinned_rooms[k[1]] for k in keys if _pinned(groups, k)]
        if pinned:
            claim(pinned[0], start, end, keys)
            continue
        rest.append((start, end, keys))
    later = []
    for start, end, keys in rest:
        wishes = [previous[k] for k in keys if previous.get(k) in busy]
        if not any(claim(w, start, end, keys) for w in wishes[:1]):
            later.append((start, end, keys))
    for start, end, keys in sorted(later, key=lambda u: (u[0], u[1], u[2])):
        wishes = [
            w
            for k in keys
            for w in (rooms_of.get((k[0], k[1], k[2] - 1)), earlier.get((k[0], k[1], k[2] - 1)))
            if w is not None
        ]
        if not any(claim(w, start, end, keys) for w in wishes + [r.room_id for r in pool.rooms]):
            return None
    return rooms_of


def _fit_pool_chains_first(
    pool: _Pool,
    units: list[tuple[int, int, list[tuple[int, int, int]]]],
    groups: dict[tuple[int, int, int], _Group],
    previous: dict[tuple[int, int, int], int],
    earlier: dict[tuple[int, int, int], int],
    *,
    chains_first: bool,
) -> dict[tuple[int, int, int], int] | None:
    """The first pass of earlier versions: room numbers for one pool's units, or None if a unit found no room.

    In start order, any room free on a unit's first night is free for its whole stay, so the plain order
    never fails when the counts fit. ``chains_first`` first gives each learner of a long course one room
    free on all their blocks (no room change), which may fail; the caller then falls back.
    """
    rooms_of: dict[tuple[int, int, int], int] = {}
    busy: dict[int, set[int]] = {room.room_id: set() for room in pool.rooms}
    # Nights on which a room is wanted back by the learner who had it: others avoid it if they can.
    wanted: dict[int, set[int]] = defaultdict(set)
    for start, end, keys in units:
        for key in keys:
            if previous.get(key) in busy:
                wanted[previous[key]].update(range(start, end))
    stays_of = {key: range(start, end) for start, end, keys in units for key in keys}
    done: set[tuple[int, int, int]] = set()
    if chains_first:
        chains: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
        for key in stays_of:
            chains[(key[0], key[1])].append(key)
        for keys in chains.values():
            if len(keys) < 2:
                continue
            nights = set().union(*(set(stays_of[k]) for k in keys))
            chain_wishes = [previous[k] for k in keys if previous.get(k) in busy]
            for room_id in chain_wishes + [r.room_id for r in pool.rooms]:
                if not busy[room_id] & nights:
                    busy[room_id] |= nights
                    rooms_of.update(dict.fromkeys(keys, room_id))
                    done.update(keys)
                    break
    for start, end, keys in units:
        if done.issuperset(keys):
            continue
        nights = set(range(start, end))
        wishes: list[int] = []
        for key in keys:
            group = groups[(key[0], key[2], key[1])]
            for wish in (
                group.pinned_rooms.get(key[1]),
                previous.get(key),
                rooms_of.get((key[0], key[1], key[2] - 1)),
                earlier.get((key[0], key[1], key[2] - 1)),
            ):
                if wish is not None and wish in busy:
                    wishes.append(wish)
        spare = [room.room_id for room in pool.rooms if not wanted[room.room_id] & nights]
        for room_id in wishes + spare + [room.room_id for room in pool.rooms]:
            if not busy[room_id] & nights:
                busy[room_id] |= nights
                for key in keys:
                    rooms_of[key] = room_id
                    # Keep the room for the learner's next block too, if they stay in this pool.
                    later = stays_of.get((key[0], key[1], key[2] + 1))
                    if later is not None:
                        wanted[room_id].update(later)
                break
        else:
            return None
    return rooms_of


def _pinned(groups: dict[tuple[int, int, int], _Group], key: tuple[int, int, int]) -> bool:
    return key[1] in groups[(key[0], key[2], key[1])].pinned_rooms


# ---------------------------------------------------------------------------------------------------
# Solve
# ---------------------------------------------------------------------------------------------------


def solve_rooms(
    problem: RoomsProblem,
    *,
    time_limit: float = 10.0,
    num_workers: int = 2,
    progress: ProgressCallback | None = None,
) -> RoomsSolution:
    """Assign dormitory rooms for every lodging learner of every session block.

    Args:
        problem: rooms, sessions, lodgers, outages, pins and the previous plan (for a re-solve).
        time_limit: wall-clock seconds for the whole solve, shared by all parts.
        num_workers: CP-SAT search workers per part.
        progress: optional callback(best objective so far, elapsed seconds).

    Returns:
        The best plan found; ``status`` says whether it is proven optimal.

    What ``optimal`` means: the plan's cost, counted on the concrete rooms, equals a lower bound that holds
    for every plan the hard rules allow, so ``optimal`` is a statement about real plans. Per part:

    - the count model (holds and lending, ``_PartModel``) gives a plan that first fit turns into room
      numbers; it cannot describe every valid plan (e.g. keeping one twin across blocks), so its optimum is
      not a bound;
    - the relaxed count model (``_PartModel(relaxed=True)``) drops what makes counts realisable and
      under-counts room changes, so its optimum, or CP-SAT's bound on it, is a bound on every valid plan;
      its counts are realised too, and the cheaper of the plans is kept (a re-solve also weighs the
      previous plan kept where still allowed);
    - when the bound is still below the plan and the part is small (``EXACT_CELLS``), an exact model with
      one boolean per learner block x room (``_exact_part``) settles it.

    ``best_bound`` is the sum of the parts' bounds and ``gap`` is measured from it. A part for which CP-SAT
    found no plan in time is filled greedily (``_PreviousPlan.keep``): its status is ``timed_out`` and the
    learners it leaves out are reported as left out for want of time, unless a plain bed count proves a
    shortage on one of their nights.

    Raises:
        ProblemError: if the problem is malformed (unknown ids, bad values, conflicting pins).
    """
    check_rooms_problem(problem)
    deadline = Deadline(time_limit, progress)
    previous = {(p.session_id, p.learner_id, p.block): p.room_id for p in problem.previous}
    statuses: list[SolveStatus] = []
    bound = 0.0
    rooms_of: dict[tuple[int, int, int], int] = {}
    timed_out_parts: set[int] = set()
    parts = _build_parts(problem)
    counter = _PlanCounter(problem)
    keeper = _PreviousPlan(problem, counter)
    lodgers_by_session: dict[int, list[Lodger]] = defaultdict(list)
    for lodger in problem.lodgers:
        lodgers_by_session[lodger.session_id].append(lodger)
    sizes = [len(part.groups) * len(part.pools) + 1 for part in parts]
    left = sum(sizes)
    for part, size in zip(parts, sizes, strict=True):
        lodgers = [x for sid in part.session_ids for x in lodgers_by_session[sid]]
        done = deadline.done_objective
        plan, cost, part_bound, solved = _solve_part(
            part, lodgers, problem, keeper, counter, deadline, num_workers, size / left, previous
        )
        deadline.done_objective = done + cost  # progress counts the plan kept, not every model solved
        deadline.report()
        left -= size
        rooms_of.update(plan)
        bound += min(part_bound, cost)
        if cost <= math.ceil(part_bound - 1e-6):
            statuses.append("optimal")
        elif solved:
            statuses.append("feasible")
        else:
            statuses.append("timed_out")
            timed_out_parts.update(part.session_ids)
    assignments = [
        RoomAssignment(sid, learner, block, room) for (sid, learner, block), room in rooms_of.items()
    ]
    assignments.sort(key=lambda a: (a.session_id, a.learner_id, a.block))
    solution = _score(problem, assignments, combine_statuses(statuses), timed_out_parts)
    solution.best_bound = min(bound, solution.objective)
    solution.gap = relative_gap(solution.objective, solution.best_bound)
    solution.solve_seconds = deadline.solve_seconds
    solution.wall_seconds = deadline.elapsed()
    solution.parts = len(parts)
    return solution


def _solve_part(
    part: _Part,
    lodgers: list[Lodger],
    problem: RoomsProblem,
    keeper: _PreviousPlan,
    counter: _PlanCounter,
    deadline: Deadline,
    num_workers: int,
    share: float,
    previous: dict[tuple[int, int, int], int],
) -> tuple[dict[tuple[int, int, int], int], int, float, bool]:
    """The cheapest plan found for one part, its cost, a bound valid for every plan of the part, and whether
    CP-SAT found a plan at all (else the plan is the greedy one)."""
    plans: list[tuple[int, dict[tuple[int, int, int], int]]] = []
    if problem.previous:
        repaired = keeper.keep(part, lodgers)
        plans.append((counter.count(lodgers, repaired).objective, repaired))
    solved = False
    bound = 0.0
    # Measured on the synthetic year: CP-SAT's presolve turned a 0.2 s proof into no proof in 10 s on the
    # largest campus part (its bound stalled below zero), so these small models skip it.
    parameters = {"cp_model_presolve": False}
    for relaxed in (False, True):
        part_model = _PartModel(part, problem.weights, relaxed=relaxed)
        part_model.build()
        result = run_part(
            part_model.model,
            part_model.named,
            deadline,
            num_workers=num_workers,
            hints=_hints(part, previous) if not relaxed or not plans else _count_hints(part, plans),
            share=share / 2 if not relaxed else share,
            parameters=parameters,
        )
        if result.status not in ("optimal", "feasible"):
            continue
        if relaxed:
            bound = result.bound
        if relaxed and plans and min(c for c, _ in plans) <= math.ceil(bound - 1e-6):
            break
        solved = True
        chosen = _learner_pools(part, result.values)
        kept = _keepers(part, chosen, dict(result.values))
        lent = _lent_learners(part, chosen, result.values, part_model.lent_names, kept, previous)
        fitted = _first_fit(part, chosen, previous, problem.weights, deadline, num_workers, kept, lent)
        if problem.previous:
            fitted = keeper.give_back(part, lodgers, fitted)
        plans.append((counter.count(lodgers, fitted).objective, fitted))
    if not plans:
        greedy = keeper.keep(part, lodgers)
        plans.append((counter.count(lodgers, greedy).objective, greedy))
    cost, plan = min(plans, key=lambda candidate: candidate[0])
    if cost > math.ceil(bound - 1e-6) and _cells(part, lodgers) <= EXACT_CELLS:
        exact = _exact_part(part, lodgers, keeper, counter, plan, deadline, num_workers, share)
        if exact is not None:
            exact_plan, exact_bound = exact
            bound = max(bound, exact_bound)
            exact_cost = counter.count(lodgers, exact_plan).objective
            if exact_cost < cost:
                cost, plan, solved = exact_cost, exact_plan, True
    return plan, cost, bound, solved


def _count_hints(part: _Part, plans: list[tuple[int, dict[tuple[int, int, int], int]]]) -> dict[str, int]:
    """Start the relaxed counts from the best plan so far: how many of each group sleep in each pool."""
    _, plan = min(plans, key=lambda candidate: candidate[0])
    pool_of = {room.room_id: pool.index for pool in part.pools for room in pool.rooms}
    hints: dict[str, int] = defaultdict(int)
    for group in part.groups:
        for learner in group.members:
            room_id = plan.get((group.session_id, learner, group.block))
            if room_id in pool_of:
                hints[f"housed[group={group.key},pool={pool_of[room_id]}]"] += 1
    return hints


def _cells(part: _Part, lodgers: list[Lodger]) -> int:
    """Size of the exact model of a part: learner blocks x rooms."""
    rooms = sum(len(pool.rooms) for pool in part.pools)
    return sum(len(group.members) for group in part.groups) * rooms


def _exact_part(
    part: _Part,
    lodgers: list[Lodger],
    keeper: _PreviousPlan,
    counter: _PlanCounter,
    start: dict[tuple[int, int, int], int],
    deadline: Deadline,
    num_workers: int,
    share: float,
) -> tuple[dict[tuple[int, int, int], int], float] | None:
    """The exact model of one small part: one boolean per learner block x room, every hard rule night by
    night and the documented objective (``_PlanCounter``) term by term. Returns its best plan and its
    bound, or None if it found no plan in time. Starts from the best plan so far."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    weights = counter.weights
    rooms = [room for pool in part.pools for room in pool.rooms]
    who = {(x.session_id, x.learner_id): x for x in lodgers}
    a: dict[tuple[tuple[int, int, int], int], Any] = {}
    housed: dict[tuple[int, int, int], Any] = {}
    terms: list[Any] = []
    constant = 0
    on_night: dict[tuple[int, int], list[tuple[Any, tuple[int, str | None]]]] = defaultdict(list)
    for group in part.groups:
        for learner in group.members:
            key = (group.session_id, learner, group.block)
            lodger = who[(group.session_id, learner)]
            pinned = keeper.pins.get(key)
            options = []
            for room in rooms:
                if pinned is not None and room.room_id != pinned:
                    continue
                if not room_fits(lodger.gender, lodger.needs_accessible, room):
                    continue
                if not keeper.out.get(room.room_id, set()).isdisjoint(range(group.start, group.end)):
                    continue
                var = model.new_bool_var(
                    f"room[session={key[0]},learner={key[1]},block={key[2]},room={room.room_id}]"
                )
                a[(key, room.room_id)] = var
                model.add_hint(var, start.get(key) == room.room_id)
                options.append(var)
                for night in range(group.start, group.end):
                    on_night[(room.room_id, night)].append((var, (group.session_id, lodger.gender)))
                if group.sme and room.kind == "twin":
                    terms.append(weights.sme_in_twin * var)
            model.add(sum(options) <= 1)
            if pinned is not None:
                model.add(sum(options) == 1)
            housed[key] = sum(options)
            terms.append(weights.unhoused * (1 - sum(options)))
    beds = {room.room_id: room.beds for room in rooms}
    for (room_id, _), people in on_night.items():
        if len(people) > beds[room_id]:
            model.add(sum(var for var, _ in people) <= beds[room_id])
        classes = sorted({mate for _, mate in people}, key=str)
        if beds[room_id] == 2 and len(classes) > 1:
            # a twin is shared only by learners of one session and gender on a night
            uses = {mate: model.new_bool_var("") for mate in classes}
            for var, mate in people:
                model.add_implication(var, uses[mate])
            model.add_at_most_one(uses.values())
    for lodger in lodgers:
        blocks = [b for b, block in enumerate(counter.sessions[lodger.session_id].blocks) if block.nights()]
        keys = [(lodger.session_id, lodger.learner_id, b) for b in blocks]
        for i, first in enumerate(keys):
            for j in range(i + 1, len(keys)):
                second, between = keys[j], [housed[k] for k in keys[i + 1 : j]]
                # a change is counted between consecutive housed blocks whose rooms differ
                consecutive = model.new_bool_var("")
                model.add(consecutive >= housed[first] + housed[second] - 1 - sum(between))
                same = []
                for room in rooms:
                    one, two = a.get((first, room.room_id)), a.get((second, room.room_id))
                    if one is not None and two is not None:
                        both = model.new_bool_var("")
                        model.add_implication(both, one)
                        model.add_implication(both, two)
                        same.append(both)
                change = model.new_bool_var("")
                model.add(change >= consecutive - sum(same))
                terms.append(weights.room_change * change)
        for p in counter.previous.get((lodger.session_id, lodger.learner_id), ()):
            key = (p.session_id, p.learner_id, p.block)
            if key not in housed:
                blocks_all = counter.sessions[lodger.session_id].blocks
                constant += weights.moved * (
                    0 <= p.block < len(blocks_all) and bool(blocks_all[p.block].nights())
                )
                continue
            stays = a.get((key, p.room_id))
            if stays is None:
                constant += weights.moved
            else:
                terms.append(weights.moved * (1 - stays))
    model.minimize(sum(terms) + constant)
    named = {var.name: var for var in a.values()}
    result = run_part(model, named, deadline, num_workers=num_workers, share=share)
    if result.status not in ("optimal", "feasible"):
        return None
    plan = {key: room_id for (key, room_id), var in a.items() if result.values[var.name]}
    return plan, result.bound


class _PreviousPlan:
    """The previous plan of a re-solve, kept or given back wherever it is still allowed, one part at a time."""

    def __init__(self, problem: RoomsProblem, counter: _PlanCounter) -> None:
        self.sessions = {s.session_id: s for s in problem.sessions}
        self.rooms_by_campus: dict[int, list[DormRoom]] = defaultdict(list)
        for room in sorted(problem.rooms, key=lambda r: r.room_id):
            self.rooms_by_campus[room.campus_id].append(room)
        self.rooms = {r.room_id: r for r in problem.rooms}
        self.out = _out_nights(problem)
        self.pins = {(p.session_id, p.learner_id, p.block): p.room_id for p in problem.pins}
        self.previous = {(p.session_id, p.learner_id, p.block): p.room_id for p in problem.previous}
        self.counter = counter

    def keep(self, part: _Part, lodgers: list[Lodger]) -> dict[tuple[int, int, int], int]:
        """Room numbers for a part: pins, then every previous room that is still free, in service and
        suitable, then a free room for each learner left (a new enrollment, one whose room went out of
        service), preferring the room of the learner's other blocks.

        Only the learners a change displaces move; greedy, so it may leave someone without a room whom the
        counts would house by moving others (``solve_rooms`` keeps the cheaper of the two plans).
        """
        beds = _Beds(self, part.campus_id, lodgers)
        keys = beds.keys()
        for key in keys:
            if key in self.pins:
                beds.take(key, self.pins[key], check=False)  # pins are valid (checked with the input)
        for key in keys:
            if key not in self.pins:
                beds.take(key, self.previous.get(key))
        campus = [room.room_id for room in self.rooms_by_campus[part.campus_id]]
        singles_first = sorted(campus, key=lambda r: (self.rooms[r].kind == "twin", r))
        for key in sorted(keys, key=lambda k: (beds.nights(k).start, k)):
            if key in beds.rooms_of or not beds.nights(key):
                continue
            wishes = [beds.rooms_of.get((key[0], key[1], key[2] + d)) for d in (-1, 1)]
            wishes.append(self.previous.get(key))
            # executives and managers get single rooms before twins
            ranked = singles_first if self.sessions[key[0]].audience == SME_AUDIENCE else campus
            if not any(beds.take(key, room_id) for room_id in [w for w in wishes if w is not None] + ranked):
                # No room is free: make one, moving the learners in a room to free rooms, if that costs less.
                any(beds.make_room(key, room_id, campus) for room_id in ranked)
        return beds.rooms_of

    def give_back(
        self, part: _Part, lodgers: list[Lodger], plan: dict[tuple[int, int, int], int]
    ) -> dict[tuple[int, int, int], int]:
        """A plan with every learner moved back into their previous room where it is free and the move
        lowers the plan's cost (the counts see pools, not rooms, so room numbers may miss a free one)."""
        away = {
            (x.session_id, x.learner_id)
            for x in lodgers
            for key in _Beds.keys_of_lodger(self, x)
            if key in self.previous and key not in self.pins and plan.get(key) != self.previous[key]
        }
        if not away:
            return plan
        beds = _Beds(self, part.campus_id, lodgers)
        for key, room_id in sorted(plan.items()):
            beds.take(key, room_id, check=False)
        for lodger in lodgers:
            if (lodger.session_id, lodger.learner_id) not in away:
                continue
            mine = [k for k in beds.keys_of(lodger) if k in self.previous and k not in self.pins]
            for key in mine:
                wish, now = self.previous[key], beds.rooms_of.get(key)
                if now == wish or beds.try_moves([(key, wish)]):
                    continue
                # Two learners each in the other's previous room (the counts saw one pool): swap them.
                there = beds.sharing(wish, key)
                if now is not None and len(there) == 1 and self.previous.get(there[0]) == now:
                    beds.try_moves([(key, wish), (there[0], now)])
        return beds.rooms_of


class _Beds:
    """Who sleeps in which room on which night, for placing learners one at a time by the hard rules."""

    def __init__(self, plan: _PreviousPlan, campus_id: int, lodgers: list[Lodger]) -> None:
        self.plan = plan
        self.campus_id = campus_id
        self.who = {(x.session_id, x.learner_id): x for x in lodgers}
        self.used: dict[tuple[int, int], list[tuple[int, str | None]]] = defaultdict(list)
        self.rooms_of: dict[tuple[int, int, int], int] = {}
        self.in_room: dict[int, set[tuple[int, int, int]]] = defaultdict(set)

    def keys_of(self, lodger: Lodger) -> list[tuple[int, int, int]]:
        return self.keys_of_lodger(self.plan, lodger)

    @staticmethod
    def keys_of_lodger(plan: _PreviousPlan, lodger: Lodger) -> list[tuple[int, int, int]]:
        """(session, learner, block) of each block of the learner's session."""
        blocks = plan.sessions[lodger.session_id].blocks
        return [(lodger.session_id, lodger.learner_id, b) for b in range(len(blocks))]

    def keys(self) -> list[tuple[int, int, int]]:
        return sorted(key for lodger in self.who.values() for key in self.keys_of(lodger))

    def nights(self, key: tuple[int, int, int]) -> range:
        blocks = self.plan.sessions[key[0]].blocks
        if not 0 <= key[2] < len(blocks):
            return range(0)
        return range(*_stay_span(blocks[key[2]]))

    def take(self, key: tuple[int, int, int], room_id: int | None, *, check: bool = True) -> bool:
        """Put a learner's block in a room if every hard rule allows it (``check``), and say whether it did."""
        lodger = self.who[(key[0], key[1])]
        room = self.plan.rooms.get(room_id) if room_id is not None else None
        nights = self.nights(key)
        if room is None or not nights or key in self.rooms_of:
            return False
        mate = (key[0], lodger.gender)
        if check and not self.allows(room, lodger, nights, mate):
            return False
        for n in nights:
            self.used[(room.room_id, n)].append(mate)
        self.rooms_of[key] = room.room_id
        self.in_room[room.room_id].add(key)
        return True

    def allows(self, room: DormRoom, lodger: Lodger, nights: range, mate: tuple[int, str | None]) -> bool:
        """The hard rules: campus, zone, type and access, in service, a free bed, a twin shared only by a
        classmate of the same gender."""
        if room.campus_id != self.campus_id or not room_fits(lodger.gender, lodger.needs_accessible, room):
            return False
        out = self.plan.out.get(room.room_id)
        if out and not out.isdisjoint(nights):
            return False
        for n in nights:
            users = self.used.get((room.room_id, n))
            if users and (len(users) >= room.beds or users[0] != mate):
                return False
        return True

    def release(self, key: tuple[int, int, int]) -> None:
        room_id = self.rooms_of.pop(key, None)
        if room_id is None:
            return
        lodger = self.who[(key[0], key[1])]
        self.in_room[room_id].discard(key)
        for n in self.nights(key):
            self.used[(room_id, n)].remove((key[0], lodger.gender))

    def sharing(self, room_id: int, key: tuple[int, int, int]) -> list[tuple[int, int, int]]:
        """The others in a room on any of the learner's nights."""
        nights = self.nights(key)
        return sorted(
            other
            for other in self.in_room[room_id]
            if other != key
            and nights.start < self.nights(other).stop
            and self.nights(other).start < nights.stop
        )

    def try_moves(self, moves: list[tuple[tuple[int, int, int], int]]) -> bool:
        """Move learners' blocks to rooms if every hard rule allows it and the plan costs less after; else
        leave the plan as it was. Says whether it moved them."""
        lodgers = list({(k[0], k[1]): self.who[(k[0], k[1])] for k, _ in moves}.values())
        before = self.plan.counter.count(lodgers, self.rooms_of).objective
        was = {key: self.rooms_of.get(key) for key, _ in moves}
        for key, _ in moves:
            self.release(key)
        placed = all(self.take(key, room_id) for key, room_id in moves)
        if placed and self.plan.counter.count(lodgers, self.rooms_of).objective < before:
            return True
        self.restore(was)
        return False

    def make_room(self, key: tuple[int, int, int], room_id: int, rooms: list[int]) -> bool:
        """House a learner in a room by moving the one or two others in it on those nights to free rooms,
        if every hard rule allows it and the plan costs less after; else leave the plan as it was."""
        others = self.sharing(room_id, key)
        if not others or len(others) > 2 or any(k in self.plan.pins for k in others):
            return False
        involved = [key, *others]
        lodgers = list({(k[0], k[1]): self.who[(k[0], k[1])] for k in involved}.values())
        before = self.plan.counter.count(lodgers, self.rooms_of).objective
        was = {k: self.rooms_of.get(k) for k in involved}
        for other in others:
            self.release(other)
        placed = self.take(key, room_id) and all(
            any(self.take(other, r) for r in rooms if r != room_id) for other in others
        )
        if placed and self.plan.counter.count(lodgers, self.rooms_of).objective < before:
            return True
        self.restore(was)
        return False

    def restore(self, was: dict[tuple[int, int, int], int | None]) -> None:
        """Put learners' blocks back in the rooms they had (a move that did not pay)."""
        for key in was:
            self.release(key)
        for key, room_id in was.items():
            if room_id is not None:
                self.take(key, room_id, check=False)


def _hints(part: _Part, previous: dict[tuple[int, int, int], int]) -> dict[str, int]:
    """Start from the previous plan where there is one: each learner where they were."""
    hints: dict[str, int] = {}
    for group in part.groups:
        if group.previous_pool is not None:
            hints[f"housed[group={group.key},pool={group.previous_pool}]"] = len(group.previous_rooms)
    return hints


def _score(
    problem: RoomsProblem,
    assignments: list[RoomAssignment],
    status: SolveStatus,
    timed_out_sessions: set[int],
) -> RoomsSolution:
    """Count each rule on the concrete plan, so the reported costs are those of the rooms people get."""
    given = {(a.session_id, a.learner_id, a.block): a.room_id for a in assignments}
    counts = _PlanCounter(problem).count(problem.lodgers, given)
    unhoused, shortages = explain_unhoused(problem, assignments, counts.unhoused, timed_out_sessions)
    return RoomsSolution(
        status=status,
        assignments=assignments,
        unhoused=unhoused,
        shortages=shortages,
        objective=counts.objective,
        best_bound=0.0,
        gap=0.0,
        breakdown=counts.breakdown,
        moved=counts.breakdown["moved"].value,
        room_changes=counts.breakdown["room_change"].value,
        solve_seconds=0.0,
        wall_seconds=0.0,
        parts=0,
    )


@dataclass
class _Counts:
    """Each soft rule counted on a concrete plan (or a part of one)."""

    unhoused: list[tuple[Lodger, int]]
    breakdown: dict[str, RuleCost]

    @property
    def objective(self) -> int:
        return sum(cost.cost for cost in self.breakdown.values())


class _PlanCounter:
    """Counts the soft rules on concrete room numbers, for a whole plan or for the lodgers of one part."""

    def __init__(self, problem: RoomsProblem) -> None:
        self.sessions = {s.session_id: s for s in problem.sessions}
        self.rooms = {r.room_id: r for r in problem.rooms}
        self.weights = problem.weights
        self.previous: dict[tuple[int, int], list[RoomAssignment]] = defaultdict(list)
        for p in problem.previous:
            self.previous[(p.session_id, p.learner_id)].append(p)

    def count(self, lodgers: list[Lodger], given: dict[tuple[int, int, int], int]) -> _Counts:
        """The rules' counts for ``lodgers`` (a learner moved: their previous room for a block is not the
        one they get now, or they get none)."""
        unhoused: list[tuple[Lodger, int]] = []
        sme_in_twin = changes = moved = 0
        for lodger in lodgers:
            session = self.sessions[lodger.session_id]
            last_room: int | None = None
            for b, block in enumerate(session.blocks):
                if not block.nights():
                    continue
                room_id = given.get((lodger.session_id, lodger.learner_id, b))
                if room_id is None:
                    unhoused.append((lodger, b))
                    continue
                if session.audience == SME_AUDIENCE and self.rooms[room_id].kind == "twin":
                    sme_in_twin += 1
                if last_room is not None and last_room != room_id:
                    changes += 1
                last_room = room_id
            for p in self.previous.get((lodger.session_id, lodger.learner_id), ()):
                if (
                    0 <= p.block < len(session.blocks)
                    and session.blocks[p.block].nights()
                    and given.get((p.session_id, p.learner_id, p.block)) != p.room_id
                ):
                    moved += 1
        weights = self.weights
        breakdown = {
            "unhoused": RuleCost(len(unhoused), weights.unhoused),
            "moved": RuleCost(moved, weights.moved),
            "room_change": RuleCost(changes, weights.room_change),
            "sme_in_twin": RuleCost(sme_in_twin, weights.sme_in_twin),
        }
        return _Counts(unhoused, breakdown)


# ---------------------------------------------------------------------------------------------------
# Telling a person why
# ---------------------------------------------------------------------------------------------------


def explain_unhoused(
    problem: RoomsProblem,
    assignments: list[RoomAssignment],
    unhoused: list[tuple[Lodger, int]],
    timed_out_sessions: set[int] | None = None,
) -> tuple[list[UnhousedLearner], list[RoomShortage]]:
    """Say, in Japanese, on which nights rooms of which kind ran out for the learners left without one.

    A learner is blamed on the nights of their block on which no room that suits them has a free bed in
    the final plan; when some of those nights are over-full by a plain bed count (``_over_full``), only
    those, so a learner who loses a block because of one night is told that night and no other. A shortage
    lists every such night with the rooms missing (the bed count's deficit, or else the learners blamed
    that night), the sessions concerned, and what would resolve it where something would
    (``_resolution``). In a part the solver had no time for, a learner not blamed on an over-full night
    is reported as left out for want of time (``code`` "timed_out"), never as a shortage.
    """
    timed_out_sessions = timed_out_sessions or set()
    sessions = {s.session_id: s for s in problem.sessions}
    genders = {(x.session_id, x.learner_id): x.gender for x in problem.lodgers}
    out = _out_nights(problem)
    used: dict[tuple[int, int], list[tuple[int, str | None]]] = defaultdict(list)
    for a in assignments:
        gender = genders.get((a.session_id, a.learner_id))
        for night in sessions[a.session_id].blocks[a.block].nights():
            used[(a.room_id, night.toordinal())].append((a.session_id, gender))
    by_campus: dict[int, list[DormRoom]] = defaultdict(list)
    for room in problem.rooms:
        by_campus[room.campus_id].append(room)
    over_full = _over_full(problem)
    short: dict[tuple[int, str, int], list[Lodger]] = defaultdict(list)
    people: list[UnhousedLearner] = []
    for lodger, b in unhoused:
        session = sessions[lodger.session_id]
        block = session.blocks[b]
        category = category_of(lodger.gender, lodger.needs_accessible)
        label = CATEGORY_LABELS[category]
        suitable = [
            r for r in by_campus[session.campus_id] if room_fits(lodger.gender, lodger.needs_accessible, r)
        ]
        tight = [
            night.toordinal()
            for night in block.nights()
            if not any(_has_bed(room, night.toordinal(), out, used, lodger) for room in suitable)
        ]
        real = [n for n in tight if (session.campus_id, category, n) in over_full]
        blamed = real or ([] if lodger.session_id in timed_out_sessions else tight)
        nights = tuple(date.fromordinal(n) for n in blamed)
        first, last = block.nights()[0], block.nights()[-1]
        for n in blamed:
            short[(session.campus_id, category, n)].append(lodger)
        if not suitable:
            code, reason = "no_suitable_room", f"研修{lodger.session_id}の会場の寮に{label}の部屋がありません"
        elif blamed:
            days = "、".join(jp_date(day) for day in nights[:5]) + ("ほか" if len(nights) > 5 else "")
            code, reason = "shortage", f"{days}の夜、{label}の空き室がありません"
        elif lodger.session_id in timed_out_sessions:
            code = "timed_out"
            reason = "制限時間内に部屋割りが終わりませんでした（空き室はあります。時間を延ばして再実行してください）"
        else:
            code = "no_room_whole_block"
            reason = f"{jp_date(first)}から{jp_date(last)}の夜まで通して空いている{label}の部屋がありません"
        people.append(
            UnhousedLearner(lodger.session_id, lodger.learner_id, b, category, reason, code, nights)
        )
    counts = {
        key: (over_full[key][0] if key in over_full else len(who), [x.session_id for x in who])
        for key, who in short.items()
    }
    runs = _shortage_runs(counts)
    return people, [_with_resolution(run, short, by_campus, out, used) for run in runs]


def _over_full(problem: RoomsProblem) -> dict[tuple[int, str, int], tuple[int, list[int]]]:
    """(campus, category, night) -> (beds missing, sessions) where a plain bed count shows more learners
    of a category than beds they could use, the shared zone counted for one gender only after the other
    gender's overflow from its own zone."""
    sessions = {s.session_id: s for s in problem.sessions}
    out = _out_nights(problem)
    demand: dict[tuple[int, str, int], list[int]] = defaultdict(list)
    for lodger in problem.lodgers:
        session = sessions[lodger.session_id]
        category = category_of(lodger.gender, lodger.needs_accessible)
        for block in session.blocks:
            for day in block.nights():
                demand[(session.campus_id, category, day.toordinal())].append(lodger.session_id)
    by_campus: dict[int, list[DormRoom]] = defaultdict(list)
    for room in problem.rooms:
        by_campus[room.campus_id].append(room)
    found: dict[tuple[int, str, int], tuple[int, list[int]]] = {}
    for campus, night in sorted({(c, n) for c, _, n in demand}):
        free = [r for r in by_campus[campus] if night not in out.get(r.room_id, ())]
        beds = {
            zone: sum(r.beds for r in free if r.zone == zone and not r.accessible)
            for zone in ("women", "men", "any")
        }
        women, men = (len(demand.get((campus, c, night), [])) for c in ("women", "men"))
        spill = {"women": max(0, women - beds["women"]), "men": max(0, men - beds["men"])}
        need = {
            "women": women - beds["women"] - max(0, beds["any"] - spill["men"]),
            "men": men - beds["men"] - max(0, beds["any"] - spill["women"]),
            "accessible": len(demand.get((campus, "accessible", night), []))
            - sum(r.beds for r in free if r.accessible),
            "unknown_gender": len(demand.get((campus, "unknown_gender", night), []))
            - sum(1 for r in free if r.zone == "any" and r.kind == "single"),
        }
        for category, missing in need.items():
            if missing > 0:
                found[(campus, category, night)] = (missing, demand[(campus, category, night)])
    return found


def _with_resolution(
    run: RoomShortage,
    short: dict[tuple[int, str, int], list[Lodger]],
    by_campus: dict[int, list[DormRoom]],
    out: dict[int, set[int]],
    used: dict[tuple[int, int], list[tuple[int, str | None]]],
) -> RoomShortage:
    """The shortage with what would resolve it, if anything would: rooms of another zone (or out of service)
    that are free on all its nights and would suit the learners left out once re-zoned (or back)."""
    nights = range(run.first_night.toordinal(), run.last_night.toordinal() + 1)
    who = [x for n in nights for x in short.get((run.campus_id, run.category, n), [])]
    if not who:
        return run
    genders = [x.gender for x in who]
    probe = max(set(genders), key=lambda g: (genders.count(g), str(g)))
    access = run.category == "accessible"
    empty = [r for r in by_campus[run.campus_id] if all(not used.get((r.room_id, n)) for n in nights)]
    rezone = [
        r
        for r in empty
        if out.get(r.room_id, set()).isdisjoint(nights)
        and not room_fits(probe, access, r)
        and room_fits(probe, access, replace(r, zone="any"))
    ]
    repair = [
        r for r in empty if not out.get(r.room_id, set()).isdisjoint(nights) and room_fits(probe, access, r)
    ]
    text = ""
    if rezone:
        zones = {"women": "女性用区画", "men": "男性用区画", "any": "共用区画"}
        zone = max({r.zone for r in rezone}, key=lambda z: sum(r.zone == z for r in rezone))
        rooms_there = [r for r in rezone if r.zone == zone]
        floors: dict[int, list[DormRoom]] = defaultdict(list)
        for r in rooms_there:
            floors[r.floor].append(r)
        chosen, beds = [], 0
        for floor, rooms in sorted(floors.items(), key=lambda kv: (-sum(r.beds for r in kv[1]), kv[0])):
            if beds >= run.shortage:
                break
            chosen.append(floor)
            beds += sum(r.beds for r in rooms)
        target = "共用" if probe is None else ("女性用" if probe == "female" else "男性用")
        twins = sum(r.kind == "twin" for r in rooms_there)
        kinds = f"（うちツイン{twins}室）" if twins else ""
        whom = f"{run.shortage}名全員" if beds >= run.shortage else f"{beds}名"
        where = "・".join(f"{f}階" for f in sorted(chosen))
        text = (
            f"{zones[zone]}にその夜の空き室が{len(rooms_there)}室{kinds}あります："
            f"{where}の空き室を{target}に変更すれば{whom}を受け入れられます"
        )
    elif repair:
        text = f"使用停止中の部屋が{len(repair)}室あります：使用を再開すれば{min(run.shortage, sum(r.beds for r in repair))}名を受け入れられます"
    if not text:
        return run
    return replace(run, resolution=text, message=f"{run.message}。{text}")


def _has_bed(
    room: DormRoom,
    night: int,
    out: dict[int, set[int]],
    used: dict[tuple[int, int], list[tuple[int, str | None]]],
    lodger: Lodger,
) -> bool:
    if night in out.get(room.room_id, set()):
        return False
    users = used.get((room.room_id, night), [])
    if not users:
        return True
    return room.beds == 2 and len(users) == 1 and users[0] == (lodger.session_id, lodger.gender)


def _shortage_runs(short: dict[tuple[int, str, int], tuple[int, list[int]]]) -> list[RoomShortage]:
    """Merge consecutive nights with the same shortage into one message.

    ``short`` maps (campus, category, night) to (rooms missing, sessions concerned).
    """
    runs: list[RoomShortage] = []
    keys = sorted(short)
    i = 0
    while i < len(keys):
        campus, category, night = keys[i]
        count, sids = short[keys[i]][0], sorted(set(short[keys[i]][1]))
        j = i + 1
        while (
            j < len(keys)
            and keys[j][:2] == (campus, category)
            and keys[j][2] == keys[j - 1][2] + 1
            and short[keys[j]][0] == count
            and sorted(set(short[keys[j]][1])) == sids
        ):
            j += 1
        first, last = date.fromordinal(night), date.fromordinal(keys[j - 1][2])
        when = f"{jp_date(first)}の夜" if first == last else f"{jp_date(first)}から{jp_date(last)}までの夜"
        ids = "、".join(str(s) for s in sids)
        message = f"{when}、{CATEGORY_LABELS[category]}の空き室が{count}室不足（研修 {ids}）"
        runs.append(RoomShortage(campus, first, last, category, count, tuple(sids), message))
        i = j
    return runs


def precheck_rooms(problem: RoomsProblem) -> list[RoomShortage]:
    """Plain per-night bed counts, before any solve: demand of each category above the beds that suit it.

    Cheap (no CP-SAT) and often already the whole story; twins count as two beds, so this can miss a
    shortage caused by twin sharing rules, never report one that does not exist.
    """
    return _shortage_runs(_over_full(problem))

"""Decomposition into parts: one per campus and set of sessions whose stays overlap, each with its groups
of interchangeable learners and pools of interchangeable rooms.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from scheduler.rooms.check import _out_nights
from scheduler.rooms.types import SME_AUDIENCE, DormRoom, Lodger, LodgingSession, RoomsProblem, StayBlock
from scheduler.solvekit import components, overlapping_pairs

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

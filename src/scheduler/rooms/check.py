"""Which rooms a learner may use at all (hard), and input validation: a malformed problem or a pin that
breaks a hard rule is refused before any model is built.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from itertools import pairwise

from scheduler.rooms.types import (
    GENDERS,
    ROOM_KINDS,
    ZONES,
    DormRoom,
    Lodger,
    LodgingSession,
    RoomsProblem,
)
from scheduler.solvekit import ProblemError

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

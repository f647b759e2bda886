"""Room numbers, pool by pool: the first-fit pass (interval colouring) that turns counts into rooms, the
greedy passes it compares, and an exact re-fit of one pool when they all add cost the counts did not
foresee.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

from scheduler.rooms.parts import _Group, _Part, _Pool
from scheduler.rooms.types import RoomWeights
from scheduler.solvekit import Deadline

REFIT_SECONDS = 1.0


# ---------------------------------------------------------------------------------------------------
# From counts to room numbers
# ---------------------------------------------------------------------------------------------------


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

"""The rules of the count model of one part, one function per rule or objective term.

Each function adds its rule to a ``_PartModel`` (``model``); ``build`` adds them all, in order, and sets
the objective. The relaxed model (``_PartModel(relaxed=True)``, a bound on every valid plan) replaces
room keeping and lending by ``room_changes_at_least``.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import Any

from scheduler.rooms.check import room_fits
from scheduler.rooms.model import _PartModel

# ---------------------------------------------------------------------------------------------------
# The model of one part, one function per rule
# ---------------------------------------------------------------------------------------------------


def build(m: _PartModel) -> None:
    """Add every rule of the part to its model, then minimise the sum of the penalties."""
    allowed_pools(m)
    if m.relaxed:
        room_changes_at_least(m)
    else:
        same_room_across_blocks(m)
        held_rooms_lent_between_blocks(m)
    room_capacity_per_night(m)
    twin_sharing(m)
    unhoused_learners(m)
    sme_single_rooms_first(m)
    minimal_change(m)
    m.model.minimize(sum(m.terms) + m.constant)


def allowed_pools(m: _PartModel) -> None:
    """A group sleeps only in a pool whose rooms suit it and are in service all its nights; a pin fixes it."""
    # A group may use a pool only if its rooms suit the learners and are in service on all their nights;
    # a pinned group stays in its pinned pool.
    for g, group in enumerate(m.part.groups):
        for pool in m.part.pools:
            if group.pinned_pool is not None and pool.index != group.pinned_pool:
                continue
            if not room_fits(group.gender, group.needs_accessible, pool.sample):
                continue
            if any(group.start <= night < group.end for night in pool.out):
                continue
            count = m.var(f"housed[group={group.key},pool={pool.index}]", len(group.members))
            m.x[(g, pool.index)] = count
        if group.pinned_pool is not None:
            pinned = m.x[(g, group.pinned_pool)]
            m.model.add(pinned == len(group.members))


def room_capacity_per_night(m: _PartModel) -> None:
    """No pool holds more stays on a night than it has rooms (single) or rooms in use (twin)."""
    # A single room kept across blocks counts on the nights between them too.
    #
    # Checking the first night of every stay suffices: stays are intervals, so the busiest night of
    # any set of them is the first night of one of them.
    for pool in m.part.pools:
        size = len(pool.rooms)
        users = [(g, m.part.groups[g]) for (g, p) in m.x if p == pool.index]
        spans: list[tuple[tuple[int, int], Any, int]]  # (stay, rooms it takes, at most)
        if pool.twin:
            classes: dict[tuple[int, int, str | None], tuple[int, int]] = {}
            for _, group in users:
                classes[group.share_class] = (group.start, group.end)
            spans = [(span, m.r_var(cls, pool), size) for cls, span in classes.items()]
        else:
            # a learner lent a held room sleeps in a room the hold already counts
            spans = [
                (
                    (group.start, group.end),
                    m.x[(g, pool.index)] - sum(m.lent[(g, pool.index)]),
                    len(group.members),
                )
                for g, group in users
            ]
            spans += [(gap, held, m.upper[held.name]) for p, gap, held in m.holds if p == pool.index]
        for night in sorted({span[0] for span, _, _ in spans}):
            active = [(count, most) for (start, end), count, most in spans if start <= night < end]
            if sum(most for _, most in active) > size:
                m.model.add(sum(count for count, _ in active) <= size)


def twin_sharing(m: _PartModel) -> None:
    """A twin room holds two learners at most, and only two of the same session block and gender."""
    members: dict[tuple[tuple[int, int, str | None], int], list[Any]] = defaultdict(list)
    for (g, p), count in m.x.items():
        if m.part.pools[p].twin:
            members[(m.part.groups[g].share_class, p)].append(count)
    for (cls, p), counts in members.items():
        m.model.add(sum(counts) <= 2 * m.r_var(cls, m.part.pools[p]))
        m.model.add(m.r_var(cls, m.part.pools[p]) <= sum(counts))


def unhoused_learners(m: _PartModel) -> None:
    """Every lodging learner should get a room; each one left without is penalised heavily."""
    for g, group in enumerate(m.part.groups):
        counts = [count for (gg, _), count in m.x.items() if gg == g]
        unhoused = m.var(f"unhoused[group={group.key}]", len(group.members))
        m.model.add(sum(counts) + unhoused == len(group.members))
        m.terms.append(m.weights.unhoused * unhoused)


def sme_single_rooms_first(m: _PartModel) -> None:
    """Executives and managers (audience "sme") get single rooms before twins are used."""
    for (g, p), count in m.x.items():
        if m.part.groups[g].sme and m.part.pools[p].twin:
            m.terms.append(m.weights.sme_in_twin * count)


def same_room_across_blocks(m: _PartModel) -> None:
    """A learner of a long course keeps one room across its blocks; each change is penalised."""
    # Counts cannot see rooms, so keeping is modelled as an interval: ``kept_room`` learners of a
    # session, gender and access need hold one single room of the pool from their block's first night
    # to the last night of their next block, the nights between included (the hold is counted in
    # ``room_capacity_per_night``). Intervals that fit every night always get room numbers by the
    # first-fit pass, so the count of changes here is the count the concrete plan pays. Between the
    # blocks a held room may be lent (``held_rooms_lent_between_blocks``). Twin rooms and pinned rooms
    # get no hold: a learner there pays a change (the first-fit pass may still keep them in one room,
    # which only lowers the cost). See ``solve_rooms`` for what optimal means.
    totals: dict[tuple[int, str | None, bool, int], dict[int, list[Any]]] = defaultdict(
        lambda: defaultdict(list)
    )
    sizes: dict[tuple[int, str | None, bool, int], int] = defaultdict(int)
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    for g, group in enumerate(m.part.groups):
        key = (group.session_id, group.gender, group.needs_accessible, group.block)
        sizes[key] += len(group.members)
        spans[(group.session_id, group.block)] = (group.start, group.end)
        for (gg, p), count in m.x.items():
            if gg == g:
                totals[key][p].append(count)
    pinned = {group.pinned_pool for group in m.part.groups if group.pinned_pool is not None}
    for (sid, gender, access, block), pools in totals.items():
        following = (sid, gender, access, block + 1)
        if following not in totals:
            continue
        gap = (spans[(sid, block)][1], spans[(sid, block + 1)][0])
        kept = []
        for p in sorted(set(pools) & set(totals[following])):
            pool = m.part.pools[p]
            if pool.twin or p in pinned:
                continue
            upper = min(sizes[(sid, gender, access, block)], sizes[following])
            name = f"kept_room[session={sid},gender={gender},access={int(access)},block={block},pool={p}]"
            keep = m.var(name, upper)
            m.model.add(keep <= sum(pools[p]))
            m.model.add(keep <= sum(totals[following][p]))
            if gap[0] < gap[1]:
                m.holds.append((p, gap, keep))
            kept.append(keep)
        pairs = min(sizes[(sid, gender, access, block)], sizes[following])
        changes = m.var(f"room_changes[session={sid},gender={gender},block={block}]", pairs)
        m.model.add(changes + sum(kept) == pairs)
        m.terms.append(m.weights.room_change * changes)


def room_changes_at_least(m: _PartModel) -> None:
    """Relaxed, for a bound: a learner in two consecutive blocks changes room unless both are in one pool."""
    # Relaxed (for a bound): a learner housed in two consecutive blocks changes room unless both stays
    # are in one pool, so changes >= (housed in both) - (kept in a pool) for each pair of blocks.
    #
    # Every valid plan satisfies this (room keeping needs no hold here), so the relaxed optimum is a lower
    # bound on the cost of every valid plan of the part; the unhoused, executive and moved terms are exact.
    counts: dict[tuple[int, str | None, bool], dict[int, dict[int, list[Any]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    sizes: dict[tuple[int, str | None, bool, int], int] = defaultdict(int)
    for g, group in enumerate(m.part.groups):
        kind = (group.session_id, group.gender, group.needs_accessible)
        sizes[(*kind, group.block)] += len(group.members)
        counts[kind][group.block]  # a block with nobody housed still counts
        for (gg, p), count in m.x.items():
            if gg == g:
                counts[kind][group.block][p].append(count)
    for kind, blocks in counts.items():
        order = sorted(blocks)
        for block, following in pairwise(order):
            size = sizes[(*kind, block)]
            here, there = blocks[block], blocks[following]
            kept = []
            for p in sorted(set(here) & set(there)):
                keep = m.var(
                    f"same_pool[session={kind[0]},gender={kind[1]},access={int(kind[2])},block={block},pool={p}]",
                    size,
                )
                m.model.add(keep <= sum(here[p]))
                m.model.add(keep <= sum(there[p]))
                kept.append(keep)
            housed = sum(sum(c) for c in here.values()) + sum(sum(c) for c in there.values())
            name = f"room_changes[session={kind[0]},gender={kind[1]},access={int(kind[2])},block={block}]"
            changes = m.var(name, size)
            m.model.add(changes >= housed - size - sum(kept))
            m.terms.append(m.weights.room_change * changes)


def held_rooms_lent_between_blocks(m: _PartModel) -> None:
    """A room held between two blocks may be lent, one learner a night, to a one-block stay in that gap."""
    # A room held between two blocks may be lent to learners of one-block sessions whose whole stay
    # falls between those blocks, at most one learner per held room on a night.
    #
    # All rooms of one hold share the same nights between the blocks, so counts that fit every night
    # always admit room numbers there (interval colouring again). Learners of long courses are not lent
    # held rooms (they may keep rooms of their own).
    long_courses = {group.session_id for group in m.part.groups if group.block > 0}
    for p, (first, end), held in m.holds:
        lent = []
        for g, group in enumerate(m.part.groups):
            count = m.x.get((g, p))
            if count is None or group.session_id in long_courses:
                continue
            if first <= group.start and group.end <= end:
                name = f"lent[group={group.key},hold={held.name}]"
                borrowed = m.var(name, min(len(group.members), m.upper[held.name]))
                m.lent[(g, p)].append(borrowed)
                m.lent_names.append((g, p, held.name, name))
                lent.append(((group.start, group.end), borrowed))
        for night in sorted({span[0] for span, _ in lent}):
            active = [count for (start, stop), count in lent if start <= night < stop]
            m.model.add(sum(active) <= held)
    for (g, p), counts in m.lent.items():
        m.model.add(sum(counts) <= m.x[(g, p)])


def minimal_change(m: _PartModel) -> None:
    """A re-solve keeps each learner in their previous room; each learner moved is penalised."""
    for g, group in enumerate(m.part.groups):
        m.constant += m.weights.moved * group.previous_moves_anyway
        if not group.previous_rooms:
            continue
        stays = m.x.get((g, group.previous_pool)) if group.previous_pool is not None else None
        if group.previous_hold is not None:
            # they had a room held by a long-course learner: they keep it only if lent it again
            stays = m.named.get(f"lent[group={group.key},hold={group.previous_hold}]", stays)
        moved = len(group.previous_rooms)
        if stays is None:
            m.constant += m.weights.moved * moved
        else:
            m.terms.append(m.weights.moved * (moved - stays))

"""From the counts' solution to learners: which learners of each group take which pool, keep their room or
borrow a held one; and the concrete plan scored into a ``RoomsSolution``. Room numbers are given by
``first_fit``.
"""

from __future__ import annotations

from collections import defaultdict

from scheduler.rooms.counting import _PlanCounter
from scheduler.rooms.explain import explain_unhoused
from scheduler.rooms.parts import _Part
from scheduler.rooms.types import RoomAssignment, RoomsProblem, RoomsSolution
from scheduler.solvekit import SolveStatus

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


# ---------------------------------------------------------------------------------------------------
# The concrete plan, counted rule by rule
# ---------------------------------------------------------------------------------------------------


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

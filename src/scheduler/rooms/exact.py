"""The exact model of a small part: one boolean per learner block x room, which settles optimality when
the counts' bound stays below the plan.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from scheduler.rooms.check import room_fits
from scheduler.rooms.counting import _PlanCounter
from scheduler.rooms.greedy import _PreviousPlan
from scheduler.rooms.parts import _Part
from scheduler.rooms.types import Lodger
from scheduler.solvekit import Deadline, run_part


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

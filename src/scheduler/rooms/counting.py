"""Each soft rule counted on concrete room numbers: the documented objective of a plan, for the whole plan
or for the lodgers of one part.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from scheduler.rooms.types import SME_AUDIENCE, Lodger, RoomAssignment, RoomsProblem
from scheduler.solvekit import RuleCost


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

"""The greedy plan: the previous plan of a re-solve kept or given back wherever it is still allowed, and
the plan of a part CP-SAT found nothing for in time, placing learners one at a time by the hard rules.
"""

from __future__ import annotations

from collections import defaultdict

from scheduler.rooms.check import _out_nights, room_fits
from scheduler.rooms.counting import _PlanCounter
from scheduler.rooms.parts import _Part, _stay_span
from scheduler.rooms.types import SME_AUDIENCE, DormRoom, Lodger, RoomsProblem


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

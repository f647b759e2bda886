"""Dormitory rooms: give every lodging learner one room for each block of their session.

The model counts instead of naming: learners of one session block with the same gender and
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

The package, in dependency order (each module imports only those above it):

- ``types``: the problem and solution dataclasses (all a validator may import);
- ``check``: which rooms a learner may use at all, and input validation;
- ``parts``: the decomposition into parts, groups of learners and pools of rooms;
- ``model``: the count model of a part, its CP-SAT model and variables;
- ``rules``: one function per rule or objective term of that model, and ``build``;
- ``counting``: each soft rule counted on concrete room numbers;
- ``explain``: who could not be housed, and why (in Japanese);
- ``realise``: from the counts to learners, and the concrete plan into a ``RoomsSolution``;
- ``first_fit``: room numbers pool by pool;
- ``greedy``: the previous plan kept, or a greedy plan when CP-SAT found none in time;
- ``exact``: the exact model of a small part;
- ``solve``: ``solve_rooms``.

Tunables live in the module that reads them (``solve.EXACT_CELLS``, ``first_fit.REFIT_SECONDS``); patch them
there.
"""

from scheduler.rooms.check import check_rooms_problem, room_fits
from scheduler.rooms.explain import category_of, explain_unhoused, jp_date, precheck_rooms
from scheduler.rooms.solve import solve_rooms
from scheduler.rooms.types import (
    CATEGORY_LABELS,
    GENDERS,
    ROOM_KINDS,
    SME_AUDIENCE,
    ZONES,
    DormRoom,
    Lodger,
    LodgingSession,
    RoomAssignment,
    RoomOutage,
    RoomShortage,
    RoomsProblem,
    RoomsSolution,
    RoomWeights,
    StayBlock,
    UnhousedLearner,
)

__all__ = [
    "CATEGORY_LABELS",
    "GENDERS",
    "ROOM_KINDS",
    "SME_AUDIENCE",
    "ZONES",
    "DormRoom",
    "Lodger",
    "LodgingSession",
    "RoomAssignment",
    "RoomOutage",
    "RoomShortage",
    "RoomWeights",
    "RoomsProblem",
    "RoomsSolution",
    "StayBlock",
    "UnhousedLearner",
    "category_of",
    "check_rooms_problem",
    "explain_unhoused",
    "jp_date",
    "precheck_rooms",
    "room_fits",
    "solve_rooms",
]

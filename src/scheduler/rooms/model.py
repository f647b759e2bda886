"""The count model of one part: the CP-SAT model and its variables.

Integer counts x[group, pool] say how many learners of a group sleep in a pool, and r[class, pool] how many
twin rooms of a pool a class (session block and gender) uses. The rules that constrain them and the terms
of the objective are added by ``rules`` (``rules.build``), one function per rule.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from scheduler.rooms.parts import _Part, _Pool
from scheduler.rooms.types import RoomWeights

if TYPE_CHECKING:
    from ortools.sat.python import cp_model


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

    def r_var(self, cls: tuple[int, int, str | None], pool: _Pool) -> cp_model.IntVar:
        key = (cls, pool.index)
        if key not in self.r:
            sid, block, gender = cls
            name = f"twin_rooms[session={sid},block={block},gender={gender},pool={pool.index}]"
            self.r[key] = self.var(name, len(pool.rooms))
        return self.r[key]

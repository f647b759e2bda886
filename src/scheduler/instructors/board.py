"""The board of assignments decided so far, the ejection chains that free an instructor for a module,
and the greedy fill built on them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from scheduler.instructor_types import Instructor, Teaching
from scheduler.instructors.pruning import _month


@dataclass
class _Board:
    """Assignments decided so far (across parts), with what each instructor is busy with."""

    assigned: dict[str, tuple[Teaching, str]] = field(default_factory=dict)
    busy: dict[tuple[str, date, int], str] = field(default_factory=dict)
    on_day: dict[tuple[str, date], set[str]] = field(default_factory=lambda: defaultdict(set))
    load: dict[tuple[str, tuple[int, int]], int] = field(default_factory=lambda: defaultdict(int))
    log: list[tuple[bool, Teaching, str]] = field(default_factory=list)

    def copy(self) -> _Board:
        on_day: dict[tuple[str, date], set[str]] = defaultdict(set)
        on_day.update({k: set(v) for k, v in self.on_day.items()})
        return _Board(dict(self.assigned), dict(self.busy), on_day, defaultdict(int, self.load))

    def blockers(self, t: Teaching, i: Instructor) -> set[str] | None:
        """Modules to take from ``i`` before ``i`` can teach ``t``; None if even that is not enough."""
        out = {self.busy[i.id, d, h] for d, h in t.halves() if (i.id, d, h) in self.busy}
        for k in (-1, 0, 1):
            for mid in self.on_day.get((i.id, t.day + timedelta(k)), ()):
                if self.assigned[mid][0].campus != t.campus:
                    out.add(mid)
        month = _month(t.day)
        freed = sum(
            self.assigned[mid][0].half_days for mid in out if _month(self.assigned[mid][0].day) == month
        )
        if self.load[i.id, month] - freed + t.half_days > i.max_load_per_month:
            return None
        return out

    def on_day_mids(self, iid: str, month: tuple[int, int]) -> list[str]:
        return [
            mid for (j, d), mids in self.on_day.items() if j == iid and _month(d) == month for mid in mids
        ]

    def blockers_without(self, t: Teaching, i: Instructor, mid: str) -> set[str] | None:
        mark = len(self.log)
        self.drop(mid)
        out = self.blockers(t, i)
        self.undo(mark)
        return out

    def fits(self, t: Teaching, i: Instructor) -> bool:
        """``i`` can still teach ``t``: free, no campus change without a travel day, under the maximum."""
        return self.blockers(t, i) == set()

    def take(self, t: Teaching, iid: str) -> None:
        self.assigned[t.module_id] = (t, iid)
        for d, h in t.halves():
            self.busy[iid, d, h] = t.module_id
        self.on_day[iid, t.day].add(t.module_id)
        self.load[iid, _month(t.day)] += t.half_days
        self.log.append((True, t, iid))

    def drop(self, mid: str) -> None:
        t, iid = self.assigned.pop(mid)
        for d, h in t.halves():
            del self.busy[iid, d, h]
        self.on_day[iid, t.day].discard(mid)
        self.load[iid, _month(t.day)] -= t.half_days
        self.log.append((False, t, iid))

    def undo(self, mark: int) -> None:
        while len(self.log) > mark:
            took, t, iid = self.log.pop()
            if took:
                self.drop(t.module_id)
            else:
                self.take(t, iid)
            self.log.pop()


def _insert(
    t: Teaching, cands: Mapping[str, list[Instructor]], board: _Board, depth: int, tabu: set[str]
) -> bool:
    """Give ``t`` an instructor, moving at most one module per step of an ejection chain."""
    for i in cands[t.module_id]:
        if board.fits(t, i):
            board.take(t, i.id)
            return True
    if depth == 0:
        return False
    for i in cands[t.module_id]:
        out = board.blockers(t, i)
        if out is None:  # over the monthly maximum: free one of the month's modules instead
            month = _month(t.day)
            choices = [
                {mid} for mid in board.on_day_mids(i.id, month) if board.blockers_without(t, i, mid) == set()
            ]
        else:
            choices = [out] if len(out) == 1 else []
        for out in choices:
            (moved,) = out
            if moved in tabu or moved not in cands:
                continue
            mark = len(board.log)
            mt = board.assigned[moved][0]
            board.drop(moved)
            board.take(t, i.id)
            if _insert(mt, cands, board, depth - 1, tabu | {t.module_id, moved}):
                return True
            board.undo(mark)
    return False


def _greedy_fill(
    teachings: list[Teaching],
    cands: Mapping[str, list[Instructor]],
    board: _Board,
    pins: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Pinned instructors first, then the cheapest candidate the board still allows, module by
    module in date order, then short ejection chains for the modules left over, which never move
    a pinned module (updates ``board``)."""
    pins = pins or {}
    left = []
    for t in teachings:
        for i in cands[t.module_id]:
            if i.id == pins.get(t.module_id) and board.fits(t, i):
                board.take(t, i.id)
    for t in sorted(teachings, key=lambda t: (t.day, t.half, t.module_id)):
        if t.module_id in board.assigned or t.module_id in pins:  # a pin that did not fit stays out
            continue
        if not _insert(t, cands, board, 0, set(pins)):
            left.append(t)
    for t in left:
        _insert(t, cands, board, 3, set(pins))
    mine = {t.module_id for t in teachings}
    return {mid: iid for mid, (_t, iid) in board.assigned.items() if mid in mine}

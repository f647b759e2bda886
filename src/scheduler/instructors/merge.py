"""The months' answers merged on one board, reconciling months that break the travel day across a
month's end."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta

from scheduler.instructor_types import Instructor, InstructorProblem, Teaching
from scheduler.instructors.board import _Board, _insert
from scheduler.instructors.model import MIN_CP_SECONDS, _part_terms
from scheduler.instructors.month import _Month, _solve_month
from scheduler.timetable_validate import instructor_penalties


def _crossing(months: list[_Month]) -> set[int]:
    """Months whose answer breaks the travel day with the previous month's answer: an instructor
    at one campus on a month's last day and at another on the next month's first."""
    out = set()
    for k in range(1, len(months)):
        where: dict[tuple[str, date], set[str]] = defaultdict(set)
        prev = {t.module_id: t for t in months[k - 1].teachings}
        for mid, iid in months[k - 1].assignment.items():
            where[iid, prev[mid].day].add(prev[mid].campus)
        here = {t.module_id: t for t in months[k].teachings}
        for mid, iid in months[k].assignment.items():
            t = here[mid]
            if where.get((iid, t.day - timedelta(1)), {t.campus}) != {t.campus}:
                out.add(k)
                break
    return out


def _merge(
    problem: InstructorProblem,
    months: list[_Month],
    cands: Mapping[str, list[Instructor]],
    deadline: float,
) -> _Board | None:
    """The months' answers on one board, in date order. Where a month's answer breaks the travel
    day with the previous month's (the only rule that crosses months), the two are reconciled in
    the time left (``_reconcile``). A module a month left without an instructor gets one by a
    short ejection chain if it can. None if two pins break the travel day."""
    board = _Board()
    by_id = {i.id: i for i in problem.instructors}
    for month in months:  # pins first: they never move
        teaching = {t.module_id: t for t in month.teachings}
        for mid, iid in month.assignment.items():
            if problem.pins.get(mid) == iid:
                if not board.fits(teaching[mid], by_id[iid]):
                    return None
                board.take(teaching[mid], iid)
    crossing = _crossing(months)
    for k, month in enumerate(months):
        mark = len(board.log)
        broken = _place(problem, month.teachings, month.assignment, cands, board)
        crossing.discard(k)
        remaining = deadline - time.monotonic()
        if broken and k and remaining >= 4 * MIN_CP_SECONDS:
            board.undo(mark)
            if _reconcile(problem, months[k - 1], month, cands, board, remaining / (1 + len(crossing))):
                return None
    return board


def _place(
    problem: InstructorProblem,
    teachings: list[Teaching],
    assignment: Mapping[str, str],
    cands: Mapping[str, list[Instructor]],
    board: _Board,
) -> bool:
    """Put an answer on the board in date order; a module whose instructor does not fit, or that
    has none, gets one by a short ejection chain if it can. True if some instructor did not fit."""
    by_id = {i.id: i for i in problem.instructors}
    broken = False
    for t in sorted(teachings, key=lambda t: (t.day, t.half, t.module_id)):
        iid = assignment.get(t.module_id)
        if t.module_id in board.assigned:
            continue
        if iid is not None and board.fits(t, by_id[iid]):
            board.take(t, iid)
            continue
        broken |= iid is not None
        if t.module_id not in problem.pins:
            _insert(t, cands, board, 3, set(problem.pins))
    return broken


def _reconcile(
    problem: InstructorProblem,
    before: _Month,
    month: _Month,
    cands: Mapping[str, list[Instructor]],
    board: _Board,
    seconds: float,
) -> bool:
    """Two consecutive months whose answers break the travel day between them (``board`` holds
    ``before`` as merged so far, not ``month``): either ``month`` is solved again against
    ``before``, or ``before`` against ``month``'s own answer; the cheaper board stays (the
    ejection chains may move modules of other months too, so each option starts from the board as
    it came and is kept as its log of moves). True if a pin cannot be honoured."""
    teaching = {t.module_id: t for t in before.teachings + month.teachings}
    held = {mid: iid for mid, (_t, iid) in board.assigned.items() if mid in teaching}
    mark = len(board.log)
    options = []
    for fixed, moving, answers in (
        (before, month, (held, month.assignment)),
        (month, before, (month.assignment, held)),
    ):
        for mid in teaching:
            if mid in board.assigned and problem.pins.get(mid) != board.assigned[mid][1]:
                board.drop(mid)
        _place(problem, fixed.teachings, answers[0], cands, board)
        _place(problem, moving.teachings, answers[1], cands, board)
        mids = {t.module_id for t in moving.teachings}
        hint = {mid: iid for mid, (_t, iid) in board.assigned.items() if mid in mids}
        # The chains may have given a module an instructor its model is not offered: offer it,
        # so that the parts stay apart and the hint is one of the model's answers.
        offers = {
            mid: [*kept, *(i for i in moving.allowed[mid] if i.id == hint.get(mid) and i not in kept)]
            for mid, kept in moving.offers.items()
        }
        again = _Month(moving.teachings, moving.allowed, offers, board=board)
        again.assignment = hint
        again.terms = _part_terms(problem, moving.teachings, hint, _Board())
        if _solve_month(problem, again, seconds / 2, resolve=True):
            return True
        got = {mid: iid for mid, (_t, iid) in board.assigned.items()}
        # the months not merged yet count as unassigned in both options alike
        options.append((sum(instructor_penalties(problem, got).values()), list(board.log[mark:])))
        board.undo(mark)
    for took, t, iid in min(options, key=lambda o: o[0])[1]:
        if took:
            board.take(t, iid)
        else:
            board.drop(t.module_id)
    return False

"""Candidate pruning: each module's cheapest qualified, available instructors, and the small
helpers every part of the solver shares (the non-local penalty, the month of a day)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from scheduler.instructor_types import Instructor, InstructorProblem, Teaching, price, qualified_available

LOCAL_KEPT = 3  # local candidates always kept per module, beyond the K cheapest if need be


def candidates(problem: InstructorProblem) -> dict[str, list[Instructor]]:
    """The K cheapest qualified, available instructors of each module (+ pinned and previous).

    If fewer than ``LOCAL_KEPT`` of the K live in the campus's prefecture, the cheapest local
    ones are added, so pruning never leaves a module with only travelling instructors.
    """
    by_id = {i.id: i for i in problem.instructors}
    by_subject: dict[str, list[Instructor]] = defaultdict(list)
    for i in problem.instructors:
        for subject in i.subjects:
            by_subject[subject].append(i)
    k = problem.candidates_per_module
    out = {}
    for t in problem.teachings:
        here = problem.campus_prefecture.get(t.campus)
        ok = sorted(
            (i for i in by_subject.get(t.subject, ()) if t.day in i.available),
            key=lambda i: (price(problem, t, i) + _non_local(problem, t, i), i.id),
        )
        keep = ok[:k]
        missing = LOCAL_KEPT - sum(1 for i in keep if i.home_prefecture == here)
        if missing > 0:
            keep += [i for i in ok[k:] if i.home_prefecture == here][:missing]
        for extra in (problem.pins.get(t.module_id), problem.previous.get(t.module_id)):
            if extra in by_id and by_id[extra] not in keep and qualified_available(t, by_id[extra]):
                keep.append(by_id[extra])
        out[t.module_id] = keep
    return out


def _non_local(problem: InstructorProblem, t: Teaching, i: Instructor) -> int:
    local = problem.campus_prefecture.get(t.campus) == i.home_prefecture
    return 0 if local else problem.weights.non_local


def _month(d: date) -> tuple[int, int]:
    return (d.year, d.month)

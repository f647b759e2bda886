"""Instructors: give every placed module a qualified, available instructor, year-wide.

Instructors travel between campuses, so campuses are not solved apart. Each module is pruned to
its ``candidates_per_module`` cheapest qualified, available instructors (pinned and previous
instructors are always kept). The load rules count per month and only the travel day crosses a
month's end, so each month is solved on its own: an LP relaxation picks the few candidates that
matter (and, by its reduced costs, which others may), then CP-SAT (one boolean per module × kept
candidate) starts from a greedy fill in the LP's order; time left re-solves the months furthest
from their bound, widening their candidates. The months' answers are then merged, reconciling the
few that break the travel day across a month's end. The months' proven bounds add up to the
solution's ``bound``, a lower bound of the year over the pruned candidates.

Hard rules: the instructor teaches the module's subject and is available on its day; no
instructor teaches two modules at once; between days at different campuses there is at least one
travel day; no instructor exceeds his or her load per month (in half days).

Soft rules (named, weighted, reported with their share of the objective): ``unassigned``,
``cost`` (fee + travel, in yen), ``non_local`` (instructor from another prefecture),
``load_above_target`` (half days above the target per month; a target, not the maximum, keeps the
model LP-friendly) and ``change`` (minimal change against a previous assignment).
If CP-SAT has no time or finds nothing, the greedy fill is returned as the answer of last resort.

The package, along the solver's own sections: ``pruning`` (candidates), ``board`` (assignments so
far, ejection chains, greedy fill), ``lp`` (a month's LP relaxation and reduced-cost floor),
``rules`` and ``model`` (the CP-SAT model of a part), ``month`` (a month solved on its own),
``merge`` (the months on one board), ``explain`` (the solution and its reasons) and ``assign``
(``assign_instructors``). The problem and solution types live in ``scheduler.instructor_types``,
which the validator imports without importing the solver.
"""

from __future__ import annotations

from scheduler.instructor_types import (  # noqa: F401  (re-exported: the solver's public types)
    Instructor,
    InstructorProblem,
    InstructorSolution,
    InstructorWeights,
    Teaching,
    Unassigned,
    price,
    qualified_available,
)
from scheduler.instructors.assign import LP_SECONDS, RC_STEP, assign_instructors  # noqa: F401
from scheduler.instructors.board import _Board, _greedy_fill  # noqa: F401
from scheduler.instructors.bound import lp_bound  # noqa: F401
from scheduler.instructors.explain import _greedy  # noqa: F401
from scheduler.instructors.lp import LP_EXTRA, _lp_guide, _narrow  # noqa: F401
from scheduler.instructors.model import MIN_CP_SECONDS  # noqa: F401
from scheduler.instructors.month import _months  # noqa: F401
from scheduler.instructors.pruning import LOCAL_KEPT, _month, _non_local, candidates  # noqa: F401

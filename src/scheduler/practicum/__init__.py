"""Practicum sites: split the learners of each practicum session into groups and give each group a host.

Learners of one session with the same industry and the same set of sites they
must avoid are interchangeable: CP-SAT decides counts per learner type x site, each count linked to its
own "group at this site" switch, one part per campus and set of sessions whose practicum days overlap.
A session's group at a site is all its learners sent there, so group sizes are checked per session x
site. The model is elastic: an unplaced learner costs ``weights.unplaced`` and is explained in Japanese.

The package, along the solver's own sections: ``types`` (problem, solution, shared site rules),
``check`` (input validation), ``parts`` (decomposition), ``model`` (a part's CP-SAT model),
``solve`` (``solve_practicum``) and ``explain`` (why a learner is unplaced).
"""

from __future__ import annotations

from scheduler.practicum.check import check_practicum_problem  # noqa: F401
from scheduler.practicum.explain import explain_unplaced  # noqa: F401
from scheduler.practicum.solve import PARAMETERS, solve_practicum  # noqa: F401
from scheduler.practicum.types import (  # noqa: F401
    PracticumGroup,
    PracticumLearner,
    PracticumPlacement,
    PracticumProblem,
    PracticumSession,
    PracticumSite,
    PracticumSolution,
    PracticumWeights,
    UnplacedLearner,
    balanced_size,
    jp_date,
    site_allowed,
    site_hosts_session,
)

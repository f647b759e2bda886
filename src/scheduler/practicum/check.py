"""Input validation: every malformed part of a practicum problem, listed in one ``ProblemError``."""

from __future__ import annotations

from collections import defaultdict

from scheduler.practicum.types import (
    PracticumLearner,
    PracticumProblem,
    PracticumSession,
    PracticumSite,
    site_allowed,
    site_hosts_session,
)
from scheduler.solvekit import (
    ProblemError,
)


def check_practicum_problem(problem: PracticumProblem) -> None:
    """Raise ProblemError listing every malformed part of the problem; a valid problem passes silently."""
    errors: list[str] = []
    sites: dict[int, PracticumSite] = {}
    for site in problem.sites:
        if site.site_id in sites:
            errors.append(f"site {site.site_id} appears twice")
        sites[site.site_id] = site
        if site.capacity_per_day < 0 or site.travel_minutes < 0:
            errors.append(f"site {site.site_id}: capacity and travel minutes must not be negative")
    sessions: dict[int, PracticumSession] = {}
    for session in problem.sessions:
        if session.session_id in sessions:
            errors.append(f"practicum session {session.session_id} appears twice")
        sessions[session.session_id] = session
        if not 1 <= session.min_group_size <= session.max_group_size:
            errors.append(
                f"practicum session {session.session_id}: need 1 <= min_group_size <= max_group_size"
            )
        if not session.days:
            errors.append(f"practicum session {session.session_id}: no practicum days")
    learners: dict[tuple[int, int], PracticumLearner] = {}
    for learner in problem.learners:
        key = (learner.session_id, learner.learner_id)
        if key in learners:
            errors.append(
                f"learner {learner.learner_id} appears twice in practicum session {learner.session_id}"
            )
        learners[key] = learner
        if learner.session_id not in sessions:
            errors.append(f"learner {learner.learner_id}: unknown practicum session {learner.session_id}")
    for name in ("unplaced", "moved", "industry_mismatch", "travel_minutes", "group_opened"):
        if getattr(problem.weights, name) < 0:
            errors.append(f"weight {name} must not be negative")
    per_group: dict[tuple[int, int], int] = defaultdict(int)
    pinned: set[tuple[int, int]] = set()
    for pin in problem.pins:
        where = f"pin of learner {pin.learner_id} (session {pin.session_id}) to site {pin.site_id}"
        pin_learner = learners.get((pin.session_id, pin.learner_id))
        pin_site = sites.get(pin.site_id)
        pin_session = sessions.get(pin.session_id)
        if pin_learner is None or pin_site is None or pin_session is None:
            errors.append(f"{where}: unknown learner or site")
            continue
        if (pin.session_id, pin.learner_id) in pinned:
            errors.append(f"{where}: learner pinned twice")
        pinned.add((pin.session_id, pin.learner_id))
        if not site_hosts_session(pin_site, pin_session):
            errors.append(f"{where}: the site cannot host this session (campus, days or capacity)")
        if not site_allowed(pin_learner, pin_site):
            errors.append(f"{where}: own company, competitor or excluded company")
        per_group[(pin.session_id, pin.site_id)] += 1
    for (sid, site_id), count in per_group.items():
        if sid in sessions and count > sessions[sid].max_group_size:
            errors.append(
                f"pins put {count} learners of session {sid} at site {site_id}, above the group maximum"
            )
    if errors:
        raise ProblemError(errors)

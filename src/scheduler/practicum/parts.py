"""Decomposition: interchangeable learners grouped into types, one part per campus and set of
sessions whose practicum days overlap."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from scheduler.practicum.types import (
    PracticumLearner,
    PracticumProblem,
    PracticumSite,
    site_allowed,
    site_hosts_session,
)
from scheduler.solvekit import (
    components,
)


@dataclass
class _Type:
    """Interchangeable learners: one session, industry, set of allowed sites and anchor (pin or previous)."""

    key: str
    session_id: int
    industry: str | None
    sites: list[int]
    members: list[int]
    pinned_site: int | None = None
    previous_site: int | None = None
    previous_count: int = 0


@dataclass
class _Part:
    campus_id: int
    session_ids: list[int]
    types: list[_Type]
    site_ids: list[int]


def _build_parts(problem: PracticumProblem) -> list[_Part]:
    """Split per campus and per set of sessions sharing a practicum day: sites are local, days are fixed."""
    sessions = {s.session_id: s for s in problem.sessions}
    sites_by_campus: dict[int, list[PracticumSite]] = defaultdict(list)
    for site in sorted(problem.sites, key=lambda s: s.site_id):
        sites_by_campus[site.campus_id].append(site)
    learners_by_session: dict[int, list[PracticumLearner]] = defaultdict(list)
    for learner in problem.learners:
        learners_by_session[learner.session_id].append(learner)
    pins = {(p.session_id, p.learner_id): p.site_id for p in problem.pins}
    previous = {(p.session_id, p.learner_id): p.site_id for p in problem.previous}
    by_campus: dict[int, list[int]] = defaultdict(list)
    for sid in sorted(learners_by_session):
        by_campus[sessions[sid].campus_id].append(sid)
    parts: list[_Part] = []
    for campus_id, sids in sorted(by_campus.items()):
        day_users: dict[date, list[int]] = defaultdict(list)
        for sid in sids:
            for day in set(sessions[sid].days):
                day_users[day].append(sid)
        pairs = [(users[0], other) for users in day_users.values() for other in users[1:]]
        for members in components(sids, pairs):
            types: dict[str, _Type] = {}
            used_sites: set[int] = set()
            site_sets: dict[tuple[int, ...], int] = {}
            for sid in members:
                session = sessions[sid]
                hosts = [s for s in sites_by_campus[campus_id] if site_hosts_session(s, session)]
                for learner in sorted(learners_by_session[sid], key=lambda x: x.learner_id):
                    allowed = [s.site_id for s in hosts if site_allowed(learner, s)]
                    pin = pins.get((sid, learner.learner_id))
                    prev = previous.get((sid, learner.learner_id)) if pin is None else None
                    prev_ok = prev if prev in allowed else None
                    anchor = f"pin{pin}" if pin is not None else f"prev{prev_ok}"
                    allowed_set = site_sets.setdefault(tuple(allowed), len(site_sets))
                    key = f"s{sid}i{learner.industry}a{allowed_set}{anchor}"
                    kind = types.get(key)
                    if kind is None:
                        kind = _Type(
                            key,
                            sid,
                            learner.industry,
                            [pin] if pin is not None else allowed,
                            [],
                            pin,
                            prev_ok,
                        )
                        types[key] = kind
                    kind.members.append(learner.learner_id)
                    if prev is not None:
                        kind.previous_count += 1
                    used_sites.update(kind.sites)
            parts.append(_Part(campus_id, members, list(types.values()), sorted(used_sites)))
    return parts

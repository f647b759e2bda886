"""Telling a person why: the unplaced learners and the days short of places, in Japanese."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from scheduler.practicum.types import (
    PracticumPlacement,
    PracticumProblem,
    UnplacedLearner,
    jp_date,
    site_allowed,
    site_hosts_session,
)
from scheduler.solvekit import (
    SolveStatus,
)


def explain_unplaced(
    problem: PracticumProblem,
    placements: list[PracticumPlacement],
    failed: dict[int, SolveStatus] | None = None,
) -> tuple[list[UnplacedLearner], list[str]]:
    """Say, in Japanese, why each learner without a site has none, and sum it up per session.

    The reasons are checked in order: no site may take them at all; the session is smaller than one
    group; on some practicum day no allowed site has room left; otherwise the group sizes do not work out.
    """
    failed = failed or {}
    sites = sorted(problem.sites, key=lambda s: s.site_id)
    sessions = {s.session_id: s for s in problem.sessions}
    given = {(p.session_id, p.learner_id): p.site_id for p in placements}
    load: dict[tuple[int, date], int] = defaultdict(int)
    group_size: dict[tuple[int, int], int] = defaultdict(int)
    for p in placements:
        group_size[(p.session_id, p.site_id)] += 1
        for day in sessions[p.session_id].days:
            load[(p.site_id, day)] += 1
    totals: dict[int, int] = defaultdict(int)
    for learner in problem.learners:
        totals[learner.session_id] += 1
    unplaced: list[UnplacedLearner] = []
    short_days: dict[tuple[int, date], int] = defaultdict(int)
    for learner in sorted(problem.learners, key=lambda x: (x.session_id, x.learner_id)):
        if (learner.session_id, learner.learner_id) in given:
            continue
        session = sessions[learner.session_id]
        sid = session.session_id
        allowed = [s for s in sites if site_hosts_session(s, session) and site_allowed(learner, s)]
        span = f"{jp_date(min(session.days))}〜{jp_date(max(session.days))}"
        if sid in failed:
            code, reason = "timed_out", "制限時間内に実習先の割当ての解が見つかりませんでした"
        elif not allowed:
            code = "no_site"
            reason = f"自社・競合先・受入れを断られた会社を除くと、実習日（{span}）に受け入れ可能な実習先がありません"
        elif totals[sid] < session.min_group_size:
            code = "too_few_learners"
            reason = f"研修{sid}の実習受講者が{totals[sid]}名で、最小グループ人数{session.min_group_size}名に満たない"
        else:
            tight = []
            for day in sorted(set(session.days)):
                room = False
                for site in allowed:
                    free = site.capacity_per_day - load[(site.site_id, day)]
                    size = group_size[(sid, site.site_id)]
                    need = 1 if size else session.min_group_size
                    room = room or (free >= need and size < session.max_group_size)
                if not room:
                    tight.append(day)
                    short_days[(sid, day)] += 1
            if tight:
                code = "capacity"
                reason = (
                    "、".join(jp_date(d) for d in tight[:5]) + "、条件に合う実習先の受入枠に空きがありません"
                )
            else:
                code = "group_size"
                reason = f"グループ人数（{session.min_group_size}〜{session.max_group_size}名）と受入枠を両立する組み方がありません"
        unplaced.append(UnplacedLearner(sid, learner.learner_id, code, reason))
    messages: list[str] = []
    per_session: dict[tuple[int, str], list[UnplacedLearner]] = defaultdict(list)
    for item in unplaced:
        per_session[(item.session_id, item.reason)].append(item)
    for (sid, reason), items in sorted(per_session.items()):
        messages.append(f"研修{sid}：{len(items)}名の実習先が未定（{reason}）")
    for (sid, day), count in sorted(short_days.items()):
        messages.append(f"{jp_date(day)}、研修{sid}の実習先の受入枠が{count}名分不足")
    return unplaced, messages

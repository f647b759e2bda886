"""``solve_practicum``: the parts solved, their answers turned into groups and scored."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from scheduler.practicum.check import check_practicum_problem
from scheduler.practicum.explain import explain_unplaced
from scheduler.practicum.model import _PartModel
from scheduler.practicum.parts import _build_parts, _Part
from scheduler.practicum.types import (
    PracticumGroup,
    PracticumPlacement,
    PracticumProblem,
    PracticumSolution,
    balanced_size,
)
from scheduler.solvekit import (
    Deadline,
    ProgressCallback,
    RuleCost,
    SolveStatus,
    combine_statuses,
    relative_gap,
    run_part,
)

PARAMETERS: dict[str, Any] = {"cp_model_presolve": False}
"""As for rooms, presolve stalled the bound of the largest parts of the synthetic year."""


def solve_practicum(
    problem: PracticumProblem,
    *,
    time_limit: float = 30.0,
    num_workers: int = 2,
    progress: ProgressCallback | None = None,
) -> PracticumSolution:
    """Group the learners of every practicum session and give each group a site.

    Args:
        problem: sites, sessions, learners, pins and the previous plan (for a re-solve).
        time_limit: wall-clock seconds for the whole solve, shared by all parts by size.
        num_workers: CP-SAT search workers per part.
        progress: optional callback(best objective so far, elapsed seconds).

    Returns:
        The best plan found; ``status`` says whether it is proven optimal.

    Raises:
        ProblemError: if the problem is malformed (unknown ids, bad values, impossible pins).
    """
    check_practicum_problem(problem)
    deadline = Deadline(time_limit, progress)
    parts = _build_parts(problem)
    sizes = [sum(len(t.sites) for t in part.types) + 1 for part in parts]
    left = sum(sizes)
    statuses: list[SolveStatus] = []
    bound = 0.0
    sent: dict[tuple[int, int], int] = {}
    failed: dict[int, SolveStatus] = {}
    for part, size in zip(parts, sizes, strict=True):
        part_model = _PartModel(part, problem)
        part_model.build()
        hints = {
            f"sent[type={t.key},site={t.previous_site}]": len(t.members)
            for t in part.types
            if t.previous_site is not None
        }
        result = run_part(
            part_model.model,
            part_model.named,
            deadline,
            num_workers=num_workers,
            hints=hints,
            share=size / left,
            parameters=PARAMETERS,
        )
        left -= size
        statuses.append(result.status)
        if result.status in ("optimal", "feasible"):
            bound += result.bound
            sent.update(_learner_sites(part, result.values))
        else:
            failed.update({sid: result.status for sid in part.session_ids})
        deadline.done_bound = bound
        deadline.report()
    placements = [PracticumPlacement(sid, learner, site) for (sid, learner), site in sorted(sent.items())]
    solution = _score(problem, placements, combine_statuses(statuses), failed)
    solution.best_bound = min(bound, solution.objective)
    solution.gap = relative_gap(solution.objective, solution.best_bound)
    solution.solve_seconds = deadline.solve_seconds
    solution.wall_seconds = deadline.elapsed()
    solution.parts = len(parts)
    return solution


def _learner_sites(part: _Part, values: dict[str, int]) -> dict[tuple[int, int], int]:
    """Hand the counts to learners: pinned and previous learners first to their own site."""
    chosen: dict[tuple[int, int], int] = {}
    for kind in part.types:
        left = {site_id: values.get(f"sent[type={kind.key},site={site_id}]", 0) for site_id in kind.sites}
        for learner in kind.members:
            wanted = kind.pinned_site if kind.pinned_site is not None else kind.previous_site
            site_id = wanted if wanted is not None and left.get(wanted, 0) > 0 else None
            if site_id is None:
                site_id = next((s for s in sorted(left) if left[s] > 0), None)
            if site_id is not None:
                left[site_id] -= 1
                chosen[(kind.session_id, learner)] = site_id
    return chosen


def _score(
    problem: PracticumProblem,
    placements: list[PracticumPlacement],
    status: SolveStatus,
    failed: dict[int, SolveStatus],
) -> PracticumSolution:
    """Count each rule on the concrete plan and explain every unplaced learner."""
    weights = problem.weights
    sites = {s.site_id: s for s in problem.sites}
    sessions = {s.session_id: s for s in problem.sessions}
    learners = {(x.session_id, x.learner_id): x for x in problem.learners}
    given = {(p.session_id, p.learner_id): p.site_id for p in placements}
    members: dict[tuple[int, int], list[int]] = defaultdict(list)
    for p in placements:
        members[(p.session_id, p.site_id)].append(p.learner_id)
    groups = [PracticumGroup(sid, site, tuple(sorted(ids))) for (sid, site), ids in sorted(members.items())]
    totals: dict[int, int] = defaultdict(int)
    for learner in problem.learners:
        totals[learner.session_id] += 1
    mismatch = sum(
        learners[(p.session_id, p.learner_id)].industry != sites[p.site_id].industry for p in placements
    )
    travel = sum(sites[p.site_id].travel_minutes for p in placements)
    above = sum(
        max(0, len(g.learner_ids) - balanced_size(totals[g.session_id], sessions[g.session_id]))
        for g in groups
    )
    moved = sum(
        1
        for p in problem.previous
        if (p.session_id, p.learner_id) in learners and given.get((p.session_id, p.learner_id)) != p.site_id
    )
    unplaced, messages = explain_unplaced(problem, placements, failed)
    breakdown = {
        "unplaced": RuleCost(len(unplaced), weights.unplaced),
        "moved": RuleCost(moved, weights.moved),
        "industry_mismatch": RuleCost(mismatch, weights.industry_mismatch),
        "travel_minutes": RuleCost(travel, weights.travel_minutes),
        "group_opened": RuleCost(len(groups), weights.group_opened),
        "group_above_balanced_size": RuleCost(above, weights.group_above_balanced_size),
    }
    return PracticumSolution(
        status=status,
        placements=placements,
        groups=groups,
        unplaced=unplaced,
        messages=messages,
        objective=sum(cost.cost for cost in breakdown.values()),
        best_bound=0.0,
        gap=0.0,
        breakdown=breakdown,
        moved=moved,
        solve_seconds=0.0,
        wall_seconds=0.0,
        parts=0,
    )

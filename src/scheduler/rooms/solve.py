"""Solve: the public entry ``solve_rooms`` and the solve of one part (counts, their relaxation for a bound,
the exact model of a small part, the greedy plan when time runs out).
"""

from __future__ import annotations

import math
from collections import defaultdict

from scheduler.rooms.check import check_rooms_problem
from scheduler.rooms.counting import _PlanCounter
from scheduler.rooms.exact import _cells, _exact_part
from scheduler.rooms.first_fit import _first_fit
from scheduler.rooms.greedy import _PreviousPlan
from scheduler.rooms.model import _PartModel
from scheduler.rooms.parts import _build_parts, _Part
from scheduler.rooms.realise import _keepers, _learner_pools, _lent_learners, _score
from scheduler.rooms.rules import build
from scheduler.rooms.types import Lodger, RoomAssignment, RoomsProblem, RoomsSolution
from scheduler.solvekit import (
    Deadline,
    ProgressCallback,
    SolveStatus,
    combine_statuses,
    relative_gap,
    run_part,
)

EXACT_CELLS = 4000
"""Parts with at most this many learner blocks x rooms get an exact room-level model when the counts' plan
is not proven optimal (small rooms problems, re-solves of a few sessions)."""


# ---------------------------------------------------------------------------------------------------
# Solve
# ---------------------------------------------------------------------------------------------------


def solve_rooms(
    problem: RoomsProblem,
    *,
    time_limit: float = 10.0,
    num_workers: int = 2,
    progress: ProgressCallback | None = None,
) -> RoomsSolution:
    """Assign dormitory rooms for every lodging learner of every session block.

    Args:
        problem: rooms, sessions, lodgers, outages, pins and the previous plan (for a re-solve).
        time_limit: wall-clock seconds for the whole solve, shared by all parts.
        num_workers: CP-SAT search workers per part.
        progress: optional callback(best objective so far, elapsed seconds).

    Returns:
        The best plan found; ``status`` says whether it is proven optimal.

    What ``optimal`` means: the plan's cost, counted on the concrete rooms, equals a lower bound that holds
    for every plan the hard rules allow, so ``optimal`` is a statement about real plans. Per part:

    - the count model (holds and lending, ``_PartModel``) gives a plan that first fit turns into room
      numbers; it cannot describe every valid plan (e.g. keeping one twin across blocks), so its optimum is
      not a bound;
    - the relaxed count model (``_PartModel(relaxed=True)``) drops what makes counts realisable and
      under-counts room changes, so its optimum, or CP-SAT's bound on it, is a bound on every valid plan;
      its counts are realised too, and the cheaper of the plans is kept (a re-solve also weighs the
      previous plan kept where still allowed);
    - when the bound is still below the plan and the part is small (``EXACT_CELLS``), an exact model with
      one boolean per learner block x room (``_exact_part``) settles it.

    ``best_bound`` is the sum of the parts' bounds and ``gap`` is measured from it. A part for which CP-SAT
    found no plan in time is filled greedily (``_PreviousPlan.keep``): its status is ``timed_out`` and the
    learners it leaves out are reported as left out for want of time, unless a plain bed count proves a
    shortage on one of their nights.

    Raises:
        ProblemError: if the problem is malformed (unknown ids, bad values, conflicting pins).
    """
    check_rooms_problem(problem)
    deadline = Deadline(time_limit, progress)
    previous = {(p.session_id, p.learner_id, p.block): p.room_id for p in problem.previous}
    statuses: list[SolveStatus] = []
    bound = 0.0
    rooms_of: dict[tuple[int, int, int], int] = {}
    timed_out_parts: set[int] = set()
    parts = _build_parts(problem)
    counter = _PlanCounter(problem)
    keeper = _PreviousPlan(problem, counter)
    lodgers_by_session: dict[int, list[Lodger]] = defaultdict(list)
    for lodger in problem.lodgers:
        lodgers_by_session[lodger.session_id].append(lodger)
    sizes = [len(part.groups) * len(part.pools) + 1 for part in parts]
    left = sum(sizes)
    for part, size in zip(parts, sizes, strict=True):
        lodgers = [x for sid in part.session_ids for x in lodgers_by_session[sid]]
        done = deadline.done_objective
        plan, cost, part_bound, solved = _solve_part(
            part, lodgers, problem, keeper, counter, deadline, num_workers, size / left, previous
        )
        deadline.done_objective = done + cost  # progress counts the plan kept, not every model solved
        left -= size
        rooms_of.update(plan)
        bound += min(part_bound, cost)
        deadline.done_bound = bound
        deadline.report()
        if cost <= math.ceil(part_bound - 1e-6):
            statuses.append("optimal")
        elif solved:
            statuses.append("feasible")
        else:
            statuses.append("timed_out")
            timed_out_parts.update(part.session_ids)
    assignments = [
        RoomAssignment(sid, learner, block, room) for (sid, learner, block), room in rooms_of.items()
    ]
    assignments.sort(key=lambda a: (a.session_id, a.learner_id, a.block))
    solution = _score(problem, assignments, combine_statuses(statuses), timed_out_parts)
    solution.best_bound = min(bound, solution.objective)
    solution.gap = relative_gap(solution.objective, solution.best_bound)
    solution.solve_seconds = deadline.solve_seconds
    solution.wall_seconds = deadline.elapsed()
    solution.parts = len(parts)
    return solution


def _solve_part(
    part: _Part,
    lodgers: list[Lodger],
    problem: RoomsProblem,
    keeper: _PreviousPlan,
    counter: _PlanCounter,
    deadline: Deadline,
    num_workers: int,
    share: float,
    previous: dict[tuple[int, int, int], int],
) -> tuple[dict[tuple[int, int, int], int], int, float, bool]:
    """The cheapest plan found for one part, its cost, a bound valid for every plan of the part, and whether
    CP-SAT found a plan at all (else the plan is the greedy one)."""
    plans: list[tuple[int, dict[tuple[int, int, int], int]]] = []
    if problem.previous:
        repaired = keeper.keep(part, lodgers)
        plans.append((counter.count(lodgers, repaired).objective, repaired))
    solved = False
    bound = 0.0
    # Measured on the synthetic year: CP-SAT's presolve turned a 0.2 s proof into no proof in 10 s on the
    # largest campus part (its bound stalled below zero), so these small models skip it.
    parameters = {"cp_model_presolve": False}
    for relaxed in (False, True):
        part_model = _PartModel(part, problem.weights, relaxed=relaxed)
        build(part_model)
        result = run_part(
            part_model.model,
            part_model.named,
            deadline,
            num_workers=num_workers,
            hints=_hints(part, previous) if not relaxed or not plans else _count_hints(part, plans),
            share=share / 2 if not relaxed else share,
            parameters=parameters,
        )
        if result.status not in ("optimal", "feasible"):
            continue
        if relaxed:
            bound = result.bound
        if relaxed and plans and min(c for c, _ in plans) <= math.ceil(bound - 1e-6):
            break
        solved = True
        chosen = _learner_pools(part, result.values)
        kept = _keepers(part, chosen, dict(result.values))
        lent = _lent_learners(part, chosen, result.values, part_model.lent_names, kept, previous)
        fitted = _first_fit(part, chosen, previous, problem.weights, deadline, num_workers, kept, lent)
        if problem.previous:
            fitted = keeper.give_back(part, lodgers, fitted)
        plans.append((counter.count(lodgers, fitted).objective, fitted))
    if not plans:
        greedy = keeper.keep(part, lodgers)
        plans.append((counter.count(lodgers, greedy).objective, greedy))
    cost, plan = min(plans, key=lambda candidate: candidate[0])
    if cost > math.ceil(bound - 1e-6) and _cells(part, lodgers) <= EXACT_CELLS:
        exact = _exact_part(part, lodgers, keeper, counter, plan, deadline, num_workers, share)
        if exact is not None:
            exact_plan, exact_bound = exact
            bound = max(bound, exact_bound)
            exact_cost = counter.count(lodgers, exact_plan).objective
            if exact_cost < cost:
                cost, plan, solved = exact_cost, exact_plan, True
    return plan, cost, bound, solved


def _count_hints(part: _Part, plans: list[tuple[int, dict[tuple[int, int, int], int]]]) -> dict[str, int]:
    """Start the relaxed counts from the best plan so far: how many of each group sleep in each pool."""
    _, plan = min(plans, key=lambda candidate: candidate[0])
    pool_of = {room.room_id: pool.index for pool in part.pools for room in pool.rooms}
    hints: dict[str, int] = defaultdict(int)
    for group in part.groups:
        for learner in group.members:
            room_id = plan.get((group.session_id, learner, group.block))
            if room_id in pool_of:
                hints[f"housed[group={group.key},pool={pool_of[room_id]}]"] += 1
    return hints


def _hints(part: _Part, previous: dict[tuple[int, int, int], int]) -> dict[str, int]:
    """Start from the previous plan where there is one: each learner where they were."""
    hints: dict[str, int] = {}
    for group in part.groups:
        if group.previous_pool is not None:
            hints[f"housed[group={group.key},pool={group.previous_pool}]"] = len(group.previous_rooms)
    return hints

"""Exact reference models of the rooms and practicum problems, written from docs/scheduler-json.md only.

They share nothing with the solvers but the input dataclasses: one boolean per learner (block) x room or
learner x site, every documented hard rule stated night by night or day by day, and the documented
objective. They are only fit for tiny instances, which is what they are for: the optimum they prove is the
yardstick for the solvers' "optimal" and "best_bound".
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from ortools.sat.python import cp_model

from scheduler.practicum import (
    PracticumLearner,
    PracticumPlacement,
    PracticumProblem,
    PracticumSession,
    PracticumSite,
    PracticumWeights,
)
from scheduler.rooms import (
    DormRoom,
    Lodger,
    LodgingSession,
    RoomAssignment,
    RoomOutage,
    RoomsProblem,
    RoomWeights,
    StayBlock,
)

DAY0 = date(2025, 6, 1)


@dataclass(frozen=True)
class Reference:
    """The proven optimum of a tiny instance."""

    optimum: int
    proven: bool
    plan: list = field(default_factory=list)  # practicum: (session, learner, site) of an optimal plan


def _nights(block: StayBlock) -> list[date]:
    return [block.first_day + timedelta(days=i) for i in range((block.last_day - block.first_day).days)]


def _may_sleep(lodger: Lodger, room: DormRoom) -> bool:
    """Women in women's or shared zones, men in men's or shared zones, unknown gender in a shared single,
    accessible rooms for who needs one (the rules as the JSON guide states them)."""
    if lodger.needs_accessible and not room.accessible:
        return False
    if lodger.gender is None:
        return room.zone == "any" and room.kind == "single"
    return room.zone in (("women", "any") if lodger.gender == "female" else ("men", "any"))


def _out_of_service(problem: RoomsProblem) -> dict[int, set[date]]:
    """The nights each room is out of service (outages are inclusive of both ends)."""
    out: dict[int, set[date]] = defaultdict(set)
    for o in problem.outages:
        out[o.room_id].update(
            o.first_night + timedelta(days=i) for i in range((o.last_night - o.first_night).days + 1)
        )
    return out


def rooms_reference(problem: RoomsProblem, seconds: float = 10.0) -> Reference:
    """The optimum of the documented rooms objective over every plan the documented hard rules allow."""
    model = cp_model.CpModel()
    sessions = {s.session_id: s for s in problem.sessions}
    out = _out_of_service(problem)
    w = problem.weights
    a: dict[tuple[int, int, int, int], cp_model.IntVar] = {}  # (session, learner, block, room)
    housed: dict[tuple[int, int, int], cp_model.LinearExprT] = {}
    cost: list[cp_model.LinearExprT] = []
    on_night: dict[tuple[int, date], list[tuple[cp_model.IntVar, tuple[int, str | None]]]] = defaultdict(list)
    for x in problem.lodgers:
        session = sessions[x.session_id]
        for b, block in enumerate(session.blocks):
            nights = _nights(block)
            if not nights:
                continue
            options = []
            for room in problem.rooms:
                if room.campus_id != session.campus_id or not _may_sleep(x, room):
                    continue
                if any(n in out[room.room_id] for n in nights):
                    continue
                v = model.new_bool_var(f"a{x.session_id}_{x.learner_id}_{b}_{room.room_id}")
                a[(x.session_id, x.learner_id, b, room.room_id)] = v
                options.append(v)
                for n in nights:
                    on_night[(room.room_id, n)].append((v, (x.session_id, x.gender)))
                if session.audience == "sme" and room.kind == "twin":
                    cost.append(w.sme_in_twin * v)
            model.add(sum(options) <= 1)
            housed[(x.session_id, x.learner_id, b)] = sum(options)
            cost.append(w.unhoused * (1 - sum(options)))
    rooms = {r.room_id: r for r in problem.rooms}
    for (room_id, _), people in on_night.items():
        beds = 2 if rooms[room_id].kind == "twin" else 1
        model.add(sum(v for v, _ in people) <= beds)
        classes = sorted({cls for _, cls in people}, key=str)
        if beds == 2 and len(classes) > 1:
            # a twin is shared only by two learners of one session and gender: one class per night
            used = {cls: model.new_bool_var("") for cls in classes}
            for v, cls in people:
                model.add_implication(v, used[cls])
            model.add(sum(used.values()) <= 1)
    for pin in problem.pins:
        model.add(a[(pin.session_id, pin.learner_id, pin.block, pin.room_id)] == 1)
    # room_change: each time a learner sleeps in another room than in their previous housed block
    for x in problem.lodgers:
        blocks = [b for b, blk in enumerate(sessions[x.session_id].blocks) if _nights(blk)]
        for i, bi in enumerate(blocks):
            for j in range(i + 1, len(blocks)):
                bj = blocks[j]
                between = [housed[(x.session_id, x.learner_id, blocks[m])] for m in range(i + 1, j)]
                consecutive = model.new_bool_var("")
                hi, hj = housed[(x.session_id, x.learner_id, bi)], housed[(x.session_id, x.learner_id, bj)]
                model.add(consecutive >= hi + hj - 1 - sum(between))
                same = []
                for room_id in rooms:
                    vi = a.get((x.session_id, x.learner_id, bi, room_id))
                    vj = a.get((x.session_id, x.learner_id, bj, room_id))
                    if vi is not None and vj is not None:
                        s = model.new_bool_var("")
                        model.add(s <= vi)
                        model.add(s <= vj)
                        same.append(s)
                change = model.new_bool_var("")
                model.add(change >= consecutive - sum(same))
                cost.append(w.room_change * change)
    # moved: each previous entry of a learner still enrolled who does not get that room for that block
    lodging = {(x.session_id, x.learner_id) for x in problem.lodgers}
    for p in problem.previous:
        blocks = sessions[p.session_id].blocks
        if (p.session_id, p.learner_id) not in lodging or not 0 <= p.block < len(blocks):
            continue
        if not _nights(blocks[p.block]):
            continue  # "entries for blocks without a night are ignored"
        v = a.get((p.session_id, p.learner_id, p.block, p.room_id))
        cost.append(w.moved * (1 - v) if v is not None else w.moved)
    model.minimize(sum(cost))
    return _solve(model, seconds)


def practicum_reference(problem: PracticumProblem, seconds: float = 10.0) -> Reference:
    """The optimum of the documented practicum objective over every plan the documented hard rules allow."""
    model = cp_model.CpModel()
    sessions = {s.session_id: s for s in problem.sessions}
    w = problem.weights

    def norm(name: str | None) -> str:
        return "".join((name or "").split()).casefold()

    s: dict[tuple[int, int, int], cp_model.IntVar] = {}
    cost: list[cp_model.LinearExprT] = []
    totals: dict[int, int] = defaultdict(int)
    for x in problem.learners:
        totals[x.session_id] += 1
    for x in problem.learners:
        session = sessions[x.session_id]
        options = []
        for site in problem.sites:
            if site.campus_id != session.campus_id or not set(session.days) <= set(site.available_days):
                continue
            mine = norm(x.company)
            if mine and (mine == norm(site.company) or mine in {norm(c) for c in site.excluded_companies}):
                continue
            if norm(site.company) in {norm(c) for c in x.competitors}:
                continue
            v = model.new_bool_var("")
            s[(x.session_id, x.learner_id, site.site_id)] = v
            options.append(v)
            cost.append(
                (w.travel_minutes * site.travel_minutes + w.industry_mismatch * (x.industry != site.industry))
                * v
            )
        model.add(sum(options) <= 1)
        cost.append(w.unplaced * (1 - sum(options)))
    groups: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    for (sid, _, site_id), v in s.items():
        groups[(sid, site_id)].append(v)
    per_day: dict[tuple[int, date], list[cp_model.IntVar]] = defaultdict(list)
    for (sid, site_id), members in groups.items():
        session = sessions[sid]
        opened = model.new_bool_var("")
        size = sum(members)
        model.add(size >= session.min_group_size * opened)
        model.add(size <= session.max_group_size * opened)
        cost.append(w.group_opened * opened)
        target = _balanced(totals[sid], session)
        above = model.new_int_var(0, len(members), "")
        model.add(above >= size - target)
        cost.append(w.group_above_balanced_size * above)
        for day in session.days:
            per_day[(site_id, day)].extend(members)
    capacity = {site.site_id: site.capacity_per_day for site in problem.sites}
    for (site_id, _), members in per_day.items():
        model.add(sum(members) <= capacity[site_id])
    for pin in problem.pins:
        model.add(s[(pin.session_id, pin.learner_id, pin.site_id)] == 1)
    enrolled = {(x.session_id, x.learner_id) for x in problem.learners}
    for p in problem.previous:
        if (p.session_id, p.learner_id) in enrolled:
            v = s.get((p.session_id, p.learner_id, p.site_id))
            cost.append(w.moved * (1 - v) if v is not None else w.moved)
    model.minimize(sum(cost))
    return _solve(model, seconds, s)


def _balanced(learners: int, session: PracticumSession) -> int:
    """The documented "balanced group size": the size of the fewest groups of at most max learners."""
    if learners <= 0:
        return session.max_group_size
    groups = math.ceil(learners / session.max_group_size)
    return max(session.min_group_size, math.ceil(learners / groups))


def _solve(model: cp_model.CpModel, seconds: float, chosen: dict | None = None) -> Reference:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 1
    code = solver.solve(model)
    assert code in (cp_model.OPTIMAL, cp_model.FEASIBLE), "the reference found no plan"
    plan = [key for key, var in (chosen or {}).items() if solver.boolean_value(var)]
    return Reference(round(solver.objective_value), code == cp_model.OPTIMAL, plan)


# ---------------------------------------------------------------------------------------------------
# Random tiny instances
# ---------------------------------------------------------------------------------------------------


def random_rooms_problem(rng: random.Random) -> RoomsProblem:
    """A tiny one- or two-campus year: mixed rooms and zones, long courses, outages, pins and a previous plan."""
    campuses = rng.choice([1, 1, 1, 2])
    rooms = []
    for room_id in range(1, rng.randint(3, 8) + 1):
        rooms.append(
            DormRoom(
                room_id,
                rng.randint(1, campuses),
                f"R{room_id}",
                rng.randint(1, 2),
                rng.choice(["single", "single", "twin"]),
                rng.choice(["any", "any", "women", "men"]),
                rng.random() < 0.25,
            )
        )
    sessions, lodgers = [], []
    learner = 0
    for sid in range(1, rng.randint(1, 4) + 1):
        blocks, day = [], rng.randint(0, 4)
        for _ in range(rng.choice([1, 1, 2, 3])):
            length = rng.choice([0, 1, 2, 3, 4]) if rng.random() < 0.1 else rng.randint(1, 4)
            blocks.append(StayBlock(DAY0 + timedelta(days=day), DAY0 + timedelta(days=day + length)))
            day += length + rng.randint(0, 4)
        audience = "sme" if rng.random() < 0.3 else "general"
        sessions.append(LodgingSession(sid, rng.randint(1, campuses), tuple(blocks), audience))
        for _ in range(rng.randint(1, 5)):
            learner += 1
            gender = rng.choice(["female", "male", "female", "male", None])
            lodgers.append(Lodger(learner, sid, gender, rng.random() < 0.15))
    outages = []
    for room in rooms:
        if rng.random() < 0.2:
            first = DAY0 + timedelta(days=rng.randint(0, 14))
            outages.append(RoomOutage(room.room_id, first, first + timedelta(days=rng.randint(0, 3))))
    problem = RoomsProblem(rooms, sessions, lodgers, outages)
    plan = random_valid_rooms_plan(problem, rng)
    problem.pins = [p for p in plan if rng.random() < 0.15]
    if rng.random() < 0.4:
        earlier = random_valid_rooms_plan(RoomsProblem(rooms, sessions, lodgers, outages, problem.pins), rng)
        problem.previous = [p for p in earlier if rng.random() < 0.8]
        if rng.random() < 0.5 and len(lodgers) > 1:  # a cancellation since the previous plan
            problem.lodgers = lodgers[1:]
            problem.pins = [p for p in problem.pins if p.learner_id != lodgers[0].learner_id]
    if rng.random() < 0.3:
        problem.weights = RoomWeights(
            unhoused=rng.choice([100, 1000]),
            moved=rng.choice([10, 100]),
            room_change=rng.choice([50, 200]),
            sme_in_twin=rng.choice([10, 40]),
        )
    return problem


def random_valid_rooms_plan(problem: RoomsProblem, rng: random.Random) -> list[RoomAssignment]:
    """A random plan that keeps every hard rule (and the problem's pins), built one stay at a time."""
    sessions = {s.session_id: s for s in problem.sessions}
    out = _out_of_service(problem)
    used: dict[tuple[int, date], list[tuple[int, str | None]]] = defaultdict(list)
    plan: list[RoomAssignment] = []
    gender = {(x.session_id, x.learner_id): x.gender for x in problem.lodgers}
    for pin in problem.pins:
        for n in _nights(sessions[pin.session_id].blocks[pin.block]):
            used[(pin.room_id, n)].append((pin.session_id, gender[(pin.session_id, pin.learner_id)]))
        plan.append(pin)
    pinned = {(p.session_id, p.learner_id, p.block) for p in problem.pins}
    stays = [
        (x, b)
        for x in problem.lodgers
        for b in range(len(sessions[x.session_id].blocks))
        if (x.session_id, x.learner_id, b) not in pinned and _nights(sessions[x.session_id].blocks[b])
    ]
    rng.shuffle(stays)
    for x, b in stays:
        session = sessions[x.session_id]
        nights = _nights(session.blocks[b])
        options = [
            r
            for r in problem.rooms
            if r.campus_id == session.campus_id
            and _may_sleep(x, r)
            and not out[r.room_id] & set(nights)
            and all(
                not used[(r.room_id, n)]
                or (
                    r.kind == "twin"
                    and len(used[(r.room_id, n)]) == 1
                    and used[(r.room_id, n)][0] == (x.session_id, x.gender)
                )
                for n in nights
            )
        ]
        if options and rng.random() < 0.9:
            room = rng.choice(options)
            for n in nights:
                used[(room.room_id, n)].append((x.session_id, x.gender))
            plan.append(RoomAssignment(x.session_id, x.learner_id, b, room.room_id))
    return plan


def random_practicum_problem(rng: random.Random) -> PracticumProblem:
    """A tiny practicum: a few sites and sessions sharing days, companies that exclude, pins and a previous plan."""
    campuses = rng.choice([1, 1, 2])
    companies = ["Acme", "Beta", "Cosmo", "Delta", "Echo"]
    days = [DAY0 + timedelta(days=i) for i in range(4)]
    sites = []
    for site_id in range(1, rng.randint(2, 5) + 1):
        available = tuple(d for d in days if rng.random() < 0.85)
        sites.append(
            PracticumSite(
                site_id,
                rng.randint(1, campuses),
                f"S{site_id}",
                rng.choice(companies),
                rng.choice("ABE"),
                rng.randint(5, 60),
                rng.randint(2, 9),
                available,
                tuple(c for c in companies if rng.random() < 0.15),
            )
        )
    sessions, learners = [], []
    learner = 0
    for sid in range(1, rng.randint(1, 3) + 1):
        chosen = tuple(sorted(rng.sample(days, rng.randint(1, 2))))
        low = rng.randint(1, 3)
        sessions.append(PracticumSession(sid, rng.randint(1, campuses), chosen, low, low + rng.randint(0, 4)))
        for _ in range(rng.randint(1, 8)):
            learner += 1
            learners.append(
                PracticumLearner(
                    learner,
                    sid,
                    rng.choice(companies),
                    rng.choice(["A", "B", "E", None]),
                    tuple(c for c in companies if rng.random() < 0.1),
                )
            )
    problem = PracticumProblem(sites, sessions, learners)
    if rng.random() < 0.4:  # pins taken from a valid plan, so that they can all be kept
        placed = practicum_reference(problem, seconds=2.0).plan
        problem.pins = [PracticumPlacement(*key) for key in placed if rng.random() < 0.3]
    if rng.random() < 0.4:
        problem.previous = [
            PracticumPlacement(x.session_id, x.learner_id, rng.choice(sites).site_id)
            for x in learners
            if rng.random() < 0.7
        ]
    if rng.random() < 0.3:
        problem.weights = PracticumWeights(unplaced=rng.choice([200, 1000]), moved=rng.choice([10, 100]))
    return problem

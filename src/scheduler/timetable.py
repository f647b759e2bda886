"""Campus timetable: place every module of every session in a half-day period and a classroom.

One CP-SAT model per campus and group of sessions sharing a day (sessions never cross campuses,
and sessions on different days never compete), one boolean per module × allowed start period ×
classroom big enough for the session, started from a constructive plan; the constructive plan
over every fitting classroom is kept when the validator scores it better. The model is elastic:
a module that cannot be placed is left out at a large penalty and explained in Japanese, so that
a plan is always returned. Instructors are assigned afterwards, year-wide, by :mod:`scheduler.instructors`.

Hard rules: a module lies inside one of its session's date blocks; its classroom is on the
session's campus, holds the session's learners and is open; no classroom and no session is in two
places at once; pinned placements are kept.

Soft rules (named, weighted, reported with their share of the objective): ``unplaced``,
``curriculum_order`` (modules keep their curriculum order), ``spread`` (a module on the day of the
session the curriculum intends), ``session_room`` (a session stays in one classroom) and ``change``
(minimal change against a previous plan).
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

from scheduler.timetable_types import (  # noqa: F401  (re-exported: the solver's public types)
    AFTERNOON,
    HALF_NAMES,
    MODULE_KINDS,
    MORNING,
    Classroom,
    DateBlock,
    Module,
    Period,
    Pin,
    Placement,
    Session,
    TimetableProblem,
    TimetableSolution,
    TimetableWeights,
    Unplaced,
    allowed_starts,
)
from scheduler.timetable_validate import validate_timetable

EXACT_CELLS = 2_000  # module x start x classroom options up to which every classroom that fits is offered


def overlap_groups(sessions: list[Session]) -> list[list[Session]]:
    """Sessions of one campus in groups that share a day (transitively), largest first.

    Nothing is lost: sessions on different days never compete for a classroom or a period, and
    every rule of the timetable stays inside one session.
    """
    parent = list(range(len(sessions)))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first: dict[date, int] = {}
    for k, sess in enumerate(sessions):
        for d in sess.days():
            parent[find(k)] = find(first.setdefault(d, k))
    groups: dict[int, list[Session]] = defaultdict(list)
    for k, sess in enumerate(sessions):
        groups[find(k)].append(sess)
    return sorted(groups.values(), key=lambda g: (-sum(len(x.modules) for x in g), g[0].id))


def solve_timetable(problem: TimetableProblem) -> TimetableSolution:
    """Place all modules within ``problem.time_limit`` seconds in total: each campus, and in it
    each group of sessions sharing a day (``overlap_groups``), is its own model; the time is shared
    in proportion to the modules."""
    start = time.monotonic()
    campuses = sorted({s.campus for s in problem.sessions})
    placements: list[Placement] = []
    unplaced: list[Unplaced] = []
    terms: dict[str, int] = defaultdict(int)
    statuses = []
    parts = [g for c in campuses for g in overlap_groups([s for s in problem.sessions if s.campus == c])]
    left_modules = sum(len(s.modules) for s in problem.sessions) or 1
    for group in parts:
        size = sum(len(s.modules) for s in group) or 1
        left = problem.time_limit - (time.monotonic() - start)
        budget = max(0.1, left * size / left_modules)
        left_modules -= size
        sub = dataclasses.replace(problem, sessions=tuple(group))
        status, p, u, t = _solve_campus(sub, group[0].campus, budget)
        statuses.append(status)
        placements += p
        unplaced += u
        for name, v in t.items():
            terms[name] += v
    order = ["infeasible", "timed_out", "feasible", "optimal"]
    status = min(statuses, key=order.index) if statuses else "optimal"
    if status != "infeasible":
        # Report the true penalties of the plan returned: in a merely feasible CP-SAT solution a
        # penalty variable may still sit above what the plan really costs.
        terms = validate_timetable(problem, placements).penalties
    objective = sum(terms.values())
    shares = {k: (v / objective if objective else 0.0) for k, v in terms.items()}
    return TimetableSolution(
        status, placements, unplaced, objective, dict(terms), shares, time.monotonic() - start
    )


def _precheck(session: Session, module: Module, rooms: list[Classroom]) -> str | None:
    """Plain reasons a module can never be placed, found without a solver."""
    if not any(r.capacity >= session.learners for r in rooms):
        return f"{session.campus}に定員{session.learners}名以上の教室がありません"
    if not allowed_starts(session, module):
        return f"開講回{session.id}の日程ブロックに配置できる時限がありません"
    need = sum(m.half_days for m in session.modules)
    have = 2 * len(session.days())
    if need > have:
        return f"開講回{session.id}のモジュールは計{need}コマですが、日程ブロックには{have}コマしかありません"
    return None


def _solve_campus(
    problem: TimetableProblem, campus: str, seconds: float, prune: bool = True
) -> tuple[str, list[Placement], list[Unplaced], dict[str, int]]:
    from ortools.sat.python import cp_model

    began = time.monotonic()

    w = problem.weights
    sessions = [s for s in problem.sessions if s.campus == campus]
    rooms = [r for r in problem.classrooms if r.campus == campus]
    pins = {p.module_id: p for p in problem.pins}
    previous = {p.module_id: p for p in problem.previous}
    m = cp_model.CpModel()
    y: dict[tuple[str, Period, str], Any] = {}
    of_module: dict[str, list[tuple[Period, str, Any]]] = defaultdict(list)
    placed: dict[str, Any] = {}
    module_of: dict[str, tuple[Session, Module]] = {}
    session_at: dict[tuple[str, Period], list[Any]] = defaultdict(list)
    room_at: dict[tuple[str, Period], list[Any]] = defaultdict(list)
    terms: dict[str, list[Any]] = defaultdict(list)
    reasons: dict[str, str] = {}
    fits_of: dict[str, list[Classroom]] = {}
    # Every classroom that fits, while the model stays small; beyond that, each session's smallest
    # (``rooms_per_session``). A pruned model's optimum is not the problem's, so it is never "optimal".
    cells = sum(
        len(s.modules) * 2 * len(s.days()) * sum(1 for r in rooms if r.capacity >= s.learners)
        for s in sessions
    )
    pruned = False
    for s in sessions:
        # The smallest classrooms that fit (a big one is wasted on a small session), plus any
        # classroom a pin or the previous plan names: keeps the model small at year scale.
        named = {p.classroom for p in problem.pins if p.module_id in {m.id for m in s.modules}}
        named |= {p.classroom for p in problem.previous if p.session_id == s.id}
        every = sorted((r for r in rooms if r.capacity >= s.learners), key=lambda r: (r.capacity, r.id))
        fits = every
        if prune and cells > EXACT_CELLS:
            fits = [r for k, r in enumerate(every) if k < problem.rooms_per_session or r.id in named]
        pruned = pruned or len(fits) < len(every)
        fits_of[s.id] = fits
        for mod in s.modules:
            module_of[mod.id] = (s, mod)
            reason = _precheck(s, mod, rooms)
            if reason:
                reasons[mod.id] = reason
            placed[mod.id] = m.new_bool_var(f"placed[module={mod.id}]")
            lits = []
            pin = pins.get(mod.id)
            for st in allowed_starts(s, mod):
                if pin and pin.start != st:
                    continue
                covers = Placement(mod.id, s.id, st, "", mod.half_days).periods()
                for r in fits:
                    if (pin and pin.classroom and pin.classroom != r.id) or any(
                        p in r.unavailable for p in covers
                    ):
                        continue
                    lit = y[mod.id, st, r.id] = m.new_bool_var(
                        f"at[module={mod.id},start={st.label()},room={r.id}]"
                    )
                    of_module[mod.id].append((st, r.id, lit))
                    lits.append(lit)
                    for p in covers:
                        session_at[s.id, p].append(lit)
                        room_at[r.id, p].append(lit)
            m.add(sum(lits) == placed[mod.id])
            if pin:
                m.add(placed[mod.id] == 1)  # a pin the model cannot honour makes it infeasible
            terms["unplaced"].append(w.unplaced * (1 - placed[mod.id]))
            prev = previous.get(mod.id)
            if prev is not None:
                same = y.get((mod.id, prev.start, prev.classroom))
                moved = m.new_bool_var(f"changed[module={mod.id}]")
                m.add(moved >= 1 - (same if same is not None else 0))
                terms["change"].append(w.change * moved)
    # No session and no classroom in two places at once.
    for lits in [*session_at.values(), *room_at.values()]:
        if len(lits) > 1:
            m.add_at_most_one(lits)
    for s in sessions:
        days = s.days()
        index = {p: 2 * days.index(p.day) + p.half for p in (Period(d, h) for d in days for h in (0, 1))}

        def start_of(mod: Module, index: dict[Period, int] = index) -> Any:
            return sum(index[st] * lit for st, _r, lit in of_module[mod.id])

        # Curriculum order: the next module starts after this one ends (when both are placed).
        chain = sorted(s.modules, key=lambda mod: mod.order)
        for a, b in itertools.pairwise(chain):
            if a.order == b.order:
                continue
            late = m.new_bool_var(f"out_of_order[session={s.id},module={b.id}]")
            m.add(start_of(b) >= start_of(a) + a.half_days).only_enforce_if(
                [placed[a.id], placed[b.id], late.Not()]
            )
            terms["curriculum_order"].append(w.curriculum_order * late)
        # Spread: the day the curriculum intends.
        for mod in s.modules:
            if mod.target_day is None:
                continue
            day = sum(days.index(st.day) * lit for st, _r, lit in of_module[mod.id])
            dev = m.new_int_var(0, len(days), f"days_off_target[module={mod.id}]")
            m.add(dev >= day - mod.target_day).only_enforce_if(placed[mod.id])
            m.add(dev >= mod.target_day - day).only_enforce_if(placed[mod.id])
            terms["spread"].append(w.spread * dev)
        # One classroom per session.
        in_room: dict[str, list[Any]] = defaultdict(list)
        for mod in s.modules:
            for _st, rid, lit in of_module[mod.id]:
                in_room[rid].append(lit)
        used = []
        for r in rooms:
            lits = in_room.get(r.id, [])
            if lits:
                u = m.new_bool_var(f"session_room[session={s.id},room={r.id}]")
                for lit in lits:
                    m.add_implication(lit, u)
                used.append(u)
        if used:
            extra = m.new_int_var(0, len(used), f"extra_rooms[session={s.id}]")
            m.add(extra >= sum(used) - 1)
            terms["session_room"].append(w.session_room * extra)
    m.minimize(sum(v for vs in terms.values() for v in vs))
    # A complete plan from the start: the constructive one, given as a hint.
    built = _constructive(problem, sessions, fits_of)
    at = {(p.module_id, p.start, p.classroom) for p in built}
    for key, lit in y.items():
        m.add_hint(lit, key in at)
    done = {p.module_id for p in built}
    for mid, lit in placed.items():
        m.add_hint(lit, mid in done)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = problem.num_workers
    solver.parameters.random_seed = problem.seed
    code = solver.solve(m)
    if code == cp_model.INFEASIBLE and pruned:
        # Only the pins make a model infeasible, and a pin without a classroom may need one the
        # pruning left out (the smallest closed or taken then): ask again over every one that fits.
        return _solve_campus(problem, campus, max(0.1, seconds - (time.monotonic() - began)), prune=False)
    if code == cp_model.INFEASIBLE:
        out = [
            Unplaced(
                p.module_id, "固定（ピン留め）された配置が守れません：時限・教室・他の固定と矛盾しています"
            )
            for p in problem.pins
            if p.module_id in module_of
        ]
        return "infeasible", [], out, {}
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # The constructive plan over the model's classrooms or over every classroom that fits.
        narrow, wide = (_greedy_campus(problem, sessions, rooms, reasons, x) for x in (built, None))
        return min(narrow, wide, key=lambda r: sum(r[3].values()))
    placements = [
        Placement(mid, module_of[mid][0].id, st, rid, module_of[mid][1].half_days)
        for (mid, st, rid), lit in y.items()
        if solver.value(lit)
    ]
    unplaced = [
        Unplaced(
            mid,
            reasons.get(
                mid,
                "空いている時限と教室の組み合わせが残っていません（教室・開講回の他のモジュールと重なります）",
            ),
        )
        for mid, lit in placed.items()
        if not solver.value(lit)
    ]
    values = {name: int(sum(solver.value(v) for v in vs)) for name, vs in terms.items()}
    status = "optimal" if code == cp_model.OPTIMAL and not pruned else "feasible"
    # Keep the constructive plan over every classroom that fits if it is better: CP-SAT may have
    # stopped early, and the model offers each session only its smallest classrooms.
    _, built_wide, left_out, own = _greedy_campus(problem, sessions, rooms, reasons)
    if sum(own.values()) < sum(_penalties(problem, sessions, rooms, placements).values()):
        return "feasible", built_wide, left_out, own
    return status, placements, unplaced, values


def _greedy_campus(
    problem: TimetableProblem,
    sessions: list[Session],
    rooms: list[Classroom],
    reasons: dict[str, str],
    placements: list[Placement] | None = None,
) -> tuple[str, list[Placement], list[Unplaced], dict[str, int]]:
    """Last resort when CP-SAT found no plan in time: the constructive plan (``_constructive``),
    with every classroom that fits offered, unless ``placements`` is given."""
    if placements is None:
        fits = {
            s.id: sorted((r for r in rooms if r.capacity >= s.learners), key=lambda r: (r.capacity, r.id))
            for s in sessions
        }
        placements = _constructive(problem, sessions, fits)
    done = {p.module_id for p in placements}
    unplaced = [
        Unplaced(
            mod.id, reasons.get(mod.id, "制限時間内に最適化できず、簡易配置でも空きが見つかりませんでした")
        )
        for s in sessions
        for mod in s.modules
        if mod.id not in done
    ]
    return "timed_out", placements, unplaced, _penalties(problem, sessions, rooms, placements)


def _penalties(
    problem: TimetableProblem, sessions: list[Session], rooms: list[Classroom], placements: list[Placement]
) -> dict[str, int]:
    """The validator's penalties of a plan for these sessions only."""
    ids = {s.id for s in sessions}
    part = TimetableProblem(
        tuple(sessions),
        tuple(rooms),
        tuple(p for p in problem.pins if any(p.module_id in {m.id for m in s.modules} for s in sessions)),
        tuple(p for p in problem.previous if p.session_id in ids),
        problem.weights,
    )
    return validate_timetable(part, placements).penalties


def _constructive(
    problem: TimetableProblem, sessions: list[Session], fits: Mapping[str, list[Classroom]]
) -> list[Placement]:
    """A constructive plan (milliseconds): pins first, then each session's modules in curriculum
    order on its consecutive half days, kept in one classroom (of ``fits``) where one is free; a
    module of the previous plan stays where it was when that is still possible."""
    room_busy: set[tuple[str, Period]] = set()
    session_busy: set[tuple[str, Period]] = set()
    out: list[Placement] = []
    pins = {p.module_id: p for p in problem.pins}
    previous = {p.module_id: p for p in problem.previous}

    def free(sess: Session, room: Classroom, cover: list[Period]) -> bool:
        return all(
            (room.id, p) not in room_busy and (sess.id, p) not in session_busy and p not in room.unavailable
            for p in cover
        )

    def take(sess: Session, mod: Module, start: Period, room: str) -> None:
        placement = Placement(mod.id, sess.id, start, room, mod.half_days)
        for p in placement.periods():
            room_busy.add((room, p))
            session_busy.add((sess.id, p))
        out.append(placement)

    order = sorted(sessions, key=lambda s: (s.days()[0] if s.days() else date.min, -s.learners, s.id))
    for sess in order:  # pins are hard: place them before anything else
        for mod in sess.modules:
            pin = pins.get(mod.id)
            if pin is None or pin.start not in allowed_starts(sess, mod):
                continue
            cover = Placement(mod.id, sess.id, pin.start, "", mod.half_days).periods()
            choices = [r for r in fits[sess.id] if pin.classroom in (None, r.id)]
            room = next((r for r in choices if free(sess, r, cover)), None)
            if room is not None:
                take(sess, mod, pin.start, room.id)
    done = {p.module_id for p in out}
    for sess in order:
        rooms = fits[sess.id]
        by_id = {r.id: r for r in rooms}
        periods = [Period(d, h) for d in sess.days() for h in (MORNING, AFTERNOON)]
        todo = [m for m in sorted(sess.modules, key=lambda m: m.order) if m.id not in done]
        for mod in list(todo):  # minimal change: keep what the previous plan had, where still possible
            prev = previous.get(mod.id)
            if prev and prev.classroom in by_id and prev.start in allowed_starts(sess, mod):
                cover = Placement(mod.id, sess.id, prev.start, "", mod.half_days).periods()
                if free(sess, by_id[prev.classroom], cover):
                    take(sess, mod, prev.start, prev.classroom)
                    todo.remove(mod)
        home = next((r for r in rooms if all(free(sess, r, [p]) for p in periods)), None)
        for p in periods:
            if not todo or (sess.id, p) in session_busy:
                continue
            # The next module in curriculum order; in an afternoon, the next half-day module.
            candidates = todo if p.half == MORNING else [m for m in todo if m.half_days == 1]
            for mod in candidates[:2]:
                cover = Placement(mod.id, sess.id, p, "", mod.half_days).periods()
                choices = ([home] if home else []) + [r for r in rooms if r is not home]
                room = next((r for r in choices if free(sess, r, cover)), None)
                if room is not None:
                    take(sess, mod, p, room.id)
                    todo.remove(mod)
                    break
    return out

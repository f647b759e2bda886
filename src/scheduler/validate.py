"""An independent checker: re-reads a solution against its problem from scratch and lists every broken rule.

Nothing here reuses the solvers' pools, groups or counts: it walks the concrete assignments night by
night (rooms) and day by day (practicum), so a bug in a model cannot hide itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler.practicum.types import PracticumProblem, PracticumSolution
    from scheduler.rooms.types import DormRoom, RoomAssignment, RoomsProblem, RoomsSolution


@dataclass(frozen=True)
class Violation:
    """One broken rule: a machine-readable ``kind``, a Japanese ``message``, and what it concerns."""

    kind: str
    message: str
    session_id: int | None = None
    learner_id: int | None = None
    room_id: int | None = None
    site_id: int | None = None
    day: date | None = None


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


# ---------------------------------------------------------------------------------------------------
# Rooms
# ---------------------------------------------------------------------------------------------------


def validate_rooms(problem: RoomsProblem, solution: RoomsSolution) -> list[Violation]:
    """Every hard dormitory rule the plan breaks; an empty list means the plan is sound."""
    rooms = {r.room_id: r for r in problem.rooms}
    sessions = {s.session_id: s for s in problem.sessions}
    lodgers = {(x.session_id, x.learner_id): x for x in problem.lodgers}
    out: dict[int, set[date]] = defaultdict(set)
    for outage in problem.outages:
        day = outage.first_night
        while day <= outage.last_night:
            out[outage.room_id].add(day)
            day += timedelta(days=1)
    found: list[Violation] = []
    seen: set[tuple[int, int, int]] = set()
    occupants: dict[tuple[int, date], list[tuple[int, int, str | None]]] = defaultdict(list)
    for a in solution.assignments:
        lodger = lodgers.get((a.session_id, a.learner_id))
        session = sessions.get(a.session_id)
        room = rooms.get(a.room_id)
        who = f"研修{a.session_id}の受講者{a.learner_id}"
        if lodger is None or session is None or room is None or not 0 <= a.block < len(session.blocks):
            found.append(
                Violation(
                    "unknown", f"{who}：存在しない受講者・期間・部屋への割当て", a.session_id, a.learner_id
                )
            )
            continue
        if (a.session_id, a.learner_id, a.block) in seen:
            found.append(
                Violation(
                    "same_room_whole_block",
                    f"{who}：同じ期間に複数の部屋が割り当てられています",
                    a.session_id,
                    a.learner_id,
                    a.room_id,
                )
            )
        seen.add((a.session_id, a.learner_id, a.block))
        if room.campus_id != session.campus_id:
            found.append(
                Violation(
                    "campus", f"{who}：別の校の部屋{room.label}です", a.session_id, a.learner_id, a.room_id
                )
            )
        found.extend(
            _zone_rules(who, lodger.gender, lodger.needs_accessible, room, a.session_id, a.learner_id)
        )
        block = session.blocks[a.block]
        night = block.first_day
        while night < block.last_day:
            occupants[(a.room_id, night)].append((a.session_id, a.learner_id, lodger.gender))
            if night in out[a.room_id]:
                found.append(
                    Violation(
                        "out_of_service",
                        f"{_md(night)}の夜、使用停止中の部屋{room.label}に{who}が割り当てられています",
                        a.session_id,
                        a.learner_id,
                        a.room_id,
                        day=night,
                    )
                )
            night += timedelta(days=1)
    found.extend(_bed_rules(occupants, rooms))
    found.extend(_pin_rules(problem, solution))
    found.extend(_unreported(problem, solution, seen))
    return found


def _zone_rules(
    who: str, gender: str | None, needs_accessible: bool, room: DormRoom, session_id: int, learner_id: int
) -> list[Violation]:
    """Women sleep in women's or shared zones, men in men's or shared zones, the unknown in shared singles;
    whoever needs an accessible room has one."""
    found: list[Violation] = []
    zone, kind, accessible, label, rid = room.zone, room.kind, room.accessible, room.label, room.room_id
    if gender == "female" and zone == "men":
        found.append(
            Violation("zone", f"{who}（女性）が男性用の部屋{label}にいます", session_id, learner_id, rid)
        )
    if gender == "male" and zone == "women":
        found.append(
            Violation("zone", f"{who}（男性）が女性用の部屋{label}にいます", session_id, learner_id, rid)
        )
    if gender is None and (zone != "any" or kind != "single"):
        found.append(
            Violation(
                "zone",
                f"{who}（性別未登録）は共用区画の個室に限られます（{label}）",
                session_id,
                learner_id,
                rid,
            )
        )
    if needs_accessible and not accessible:
        found.append(
            Violation(
                "accessibility",
                f"{who}はバリアフリー対応の部屋が必要ですが{label}は対応していません",
                session_id,
                learner_id,
                rid,
            )
        )
    return found


def _bed_rules(
    occupants: dict[tuple[int, date], list[tuple[int, int, str | None]]], rooms: dict[int, DormRoom]
) -> list[Violation]:
    """No bed is double-booked on any night; a twin is shared only by two learners of one session and gender."""
    found: list[Violation] = []
    for (room_id, night), people in sorted(occupants.items()):
        room = rooms[room_id]
        beds = 2 if room.kind == "twin" else 1
        label = room.label
        if len(people) > beds:
            found.append(
                Violation(
                    "double_booking",
                    f"{_md(night)}の夜、部屋{label}（{beds}床）に{len(people)}名が割り当てられています",
                    people[0][0],
                    people[0][1],
                    room_id,
                    day=night,
                )
            )
        elif len(people) == 2:
            (s1, _, g1), (s2, _, g2) = people
            if s1 != s2 or g1 != g2 or g1 is None:
                found.append(
                    Violation(
                        "twin_sharing",
                        f"{_md(night)}の夜、ツイン{label}を別の研修または性別の2名が共用しています",
                        s1,
                        people[0][1],
                        room_id,
                        day=night,
                    )
                )
    return found


def _pin_rules(problem: RoomsProblem, solution: RoomsSolution) -> list[Violation]:
    """A learner pinned to a room keeps exactly that room for the pinned block."""
    given = {(a.session_id, a.learner_id, a.block): a.room_id for a in solution.assignments}
    found: list[Violation] = []
    for pin in problem.pins:
        got = given.get((pin.session_id, pin.learner_id, pin.block))
        if got != pin.room_id:
            found.append(
                Violation(
                    "pin",
                    f"研修{pin.session_id}の受講者{pin.learner_id}：固定された部屋{pin.room_id}ではなく{got}です",
                    pin.session_id,
                    pin.learner_id,
                    pin.room_id,
                )
            )
    return found


def _unreported(
    problem: RoomsProblem, solution: RoomsSolution, housed: set[tuple[int, int, int]]
) -> list[Violation]:
    """A learner left without a room for a block with nights must be listed as unhoused, with a reason."""
    listed = {(u.session_id, u.learner_id, u.block) for u in solution.unhoused if u.reason}
    sessions = {s.session_id: s for s in problem.sessions}
    found: list[Violation] = []
    for lodger in problem.lodgers:
        session = sessions.get(lodger.session_id)
        if session is None:
            continue
        for b, block in enumerate(session.blocks):
            key = (lodger.session_id, lodger.learner_id, b)
            if block.last_day > block.first_day and key not in housed and key not in listed:
                found.append(
                    Violation(
                        "unreported_unhoused",
                        f"研修{lodger.session_id}の受講者{lodger.learner_id}：部屋がなく、理由も示されていません",
                        lodger.session_id,
                        lodger.learner_id,
                    )
                )
    return found


def rooms_cost(problem: RoomsProblem, assignments: list[RoomAssignment]) -> int:
    """The documented rooms objective of a plan, counted from the assignments alone (docs/scheduler-json.md):
    ``unhoused`` per learner and block with a night and no room, ``sme_in_twin`` per learner and block of
    an "sme" session in a twin, ``room_change`` each time a learner's room differs from the one of their
    previous housed block, ``moved`` per previous entry (of a learner still lodging, for a block with a
    night) whose room is not the one given now."""
    w = problem.weights
    sessions = {s.session_id: s for s in problem.sessions}
    rooms = {r.room_id: r for r in problem.rooms}
    given = {(a.session_id, a.learner_id, a.block): a.room_id for a in assignments}
    cost = 0
    for lodger in problem.lodgers:
        session = sessions[lodger.session_id]
        last_room: int | None = None
        for b, block in enumerate(session.blocks):
            if block.last_day <= block.first_day:
                continue
            room = given.get((lodger.session_id, lodger.learner_id, b))
            if room is None:
                cost += w.unhoused
                continue
            if session.audience == "sme" and rooms[room].kind == "twin":
                cost += w.sme_in_twin
            if last_room is not None and room != last_room:
                cost += w.room_change
            last_room = room
    lodging = {(x.session_id, x.learner_id) for x in problem.lodgers}
    for p in problem.previous:
        if (p.session_id, p.learner_id) not in lodging:
            continue  # a learner no longer lodging is not counted as moved
        blocks = sessions[p.session_id].blocks
        if not 0 <= p.block < len(blocks):
            continue
        block = blocks[p.block]
        if block.last_day > block.first_day and given.get((p.session_id, p.learner_id, p.block)) != p.room_id:
            cost += w.moved
    return cost


# ---------------------------------------------------------------------------------------------------
# Practicum
# ---------------------------------------------------------------------------------------------------


def validate_practicum(problem: PracticumProblem, solution: PracticumSolution) -> list[Violation]:
    """Every hard practicum rule the plan breaks; an empty list means the plan is sound."""
    sites = {s.site_id: s for s in problem.sites}
    sessions = {s.session_id: s for s in problem.sessions}
    learners = {(x.session_id, x.learner_id): x for x in problem.learners}
    found: list[Violation] = []
    placed: dict[tuple[int, int], int] = {}
    group_sizes: dict[tuple[int, int], int] = defaultdict(int)
    per_day: dict[tuple[int, date], int] = defaultdict(int)
    for p in solution.placements:
        who = f"研修{p.session_id}の受講者{p.learner_id}"
        learner = learners.get((p.session_id, p.learner_id))
        site = sites.get(p.site_id)
        session = sessions.get(p.session_id)
        if learner is None or site is None or session is None:
            found.append(
                Violation(
                    "unknown", f"{who}：存在しない受講者・研修・実習先への配置", p.session_id, p.learner_id
                )
            )
            continue
        if (p.session_id, p.learner_id) in placed:
            found.append(
                Violation(
                    "duplicate",
                    f"{who}が複数の実習先に配置されています",
                    p.session_id,
                    p.learner_id,
                    site_id=p.site_id,
                )
            )
            continue
        placed[(p.session_id, p.learner_id)] = p.site_id
        group_sizes[(p.session_id, p.site_id)] += 1
        if site.campus_id != session.campus_id:
            found.append(
                Violation(
                    "campus",
                    f"{who}：実習先{site.name}は別の校の近くです",
                    p.session_id,
                    p.learner_id,
                    site_id=site.site_id,
                )
            )
        mine = _norm(learner.company)
        if mine and mine == _norm(site.company):
            found.append(
                Violation(
                    "own_company",
                    f"{who}：自社（{site.name}）に配置されています",
                    p.session_id,
                    p.learner_id,
                    site_id=site.site_id,
                )
            )
        if mine and mine in {_norm(c) for c in site.excluded_companies}:
            found.append(
                Violation(
                    "excluded_company",
                    f"{who}：実習先{site.name}が受入れを断っている会社の社員です",
                    p.session_id,
                    p.learner_id,
                    site_id=site.site_id,
                )
            )
        if _norm(site.company) in {_norm(c) for c in learner.competitors}:
            found.append(
                Violation(
                    "competitor",
                    f"{who}：競合先（{site.name}）に配置されています",
                    p.session_id,
                    p.learner_id,
                    site_id=site.site_id,
                )
            )
        available = set(site.available_days)
        for day in session.days:
            per_day[(site.site_id, day)] += 1
            if day not in available:
                found.append(
                    Violation(
                        "site_unavailable",
                        f"{_md(day)}、実習先{site.name}は受入れできない日です（{who}）",
                        p.session_id,
                        p.learner_id,
                        site_id=site.site_id,
                        day=day,
                    )
                )
    for (site_id, day), count in sorted(per_day.items()):
        site = sites[site_id]
        if count > site.capacity_per_day:
            found.append(
                Violation(
                    "site_capacity",
                    f"{_md(day)}、実習先{site.name}の受入れ{count}名が上限{site.capacity_per_day}名を超えています",
                    site_id=site_id,
                    day=day,
                )
            )
    for (session_id, site_id), size in sorted(group_sizes.items()):
        session = sessions[session_id]
        if not session.min_group_size <= size <= session.max_group_size:
            found.append(
                Violation(
                    "group_size",
                    f"研修{session_id}の実習先{sites[site_id].name}のグループが{size}名で、"
                    f"{session.min_group_size}〜{session.max_group_size}名の範囲外です",
                    session_id,
                    site_id=site_id,
                )
            )
    for pin in problem.pins:
        if placed.get((pin.session_id, pin.learner_id)) != pin.site_id:
            found.append(
                Violation(
                    "pin",
                    f"研修{pin.session_id}の受講者{pin.learner_id}：固定された実習先{pin.site_id}に配置されていません",
                    pin.session_id,
                    pin.learner_id,
                    site_id=pin.site_id,
                )
            )
    listed = {(u.session_id, u.learner_id) for u in solution.unplaced if u.reason}
    for key in learners:
        if key not in placed and key not in listed:
            found.append(
                Violation(
                    "unreported_unplaced",
                    f"研修{key[0]}の受講者{key[1]}：実習先がなく、理由も示されていません",
                    key[0],
                    key[1],
                )
            )
    return found


def _norm(name: str | None) -> str:
    """Company names compare without surrounding spaces, case or full-width/half-width spacing differences."""
    return "".join((name or "").split()).casefold()

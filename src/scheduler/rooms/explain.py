"""Telling a person why: which learners were left without a room, on which nights rooms of which kind ran
out, and what would resolve it (in Japanese).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date

from scheduler.rooms.check import _out_nights, room_fits
from scheduler.rooms.types import (
    CATEGORY_LABELS,
    DormRoom,
    Lodger,
    RoomAssignment,
    RoomShortage,
    RoomsProblem,
    UnhousedLearner,
)


def category_of(gender: str | None, needs_accessible: bool) -> str:
    """The shortage category a learner is counted in when explaining why they were not housed."""
    if needs_accessible:
        return "accessible"
    if gender is None:
        return "unknown_gender"
    return "women" if gender == "female" else "men"


def jp_date(day: date) -> str:
    return f"{day.month}月{day.day}日"


# ---------------------------------------------------------------------------------------------------
# Telling a person why
# ---------------------------------------------------------------------------------------------------


def explain_unhoused(
    problem: RoomsProblem,
    assignments: list[RoomAssignment],
    unhoused: list[tuple[Lodger, int]],
    timed_out_sessions: set[int] | None = None,
) -> tuple[list[UnhousedLearner], list[RoomShortage]]:
    """Say, in Japanese, on which nights rooms of which kind ran out for the learners left without one.

    A learner is blamed on the nights of their block on which no room that suits them has a free bed in
    the final plan; when some of those nights are over-full by a plain bed count (``_over_full``), only
    those, so a learner who loses a block because of one night is told that night and no other. A shortage
    lists every such night with the rooms missing (the bed count's deficit, or else the learners blamed
    that night), the sessions concerned, and what would resolve it where something would
    (``_resolution``). In a part the solver had no time for, a learner not blamed on an over-full night
    is reported as left out for want of time (``code`` "timed_out"), never as a shortage.
    """
    timed_out_sessions = timed_out_sessions or set()
    sessions = {s.session_id: s for s in problem.sessions}
    genders = {(x.session_id, x.learner_id): x.gender for x in problem.lodgers}
    out = _out_nights(problem)
    used: dict[tuple[int, int], list[tuple[int, str | None]]] = defaultdict(list)
    for a in assignments:
        gender = genders.get((a.session_id, a.learner_id))
        for night in sessions[a.session_id].blocks[a.block].nights():
            used[(a.room_id, night.toordinal())].append((a.session_id, gender))
    by_campus: dict[int, list[DormRoom]] = defaultdict(list)
    for room in problem.rooms:
        by_campus[room.campus_id].append(room)
    over_full = _over_full(problem)
    short: dict[tuple[int, str, int], list[Lodger]] = defaultdict(list)
    people: list[UnhousedLearner] = []
    for lodger, b in unhoused:
        session = sessions[lodger.session_id]
        block = session.blocks[b]
        category = category_of(lodger.gender, lodger.needs_accessible)
        label = CATEGORY_LABELS[category]
        suitable = [
            r for r in by_campus[session.campus_id] if room_fits(lodger.gender, lodger.needs_accessible, r)
        ]
        tight = [
            night.toordinal()
            for night in block.nights()
            if not any(_has_bed(room, night.toordinal(), out, used, lodger) for room in suitable)
        ]
        real = [n for n in tight if (session.campus_id, category, n) in over_full]
        blamed = real or ([] if lodger.session_id in timed_out_sessions else tight)
        nights = tuple(date.fromordinal(n) for n in blamed)
        first, last = block.nights()[0], block.nights()[-1]
        for n in blamed:
            short[(session.campus_id, category, n)].append(lodger)
        if not suitable:
            code, reason = "no_suitable_room", f"研修{lodger.session_id}の会場の寮に{label}の部屋がありません"
        elif blamed:
            days = "、".join(jp_date(day) for day in nights[:5]) + ("ほか" if len(nights) > 5 else "")
            code, reason = "shortage", f"{days}の夜、{label}の空き室がありません"
        elif lodger.session_id in timed_out_sessions:
            code = "timed_out"
            reason = "制限時間内に部屋割りが終わりませんでした（空き室はあります。時間を延ばして再実行してください）"
        else:
            code = "no_room_whole_block"
            reason = f"{jp_date(first)}から{jp_date(last)}の夜まで通して空いている{label}の部屋がありません"
        people.append(
            UnhousedLearner(lodger.session_id, lodger.learner_id, b, category, reason, code, nights)
        )
    counts = {
        key: (over_full[key][0] if key in over_full else len(who), [x.session_id for x in who])
        for key, who in short.items()
    }
    runs = _shortage_runs(counts)
    return people, [_with_resolution(run, short, by_campus, out, used) for run in runs]


def _over_full(problem: RoomsProblem) -> dict[tuple[int, str, int], tuple[int, list[int]]]:
    """(campus, category, night) -> (beds missing, sessions) where a plain bed count shows more learners
    of a category than beds they could use, the shared zone counted for one gender only after the other
    gender's overflow from its own zone."""
    sessions = {s.session_id: s for s in problem.sessions}
    out = _out_nights(problem)
    demand: dict[tuple[int, str, int], list[int]] = defaultdict(list)
    for lodger in problem.lodgers:
        session = sessions[lodger.session_id]
        category = category_of(lodger.gender, lodger.needs_accessible)
        for block in session.blocks:
            for day in block.nights():
                demand[(session.campus_id, category, day.toordinal())].append(lodger.session_id)
    by_campus: dict[int, list[DormRoom]] = defaultdict(list)
    for room in problem.rooms:
        by_campus[room.campus_id].append(room)
    found: dict[tuple[int, str, int], tuple[int, list[int]]] = {}
    for campus, night in sorted({(c, n) for c, _, n in demand}):
        free = [r for r in by_campus[campus] if night not in out.get(r.room_id, ())]
        beds = {
            zone: sum(r.beds for r in free if r.zone == zone and not r.accessible)
            for zone in ("women", "men", "any")
        }
        women, men = (len(demand.get((campus, c, night), [])) for c in ("women", "men"))
        spill = {"women": max(0, women - beds["women"]), "men": max(0, men - beds["men"])}
        need = {
            "women": women - beds["women"] - max(0, beds["any"] - spill["men"]),
            "men": men - beds["men"] - max(0, beds["any"] - spill["women"]),
            "accessible": len(demand.get((campus, "accessible", night), []))
            - sum(r.beds for r in free if r.accessible),
            "unknown_gender": len(demand.get((campus, "unknown_gender", night), []))
            - sum(1 for r in free if r.zone == "any" and r.kind == "single"),
        }
        for category, missing in need.items():
            if missing > 0:
                found[(campus, category, night)] = (missing, demand[(campus, category, night)])
    return found


def _with_resolution(
    run: RoomShortage,
    short: dict[tuple[int, str, int], list[Lodger]],
    by_campus: dict[int, list[DormRoom]],
    out: dict[int, set[int]],
    used: dict[tuple[int, int], list[tuple[int, str | None]]],
) -> RoomShortage:
    """The shortage with what would resolve it, if anything would: rooms of another zone (or out of service)
    that are free on all its nights and would suit the learners left out once re-zoned (or back)."""
    nights = range(run.first_night.toordinal(), run.last_night.toordinal() + 1)
    who = [x for n in nights for x in short.get((run.campus_id, run.category, n), [])]
    if not who:
        return run
    genders = [x.gender for x in who]
    probe = max(set(genders), key=lambda g: (genders.count(g), str(g)))
    access = run.category == "accessible"
    empty = [r for r in by_campus[run.campus_id] if all(not used.get((r.room_id, n)) for n in nights)]
    rezone = [
        r
        for r in empty
        if out.get(r.room_id, set()).isdisjoint(nights)
        and not room_fits(probe, access, r)
        and room_fits(probe, access, replace(r, zone="any"))
    ]
    repair = [
        r for r in empty if not out.get(r.room_id, set()).isdisjoint(nights) and room_fits(probe, access, r)
    ]
    text = ""
    if rezone:
        zones = {"women": "女性用区画", "men": "男性用区画", "any": "共用区画"}
        zone = max({r.zone for r in rezone}, key=lambda z: sum(r.zone == z for r in rezone))
        rooms_there = [r for r in rezone if r.zone == zone]
        floors: dict[int, list[DormRoom]] = defaultdict(list)
        for r in rooms_there:
            floors[r.floor].append(r)
        chosen, beds = [], 0
        for floor, rooms in sorted(floors.items(), key=lambda kv: (-sum(r.beds for r in kv[1]), kv[0])):
            if beds >= run.shortage:
                break
            chosen.append(floor)
            beds += sum(r.beds for r in rooms)
        target = "共用" if probe is None else ("女性用" if probe == "female" else "男性用")
        twins = sum(r.kind == "twin" for r in rooms_there)
        kinds = f"（うちツイン{twins}室）" if twins else ""
        whom = f"{run.shortage}名全員" if beds >= run.shortage else f"{beds}名"
        where = "・".join(f"{f}階" for f in sorted(chosen))
        text = (
            f"{zones[zone]}にその夜の空き室が{len(rooms_there)}室{kinds}あります："
            f"{where}の空き室を{target}に変更すれば{whom}を受け入れられます"
        )
    elif repair:
        text = f"使用停止中の部屋が{len(repair)}室あります：使用を再開すれば{min(run.shortage, sum(r.beds for r in repair))}名を受け入れられます"
    if not text:
        return run
    return replace(run, resolution=text, message=f"{run.message}。{text}")


def _has_bed(
    room: DormRoom,
    night: int,
    out: dict[int, set[int]],
    used: dict[tuple[int, int], list[tuple[int, str | None]]],
    lodger: Lodger,
) -> bool:
    if night in out.get(room.room_id, set()):
        return False
    users = used.get((room.room_id, night), [])
    if not users:
        return True
    return room.beds == 2 and len(users) == 1 and users[0] == (lodger.session_id, lodger.gender)


def _shortage_runs(short: dict[tuple[int, str, int], tuple[int, list[int]]]) -> list[RoomShortage]:
    """Merge consecutive nights with the same shortage into one message.

    ``short`` maps (campus, category, night) to (rooms missing, sessions concerned).
    """
    runs: list[RoomShortage] = []
    keys = sorted(short)
    i = 0
    while i < len(keys):
        campus, category, night = keys[i]
        count, sids = short[keys[i]][0], sorted(set(short[keys[i]][1]))
        j = i + 1
        while (
            j < len(keys)
            and keys[j][:2] == (campus, category)
            and keys[j][2] == keys[j - 1][2] + 1
            and short[keys[j]][0] == count
            and sorted(set(short[keys[j]][1])) == sids
        ):
            j += 1
        first, last = date.fromordinal(night), date.fromordinal(keys[j - 1][2])
        when = f"{jp_date(first)}の夜" if first == last else f"{jp_date(first)}から{jp_date(last)}までの夜"
        ids = "、".join(str(s) for s in sids)
        message = f"{when}、{CATEGORY_LABELS[category]}の空き室が{count}室不足（研修 {ids}）"
        runs.append(RoomShortage(campus, first, last, category, count, tuple(sids), message))
        i = j
    return runs


def precheck_rooms(problem: RoomsProblem) -> list[RoomShortage]:
    """Plain per-night bed counts, before any solve: demand of each category above the beds that suit it.

    Cheap (no CP-SAT) and often already the whole story; twins count as two beds, so this can miss a
    shortage caused by twin sharing rules, never report one that does not exist.
    """
    return _shortage_runs(_over_full(problem))

"""Who sleeps where: a rooms plan as nights x rooms of its campus, for a week or a month.

The dormitory front desk prints it; the officer reads it before publishing. Each night of each room
shows its occupants (name and session), its empty beds, or that it is out of service; an unpublished
plan's occupants who would sleep elsewhere under the published plan are marked as changed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core.errors import FieldError, InvalidInput
from courses.models import DormRoom
from courses.models.plans import PlanKind, PlannedRoom, PlanVersion
from courses.models.resources import RoomOutage
from courses.planning.loading import _blocks, people_of
from courses.planning.notices import ZONE_JA
from courses.planning.plans import published_plan

MAX_NIGHTS = 31
KIND_JA = {"single": "シングル", "twin": "ツイン"}


@dataclass
class Occupant:
    enrollment_id: int
    name: str
    session_code: str
    course_title: str
    changed: bool  # under the published plan this learner sleeps elsewhere (or has no room) that night


@dataclass
class Night:
    day: date
    out_of_service: bool = False
    occupants: list[Occupant] = field(default_factory=list)


@dataclass
class RoomNights:
    room: DormRoom
    nights: list[Night]

    @property
    def beds(self) -> int:
        return 2 if self.room.kind == "twin" else 1

    def empty_beds(self, night: Night) -> int:
        return 0 if night.out_of_service else max(0, self.beds - len(night.occupants))


@dataclass
class Occupancy:
    plan: PlanVersion
    published_id: int | None  # the plan compared against (None: this one is published, or none is)
    days: list[date]
    rooms: list[RoomNights]

    @property
    def floors(self) -> list[tuple[int, str, list[RoomNights]]]:
        """Rooms grouped by floor, each floor with its zone(s) in Japanese."""
        by_floor: dict[int, list[RoomNights]] = defaultdict(list)
        for r in self.rooms:
            by_floor[r.room.floor].append(r)
        out = []
        for floor in sorted(by_floor):
            zones = sorted({ZONE_JA.get(r.room.zone, r.room.zone) for r in by_floor[floor]})
            out.append((floor, "・".join(zones), by_floor[floor]))
        return out

    def totals(self) -> list[tuple[date, int, int]]:
        """(night, occupied beds, beds in service) for each night."""
        out = []
        for i, day in enumerate(self.days):
            used = sum(len(r.nights[i].occupants) for r in self.rooms)
            beds = sum(r.beds for r in self.rooms if not r.nights[i].out_of_service)
            out.append((day, used, beds))
        return out

    @property
    def changed(self) -> int:
        return sum(1 for r in self.rooms for n in r.nights for o in n.occupants if o.changed)


def night_range(plan: PlanVersion, date_from: date | None, date_to: date | None) -> list[date]:
    """The nights to show: a week from the plan's first day unless asked, never more than a month."""
    first = date_from or plan.date_from
    last = date_to or min(first + timedelta(days=6), plan.date_to)
    if last < first:
        raise _bad_range("終了日は開始日以降にしてください。", "to must not be before from.")
    if (last - first).days + 1 > MAX_NIGHTS:
        raise _bad_range(
            f"表示できるのは{MAX_NIGHTS}泊までです。期間を短くしてください。",
            f"At most {MAX_NIGHTS} nights at a time.",
        )
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def _bad_range(ja: str, en: str) -> InvalidInput:
    return InvalidInput(ja, en, errors=[FieldError("to", ja, en)])


async def _nights_of(s: AsyncSession, plan_id: int, days: list[date]) -> dict[tuple[int, date], int]:
    """(enrollment, night) -> room under a plan, for the nights asked. A plan numbers each session's
    blocks from 0 in date order, as the solver does."""
    rows = list(await s.exec(select(PlannedRoom).where(PlannedRoom.plan_id == plan_id)))
    blocks = await _blocks(s, sorted({r.session_id for r in rows}))
    out: dict[tuple[int, date], int] = {}
    wanted = set(days)
    for placed in rows:
        mine = blocks.get(placed.session_id, [])
        if not 0 <= placed.block_seq < len(mine):
            continue
        block = mine[placed.block_seq]
        if block.start_date > days[-1] or block.end_date <= days[0]:
            continue
        night = block.start_date
        while night < block.end_date:  # learners sleep from the first day to the night before the last
            if night in wanted:
                out[(placed.enrollment_id, night)] = placed.dorm_room_id
            night += timedelta(days=1)
    return out


async def occupancy(s: AsyncSession, plan: PlanVersion, days: list[date]) -> Occupancy:
    if plan.kind != PlanKind.ROOMS:
        raise InvalidInput("部屋割りの計画ではありません。", "Not a rooms plan.")
    mine = await _nights_of(s, plan.id or 0, days)
    used = set(mine.values())
    rooms = [
        r
        for r in await s.exec(
            select(DormRoom)
            .where(DormRoom.campus_id == plan.campus_id)
            .order_by(col(DormRoom.floor), col(DormRoom.room_number))
        )
        if not r.archived or r.id in used  # a room archived since still shows who the plan put there
    ]
    current = await published_plan(s, plan.campus_id, plan.kind)
    compared = current.id if current is not None and current.id != plan.id else None
    before = await _nights_of(s, compared, days) if compared is not None else {}
    people = {
        e: (p.name, p.session_code, p.course_title)
        for e, p in (await people_of(s, (e for e, _ in mine))).items()
    }
    out_of_service: set[tuple[int, date]] = set()
    for outage in await s.exec(
        select(RoomOutage).where(
            RoomOutage.campus_id == plan.campus_id,
            col(RoomOutage.dorm_room_id).is_not(None),
            col(RoomOutage.start_date) <= days[-1],
            col(RoomOutage.end_date) >= days[0],
        )
    ):
        for day in days:
            if outage.start_date <= day <= outage.end_date:
                out_of_service.add((outage.dorm_room_id or 0, day))
    grid: dict[tuple[int, date], list[Occupant]] = defaultdict(list)
    for (eid, day), room_id in sorted(mine.items(), key=lambda kv: people.get(kv[0][0], ("",))[0]):
        name, code, title = people.get(eid, ("", "", ""))
        changed = compared is not None and before.get((eid, day)) != room_id
        grid[(room_id, day)].append(Occupant(eid, name, code, title, changed))
    table = [
        RoomNights(
            room,
            [
                Night(day, (room.id or 0, day) in out_of_service, grid.get((room.id or 0, day), []))
                for day in days
            ],
        )
        for room in rooms
    ]
    return Occupancy(plan, compared, days, table)


def occupancy_csv(view: Occupancy) -> list[list[object]]:
    """One line per night and bed: who sleeps there, or empty, or out of service."""
    lines: list[list[object]] = []
    for day in view.days:
        for r in view.rooms:
            night = r.nights[view.days.index(day)]
            base = [
                day.isoformat(),
                r.room.room_number,
                r.room.floor,
                ZONE_JA.get(r.room.zone, r.room.zone),
                KIND_JA.get(r.room.kind, r.room.kind),
                "有" if r.room.accessible else "",
            ]
            if night.out_of_service:
                lines.append([*base, "使用停止", "", "", ""])
                continue
            for o in night.occupants:
                lines.append([*base, o.name, o.session_code, o.course_title, "変更" if o.changed else ""])
            for _ in range(r.empty_beds(night)):
                lines.append([*base, "（空き）", "", "", ""])
    return lines


CSV_HEADER = [
    "日付（泊）",
    "部屋",
    "階",
    "区画",
    "種別",
    "バリアフリー",
    "氏名",
    "開催回コード",
    "研修名",
    "公開中の計画からの変更",
]

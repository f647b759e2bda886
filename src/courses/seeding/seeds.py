"""Load the plain seed files under ``seeds/`` into an empty database.

Sessions are planned in weeks from the first Monday of the fiscal year (April to March); they are
laid out on the fiscal year that contains ``today``, so a demo loaded on any day has sessions open
for enrollment in the coming months.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.console.resources import load_resources
from courses.core.settings import SEEDS_DIR
from courses.models import (
    Campus,
    Category,
    Classroom,
    Course,
    CourseSession,
    DormRoom,
    SessionBlock,
    SessionStatus,
    id_of,
)
from courses.planning.timetable_modules import load_modules

APPLICATION_OPENS_DAYS = 120  # applications open this many days before the first day
APPLICATION_CLOSES_DAYS = 7  # and close this many days before it


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _bool(raw: str) -> bool:
    return raw.strip().lower() in {"true", "1", "yes"}


def fiscal_year_start(today: date) -> date:
    """April 1 of the Japanese fiscal year that contains ``today``."""
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1)


def first_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def parse_blocks(spec: str, start: date) -> list[tuple[date, date]]:
    """'0+5;4+5' → two blocks: 5 days from ``start``, and 5 days from four weeks later."""
    blocks = []
    for part in spec.split(";"):
        weeks, days = (int(x) for x in part.split("+"))
        first = start + timedelta(weeks=weeks)
        blocks.append((first, first + timedelta(days=days - 1)))
    return blocks


@dataclass
class SeedReport:
    campuses: int = 0
    classrooms: int = 0
    dorm_rooms: int = 0
    courses: int = 0
    sessions: int = 0
    skipped: bool = False


async def database_is_empty(db: AsyncSession) -> bool:
    return (await db.exec(select(func.count()).select_from(Campus))).one() == 0


async def load_catalog(db: AsyncSession, today: date, seeds_dir: Path = SEEDS_DIR) -> SeedReport:
    """Insert campuses, rooms, courses and the year's sessions. The caller owns the transaction."""
    report = SeedReport()
    campuses: dict[str, Campus] = {}
    for row in _rows(seeds_dir / "campuses.csv"):
        campus = Campus(
            code=row["code"],
            name_ja=row["name_ja"],
            name_en=row["name_en"],
            prefecture=row["prefecture"],
            address=row["address"],
            has_lodging=_bool(row["has_lodging"]),
            sort_order=int(row["sort_order"]),
            access_ja=row.get("access_ja") or None,
        )
        db.add(campus)
        campuses[campus.code] = campus
    for i, row in enumerate(_rows(seeds_dir / "categories.csv")):
        db.add(Category(code=row["code"], name_ja=row["name_ja"], name_en=row["name_en"], sort_order=i))
    await db.flush()
    report.campuses = len(campuses)

    for row in _rows(seeds_dir / "classrooms.csv"):
        db.add(Classroom(campus_id=id_of(campuses[row["campus"]]), name=row["name"], seats=int(row["seats"])))
        report.classrooms += 1
    for row in _rows(seeds_dir / "dorm_rooms.csv"):
        campus = campuses[row["campus"]]
        if not campus.has_lodging:
            raise ValueError(f"dorm room {row['room_number']} at {campus.code}, a campus without lodging")
        db.add(
            DormRoom(
                campus_id=id_of(campus),
                room_number=row["room_number"],
                floor=int(row["floor"]),
                kind=row["kind"],
                zone=row["zone"],
                accessible=_bool(row["accessible"]),
            )
        )
        report.dorm_rooms += 1

    courses: dict[str, Course] = {}
    for row in _rows(seeds_dir / "courses.csv"):
        course = Course(
            code=row["code"],
            title_ja=row["title_ja"],
            title_en=row["title_en"],
            title_kana=row.get("title_kana", ""),
            audience=row["audience"],
            category=row["category"],
            description=row["description"],
            days=int(row["days"]),
            fee_yen=int(row["fee_yen"]),
            default_capacity=int(row["default_capacity"]),
            residential=_bool(row["residential"]),
            has_practicum=_bool(row["has_practicum"]),
        )
        db.add(course)
        courses[course.code] = course
    await db.flush()
    report.courses = len(courses)

    fy_start = fiscal_year_start(today)
    week0 = first_monday(fy_start)
    now = datetime.now(UTC)
    blocks_by_session: list[tuple[CourseSession, list[tuple[date, date]]]] = []
    for row in _rows(seeds_dir / "sessions.csv"):
        course, campus = courses[row["course"]], campuses[row["campus"]]
        start = week0 + timedelta(weeks=int(row["week"]), days=int(row["weekday"]))
        blocks = parse_blocks(row["blocks"], start)
        first, last = blocks[0][0], blocks[-1][1]
        status = SessionStatus.PUBLISHED if first > today else SessionStatus.CLOSED
        session = CourseSession(
            code=f"{fy_start.year}-{row['code']}",
            course_id=id_of(course),
            campus_id=id_of(campus),
            capacity=course.default_capacity,
            lodging=course.residential and campus.has_lodging,
            start_date=first,
            end_date=last,
            application_opens=first - timedelta(days=APPLICATION_OPENS_DAYS),
            application_closes=first - timedelta(days=APPLICATION_CLOSES_DAYS),
            status=status,
            created_at=now,
        )
        db.add(session)
        blocks_by_session.append((session, blocks))
    await db.flush()
    for session, blocks in blocks_by_session:
        for seq, (first, last) in enumerate(blocks, start=1):
            db.add(SessionBlock(session_id=id_of(session), seq=seq, start_date=first, end_date=last))
    await db.flush()
    report.sessions = len(blocks_by_session)

    await load_resources(db, today, seeds_dir)

    await load_modules(db, seeds_dir)
    return report

"""Course modules (the curriculum a timetable places): seed loading and lookups."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core.settings import SEEDS_DIR
from courses.models import Course
from courses.models.timetable import CourseModule, ModuleKind

KIND_LABELS: dict[str, str] = {
    ModuleKind.LECTURE: "講義",
    ModuleKind.EXERCISE: "演習",
    ModuleKind.PRACTICUM: "実習",
}


async def load_modules(db: AsyncSession, seeds_dir: Path = SEEDS_DIR) -> int:
    """Insert ``course_modules.csv`` for the courses already loaded; returns the rows inserted.

    A seed directory without the file loads nothing (older seed sets)."""
    path = seeds_dir / "course_modules.csv"
    if not path.exists():
        return 0
    courses = {c.code: c.id for c in await db.exec(select(Course))}
    count = 0
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            course_id = courses.get(row["course"])
            if course_id is None:
                raise ValueError(f"course_modules.csv: unknown course {row['course']}")
            kind, half_days = row["kind"], int(row["half_days"])
            if kind not in set(ModuleKind) or half_days not in (1, 2):
                raise ValueError(f"course_modules.csv: bad module {row}")
            db.add(
                CourseModule(
                    course_id=course_id,
                    seq=int(row["seq"]),
                    title=row["title"],
                    kind=kind,
                    half_days=half_days,
                    subject=row["subject"],
                )
            )
            count += 1
    await db.flush()
    return count


async def modules_by_course(s: AsyncSession, course_ids: list[int]) -> dict[int, list[CourseModule]]:
    """Each course's modules in curriculum order."""
    out: dict[int, list[CourseModule]] = defaultdict(list)
    if course_ids:
        rows = await s.exec(
            select(CourseModule)
            .where(col(CourseModule.course_id).in_(course_ids))
            .order_by(col(CourseModule.course_id), col(CourseModule.seq))
        )
        for m in rows:
            out[m.course_id].append(m)
    return out

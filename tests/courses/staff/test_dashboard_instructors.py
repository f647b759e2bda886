"""The staff dashboard warns of instructors given more コマ in a month than their maximum, counting
what they teach at every campus in the published timetables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from courses.core.db import Database
from courses.models.plans import PlanKind, PlanVersion, SolverRun
from courses.models.timetable import PlannedModule
from courses.staff.dashboard import instructor_overloads, overview
from tests.courses import builders as b

JUNE = date(2026, 6, 1)


async def _published_timetable(s, campus, session, modules, classroom, placed):  # type: ignore[no-untyped-def]
    """A published timetable plan of ``campus`` placing one module each on (day, instructor, half days)."""
    now = datetime.now(UTC)
    run = SolverRun(
        campus_id=campus.id,
        kinds="timetable",
        date_from=JUNE,
        date_to=JUNE + timedelta(days=29),
        time_limit_s=10,
        created_at=now,
    )
    s.add(run)
    await s.flush()
    plan = PlanVersion(
        run_id=run.id,
        campus_id=campus.id,
        kind=PlanKind.TIMETABLE,
        date_from=JUNE,
        date_to=JUNE + timedelta(days=29),
        status="optimal",
        created_at=now,
        published_at=now,
    )
    s.add(plan)
    await s.flush()
    for module, (day, who, half_days) in zip(modules, placed, strict=False):
        s.add(
            PlannedModule(
                plan_id=plan.id,
                session_id=session.id,
                course_module_id=module.id,
                day=day,
                half=0,
                half_days=half_days,
                classroom_id=classroom.id,
                instructor_id=who.id,
            )
        )
    await s.flush()


async def test_an_instructor_over_the_monthly_maximum_across_campuses_is_named(db: Database) -> None:
    async with db.write() as s:
        await b.category(s)
        tokyo, osaka = await b.campus(s, "tokyo"), await b.campus(s, "osaka")
        course = await b.course(s)
        modules = await b.course_modules(s, course, [("財務の基礎", 1), ("財務分析", 1), ("資金繰り", 1)])
        here = await b.session(s, course, tokyo, start=JUNE + timedelta(days=7))
        there = await b.session(s, course, osaka, start=JUNE + timedelta(days=14))
        busy = await b.instructor(s, tokyo, name="佐藤 健一")  # at most 4 a month
        calm = await b.instructor(s, tokyo, name="鈴木 花子")
        away = await b.instructor(s, osaka, name="高橋 誠")  # over, but never teaches at Tokyo
        room_t, room_o = await b.classroom(s, tokyo), await b.classroom(s, osaka)
        d = JUNE + timedelta(days=7)
        await _published_timetable(
            s, tokyo, here, modules, room_t, [(d, busy, 2), (d + timedelta(1), busy, 1), (d, calm, 2)]
        )
        await _published_timetable(
            s,
            osaka,
            there,
            modules,
            room_o,
            [
                (JUNE + timedelta(days=14), busy, 2),
                (JUNE + timedelta(days=15), away, 2),
                (JUNE + timedelta(days=16), away, 4),
            ],
        )
    async with db.read() as s:
        warnings = await instructor_overloads(s, tokyo.id, JUNE, JUNE + timedelta(weeks=6))
        view = await overview(s, tokyo.id, JUNE)
    assert warnings == [
        "講師 佐藤 健一: 2026年6月の担当が5コマあり、月の上限4コマを超えています（公開中の時間割、全キャンパス）。"
    ]
    assert warnings[0] in view.warnings
    async with db.read() as s:
        assert any(
            "高橋 誠" in w for w in await instructor_overloads(s, osaka.id, JUNE, JUNE + timedelta(weeks=6))
        )

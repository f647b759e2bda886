"""The campus timetable through the API: staff read a campus's published timetable; anyone reads
a published session's daily timetable (module, period, classroom, instructor's name only)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery, QueryParameter

from courses.accounts.guards import CurrentUser
from courses.core.deps import Reading
from courses.core.errors import FieldError, InvalidInput
from courses.enrollment import service as enrollment
from courses.planning import plans, timetable
from courses.planning.plans_api import campus_by_code
from courses.planning.schemas import CampusTimetable, PlanSlotOut, SessionTimetable, SlotOut

MAX_DAYS = 400


def _day(raw: str | None, name: str, default: date) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"{name} の日付が正しくありません（YYYY-MM-DD）。",
            f"{name} must be a date (YYYY-MM-DD).",
            errors=[FieldError(name, "日付が正しくありません。", "invalid date")],
        ) from None


def slot_out(x: timetable.Slot) -> SlotOut:
    return SlotOut(
        session_id=x.session_id,
        session_code=x.session_code,
        course=x.course_title,
        module=x.module_title,
        kind=x.kind,
        day=x.day,
        half=x.half,
        half_days=x.half_days,
        time=x.time_label,
        campus=x.campus_code,
        classroom=x.classroom,
        instructor=x.instructor or None,
    )


def plan_slot_out(x: timetable.Slot) -> PlanSlotOut:
    """A slot for staff: with the classroom's and instructor's ids and the plan it comes from."""
    return PlanSlotOut(
        **msgspec.structs.asdict(slot_out(x)),
        classroom_id=x.classroom_id,
        instructor_id=x.instructor_id,
        plan_id=x.plan_id,
    )


class TimetableApi(Controller):
    path = "/api"
    tags = ("timetable",)

    @get(
        "/staff/timetable",
        opt={"access": "staff"},
        summary="A campus's published timetable between two dates (modules, periods, classrooms, instructors)",
    )
    async def campus_timetable(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        campus: FromQuery[str],
        date_from: Annotated[str | None, QueryParameter(name="from")] = None,
        date_to: Annotated[str | None, QueryParameter(name="to")] = None,
        plan_id: FromQuery[int | None] = None,
    ) -> CampusTimetable:
        today = request.app.state.clock().date()
        first = _day(date_from, "from", today)
        last = _day(date_to, "to", first + timedelta(days=30))
        if last < first or (last - first).days > MAX_DAYS:
            raise InvalidInput(
                f"期間は開始日以降、{MAX_DAYS}日以内にしてください。",
                f"'to' must be after 'from', at most {MAX_DAYS} days.",
                errors=[FieldError("to", "期間が正しくありません。", "invalid range")],
            )
        row = await campus_by_code(reading, campus)
        await enrollment.ensure_staff_campus(reading, user, row.id or 0)
        if plan_id is not None:
            plan = await plans.get_plan(reading, plan_id)
            await enrollment.ensure_staff_campus(reading, user, plan.campus_id)
            slots = await timetable.plan_slots(reading, plan_id, first, last)
        else:
            slots = await timetable.published_campus_slots(reading, row.id or 0, first, last)
        return CampusTimetable(row.code, first, last, plan_id, [plan_slot_out(x) for x in slots])

    @get(
        "/sessions/{session_id:int}/timetable",
        opt={"access": "public"},
        summary="A session's daily timetable, once published",
    )
    async def session_timetable(self, reading: Reading, session_id: FromPath[int]) -> SessionTimetable:
        await timetable.session_is_public(reading, session_id)
        slots = await timetable.published_session_slots(reading, session_id)
        return SessionTimetable(session_id, bool(slots), [slot_out(x) for x in slots])

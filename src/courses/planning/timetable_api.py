"""The campus timetable through the API: staff read a campus's published timetable; anyone reads
a published session's daily timetable (module, period, classroom, instructor's name only)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery, QueryParameter

from courses.accounts.guards import me
from courses.core.deps import DB
from courses.core.errors import FieldError, InvalidInput
from courses.enrollment import service as enrollment
from courses.planning import plans, timetable
from courses.planning.plans_api import campus_by_code

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
        db: DB,
        campus: FromQuery[str],
        date_from: Annotated[str | None, QueryParameter(name="from")] = None,
        date_to: Annotated[str | None, QueryParameter(name="to")] = None,
        plan_id: FromQuery[int | None] = None,
    ) -> dict[str, Any]:
        today = request.app.state.clock().date()
        first = _day(date_from, "from", today)
        last = _day(date_to, "to", first + timedelta(days=30))
        if last < first or (last - first).days > MAX_DAYS:
            raise InvalidInput(
                f"期間は開始日以降、{MAX_DAYS}日以内にしてください。",
                f"'to' must be after 'from', at most {MAX_DAYS} days.",
                errors=[FieldError("to", "期間が正しくありません。", "invalid range")],
            )
        async with db.read() as s:
            row = await campus_by_code(s, campus)
            await enrollment.ensure_staff_campus(s, me(request), row.id or 0)
            if plan_id is not None:
                plan = await plans.get_plan(s, plan_id)
                await enrollment.ensure_staff_campus(s, me(request), plan.campus_id)
                slots = await timetable.plan_slots(s, plan_id, first, last)
            else:
                slots = await timetable.published_campus_slots(s, row.id or 0, first, last)
        return {
            "campus": row.code,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "plan_id": plan_id,
            "modules": [x.as_dict() for x in slots],
        }

    @get(
        "/sessions/{session_id:int}/timetable",
        opt={"access": "public"},
        summary="A session's daily timetable, once published",
    )
    async def session_timetable(self, db: DB, session_id: FromPath[int]) -> dict[str, Any]:
        async with db.read() as s:
            await timetable.session_is_public(s, session_id)
            slots = await timetable.published_session_slots(s, session_id)
        return {
            "session_id": session_id,
            "published": bool(slots),
            "modules": [x.as_dict(with_instructor_id=False) for x in slots],
        }

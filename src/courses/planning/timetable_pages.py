"""Timetable pages: the staff grid of a campus (day × classroom), an instructor's own
assignments across campuses (for staff, and for the instructor through a private link), and a
session's daily timetable for learners once published."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlmodel import col, select

from courses.accounts import service as accounts
from courses.accounts.guards import CurrentUser
from courses.catalog import service as catalog
from courses.core.deps import Reading, Writing
from courses.core.downloads import attachment
from courses.enrollment import service as enrollment
from courses.models import Campus
from courses.planning import plans, timetable


def _week(raw: str | None, today: date) -> date:
    try:
        day = date.fromisoformat(raw) if raw else today
    except ValueError:
        day = today
    return day - timedelta(days=day.weekday())


class TimetablePages(Controller):
    include_in_schema = False

    @get("/staff/timetable", opt={"access": "staff"})
    async def grid(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        campus: FromQuery[str | None] = None,
        week: FromQuery[str | None] = None,
        plan: FromQuery[int | None] = None,
    ) -> Template:
        monday = _week(week, request.app.state.clock().date())
        ids = await accounts.staff_campus_ids(reading, user)
        campuses = list(
            await reading.exec(select(Campus).where(col(Campus.id).in_(ids)).order_by(col(Campus.sort_order)))
        )
        preview = await plans.get_plan(reading, plan) if plan is not None else None
        if preview is not None:
            await enrollment.ensure_staff_campus(reading, user, preview.campus_id)
            chosen = await reading.get(Campus, preview.campus_id)
        else:
            chosen = next((c for c in campuses if c.code == campus), None)
            if campus and chosen is None:
                row = (await reading.exec(select(Campus).where(Campus.code == campus))).first()
                await enrollment.ensure_staff_campus(reading, user, (row.id or 0) if row else -1)
            chosen = chosen or (campuses[0] if campuses else None)
        grid = await timetable.campus_grid(reading, chosen.id or 0, monday, plan) if chosen else None
        return Template(
            "timetable/grid.html",
            context={
                "campuses": campuses,
                "campus": chosen,
                "grid": grid,
                "monday": monday,
                "prev_week": monday - timedelta(days=7),
                "next_week": monday + timedelta(days=7),
                "plan": preview,
                "half_labels": timetable.HALF_LABELS,
            },
        )

    @get("/staff/instructors/{instructor_id:int}/assignments", opt={"access": "staff"})
    async def staff_instructor(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        instructor_id: FromPath[int],
    ) -> Template:
        instructor = await timetable.get_instructor(writing, instructor_id)
        slots = await timetable.published_instructor_slots(writing, instructor_id)
        await timetable.ensure_instructor_visible(writing, user, instructor, slots)
        token = await timetable.instructor_token(writing, instructor_id, request.app.state.clock())
        return Template(
            "timetable/instructor.html",
            context={
                "instructor": instructor,
                "slots": slots,
                "staff_view": True,
                "private_url": f"/instructor-schedule/{quote(token)}",
            },
        )

    @get("/instructor-schedule/{token:str}", opt={"access": "public"})
    async def own_schedule(self, reading: Reading, token: FromPath[str]) -> Response[Any]:
        """The instructor's own assignments: the unguessable token in the address is the credential."""
        if token.endswith(".ics"):
            instructor = await timetable.instructor_by_token(reading, token[:-4])
            slots = await timetable.published_instructor_slots(reading, instructor.id or 0)
            return Response(
                timetable.ics(instructor, slots),
                media_type="text/calendar",
                headers={"Content-Disposition": attachment("schedule.ics")},
            )
        instructor = await timetable.instructor_by_token(reading, token)
        slots = await timetable.published_instructor_slots(reading, instructor.id or 0)
        return Template(
            "timetable/instructor.html",
            context={
                "instructor": instructor,
                "slots": slots,
                "staff_view": False,
                "private_url": f"/instructor-schedule/{quote(token)}",
            },
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )

    @get("/sessions/{session_id:int}/timetable", opt={"access": "public"})
    async def session_page(self, reading: Reading, session_id: FromPath[int]) -> Template:
        row = await catalog.get_session(reading, session_id)
        slots = await timetable.published_session_slots(reading, session_id)
        return Template("timetable/session.html", context={"row": row, "slots": slots})

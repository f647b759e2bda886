"""Planning pages for campus staff: start a run, watch it, inspect, compare and publish a plan."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts import service as accounts
from courses.accounts.guards import CurrentUser
from courses.core import tabular
from courses.core.bodies import Form
from courses.core.deps import Reading, Writing, undone_on_error
from courses.core.downloads import csv_response, file_response
from courses.core.errors import DomainError
from courses.core.reference import INDUSTRIES
from courses.enrollment import service as enrollment
from courses.models import Campus, User
from courses.models.plans import PlanVersion, SolverRun
from courses.planning import occupancy, plans, practicum_view, runner
from courses.planning.plans_api import plan_out, run_out, start_run
from courses.planning.schemas import SolverRunOut

STAFF = {"access": "staff"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _occupancy_rows(
    user: User,
    s: AsyncSession,
    plan_id: int,
    date_from: date | None,
    date_to: date | None,
) -> tuple[list[date], list[list[object]]]:
    """The nights shown and the occupancy list's rows, for the CSV and the workbook alike."""
    plan = await plans.get_plan(s, plan_id)
    await enrollment.ensure_staff_campus(s, user, plan.campus_id)
    days = occupancy.night_range(plan, date_from, date_to)
    view = await occupancy.occupancy(s, plan, days)
    return days, occupancy.occupancy_csv(view)


async def _practicum_rows(user: User, s: AsyncSession, plan_id: int, site: int | None) -> list[list[object]]:
    """The host companies' list: all of them, or one (``site``) to send to that company."""
    plan = await plans.get_plan(s, plan_id)
    await enrollment.ensure_staff_campus(s, user, plan.campus_id)
    view = await practicum_view.practicum_view(s, plan)
    if site is not None:
        view = [h for h in view if h.site.id == site]
    return practicum_view.practicum_csv(view)


def _practicum_name(plan_id: int, site: int | None, suffix: str) -> str:
    return f"practicum-plan-{plan_id}" + (f"-site-{site}" if site is not None else "") + f".{suffix}"


class PlanningPages(Controller):
    path = "/staff"
    include_in_schema = False
    opt = STAFF

    @get("/planning")
    async def planning(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        campus: FromQuery[str | None] = None,
        error: FromQuery[str | None] = None,
    ) -> Template:
        today = request.app.state.clock().date()
        ids = await accounts.staff_campus_ids(reading, user)
        campuses = list(
            await reading.exec(select(Campus).where(col(Campus.id).in_(ids)).order_by(col(Campus.sort_order)))
        )
        chosen = next((c for c in campuses if c.code == campus), campuses[0] if campuses else None)
        runs, versions = [], []
        if chosen:
            runs = list(
                await reading.exec(
                    select(SolverRun)
                    .where(SolverRun.campus_id == chosen.id)
                    .order_by(col(SolverRun.id).desc())
                    .limit(20)
                )
            )
            versions = list(
                await reading.exec(
                    select(PlanVersion)
                    .where(PlanVersion.campus_id == chosen.id)
                    .order_by(col(PlanVersion.id).desc())
                    .limit(30)
                )
            )
        return Template(
            "staff/planning.html",
            context={
                "campuses": campuses,
                "campus": chosen,
                "runs": runs,
                "plans": versions,
                "error": error,
                "default_from": today,
                "default_to": today + timedelta(days=90),
            },
        )

    @post("/planning/runs")
    async def create(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, data: Form
    ) -> Response[Any]:
        form: dict[str, Any] = dict(data)
        form["kinds"] = ",".join(k for k in ("rooms", "practicum", "timetable") if form.get(f"kind_{k}"))
        form["pin_published"] = form.get("pin_published") == "on"
        try:
            async with undone_on_error(writing):
                run = await start_run(request, user, writing, form)
        except DomainError as exc:
            if exc.status == 403:
                raise
            detail = "；".join(e.message_ja for e in exc.errors) or exc.detail_ja
            return Redirect(f"/staff/planning?campus={quote(form.get('campus', ''))}&error={quote(detail)}")
        return Redirect(f"/staff/runs/{run.id}")

    @get("/runs/{run_id:int}")
    async def run_page(self, user: CurrentUser, reading: Reading, run_id: FromPath[int]) -> Template:
        run = await runner.get_run(reading, run_id)
        await enrollment.ensure_staff_campus(reading, user, run.campus_id)
        campus = await reading.get(Campus, run.campus_id)
        return Template(
            "staff/run.html", context={"run": msgspec.to_builtins(run_out(run)), "campus": campus}
        )

    @get("/runs/{run_id:int}/progress")
    async def run_progress(self, user: CurrentUser, reading: Reading, run_id: FromPath[int]) -> SolverRunOut:
        """Polled by the run page (no manual reload): the run as the API answers it."""
        run = await runner.get_run(reading, run_id)
        await enrollment.ensure_staff_campus(reading, user, run.campus_id)
        return run_out(run)

    @get("/plans/{plan_id:int}")
    async def plan_page(
        self,
        user: CurrentUser,
        reading: Reading,
        plan_id: FromPath[int],
        error: FromQuery[str | None] = None,
        msg: FromQuery[str | None] = None,
    ) -> Template:
        plan = await plans.get_plan(reading, plan_id)
        await enrollment.ensure_staff_campus(reading, user, plan.campus_id)
        current, moves = await plans.compare_with_published(reading, plan)
        campus = await reading.get(Campus, plan.campus_id)
        body = msgspec.to_builtins(plan_out(plan))
        session_codes, learner_names = await plans.unassigned_names(reading, body["unassigned"], plan.kind)
        return Template(
            "staff/plan.html",
            context={
                "plan": body,
                "campus": campus,
                "current": current,
                "moves": moves,
                "error": error,
                "flash": {"kind": "ok", "text": "計画を公開しました。受講者のマイページに反映されます。"}
                if msg == "published"
                else None,
                "breakdown_total": sum(v["cost"] for v in body["breakdown"].values()) or 1,
                "session_codes": session_codes,
                "learner_names": learner_names,
                "json": json,
            },
        )

    @get("/plans/{plan_id:int}/rooms")
    async def rooms_page(
        self,
        user: CurrentUser,
        reading: Reading,
        plan_id: FromPath[int],
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
    ) -> Template:
        """Who sleeps where, night by night: for the front desk (prints on A4 landscape)."""
        plan = await plans.get_plan(reading, plan_id)
        await enrollment.ensure_staff_campus(reading, user, plan.campus_id)
        campus = await reading.get(Campus, plan.campus_id)
        error = None
        try:
            days = occupancy.night_range(plan, date_from, date_to)
        except DomainError as exc:
            error, days = exc.detail_ja, occupancy.night_range(plan, None, None)
        view = await occupancy.occupancy(reading, plan, days)
        return Template(
            "staff/occupancy.html",
            context={
                "view": view,
                "plan": plan,
                "campus": campus,
                "error": error,
                "zones": occupancy.ZONE_JA,
                "previous_week": days[0] - timedelta(days=7),
                "next_week": days[0] + timedelta(days=7),
                "weekdays": "月火水木金土日",
            },
            status_code=400 if error else 200,
        )

    @get("/plans/{plan_id:int}/rooms.csv", media_type="text/csv")
    async def rooms_csv(
        self,
        user: CurrentUser,
        reading: Reading,
        plan_id: FromPath[int],
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
    ) -> Response[bytes]:
        days, rows = await _occupancy_rows(user, reading, plan_id, date_from, date_to)
        content = tabular.write_csv(occupancy.CSV_HEADER, rows)
        return csv_response(content, f"rooms-plan-{plan_id}-{days[0]}-{days[-1]}.csv")

    @get(
        "/plans/{plan_id:int}/rooms.xlsx",
        media_type=XLSX,
    )
    async def rooms_xlsx(
        self,
        user: CurrentUser,
        reading: Reading,
        plan_id: FromPath[int],
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
    ) -> Response[bytes]:
        """The same list as rooms.csv, as a workbook for the front desk."""
        days, rows = await _occupancy_rows(user, reading, plan_id, date_from, date_to)
        content = tabular.write_xlsx(occupancy.CSV_HEADER, rows, "部屋割り")
        return file_response(content, f"rooms-plan-{plan_id}-{days[0]}-{days[-1]}.xlsx", XLSX)

    @get("/plans/{plan_id:int}/sites")
    async def sites_page(self, user: CurrentUser, reading: Reading, plan_id: FromPath[int]) -> Template:
        """Who goes to which host company, on which days, and how full each host is."""
        plan = await plans.get_plan(reading, plan_id)
        await enrollment.ensure_staff_campus(reading, user, plan.campus_id)
        campus = await reading.get(Campus, plan.campus_id)
        view = await practicum_view.practicum_view(reading, plan)
        return Template(
            "staff/practicum.html",
            context={"view": view, "plan": plan, "campus": campus, "industries": INDUSTRIES},
        )

    @get("/plans/{plan_id:int}/sites.csv", media_type="text/csv")
    async def sites_csv(
        self,
        user: CurrentUser,
        reading: Reading,
        plan_id: FromPath[int],
        site: FromQuery[int | None] = None,
    ) -> Response[bytes]:
        """The list for the host companies: all of them, or one (``site``) to send to that company."""
        rows = await _practicum_rows(user, reading, plan_id, site)
        content = tabular.write_csv(practicum_view.CSV_HEADER, rows)
        return csv_response(content, _practicum_name(plan_id, site, "csv"))

    @get("/plans/{plan_id:int}/sites.xlsx", media_type=XLSX)
    async def sites_xlsx(
        self,
        user: CurrentUser,
        reading: Reading,
        plan_id: FromPath[int],
        site: FromQuery[int | None] = None,
    ) -> Response[bytes]:
        """The same list as sites.csv, as a workbook."""
        rows = await _practicum_rows(user, reading, plan_id, site)
        content = tabular.write_xlsx(practicum_view.CSV_HEADER, rows, "企業実習")
        return file_response(content, _practicum_name(plan_id, site, "xlsx"), XLSX)

    @post("/plans/{plan_id:int}/publish")
    async def publish(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, plan_id: FromPath[int]
    ) -> Response[Any]:
        try:
            async with undone_on_error(writing):
                plan = await plans.get_plan(writing, plan_id)
                await enrollment.ensure_staff_campus(writing, user, plan.campus_id)
                await plans.publish(writing, plan, user, request.app.state.clock())
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            return Redirect(f"/staff/plans/{plan_id}?error={quote(exc.detail_ja)}")
        return Redirect(f"/staff/plans/{plan_id}?msg=published")

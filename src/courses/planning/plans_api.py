"""Solver runs and plans through the API, for campus staff of the campus concerned."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.guards import me
from courses.core.bodies import sent
from courses.core.deps import DB
from courses.core.errors import FieldError, InvalidInput
from courses.enrollment import service as enrollment
from courses.models import Campus, DormRoom
from courses.models.plans import PlannedRoom, PlannedSite, SolverRun
from courses.planning import occupancy, plans, practicum_view, runner
from courses.planning.schemas import SolverRunRequest

STAFF = {"access": "staff"}


def _date(data: dict[str, Any], name: str) -> date:
    try:
        return date.fromisoformat(str(data.get(name, "")))
    except ValueError:
        raise InvalidInput(
            f"{name} の日付が正しくありません（YYYY-MM-DD）。",
            f"{name} must be a date (YYYY-MM-DD).",
            errors=[FieldError(name, "日付が正しくありません。", "invalid date")],
        ) from None


async def campus_by_code(s: AsyncSession, code: str) -> Campus:
    campus = (await s.exec(select(Campus).where(Campus.code == code))).first()
    if campus is None:
        raise InvalidInput(
            f"キャンパス「{code}」はありません。",
            f"Unknown campus '{code}'.",
            errors=[FieldError("campus", "キャンパスがありません。", "unknown campus")],
        )
    return campus


async def start_run(request: Request[Any, Any, Any], db: Any, data: dict[str, Any]) -> SolverRun:
    """Shared by the API and the planning page: validate, check the campus, queue the run."""
    kinds = data.get("kinds") or ["rooms", "practicum"]
    if isinstance(kinds, str):
        kinds = [k.strip() for k in kinds.split(",") if k.strip()]
    # anything but a list of names (-1, true, an object) is refused by create_run as an unknown kind
    kinds = [k if isinstance(k, str) else None for k in (kinds if isinstance(kinds, list) else [kinds])]
    try:
        time_limit = float(data.get("time_limit_s", 10))
    except (TypeError, ValueError):
        time_limit = -1
    date_from, date_to = _date(data, "from"), _date(data, "to")
    async with db.write() as s:
        campus = await campus_by_code(s, str(data.get("campus", "")))
        await enrollment.ensure_staff_campus(s, me(request), campus.id or 0)
        return await runner.create_run(
            s,
            campus=campus,
            kinds=list(kinds),
            date_from=date_from,
            date_to=date_to,
            time_limit_s=time_limit,
            pin_published=bool(data.get("pin_published", False)),
            user_id=me(request).id,
            now=request.app.state.clock(),
        )


class PlansApi(Controller):
    path = "/api/staff"
    tags = ("planning",)
    opt = STAFF

    @post(
        "/solver-runs",
        summary="Queue a solver run (rooms and/or practicum) for a campus and date range",
        status_code=202,
    )
    async def create(
        self, request: Request[Any, Any, Any], db: DB, data: JSONBody[SolverRunRequest]
    ) -> Response[Any]:
        run = await start_run(request, db, sent(data))
        return Response(runner.run_dict(run), status_code=202)

    @get("/solver-runs", summary="Recent runs of a campus")
    async def list_runs(
        self, request: Request[Any, Any, Any], db: DB, campus: FromQuery[str]
    ) -> list[dict[str, Any]]:
        async with db.read() as s:
            row = await campus_by_code(s, campus)
            await enrollment.ensure_staff_campus(s, me(request), row.id or 0)
            runs = await s.exec(
                select(SolverRun)
                .where(SolverRun.campus_id == row.id)
                .order_by(col(SolverRun.id).desc())
                .limit(50)
            )
            return [runner.run_dict(r) for r in runs]

    @get("/solver-runs/{run_id:int}", summary="A run: status, progress, and its plans when done")
    async def get_run(self, request: Request[Any, Any, Any], db: DB, run_id: FromPath[int]) -> dict[str, Any]:
        async with db.read() as s:
            run = await runner.get_run(s, run_id)
            await enrollment.ensure_staff_campus(s, me(request), run.campus_id)
        return runner.run_dict(run)

    @get(
        "/plans/{plan_id:int}",
        summary="A plan: status, objective by rule, the unassigned with reasons, assignments",
    )
    async def get_plan(
        self, request: Request[Any, Any, Any], db: DB, plan_id: FromPath[int]
    ) -> dict[str, Any]:
        async with db.read() as s:
            plan = await plans.get_plan(s, plan_id)
            await enrollment.ensure_staff_campus(s, me(request), plan.campus_id)
            body = plans.plan_dict(plan)
            if plan.kind == "rooms":
                rows = await s.exec(
                    select(PlannedRoom, DormRoom.room_number)
                    .join(DormRoom, col(DormRoom.id) == PlannedRoom.dorm_room_id)
                    .where(PlannedRoom.plan_id == plan.id)
                )
                body["assignments"] = [
                    {
                        "enrollment_id": r.enrollment_id,
                        "session_id": r.session_id,
                        "block": r.block_seq,
                        "room_id": r.dorm_room_id,
                        "room": number,
                    }
                    for r, number in rows
                ]
            else:
                sites = await s.exec(select(PlannedSite).where(PlannedSite.plan_id == plan.id))
                body["assignments"] = [
                    {"enrollment_id": r.enrollment_id, "session_id": r.session_id, "site_id": r.site_id}
                    for r in sites
                ]
        return body

    @get(
        "/plans/{plan_id:int}/rooms",
        summary="A rooms plan as nights x rooms: occupants, empty beds, outages, changes from the published plan",
        description="from and to (dates, both included) default to the plan's first week; at most 31 nights.",
    )
    async def rooms(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        plan_id: FromPath[int],
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
    ) -> dict[str, Any]:
        async with db.read() as s:
            plan = await plans.get_plan(s, plan_id)
            await enrollment.ensure_staff_campus(s, me(request), plan.campus_id)
            view = await occupancy.occupancy(s, plan, occupancy.night_range(plan, date_from, date_to))
        return view.as_dict()

    @get(
        "/plans/{plan_id:int}/sites",
        summary="A practicum plan as groups per host company and session, with each day's use of its capacity",
    )
    async def sites(self, request: Request[Any, Any, Any], db: DB, plan_id: FromPath[int]) -> dict[str, Any]:
        async with db.read() as s:
            plan = await plans.get_plan(s, plan_id)
            await enrollment.ensure_staff_campus(s, me(request), plan.campus_id)
            view = await practicum_view.practicum_view(s, plan)
        return {"plan_id": plan_id, "sites": [h.as_dict() for h in view]}

    @get("/plans/{plan_id:int}/compare", summary="Who moves if this plan replaces the published one")
    async def compare(
        self, request: Request[Any, Any, Any], db: DB, plan_id: FromPath[int]
    ) -> dict[str, Any]:
        async with db.read() as s:
            plan = await plans.get_plan(s, plan_id)
            await enrollment.ensure_staff_campus(s, me(request), plan.campus_id)
            current, moves = await plans.compare_with_published(s, plan)
        return {
            "plan_id": plan_id,
            "published_plan_id": current.id if current else None,
            "moves": [m.__dict__ for m in moves],
        }

    @post(
        "/plans/{plan_id:int}/publish",
        summary="Publish a plan: learners then see their room and site",
        status_code=200,
    )
    async def publish(
        self, request: Request[Any, Any, Any], db: DB, plan_id: FromPath[int]
    ) -> dict[str, Any]:
        async with db.write() as s:
            plan = await plans.get_plan(s, plan_id)
            await enrollment.ensure_staff_campus(s, me(request), plan.campus_id)
            await plans.publish(s, plan, me(request), request.app.state.clock())
        return plans.plan_dict(plan)

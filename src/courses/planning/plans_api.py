"""Solver runs and plans through the API, for campus staff of the campus concerned."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, cast

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.guards import CurrentUser
from courses.core.bodies import sent
from courses.core.deps import Reading, Writing
from courses.core.errors import FieldError, InvalidInput
from courses.core.reference import INDUSTRIES
from courses.enrollment import service as enrollment
from courses.models import Campus, DormRoom, User
from courses.models.plans import PlannedRoom, PlannedSite, PlanVersion, SolverRun
from courses.planning import occupancy, plans, practicum_view, runner
from courses.planning.schemas import (
    AssignmentOut,
    BreakdownTerm,
    GroupMemberOut,
    HostSiteOut,
    Kind,
    MoveOut,
    NightOut,
    NightTotal,
    OccupantOut,
    PlanComparison,
    PlanDetailOut,
    PlanOut,
    PlanStatus,
    PracticumGroupOut,
    PracticumSites,
    RoomNightsOut,
    RoomOccupancy,
    RunProgress,
    RunStatus,
    SiteDay,
    SolverRunOut,
    SolverRunRequest,
    UnassignedOut,
    ValidatorOut,
    ViolationOut,
)

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


async def start_run(
    request: Request[Any, Any, Any], user: User, s: AsyncSession, data: dict[str, Any]
) -> SolverRun:
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
    campus = await campus_by_code(s, str(data.get("campus", "")))
    await enrollment.ensure_staff_campus(s, user, campus.id or 0)
    return await runner.create_run(
        s,
        campus=campus,
        kinds=list(kinds),
        date_from=date_from,
        date_to=date_to,
        time_limit_s=time_limit,
        pin_published=bool(data.get("pin_published", False)),
        user_id=user.id,
        now=request.app.state.clock(),
    )


def run_out(run: SolverRun) -> SolverRunOut:
    return SolverRunOut(
        id=run.id or 0,
        campus_id=run.campus_id,
        kinds=cast("list[Kind]", run.kinds.split(",")),  # create_run admits only these kinds
        date_from=run.date_from,
        date_to=run.date_to,
        time_limit_s=run.time_limit_s,
        pin_published=run.pin_published,
        status=cast("RunStatus", run.status),
        attempts=run.attempts,
        progress=msgspec.json.decode(run.progress_json or "{}", type=RunProgress),
        error=run.error,
        created_at=run.created_at.isoformat(),
        started_at=run.started_at.isoformat() if run.started_at else None,
        finished_at=run.finished_at.isoformat() if run.finished_at else None,
        heartbeat_at=run.heartbeat_at.isoformat() if run.heartbeat_at else None,
    )


def plan_out(plan: PlanVersion) -> PlanOut:
    """A plan as stored: the solver's breakdown, unassigned, messages and the validator's verdict are
    JSON columns, decoded into their structs."""
    violations = msgspec.json.decode(plan.violations_json, type=list[ViolationOut])
    return PlanOut(
        id=plan.id or 0,
        run_id=plan.run_id,
        kind=cast("Kind", plan.kind),
        status=cast("PlanStatus", plan.status),
        date_from=plan.date_from,
        date_to=plan.date_to,
        objective=plan.objective,
        best_bound=plan.best_bound,
        gap=plan.gap,
        moved=plan.moved,
        solve_seconds=plan.solve_seconds,
        breakdown=msgspec.json.decode(plan.breakdown_json, type=dict[str, BreakdownTerm]),
        unassigned=msgspec.json.decode(plan.unassigned_json, type=list[UnassignedOut]),
        messages=msgspec.json.decode(plan.messages_json, type=list[str]),
        validator=ValidatorOut(ok=not violations, violations=violations),
        published_at=plan.published_at.isoformat() if plan.published_at else None,
    )


def occupancy_out(view: occupancy.Occupancy) -> RoomOccupancy:
    return RoomOccupancy(
        plan_id=view.plan.id or 0,
        campus_id=view.plan.campus_id,
        published=view.plan.published_at is not None,
        compared_with_plan_id=view.published_id,
        date_from=view.days[0],
        date_to=view.days[-1],
        totals=[NightTotal(d, used, beds) for d, used, beds in view.totals()],
        rooms=[
            RoomNightsOut(
                room_id=r.room.id or 0,
                room_number=r.room.room_number,
                floor=r.room.floor,
                zone=r.room.zone,
                kind=r.room.kind,
                accessible=r.room.accessible,
                beds=r.beds,
                nights=[
                    NightOut(
                        n.day,
                        n.out_of_service,
                        r.empty_beds(n),
                        [
                            OccupantOut(o.enrollment_id, o.name, o.session_code, o.course_title, o.changed)
                            for o in n.occupants
                        ],
                    )
                    for n in r.nights
                ],
            )
            for r in view.rooms
        ],
    )


def host_site_out(h: practicum_view.HostSite) -> HostSiteOut:
    x = h.site
    return HostSiteOut(
        site_id=x.id or 0,
        name=x.name,
        company_name=x.company_name,
        industry=x.industry,
        address=x.address,
        travel_minutes=x.travel_minutes,
        capacity_per_day=x.capacity_per_day,
        per_day=[SiteDay(d, n) for d, n in h.per_day()],
        groups=[
            PracticumGroupOut(
                session_id=g.session.id or 0,
                session_code=g.session.code,
                course_title=g.course.title_ja,
                days=list(g.days),
                learners=[
                    GroupMemberOut(
                        m.enrollment_id, m.name, m.company, m.industry, INDUSTRIES.get(m.industry, m.industry)
                    )
                    for m in g.members
                ],
            )
            for g in h.groups
        ],
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
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        data: JSONBody[SolverRunRequest],
    ) -> SolverRunOut:
        return run_out(await start_run(request, user, writing, sent(data)))

    @get("/solver-runs", summary="Recent runs of a campus")
    async def list_runs(
        self, user: CurrentUser, reading: Reading, campus: FromQuery[str]
    ) -> list[SolverRunOut]:
        row = await campus_by_code(reading, campus)
        await enrollment.ensure_staff_campus(reading, user, row.id or 0)
        runs = await reading.exec(
            select(SolverRun)
            .where(SolverRun.campus_id == row.id)
            .order_by(col(SolverRun.id).desc())
            .limit(50)
        )
        return [run_out(r) for r in runs]

    @get("/solver-runs/{run_id:int}", summary="A run: status, progress, and its plans when done")
    async def get_run(self, user: CurrentUser, reading: Reading, run_id: FromPath[int]) -> SolverRunOut:
        run = await runner.get_run(reading, run_id)
        await enrollment.ensure_staff_campus(reading, user, run.campus_id)
        return run_out(run)

    @get(
        "/plans/{plan_id:int}",
        summary="A plan: status, objective by rule, the unassigned with reasons, assignments",
    )
    async def get_plan(self, user: CurrentUser, reading: Reading, plan_id: FromPath[int]) -> PlanDetailOut:
        plan = await plans.get_plan(reading, plan_id)
        await enrollment.ensure_staff_campus(reading, user, plan.campus_id)
        if plan.kind == "rooms":
            rows = await reading.exec(
                select(PlannedRoom, DormRoom.room_number)
                .join(DormRoom, col(DormRoom.id) == PlannedRoom.dorm_room_id)
                .where(PlannedRoom.plan_id == plan.id)
            )
            assignments = [
                AssignmentOut(
                    r.enrollment_id, r.session_id, block=r.block_seq, room_id=r.dorm_room_id, room=number
                )
                for r, number in rows
            ]
        else:
            sites = await reading.exec(select(PlannedSite).where(PlannedSite.plan_id == plan.id))
            assignments = [AssignmentOut(r.enrollment_id, r.session_id, site_id=r.site_id) for r in sites]
        return PlanDetailOut(**msgspec.structs.asdict(plan_out(plan)), assignments=assignments)

    @get(
        "/plans/{plan_id:int}/rooms",
        summary="A rooms plan as nights x rooms: occupants, empty beds, outages, changes from the published plan",
        description="from and to (dates, both included) default to the plan's first week; at most 31 nights.",
    )
    async def rooms(
        self,
        user: CurrentUser,
        reading: Reading,
        plan_id: FromPath[int],
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
    ) -> RoomOccupancy:
        plan = await plans.get_plan(reading, plan_id)
        await enrollment.ensure_staff_campus(reading, user, plan.campus_id)
        view = await occupancy.occupancy(reading, plan, occupancy.night_range(plan, date_from, date_to))
        return occupancy_out(view)

    @get(
        "/plans/{plan_id:int}/sites",
        summary="A practicum plan as groups per host company and session, with each day's use of its capacity",
    )
    async def sites(self, user: CurrentUser, reading: Reading, plan_id: FromPath[int]) -> PracticumSites:
        plan = await plans.get_plan(reading, plan_id)
        await enrollment.ensure_staff_campus(reading, user, plan.campus_id)
        view = await practicum_view.practicum_view(reading, plan)
        return PracticumSites(plan_id, [host_site_out(h) for h in view])

    @get("/plans/{plan_id:int}/compare", summary="Who moves if this plan replaces the published one")
    async def compare(self, user: CurrentUser, reading: Reading, plan_id: FromPath[int]) -> PlanComparison:
        plan = await plans.get_plan(reading, plan_id)
        await enrollment.ensure_staff_campus(reading, user, plan.campus_id)
        current, moves = await plans.compare_with_published(reading, plan)
        return PlanComparison(
            plan_id,
            current.id if current else None,
            [MoveOut(m.enrollment_id, m.learner, m.session_code, m.before, m.after) for m in moves],
        )

    @post(
        "/plans/{plan_id:int}/publish",
        summary="Publish a plan: learners then see their room and site",
        status_code=200,
    )
    async def publish(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, plan_id: FromPath[int]
    ) -> PlanOut:
        plan = await plans.get_plan(writing, plan_id)
        await enrollment.ensure_staff_campus(writing, user, plan.campus_id)
        await plans.publish(writing, plan, user, request.app.state.clock())
        return plan_out(plan)

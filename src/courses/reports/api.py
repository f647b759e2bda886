"""The annual report through the JSON API (bearer tokens)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery

from courses.accounts.guards import CurrentUser
from courses.core.deps import Reading
from courses.reports import annual
from courses.reports.schemas import AnnualReport, ReportLine
from courses.surveys.results import rounded_rate, scope_of


def line_out(x: annual.Line) -> ReportLine:
    return ReportLine(
        audience=x.audience,
        campus=x.campus_code,
        campus_name=x.campus_name,
        sessions=x.sessions,
        confirmed=x.confirmed,
        completed=x.completed,
        completion_rate=rounded_rate(x.completion_rate),
        answers=x.answers,
        useful_rate=rounded_rate(x.useful_rate),
    )


class AnnualReportApi(Controller):
    path = "/api/staff"
    tags = ("reports",)

    @get(
        "/annual-report",
        opt={"access": "staff"},
        summary="Sessions held, learners confirmed and completed, usefulness, per audience and campus",
    )
    async def report(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        campus: FromQuery[str | None] = None,
        fy: FromQuery[int | None] = None,
    ) -> AnnualReport:
        scope = await scope_of(reading, user, campus, fy, request.app.state.clock().date())
        found = await annual.annual_report(reading, scope)
        return AnnualReport(
            fiscal_year=found.scope.fiscal_year,
            date_from=found.scope.first,
            date_to=found.scope.last,
            campuses=[c.code for c in found.scope.campuses],
            lines=[line_out(x) for x in found.lines],
            audiences=[line_out(x) for x in found.subtotals],
            total=line_out(found.total) if found.total else None,
        )

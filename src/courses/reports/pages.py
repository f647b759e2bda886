"""The annual report page for staff (their campuses; administrators: every campus), and its CSV."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery
from litestar.response import Template

from courses.accounts.guards import CurrentUser
from courses.core.deps import Reading
from courses.core.downloads import csv_response
from courses.reports import annual
from courses.surveys.results import scope_of


class AnnualReportPages(Controller):
    path = "/staff"
    include_in_schema = False
    opt = {"access": "staff"}

    @get("/annual-report")
    async def report(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        campus: FromQuery[str | None] = None,
        fy: FromQuery[int | None] = None,
    ) -> Template:
        scope = await scope_of(reading, user, campus, fy, request.app.state.clock().date())
        found = await annual.annual_report(reading, scope)
        return Template(
            "reports/annual.html",
            context={
                "report": found,
                "scope": scope,
                "campus": campus,
                "audiences": annual.AUDIENCES,
                "admin": user.role == "admin",
            },
        )

    @get("/annual-report.csv")
    async def report_csv(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        campus: FromQuery[str | None] = None,
        fy: FromQuery[int | None] = None,
    ) -> Response[bytes]:
        scope = await scope_of(reading, user, campus, fy, request.app.state.clock().date())
        found = await annual.annual_report(reading, scope)
        return csv_response(annual.report_csv(found), f"annual-report-FY{scope.fiscal_year}.csv")

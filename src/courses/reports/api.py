"""The annual report through the JSON API (bearer tokens)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery

from courses.accounts.guards import me
from courses.core.deps import DB
from courses.reports import annual
from courses.surveys.results import scope_of


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
        db: DB,
        campus: FromQuery[str | None] = None,
        fy: FromQuery[int | None] = None,
    ) -> dict[str, Any]:
        async with db.read() as s:
            scope = await scope_of(s, me(request), campus, fy, request.app.state.clock().date())
            found = await annual.annual_report(s, scope)
        return found.as_dict()

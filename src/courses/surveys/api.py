"""Survey results through the JSON API (bearer tokens), the same figures as the staff page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery

from courses.accounts.guards import me
from courses.core.deps import DB
from courses.surveys import results


class SurveyApi(Controller):
    path = "/api/staff"
    tags = ("surveys",)

    @get(
        "/surveys",
        opt={"access": "staff"},
        summary="Survey results per session, course, campus and instructor (a fiscal year)",
    )
    async def results(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        campus: FromQuery[str | None] = None,
        fy: FromQuery[int | None] = None,
    ) -> dict[str, Any]:
        today = request.app.state.clock().date()
        async with db.read() as s:
            scope = await results.scope_of(s, me(request), campus, fy, today)
            found = await results.results(s, scope)
        return found.as_dict()

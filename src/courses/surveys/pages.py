"""Pages: the learner's survey of an ended session, and the results for staff (with their CSV)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from courses.accounts.guards import CurrentUser
from courses.core import i18n
from courses.core.bodies import Form
from courses.core.deps import Reading, Writing, undone_on_error
from courses.core.downloads import csv_response
from courses.core.errors import DomainError, InvalidInput
from courses.surveys import results, service


def _context(survey: service.Survey | None, **extra: Any) -> dict[str, Any]:
    return {
        "survey": survey,
        "scale": service.USEFULNESS,
        "ratings": service.RATINGS,
        "comment_max": service.COMMENT_MAX,
        "done": False,
        "error": None,
        "field_errors": {},
        "values": {},
        **extra,
    }


class SurveyPages(Controller):
    include_in_schema = False
    opt = {"access": "learner"}

    @get("/surveys/{session_id:int}")
    async def form(
        self, request: Request[Any, Any, Any], user: CurrentUser, reading: Reading, session_id: FromPath[int]
    ) -> Template:
        today = request.app.state.clock().date()
        try:
            survey = await service.survey_of(reading, user, session_id, today)
        except DomainError as exc:
            if exc.status in (401, 404):
                raise
            return Template(
                "surveys/form.html",
                context=_context(None, error=exc.detail(i18n.current())),
                status_code=exc.status,
            )
        return Template("surveys/form.html", context=_context(survey))

    @post("/surveys/{session_id:int}")
    async def answer(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        session_id: FromPath[int],
        data: Form,
    ) -> Template:
        today = request.app.state.clock().date()
        data = data if isinstance(data, dict) else {}
        ratings: dict[int, object] = {
            int(name[2:]): value
            for name, value in data.items()
            if name.startswith("m_") and name[2:].isdigit()
        }
        try:
            async with undone_on_error(writing):
                await service.answer_survey(
                    writing,
                    user,
                    session_id,
                    today,
                    data.get("usefulness"),
                    ratings,
                    str(data.get("comment", "")),
                )
        except InvalidInput as exc:
            survey = await service.survey_of(writing, user, session_id, today)
            return Template(
                "surveys/form.html",
                context=_context(
                    survey,
                    error=exc.detail(i18n.current()),
                    field_errors={e.field: e.as_dict(i18n.current())["message"] for e in exc.errors},
                    values={k: str(v)[: service.COMMENT_MAX * 2] for k, v in data.items()},
                ),
                status_code=400,
            )
        except DomainError as exc:
            if exc.status in (401, 404):
                raise
            return Template(
                "surveys/form.html",
                context=_context(None, error=exc.detail(i18n.current())),
                status_code=exc.status,
            )
        survey = await service.survey_of(writing, user, session_id, today)
        return Template("surveys/form.html", context=_context(survey, done=True))


class SurveyResultPages(Controller):
    path = "/staff"
    include_in_schema = False
    opt = {"access": "staff"}

    @get("/surveys")
    async def results_page(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        campus: FromQuery[str | None] = None,
        fy: FromQuery[int | None] = None,
    ) -> Template:
        today = request.app.state.clock().date()
        scope = await results.scope_of(reading, user, campus, fy, today)
        found = await results.results(reading, scope)
        return Template(
            "surveys/results.html",
            context={
                "r": found,
                "scope": scope,
                "campus": campus if scope.campuses and campus else None,
                "kinds": results.KINDS,
                "hidden_ja": results.HIDDEN_JA,
                "min_answers": results.MIN_ANSWERS,
                "scale": service.USEFULNESS,
            },
        )

    @get("/surveys.csv")
    async def results_csv(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        campus: FromQuery[str | None] = None,
        fy: FromQuery[int | None] = None,
    ) -> Response[bytes]:
        today = request.app.state.clock().date()
        scope = await results.scope_of(reading, user, campus, fy, today)
        found = await results.results(reading, scope)
        return csv_response(results.results_csv(found), f"surveys-FY{scope.fiscal_year}.csv")

"""Surveys through the JSON API (bearer tokens): the learner answers their own; staff read the
results, the same figures as the staff page."""

from __future__ import annotations

from typing import Any, cast

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from courses.accounts.guards import CurrentUser
from courses.core.deps import Reading, Writing
from courses.models import id_of
from courses.surveys import results, service
from courses.surveys.schemas import (
    GroupKind,
    ModuleAverage,
    ModuleOut,
    SurveyAnswer,
    SurveyAnswered,
    SurveyGroup,
    SurveyOut,
    SurveyResults,
    Usefulness,
)


def group_out(g: results.Group) -> SurveyGroup:
    """A group's figures; those of an instructor with too few answers are left out."""
    kind = cast("GroupKind", g.kind)
    if g.hidden:
        return SurveyGroup(kind, g.key, g.label, hidden=True, note=results.HIDDEN_JA)
    return SurveyGroup(
        kind,
        g.key,
        g.label,
        hidden=False,
        answers=g.answers,
        confirmed=g.confirmed,
        response_rate=results.rounded_rate(g.response_rate),
        usefulness=Usefulness(*g.dist),
        useful_rate=results.rounded_rate(g.useful_rate),
        modules=[ModuleAverage(t, round(avg, 2), n) for t, avg, n in g.module_averages()],
    )


def results_out(found: results.Results) -> SurveyResults:
    groups = {kind: [group_out(g) for g in rows] for kind, rows in found.groups.items()}
    return SurveyResults(
        fiscal_year=found.scope.fiscal_year,
        campuses=[c.code for c in found.scope.campuses],
        min_answers_for_instructors=results.MIN_ANSWERS,
        session=groups["session"],
        course=groups["course"],
        campus=groups["campus"],
        instructor=groups["instructor"],
    )


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
        user: CurrentUser,
        reading: Reading,
        campus: FromQuery[str | None] = None,
        fy: FromQuery[int | None] = None,
    ) -> SurveyResults:
        today = request.app.state.clock().date()
        scope = await results.scope_of(reading, user, campus, fy, today)
        found = await results.results(reading, scope)
        return results_out(found)


class LearnerSurveyApi(Controller):
    """The learner's own survey of a session they attended, as the form at ``/surveys/{id}``."""

    path = "/api/surveys"
    tags = ("surveys",)
    opt = {"access": "learner"}

    @get(
        "/{session_id:int}", summary="The survey of a session I attended: its modules, and whether I answered"
    )
    async def questions(
        self, request: Request[Any, Any, Any], user: CurrentUser, reading: Reading, session_id: FromPath[int]
    ) -> SurveyOut:
        survey = await service.survey_of(reading, user, session_id, request.app.state.clock().date())
        return SurveyOut(
            session_id=session_id,
            session_code=survey.session.code,
            course_title=survey.course.title_ja,
            closes=survey.closes,
            answered=survey.answered,
            modules=[ModuleOut(id_of(m.module), m.module.title, m.instructor) for m in survey.modules],
        )

    @post("/{session_id:int}", summary="Answer the survey (once; stored without my name)", status_code=201)
    async def answer(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        session_id: FromPath[int],
        data: JSONBody[SurveyAnswer],
    ) -> SurveyAnswered:
        ratings: dict[int, object] = {r.module_id: r.rating for r in data.ratings}
        today = request.app.state.clock().date()
        await service.answer_survey(writing, user, session_id, today, data.usefulness, ratings, data.comment)
        return SurveyAnswered(answered=True)

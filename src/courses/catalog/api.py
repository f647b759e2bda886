"""Public JSON API of the catalog. Anyone may read it; no personal data is in it."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery, QueryParameter
from sqlalchemy import text

from courses.accounts.guards import MaybeUser
from courses.catalog import service as catalog
from courses.catalog.schemas import CampusOut, CategoryOut, CourseOut, Health, SessionOut, SessionPage
from courses.core.deps import DB, Reading

PUBLIC = {"access": "public"}


class CatalogApi(Controller):
    path = "/api"
    tags = ("catalog",)
    opt = PUBLIC

    @get("/campuses", summary="All campuses")
    async def campuses(self, reading: Reading) -> list[CampusOut]:
        rows = await catalog.list_campuses(reading)
        return [CampusOut(c.code, c.name_ja, c.name_en, c.prefecture, c.address, c.has_lodging) for c in rows]

    @get("/categories", summary="Subject categories of the catalog")
    async def categories(self, reading: Reading) -> list[CategoryOut]:
        rows = await catalog.list_categories(reading)
        return [CategoryOut(c.code, c.name_ja, c.name_en) for c in rows]

    @get("/courses", summary="All courses of the catalog")
    async def courses(self, reading: Reading) -> list[CourseOut]:
        rows = await catalog.list_courses(reading)
        return [
            CourseOut(
                code=c.code,
                title=c.title_ja,
                title_en=c.title_en,
                title_kana=c.title_kana,
                audience=c.audience,  # type: ignore[arg-type]
                category=c.category,
                description=c.description,
                days=c.days,
                fee_yen=c.fee_yen,
                default_capacity=c.default_capacity,
                residential=c.residential,
                has_practicum=c.has_practicum,
            )
            for c in rows
        ]

    @get(
        "/sessions",
        summary="Sessions, filtered and paged",
        description=(
            "Without filters every session of every date and status is listed. `month` (YYYY-MM) or "
            "`from`/`to` (YYYY-MM-DD) select sessions that meet in that period; `q` searches titles in "
            "Japanese and English, and the courses' readings in kana (「ざいむ」); `accepting=true` keeps the "
            "sessions open for applications today and `has_seats=true` those with a seat left. Each "
            "item's `application` says where applying stands today: open, upcoming, closed, cancelled "
            "or draft."
        ),
    )
    async def sessions(
        self,
        request: Request[Any, Any, Any],
        user: MaybeUser,
        reading: Reading,
        campus: FromQuery[str | None] = None,
        audience: FromQuery[str | None] = None,
        month: FromQuery[str | None] = None,
        date_from: Annotated[str | None, QueryParameter(name="from")] = None,
        date_to: Annotated[str | None, QueryParameter(name="to")] = None,
        category: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
        per_page: FromQuery[str | None] = None,
        accepting: FromQuery[str | None] = None,
        has_seats: FromQuery[str | None] = None,
    ) -> SessionPage:
        today = request.app.state.clock().date()
        params = {
            "accepting": accepting,
            "has_seats": has_seats,
            "campus": campus,
            "audience": audience,
            "month": month,
            "from": date_from,
            "to": date_to,
            "category": category,
            "q": q,
            "status": status,
            "page": page,
            "per_page": per_page,
        }
        flt = await catalog.parse_session_filter(reading, params, user, today)
        result = await catalog.list_sessions(reading, flt)
        return SessionPage(
            [catalog.session_out(r, today) for r in result.items], result.total, result.page, result.per_page
        )

    @get("/sessions/{session_id:int}", summary="One session")
    async def session(
        self, request: Request[Any, Any, Any], reading: Reading, session_id: FromPath[int]
    ) -> SessionOut:
        row = await catalog.get_session(reading, session_id)
        return catalog.session_out(row, request.app.state.clock().date())


OK = Health("ok")  # built once: /health is the throughput baseline of the benchmark


@get("/health", opt=PUBLIC, tags=["ops"], summary="Liveness with a database round trip")
async def health(db: DB) -> Health:
    async with db.read() as s:
        await s.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return OK

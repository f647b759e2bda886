"""The public catalog as HTML pages, in Japanese."""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template

from courses.billing import service as service_billing
from courses.catalog import service as catalog
from courses.core.deps import DB
from courses.core.errors import InvalidInput
from courses.models import id_of

PUBLIC = {"access": "public"}


def _today(request: Request[Any, Any, Any]) -> date:
    now: datetime = request.app.state.clock()
    return now.date()


class CatalogPages(Controller):
    path = "/"
    opt = PUBLIC
    include_in_schema = False

    @get("/")
    async def index(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        campus: FromQuery[str | None] = None,
        audience: FromQuery[str | None] = None,
        month: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
        date_from: Annotated[str | None, QueryParameter(name="from")] = None,
    ) -> Template:
        params: dict[str, str | None] = {
            "campus": campus,
            "audience": audience,
            "month": month,
            "category": category,
            "q": q,
            "page": page,
            "from": date_from,
        }
        error = None
        async with db.read() as s:
            campuses, categories = await _filter_choices(request, s)
            try:
                flt = await catalog.parse_session_filter(s, params)
            except InvalidInput as exc:
                error = exc.detail_ja
                flt = catalog.SessionFilter()
            if not flt.date_from and not month:
                flt.starts_from = _today(request)  # the catalog opens on sessions still to begin
            result = await catalog.list_sessions(s, flt)
        kept = {k: v for k, v in params.items() if v and k != "page"}

        def page_url(n: int) -> str:
            return "/?" + urlencode({**kept, "page": n})

        return Template(
            template_name="catalog.html",
            context={
                "result": result,
                "campuses": campuses,
                "categories": categories,
                "params": {k: v or "" for k, v in params.items()},
                "page_url": page_url,
                "error": error,
                "months": _month_options(_today(request)),
            },
            status_code=400 if error else 200,
        )

    @get("/sessions/{session_id:int}")
    async def session(self, request: Request[Any, Any, Any], db: DB, session_id: FromPath[int]) -> Template:
        async with db.read() as s:
            row = await catalog.get_session(s, session_id)
            categories = {c.code: c for c in await catalog.list_categories(s)}
            terms = service_billing.terms_text(*await service_billing.terms_of(s, id_of(row.course)))
        today = _today(request)
        open_now = (
            row.session.status == "published"
            and row.session.application_opens <= today <= row.session.application_closes
        )
        return Template(
            template_name="session.html",
            context={
                "row": row,
                "category": categories.get(row.course.category),
                "open_now": open_now,
                "terms": terms,
            },
        )


CHOICES_TTL_S = 60.0


async def _filter_choices(request: Request[Any, Any, Any], s: Any) -> tuple[list[Any], list[Any]]:
    """Campuses and categories for the filter form, kept for a minute: they change a few times a year
    and every catalog page needs them."""
    cached = request.app.state.get("catalog_choices")
    if cached and cached[0] > time.monotonic():
        return cached[1], cached[2]
    campuses = await catalog.list_campuses(s)
    categories = await catalog.list_categories(s)
    request.app.state.catalog_choices = (time.monotonic() + CHOICES_TTL_S, campuses, categories)
    return campuses, categories


def _month_options(today: date) -> list[tuple[str, str]]:
    """The twelve months from this one, as (YYYY-MM, 2026年6月)."""
    out = []
    y, m = today.year, today.month
    for _ in range(12):
        out.append((f"{y:04d}-{m:02d}", f"{y}年{m}月"))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out

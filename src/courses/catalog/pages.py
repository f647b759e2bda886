"""The public catalog as HTML pages, in Japanese."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, MediaType, Request, Response, get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template
from sqlmodel import col, select

from courses.accounts.guards import MaybeUser
from courses.billing import service as service_billing
from courses.catalog import service as catalog
from courses.core import i18n
from courses.core.deps import DB, Reading
from courses.core.errors import InvalidInput, NotEligible
from courses.enrollment import seats
from courses.models import (
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    LearnerProfile,
    Role,
    User,
    id_of,
)

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
        user: MaybeUser,
        db: DB,
        campus: FromQuery[str | None] = None,
        audience: FromQuery[str | None] = None,
        month: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
        show: FromQuery[str | None] = None,
        seats: FromQuery[str | None] = None,
        date_from: Annotated[str | None, QueryParameter(name="from")] = None,
    ) -> Response[Any]:
        today = _today(request)
        anonymous = user is None
        key = f"{i18n.current()}:{today.isoformat()}?{request.url.query}"  # one page per language
        cache: PageCache = request.app.state.catalog_pages
        rendering = False
        if anonymous:
            body, rendering = await cache.lookup(key, db.writes)
            if body is not None:
                return Response(body, media_type=MediaType.HTML)
        try:
            writes = db.writes
            show = show if show in SHOW_CHOICES else "open"
            params: dict[str, str | None] = {
                "campus": campus,
                "audience": audience,
                "month": month,
                "category": category,
                "q": q,
                "page": page,
                "from": date_from,
                "accepting": "true" if show == "open" else None,
                "has_seats": "true" if seats else None,
            }
            error = None
            async with db.read() as s:
                campuses, categories, months = await _filter_choices(request, s, today)
                try:
                    flt = await catalog.parse_session_filter(s, params, today=today)
                except InvalidInput as exc:
                    error = exc.detail(i18n.current())
                    flt = catalog.SessionFilter(accepting_on=today)
                if not flt.date_from and not month:
                    flt.starts_from = today  # the catalog lists sessions still to begin
                result = await catalog.list_sessions(s, flt)
            shown = {"show": show if show != "open" else None, "seats": "1" if seats else None}
            kept = {
                k: v
                for k, v in {**params, **shown}.items()
                if v and k not in {"page", "accepting", "has_seats"}
            }

            def page_url(n: int) -> str:
                return "/?" + urlencode({**kept, "page": n})

            template = Template(
                template_name="catalog.html",
                context={
                    "result": result,
                    "campuses": campuses,
                    "categories": categories,
                    "params": {k: v or "" for k, v in params.items()} | {"show": show, "seats": seats or ""},
                    "page_url": page_url,
                    "error": error,
                    "months": months,
                    "today": today,
                },
                status_code=400 if error else 200,
            )
            if not anonymous or error:
                return template
            html = render(request, template)
            if rendering:
                cache.put(key, writes, html)
            return Response(html, media_type=MediaType.HTML)
        finally:
            if rendering:
                cache.release(key)

    @get("/sessions/{session_id:int}")
    async def session(
        self, request: Request[Any, Any, Any], user: MaybeUser, reading: Reading, session_id: FromPath[int]
    ) -> Template:
        today = _today(request)
        row = await catalog.get_session(reading, session_id)
        categories = {c.code: c for c in await catalog.list_categories(reading)}
        terms = service_billing.terms_text(
            *await service_billing.terms_of(reading, id_of(row.course)), lang=i18n.current()
        )
        standing = await learner_standing(reading, user, row, today) if user is not None else None
        return Template(
            template_name="session.html",
            context={
                "row": row,
                "category": categories.get(row.course.category),
                "application": row.application(today),
                "open_now": row.application(today) == "open",
                "terms": terms,
                "standing": standing,
            },
        )

    @get("/campuses/{code:str}/calendar")
    async def month_view(
        self,
        request: Request[Any, Any, Any],
        reading: Reading,
        code: FromPath[str],
        month: FromQuery[str | None] = None,
    ) -> Template:
        """A campus's sessions on a calendar of one month."""
        today = _today(request)
        view = await catalog.month_calendar(reading, code, month, today)
        return Template("catalog_month.html", context={"view": view, "today": today})


SHOW_CHOICES = {"open": "受付中の研修", "upcoming": "今後開講するすべての研修"}


@dataclass
class Standing:
    """What the signed-in person's applying would meet: their place here, if any, or why they may
    not apply, and the other sessions of the same course they hold."""

    enrollment: Enrollment | None = None
    refusal: str = ""
    same_course: list[str] = field(default_factory=list)

    @property
    def may_apply(self) -> bool:
        return self.enrollment is None and not self.refusal


async def learner_standing(s: Any, user: User, row: catalog.SessionRow, today: date) -> Standing:
    """The button of the session page follows the same rules as the enrollment itself."""
    if user.role != Role.LEARNER:
        return Standing(
            refusal=i18n.pick(
                "受講の申し込みは受講者のアカウントで行います。",
                "Applications are made with a learner's account.",
            )
        )
    held = list(
        await s.exec(
            select(Enrollment, CourseSession.code, CourseSession.id)
            .join(CourseSession, col(CourseSession.id) == Enrollment.session_id)
            .where(
                Enrollment.user_id == user.id,
                CourseSession.course_id == row.course.id,
                col(Enrollment.status).in_([EnrollmentStatus.CONFIRMED, EnrollmentStatus.WAITLISTED]),
            )
        )
    )
    here = next((e for e, _, sid in held if sid == row.session.id), None)
    others = [code for _, code, sid in held if sid != row.session.id]
    if here is not None:
        return Standing(enrollment=here, same_course=others)
    profile = await s.get(LearnerProfile, user.id)
    offer = seats.Offer.of(seats.SessionContext(row.session, row.course, row.campus))
    try:
        seats.check_verified(user)
        seats.check_eligibility(offer, profile, False, today)
    except NotEligible as exc:
        return Standing(refusal=exc.detail(i18n.current()), same_course=others)
    return Standing(same_course=others)


class PageCache:
    """Rendered catalog pages for visitors who are not signed in.

    A page is kept for ``ttl`` seconds and is stale as soon as this process writes to the database
    (an enrollment changes a seat count). One request at a time renders a stale or missing page:
    the others meanwhile get the page as it was (at most one rendering behind), or, when there is
    none yet, wait for that rendering, so that a page going stale under load never has every
    connection rendering it at once."""

    def __init__(self, ttl: float, size: int = 256) -> None:
        self.ttl = ttl
        self.size = size
        self.pages: OrderedDict[str, tuple[float, int, bytes]] = OrderedDict()
        self.flights: dict[str, asyncio.Future[None]] = {}

    async def lookup(self, key: str, writes: int) -> tuple[bytes | None, bool]:
        """(the page to serve, or None; whether this caller now renders it and must ``release``)."""
        if self.ttl <= 0:
            return None, False
        hit = self.pages.get(key)
        if hit is not None and hit[0] >= time.monotonic() and hit[1] == writes:
            return hit[2], False
        flight = self.flights.get(key)
        if flight is not None:
            if hit is not None:
                return hit[2], False  # stale while another request renders the fresh one
            await asyncio.shield(flight)
            hit = self.pages.get(key)
            return (hit[2] if hit is not None else None), False
        self.flights[key] = asyncio.get_running_loop().create_future()
        return None, True

    def put(self, key: str, writes: int, body: bytes) -> None:
        self.pages[key] = (time.monotonic() + self.ttl, writes, body)
        self.pages.move_to_end(key)
        while len(self.pages) > self.size:
            self.pages.popitem(last=False)

    def release(self, key: str) -> None:
        """The rendering is over (stored or not): whoever waits for it goes on."""
        flight = self.flights.pop(key, None)
        if flight is not None and not flight.done():
            flight.set_result(None)


def render(request: Request[Any, Any, Any], template: Template) -> bytes:
    """The page as the template response would render it (for a visitor with no form to protect)."""
    engine = request.app.template_engine
    assert engine is not None and template.template_name is not None
    context = {**template.context, "request": request, "csrf_input": ""}
    html: str = engine.get_template(template.template_name).render(**context)
    return html.encode()


CHOICES_TTL_S = 60.0


async def _filter_choices(
    request: Request[Any, Any, Any], s: Any, today: date
) -> tuple[list[Any], list[Any], list[tuple[str, str]]]:
    """Campuses, categories and the months that have sessions, for the filter form; kept for a minute
    (they change a few times a year, or when staff publish a session) since every catalog page needs
    them."""
    cached = request.app.state.get("catalog_choices")
    if cached and cached[0] > time.monotonic() and cached[1] == today:
        return cached[2], cached[3], cached[4]
    campuses = await catalog.list_campuses(s)
    categories = await catalog.list_categories(s)
    months = await catalog.session_months(s, today)
    request.app.state.catalog_choices = (
        time.monotonic() + CHOICES_TTL_S,
        today,
        campuses,
        categories,
        months,
    )
    return campuses, categories, months

"""The application factory: plugins, dependencies, templates, routes and error handlers in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, cast

from litestar import Litestar, Request, get, post
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie, State
from litestar.exceptions import HTTPException
from litestar.openapi.config import OpenAPIConfig
from litestar.params import FromPath, QueryParameter
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import HTTPScope
from sqlalchemy.exc import DBAPIError

from courses.accounts.api import AuthApi
from courses.accounts.guards import (
    SESSION_COOKIE,
    USER_DEPENDENCY,
    CurrentUser,
    TokenCache,
    access_guard,
    cache_key,
)
from courses.accounts.pages import AccountPages, PasswordPages
from courses.accounts.profile import EmailConfirmPage, PrivacyPage, ProfilePages
from courses.accounts.verification import VerifyPages
from courses.attendance.api import AttendanceApi
from courses.attendance.pages import LearnerAttendancePages, StaffAttendancePages
from courses.background import start_background
from courses.billing.routes import BillingApi, BillingPages
from courses.bulk.api import OrganizationApi
from courses.bulk.pages import InvitationPage, OrganizationPages, PasswordSetPage
from courses.catalog.api import CatalogApi, health
from courses.catalog.pages import CatalogPages, PageCache
from courses.catalog.service import APPLICATION_LABELS, AUDIENCE_LABELS, STATUS_LABELS
from courses.console import api as console_api
from courses.console import pages as console_pages
from courses.console.sessions import available_actions
from courses.core import i18n, problems, web
from courses.core.bodies import Form
from courses.core.clock import japan_now
from courses.core.db import Database
from courses.core.deps import DEPENDENCIES, Writing, after_commit
from courses.core.errors import DomainError
from courses.core.security import security_headers
from courses.core.settings import STATIC_DIR, TEMPLATES_DIR, Settings
from courses.learners.account import AccountDataPages
from courses.learners.api import EnrollmentApi
from courses.learners.pages import LearnerPages
from courses.models import User
from courses.planning.plans_api import PlansApi
from courses.planning.plans_pages import PlanningPages
from courses.planning.timetable_api import TimetableApi
from courses.planning.timetable_pages import TimetablePages
from courses.reports.api import AnnualReportApi
from courses.reports.pages import AnnualReportPages
from courses.staff.api import StaffApi
from courses.staff.pages import MailboxPage, StaffPages
from courses.surveys.api import LearnerSurveyApi, SurveyApi
from courses.surveys.pages import SurveyPages, SurveyResultPages


@get("/favicon.ico", opt={"access": "public"}, include_in_schema=False)
async def favicon() -> Redirect:
    """Browsers ask for /favicon.ico whatever the page links: point them at the SVG mark."""
    return Redirect("/static/favicon.svg", status_code=301)


def _language_cookie(request: Request[Any, Any, Any], code: str) -> Cookie:
    settings: Settings = request.app.state.settings
    return Cookie(
        key=i18n.COOKIE,
        value=code,
        max_age=i18n.COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
    )


@get("/lang/{code:str}", opt={"access": "public"}, include_in_schema=False)
async def switch_language(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    next_url: Annotated[str | None, QueryParameter(name="next")] = None,
) -> Redirect:
    """The visitor's 日本語 / English switch (a link): remembers the choice in the ``lang`` cookie and
    goes back to the page it was pressed on (a path of this site only; anything else goes to the
    top). A GET changes nothing stored: a signed-in person's switch is the form below."""
    code = code if code in i18n.LANGUAGES else i18n.SOURCE
    return Redirect(i18n.same_site_path(next_url), status_code=303, cookies=[_language_cookie(request, code)])


@post("/lang/{code:str}", opt={"access": "user"}, include_in_schema=False)
async def remember_language(
    request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, code: FromPath[str], data: Form
) -> Redirect:
    """A signed-in person's switch (a form, so it carries the CSRF token): the cookie, and the
    language of their mail, stored with their account."""
    code = code if code in i18n.LANGUAGES else i18n.SOURCE
    row = await writing.get(User, user.id)
    if row is not None and row.language != code:
        row.language = code
        writing.add(row)
    # the signed-in person is cached for a few seconds: their next mail must already follow, so the
    # cached row is forgotten once the new language is committed (not before, or a request meanwhile
    # could cache the old one again)
    cache: TokenCache = request.app.state.token_cache
    if secret := request.cookies.get(SESSION_COOKIE):
        after_commit(writing, lambda: cache.evict(cache_key("web", secret)))
    return Redirect(
        i18n.same_site_path(data.get("next")), status_code=303, cookies=[_language_cookie(request, code)]
    )


async def staff_pages_in_japanese(request: Request[Any, Any, Any]) -> None:
    """Staff and console pages are Japanese only, whatever language the visitor chose."""
    if request.route_handler.opt.get("access") in ("staff", "admin"):
        i18n.use(i18n.SOURCE)


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] = japan_now) -> Litestar:
    """Build the service. ``clock`` is passed in so that deadlines can be tested."""
    settings = settings or Settings.from_env()
    db = Database.connect(settings.database_url, settings.pools)

    async def on_shutdown(app: Litestar) -> None:
        if stop := app.state.get("stop_background"):
            await stop()
        await app.state.db.dispose()

    async def on_startup(app: Litestar) -> None:
        start_background(app)

    def template_engine(engine: JinjaTemplateEngine) -> None:
        web.configure(engine.engine)
        # what the pages print of the domains: labels and the actions a session offers
        engine.engine.filters.update(
            audience_label=lambda v: i18n.pick(*AUDIENCE_LABELS.get(v, (v, v))),
            status_label=lambda v: i18n.pick(*STATUS_LABELS.get(v, (v, v))),
            application_label=lambda v: i18n.pick(*APPLICATION_LABELS.get(v, (v, v))),
        )
        engine.engine.globals["session_actions"] = available_actions

    route_handlers: list[Any] = [
        health,
        favicon,
        switch_language,
        remember_language,
        CatalogApi,
        CatalogPages,
        AuthApi,
        EnrollmentApi,
        StaffApi,
        AccountPages,
        PasswordPages,
        ProfilePages,
        EmailConfirmPage,
        VerifyPages,
        PrivacyPage,
        LearnerPages,
        AccountDataPages,
        StaffPages,
        MailboxPage,
        PlansApi,
        PlanningPages,
        TimetableApi,
        TimetablePages,
        OrganizationApi,
        OrganizationPages,
        PasswordSetPage,
        InvitationPage,
        BillingApi,
        BillingPages,
        AttendanceApi,
        StaffAttendancePages,
        LearnerAttendancePages,
        SurveyPages,
        SurveyResultPages,
        SurveyApi,
        LearnerSurveyApi,
        AnnualReportPages,
        AnnualReportApi,
        *console_api.controllers(),
        *console_pages.controllers(),
        create_static_files_router(
            path="/static", directories=[STATIC_DIR], opt={"access": "public"}, include_in_schema=False
        ),
    ]
    app = Litestar(
        route_handlers=route_handlers,
        dependencies={**DEPENDENCIES, **USER_DEPENDENCY},
        guards=[access_guard],
        before_request=staff_pages_in_japanese,
        # Forms are protected by a double-submit CSRF token; the API takes bearer tokens only (never
        # the session cookie), so it is not exposed to cross-site requests and is exempt.
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.secure_cookies,
            cookie_samesite="lax",
            exclude=["/api/"],
        ),
        state=State(
            {
                "db": db,
                "settings": settings,
                "clock": clock,
                "token_cache": TokenCache(),
                "catalog_pages": PageCache(settings.catalog_cache_s),
            }
        ),
        template_config=TemplateConfig(
            directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=template_engine
        ),
        exception_handlers={
            DomainError: problems.domain_error_handler,
            HTTPException: problems.http_exception_handler,
            UnicodeDecodeError: problems.unicode_error_handler,
            OverflowError: problems.overflow_handler,
            RecursionError: problems.recursion_error_handler,
            DBAPIError: problems.database_error_handler,
            Exception: problems.internal_error_handler,
        },
        openapi_config=OpenAPIConfig(
            title="中小企業大学校 研修申込 API",
            version="1.0.0",
            description="Course catalog, enrollment and scheduling of the SME University.",
            path="/schema",
        ),
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        debug=settings.debug,
    )
    answer_head_as_get(app)
    app.asgi_handler = i18n.language_middleware(app.asgi_handler)
    # outermost, so that routing errors (404, 405) and static files carry the headers too
    app.asgi_handler = security_headers(app.asgi_handler)
    problems.document_problems(app)
    return app


def answer_head_as_get(app: Litestar) -> None:
    """HEAD of every GET page and API route (monitors and link checkers send it): answered as the GET
    is, the same status and headers, without the body. Litestar routes by method before any
    middleware runs, so this wraps its handler."""
    inner = app.asgi_handler

    async def handler(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await inner(scope, receive, send)
            return

        async def headers_only(message: Any) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await inner(cast("HTTPScope", {**scope, "method": "GET"}), receive, headers_only)

    app.asgi_handler = handler

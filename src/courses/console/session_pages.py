"""The console's start page, room outages and course sessions (/console)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from courses.accounts.guards import CurrentUser
from courses.console import resources as console_resources
from courses.console import sessions as console_sessions
from courses.console.entities import ENTITIES
from courses.console.entity_pages import edit_page
from courses.console.forms import choose_campus, my_campuses
from courses.console.page_common import STAFF, flash, form_page, request_now
from courses.core.bodies import Form
from courses.core.deps import Reading, Writing, undone_on_error
from courses.core.errors import Conflict, InvalidInput, NotFound


class ConsolePages(Controller):
    """The console's start page, room outages and sessions."""

    path = "/console"
    include_in_schema = False
    opt = STAFF

    @get("/")
    async def home(self, user: CurrentUser, reading: Reading) -> Template:
        campuses = await my_campuses(reading, user)
        return Template(
            "console/index.html", context={"campuses": campuses, "entities": list(ENTITIES.values())}
        )

    @post("/room-outages/{kind:str}/{room_id:int}")
    async def add_outage(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        kind: FromPath[str],
        room_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        if kind not in ("classrooms", "dorm-rooms"):
            raise NotFound("ページが見つかりません。", "Not found.")
        try:
            async with undone_on_error(writing):
                await console_resources.add_outage(
                    writing, user, kind, room_id, dict(data), request_now(request)
                )
        except InvalidInput as exc:
            return await edit_page(user, writing, ENTITIES[kind], room_id, flash=None, outage_error=exc)
        return Redirect(f"/console/{kind}/{room_id}?msg=outage")

    @post("/outages/{outage_id:int}/delete")
    async def remove_outage(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, outage_id: FromPath[int]
    ) -> Response[Any]:
        o = await console_resources.remove_outage(writing, user, outage_id, request_now(request))
        kind, room = ("classrooms", o.classroom_id) if o.classroom_id else ("dorm-rooms", o.dorm_room_id)
        return Redirect(f"/console/{kind}/{room}?msg=outage_removed")

    @get("/sessions")
    async def sessions(
        self,
        user: CurrentUser,
        reading: Reading,
        campus: FromQuery[str | None] = None,
        msg: FromQuery[str | None] = None,
    ) -> Template:
        chosen = await choose_campus(reading, user, campus)
        rows = await console_sessions.list_for_campus(reading, user, chosen, None) if chosen else []
        campuses = await my_campuses(reading, user)
        return Template(
            "console/sessions.html",
            context={"rows": rows, "campus": chosen, "campuses": campuses, "flash": flash(msg)},
        )

    @get("/sessions/new")
    async def new_session(self, campus: FromQuery[str | None] = None) -> Template:
        return form_page(
            "開催回の登録",
            console_sessions.SESSION_FIELDS,
            {"campus": campus or "", "lodging": "on"},
            "/console/sessions/new",
            back="/console/sessions",
            creating=True,
        )

    @post("/sessions/new")
    async def create_session(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, data: Form
    ) -> Response[Any]:
        try:
            async with undone_on_error(writing):
                row = await console_sessions.create(writing, user, dict(data), request_now(request))
        except (InvalidInput, Conflict) as exc:
            return form_page(
                "開催回の登録",
                console_sessions.SESSION_FIELDS,
                dict(data),
                "/console/sessions/new",
                exc=exc,
                back="/console/sessions",
                creating=True,
            )
        return Redirect(f"/console/sessions/{row.id}?msg=saved")

    @get("/sessions/{session_id:int}")
    async def edit_session(
        self,
        user: CurrentUser,
        reading: Reading,
        session_id: FromPath[int],
        msg: FromQuery[str | None] = None,
        error: FromQuery[str | None] = None,
    ) -> Template:
        row = await console_sessions.load(reading, user, session_id)
        data = await console_sessions.as_dict(reading, row)
        return form_page(
            f"開催回の編集: {data['course_title']}",
            console_sessions.EDIT_FIELDS,
            console_sessions.form_values(data),
            f"/console/sessions/{session_id}",
            back=f"/console/sessions?campus={data['campus']}",
            flash=flash(msg, error),
            session=data,
        )

    @post("/sessions/{session_id:int}")
    async def update_session(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        session_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        try:
            async with undone_on_error(writing):
                await console_sessions.update(
                    writing, user, session_id, dict(data), request_now(request), partial=False
                )
        except (InvalidInput, Conflict) as exc:
            current = await console_sessions.as_dict(
                writing, await console_sessions.load(writing, user, session_id)
            )
            return form_page(
                f"開催回の編集: {current['course_title']}",
                console_sessions.EDIT_FIELDS,
                dict(data),
                f"/console/sessions/{session_id}",
                exc=exc,
                back="/console/sessions",
                session=current,
                affected=exc.extra.get("affected"),
            )
        return Redirect(f"/console/sessions/{session_id}?msg=saved")

    @post("/sessions/{session_id:int}/{action:str}")
    async def session_action(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        session_id: FromPath[int],
        action: FromPath[str],
        data: Form,
    ) -> Response[Any]:
        if action not in ("publish", "close", "cancel", "copy"):
            raise NotFound("ページが見つかりません。", "Not found.")
        try:
            async with undone_on_error(writing):
                if action == "copy":
                    row = await console_sessions.copy_to_next_year(
                        writing, user, session_id, request_now(request)
                    )
                    return Redirect(f"/console/sessions/{row.id}?msg=copy")
                await console_sessions.change_status(
                    writing, user, session_id, action, dict(data), request_now(request)
                )
        except (InvalidInput, Conflict) as exc:
            return Redirect(f"/console/sessions/{session_id}?error={quote(exc.detail_ja)}")
        return Redirect(f"/console/sessions/{session_id}?msg={action}")

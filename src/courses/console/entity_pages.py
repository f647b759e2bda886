"""The console's pages of each record kind (campuses, rooms, courses, ...): list, create, edit and
archive, and for the kinds that have one a CSV export and import."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, MultipartBody
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.guards import CurrentUser
from courses.console import entities as console_entities
from courses.console import resources as console_resources
from courses.console.api import upload_bytes
from courses.console.entities import Entity
from courses.console.forms import choose_campus, my_campuses
from courses.console.page_common import STAFF, flash, form_errors, form_page, request_now
from courses.console.resources import OUTAGE_FIELDS
from courses.core.bodies import Form
from courses.core.deps import DB, Reading, Writing, undone_on_error
from courses.core.downloads import csv_response
from courses.core.errors import Conflict, InvalidInput
from courses.models import User


async def edit_page(
    user: User,
    s: AsyncSession,
    ent: Entity,
    row_id: int,
    *,
    flash: dict[str, str] | None,
    outage_error: InvalidInput | None = None,
) -> Template:
    """A record's edit page; for rooms also their outages, with a refused outage's messages."""
    row = await console_entities.load(s, user, ent, row_id)
    data = await console_entities.as_dict(s, ent, row)
    outages = await console_resources.outages_of(s, row) if ent.name in ("classrooms", "dorm-rooms") else None
    page = form_page(
        f"{ent.label}の編集",
        ent.fields,
        console_entities.form_values(ent, data),
        f"/console/{ent.name}/{row_id}",
        back=f"/console/{ent.name}",
        flash={"kind": "error", "text": outage_error.detail_ja} if outage_error else flash,
        row=data,
        outages=outages,
        outage_fields=OUTAGE_FIELDS,
        outage_errors=form_errors(outage_error) if outage_error else {},
        base=f"/console/{ent.name}",
    )
    if outage_error:
        page.status_code = outage_error.status
    return page


def entity_pages(ent: Entity) -> type[Controller]:
    base = f"/console/{ent.name}"

    class EntityPages(Controller):
        path = base
        include_in_schema = False
        opt = STAFF

        @get("/")
        async def index(
            self,
            user: CurrentUser,
            reading: Reading,
            campus: FromQuery[str | None] = None,
            archived: FromQuery[bool] = False,
            msg: FromQuery[str | None] = None,
        ) -> Template:
            chosen = await choose_campus(reading, user, campus) if ent.scope != "shared" else None
            rows = await console_entities.list_rows(reading, user, ent, chosen, include_archived=archived)
            items = await console_entities.as_dicts(reading, ent, rows)
            campuses = await my_campuses(reading, user)
            return Template(
                "console/list.html",
                context={
                    "ent": ent,
                    "items": items,
                    "campus": chosen,
                    "campuses": campuses,
                    "base": base,
                    "flash": flash(msg),
                    "archived": archived,
                },
            )

        @get("/new")
        async def new(self, campus: FromQuery[str | None] = None) -> Template:
            return form_page(
                f"{ent.label}の登録",
                ent.fields,
                {"campus": campus or ""},
                f"{base}/new",
                back=base,
                creating=True,
            )

        @post("/new")
        async def create(
            self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, data: Form
        ) -> Response[Any]:
            try:
                async with undone_on_error(writing):
                    row = await console_entities.create(writing, user, ent, dict(data), request_now(request))
            except (InvalidInput, Conflict) as exc:
                return form_page(
                    f"{ent.label}の登録",
                    ent.fields,
                    dict(data),
                    f"{base}/new",
                    exc=exc,
                    back=base,
                    creating=True,
                )
            return Redirect(f"{base}/{row.id}?msg=saved")

        @get("/{row_id:int}")
        async def edit(
            self,
            user: CurrentUser,
            reading: Reading,
            row_id: FromPath[int],
            msg: FromQuery[str | None] = None,
            error: FromQuery[str | None] = None,
        ) -> Template:
            return await edit_page(user, reading, ent, row_id, flash=flash(msg, error))

        @post("/{row_id:int}")
        async def update(
            self,
            request: Request[Any, Any, Any],
            user: CurrentUser,
            writing: Writing,
            row_id: FromPath[int],
            data: Form,
        ) -> Response[Any]:
            try:
                async with undone_on_error(writing):
                    await console_entities.update(
                        writing, user, ent, row_id, dict(data), request_now(request), partial=False
                    )
            except (InvalidInput, Conflict) as exc:
                return form_page(
                    f"{ent.label}の編集",
                    ent.fields,
                    dict(data),
                    f"{base}/{row_id}",
                    exc=exc,
                    back=base,
                    base=base,
                )
            return Redirect(f"{base}/{row_id}?msg=saved")

        @post("/{row_id:int}/archive", opt={"access": "admin" if ent.admin_archive else "staff"})
        async def archive(
            self,
            request: Request[Any, Any, Any],
            user: CurrentUser,
            writing: Writing,
            row_id: FromPath[int],
            data: Form,
        ) -> Response[Any]:
            try:
                async with undone_on_error(writing):
                    row = await console_entities.set_archived(
                        writing, user, ent, row_id, dict(data), request_now(request)
                    )
            except (InvalidInput, Conflict) as exc:
                return Redirect(f"{base}/{row_id}?error={quote(exc.detail_ja)}")
            return Redirect(f"{base}/{row_id}?msg={'archived' if row.archived else 'restored'}")

    EntityPages.__name__ = f"ConsolePages_{ent.name.replace('-', '_')}"
    return EntityPages


def csv_pages(ent: Entity) -> type[Controller]:
    base = f"/console/{ent.name}"

    class CsvPages(Controller):
        path = base
        include_in_schema = False
        opt = STAFF

        @get("/export.csv")
        async def export(
            self,
            user: CurrentUser,
            reading: Reading,
            campus: FromQuery[str | None] = None,
            encoding: FromQuery[str] = "utf-8",
        ) -> Response[bytes]:
            chosen = await choose_campus(reading, user, campus)
            body = await console_resources.export_csv(reading, user, ent, chosen, encoding)
            return csv_response(body, f"{ent.name}.csv", encoding)

        @get("/import")
        async def import_form(self) -> Template:
            return Template(
                "console/import.html",
                context={
                    "ent": ent,
                    "base": base,
                    "report": None,
                    "columns": console_resources.CSV_COLUMNS[ent.name],
                },
            )

        @post("/import")
        async def import_file(
            self,
            request: Request[Any, Any, Any],
            user: CurrentUser,
            db: DB,
            data: MultipartBody[dict[str, Any]],
        ) -> Response[Any]:

            if data.get("content"):
                content = base64.b64decode(str(data["content"]))
            else:
                content = await upload_bytes(data.get("file"))
            apply = str(data.get("apply") or "") == "1"
            try:
                async with db.write() if apply else db.read() as s:
                    report = await console_resources.import_csv(
                        s, user, ent, content, request_now(request), dry_run=not apply
                    )
            except InvalidInput as exc:
                return Template(
                    "console/import.html",
                    context={
                        "ent": ent,
                        "base": base,
                        "report": None,
                        "columns": console_resources.CSV_COLUMNS[ent.name],
                        "flash": {"kind": "error", "text": exc.detail_ja},
                    },
                    status_code=400,
                )
            if report.applied:
                return Redirect(f"{base}?msg=imported")
            return Template(
                "console/import.html",
                context={
                    "ent": ent,
                    "base": base,
                    "report": report,
                    "content": base64.b64encode(content).decode(),
                    "columns": console_resources.CSV_COLUMNS[ent.name],
                },
            )

    CsvPages.__name__ = f"ConsoleCsvPages_{ent.name}"
    return CsvPages

"""The staff console through the JSON API: courses, sessions, rooms, instructors, practicum sites
(scoped to the caller's campuses), and the administrators' staff accounts and audit log.

Every edit carries the ``version`` the client last read; a stale one is refused with 409.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody, QueryParameter

from courses.accounts.guards import CurrentUser
from courses.accounts.service import hash_password
from courses.console import entities as console_entities
from courses.console import organizations as console_orgs
from courses.console import resources as console_resources
from courses.console import sessions as console_sessions
from courses.console import staff as console_staff
from courses.console.entities import ENTITIES, Entity
from courses.console.forms import campus_by_code, choose_campus
from courses.console.schemas import (
    ENTITY_CHANGE,
    ENTITY_CREATE,
    ENTITY_LIST,
    ENTITY_READ,
    ArchiveChange,
    AuditLogPage,
    CoordinatorCreate,
    CoordinatorRead,
    CsvImportReport,
    OrganizationCreate,
    OrganizationList,
    OrganizationRead,
    OutageCreate,
    OutageList,
    OutageRead,
    SessionChange,
    SessionChanged,
    SessionCreate,
    SessionList,
    SessionRead,
    SessionStatusChanged,
    StaffChange,
    StaffCreate,
    StaffList,
    StaffRead,
    StatusChange,
)
from courses.core import audit
from courses.core.bodies import sent
from courses.core.deps import DB, Reading, Writing
from courses.core.downloads import csv_response
from courses.core.errors import FieldError, InvalidInput
from courses.core.problems import request_language
from courses.core.security import link_base
from courses.models import User

STAFF = {"access": "staff"}
ADMIN = {"access": "admin"}


def _now(request: Request[Any, Any, Any]) -> datetime:
    now: datetime = request.app.state.clock()
    return now


@dataclass
class CsvImport:
    """A CSV file of records; ``dry_run`` true (the default) previews and writes nothing."""

    file: UploadFile | None = None
    dry_run: bool = True


async def upload_bytes(upload: Any) -> bytes:
    if upload is None or isinstance(upload, str) or not hasattr(upload, "read"):
        raise InvalidInput(
            "CSVファイルを選んでアップロードしてください。",
            "Attach the file in the multipart field 'file'.",
            errors=[FieldError("file", "ファイルが添付されていません。", "file is missing.")],
        )
    content: bytes = await upload.read(5 * 1024 * 1024 + 1)
    return content


def entity_api(ent: Entity) -> type[Controller]:
    """The list/create/read/update/archive routes of one kind of record (and CSV, where it has one)."""

    create_body = ENTITY_CREATE[ent.name]
    change_body = ENTITY_CHANGE[ent.name]
    answer = ENTITY_READ[ent.name]
    answers = ENTITY_LIST[ent.name]

    class EntityApi(Controller):
        path = f"/api/console/{ent.name}"
        tags = ("staff console",)
        opt = STAFF

        @get("/", summary=f"List {ent.name} (of one campus: ?campus=code)")
        async def list_all(
            self,
            user: CurrentUser,
            reading: Reading,
            campus: FromQuery[str | None] = None,
            archived: FromQuery[bool] = False,
        ) -> answers:  # type: ignore[valid-type]
            chosen = await choose_campus(reading, user, campus) if ent.scope != "shared" else None
            rows = await console_entities.list_rows(reading, user, ent, chosen, include_archived=archived)
            items = await console_entities.as_dicts(reading, ent, rows)
            return msgspec.convert({"items": items, "count": len(items)}, answers)

        @post("/", summary=f"Add one of {ent.name}", status_code=201)
        async def add(
            self,
            request: Request[Any, Any, Any],
            user: CurrentUser,
            writing: Writing,
            data: JSONBody[create_body],  # type: ignore[valid-type]
        ) -> answer:  # type: ignore[valid-type]
            row = await console_entities.create(writing, user, ent, sent(data), _now(request))
            return msgspec.convert(await console_entities.as_dict(writing, ent, row), answer)

        @get("/{row_id:int}", summary=f"One of {ent.name}")
        async def read(
            self,
            user: CurrentUser,
            reading: Reading,
            row_id: FromPath[int],
        ) -> answer:  # type: ignore[valid-type]
            row = await console_entities.load(reading, user, ent, row_id)
            return msgspec.convert(await console_entities.as_dict(reading, ent, row), answer)

        @patch("/{row_id:int}", summary=f"Change one of {ent.name} (send the version you read)")
        async def change(
            self,
            request: Request[Any, Any, Any],
            user: CurrentUser,
            writing: Writing,
            row_id: FromPath[int],
            data: JSONBody[change_body],  # type: ignore[valid-type]
        ) -> answer:  # type: ignore[valid-type]
            row = await console_entities.update(
                writing, user, ent, row_id, sent(data), _now(request), partial=True
            )
            return msgspec.convert(await console_entities.as_dict(writing, ent, row), answer)

        @post(
            "/{row_id:int}/archive",
            summary="Archive (archived: true) or restore (false); never deleted",
            opt={"access": "admin" if ent.admin_archive else "staff"},
            status_code=200,
        )
        async def archive(
            self,
            request: Request[Any, Any, Any],
            user: CurrentUser,
            writing: Writing,
            row_id: FromPath[int],
            data: JSONBody[ArchiveChange],
        ) -> answer:  # type: ignore[valid-type]
            row = await console_entities.set_archived(writing, user, ent, row_id, sent(data), _now(request))
            return msgspec.convert(await console_entities.as_dict(writing, ent, row), answer)

    EntityApi.__name__ = f"ConsoleApi_{ent.name.replace('-', '_')}"
    return EntityApi


def csv_api(ent: Entity) -> type[Controller]:
    class CsvApi(Controller):
        path = f"/api/console/{ent.name}"
        tags = ("staff console",)
        opt = STAFF

        @get(
            "/export.csv",
            summary="CSV (UTF-8 with BOM; ?encoding=cp932 for Shift_JIS)",
            media_type="text/csv",
        )
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

        @post(
            "/import",
            summary="Import CSV: multipart 'file', dry_run=true (default) previews",
            status_code=200,
            responses={
                422: ResponseSpec(
                    data_container=CsvImportReport,
                    description="The file has errors: nothing was imported (the report lists them)",
                    generate_examples=False,
                )
            },
        )
        async def import_file(
            self, request: Request[Any, Any, Any], user: CurrentUser, db: DB, data: MultipartBody[CsvImport]
        ) -> Response[CsvImportReport]:
            content = await upload_bytes(data.file)
            dry_run = data.dry_run
            runner = db.read if dry_run else db.write
            async with runner() as s:
                report = await console_resources.import_csv(
                    s, user, ent, content, _now(request), dry_run=dry_run
                )
                if report.errors and not dry_run:
                    await s.rollback()
            status = 422 if report.errors and not dry_run else 200
            answer = msgspec.convert(report.as_dict(request_language(request)), CsvImportReport)
            return Response(answer, status_code=status)

    CsvApi.__name__ = f"ConsoleCsvApi_{ent.name}"
    return CsvApi


def room_outage_api(kind: str) -> type[Controller]:
    class OutageApi(Controller):
        path = f"/api/console/{kind}/{{room_id:int}}/outages"
        tags = ("staff console",)
        opt = STAFF

        @get("/", summary="Dates the room is out of service")
        async def outages(self, user: CurrentUser, reading: Reading, room_id: FromPath[int]) -> OutageList:
            room = await console_resources.room_of(reading, user, kind, room_id)
            rows = await console_resources.outages_of(reading, room)
            return msgspec.convert({"items": [console_resources.outage_dict(o) for o in rows]}, OutageList)

        @post(
            "/",
            summary="Take the room out of service (start_date, end_date inclusive, reason)",
            status_code=201,
        )
        async def add_outage(
            self,
            request: Request[Any, Any, Any],
            user: CurrentUser,
            writing: Writing,
            room_id: FromPath[int],
            data: JSONBody[OutageCreate],  # type: ignore[valid-type]
        ) -> OutageRead:
            o = await console_resources.add_outage(writing, user, kind, room_id, sent(data), _now(request))
            return msgspec.convert(console_resources.outage_dict(o), OutageRead)

    OutageApi.__name__ = f"ConsoleOutageApi_{kind.replace('-', '_')}"
    return OutageApi


class OutagesApi(Controller):
    path = "/api/console/outages"
    tags = ("staff console",)
    opt = STAFF

    @delete("/{outage_id:int}", summary="Withdraw an outage", status_code=204)
    async def remove(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, outage_id: FromPath[int]
    ) -> None:
        await console_resources.remove_outage(writing, user, outage_id, _now(request))


class SessionsApi(Controller):
    path = "/api/console/sessions"
    tags = ("staff console",)
    opt = STAFF

    @get("/", summary="Sessions of one campus (?campus=code), drafts included")
    async def list_all(
        self, user: CurrentUser, reading: Reading, campus: FromQuery[str | None] = None
    ) -> SessionList:
        chosen = await choose_campus(reading, user, campus)
        rows = await console_sessions.list_for_campus(reading, user, chosen) if chosen else []
        items = [await console_sessions.as_dict(reading, row) for row, _ in rows]
        return msgspec.convert({"items": items, "count": len(items)}, SessionList)

    @post("/", summary="Create a session (a draft until published)", status_code=201)
    async def add(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        data: JSONBody[SessionCreate],  # type: ignore[valid-type]
    ) -> SessionRead:
        row = await console_sessions.create(writing, user, sent(data), _now(request))
        return msgspec.convert(await console_sessions.as_dict(writing, row), SessionRead)

    @get("/{session_id:int}", summary="One session")
    async def read(self, user: CurrentUser, reading: Reading, session_id: FromPath[int]) -> SessionRead:
        row = await console_sessions.load(reading, user, session_id)
        return msgspec.convert(await console_sessions.as_dict(reading, row), SessionRead)

    @patch(
        "/{session_id:int}",
        summary="Change capacity, lodging, blocks or application window (version; confirm_affected)",
    )
    async def change(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        session_id: FromPath[int],
        data: JSONBody[SessionChange],  # type: ignore[valid-type]
    ) -> SessionChanged:
        row, effects = await console_sessions.update(
            writing, user, session_id, sent(data), _now(request), partial=True
        )
        return msgspec.convert({**await console_sessions.as_dict(writing, row), **effects}, SessionChanged)

    async def _status(
        self,
        request: Request[Any, Any, Any],
        user: User,
        writing: Writing,
        session_id: int,
        action: str,
        data: JSONBody[StatusChange],
    ) -> SessionStatusChanged:
        row, told = await console_sessions.change_status(
            writing, user, session_id, action, sent(data), _now(request)
        )
        answer = {**await console_sessions.as_dict(writing, row), "enrollments_cancelled": told}
        return msgspec.convert(answer, SessionStatusChanged)

    @post("/{session_id:int}/publish", summary="Publish: learners see it and may apply", status_code=200)
    async def publish(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        session_id: FromPath[int],
        data: JSONBody[StatusChange],
    ) -> SessionStatusChanged:
        return await self._status(request, user, writing, session_id, "publish", data)

    @post("/{session_id:int}/close", summary="Close applications", status_code=200)
    async def close(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        session_id: FromPath[int],
        data: JSONBody[StatusChange],
    ) -> SessionStatusChanged:
        return await self._status(request, user, writing, session_id, "close", data)

    @post(
        "/{session_id:int}/cancel",
        summary="Cancel the session; every enrolled learner is told",
        status_code=200,
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        session_id: FromPath[int],
        data: JSONBody[StatusChange],
    ) -> SessionStatusChanged:
        return await self._status(request, user, writing, session_id, "cancel", data)

    @post(
        "/{session_id:int}/copy",
        summary="Copy to the same weeks of the next fiscal year (as a draft)",
        status_code=201,
    )
    async def copy(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, session_id: FromPath[int]
    ) -> SessionRead:
        row = await console_sessions.copy_to_next_year(writing, user, session_id, _now(request))
        return msgspec.convert(await console_sessions.as_dict(writing, row), SessionRead)


class AdminApi(Controller):
    path = "/api/admin"
    tags = ("administration",)
    opt = ADMIN

    @get("/organizations", summary="Organisations that register people in bulk, with their coordinators")
    async def organizations(self, reading: Reading) -> OrganizationList:
        return msgspec.convert({"items": await console_orgs.org_list(reading)}, OrganizationList)

    @post("/organizations", summary="Create an organisation (name, kind, prefecture)", status_code=201)
    async def add_organization(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        data: JSONBody[OrganizationCreate],  # type: ignore[valid-type]
    ) -> OrganizationRead:
        made = await console_orgs.create_org(writing, user, sent(data), _now(request))
        return msgspec.convert(made, OrganizationRead)

    @post(
        "/organizations/{organization_id:int}/coordinators",
        summary="Create a coordinator of the organisation (email, name); they set their password from an email",
        status_code=201,
    )
    async def add_coordinator(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        organization_id: FromPath[int],
        data: JSONBody[CoordinatorCreate],  # type: ignore[valid-type]
    ) -> CoordinatorRead:
        made = await console_orgs.create_coordinator(
            writing, user, organization_id, sent(data), _now(request), link_base(request)
        )
        return msgspec.convert(made, CoordinatorRead)

    @get("/staff", summary="Staff and administrator accounts with their campuses")
    async def staff(self, reading: Reading) -> StaffList:
        items = await console_staff.staff_list(reading)
        return msgspec.convert({"items": items}, StaffList)

    @post("/staff", summary="Create a staff account (email, name, role, campuses, password)", status_code=201)
    async def add_staff(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        db: DB,
        data: JSONBody[StaffCreate],  # type: ignore[valid-type]
    ) -> StaffRead:
        values = sent(data)
        password = str(values.pop("password", "") or "")
        console_staff.check_password(password)
        hashed = await hash_password(password)  # slow: before the write transaction
        async with db.write() as s:
            made = await console_staff.create(s, user, values, hashed, _now(request))
            return msgspec.convert(made, StaffRead)

    @patch("/staff/{user_id:int}", summary="Change name, role or campuses (campuses replaces the list)")
    async def change_staff(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        user_id: FromPath[int],
        data: JSONBody[StaffChange],  # type: ignore[valid-type]
    ) -> StaffRead:
        changed = await console_staff.update(writing, user, user_id, sent(data), _now(request))
        return msgspec.convert(changed, StaffRead)

    @post(
        "/staff/{user_id:int}/deactivate",
        summary="Deactivate (archive) an account; it is never deleted",
        status_code=200,
    )
    async def deactivate(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, user_id: FromPath[int]
    ) -> StaffRead:
        changed = await console_staff.deactivate(writing, user, user_id, _now(request))
        return msgspec.convert(changed, StaffRead)

    @get("/audit-log", summary="Audit log, newest first (filters: entity, user_id, campus, from, to, page)")
    async def audit_log(
        self,
        request: Request[Any, Any, Any],
        reading: Reading,
        entity: FromQuery[str | None] = None,
        user_id: FromQuery[int | None] = None,
        campus: FromQuery[str | None] = None,
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
        page: FromQuery[int] = 1,
    ) -> AuditLogPage:
        campus_id = None
        if campus:
            campus_id = (await campus_by_code(reading, campus)).id
        flt = audit.AuditFilter(entity or None, user_id, campus_id, date_from, date_to, max(1, page))
        entries, total = await audit.search(reading, flt, _now(request).tzinfo)
        answer = {
            "items": [e.as_dict() for e in entries],
            "total": total,
            "page": flt.page,
            "per_page": audit.PER_PAGE,
        }
        return msgspec.convert(answer, AuditLogPage)


def controllers() -> list[Any]:
    """Every console API controller, for ``create_app``."""
    out: list[Any] = []
    for ent in ENTITIES.values():
        if ent.csv:
            out.append(csv_api(ent))  # before the entity routes, so /export.csv is not read as an id
        out.append(entity_api(ent))
    out += [room_outage_api("classrooms"), room_outage_api("dorm-rooms"), OutagesApi, SessionsApi, AdminApi]
    return out

"""The staff console in the browser: the same services as ``console_api``, as lists and forms whose
messages appear next to the field they are about. Administrators also get /admin/staff and /admin/audit."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, MultipartBody, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from courses.accounts.guards import me
from courses.accounts.service import hash_password
from courses.console import entities as console_entities
from courses.console import organizations as console_orgs
from courses.console import resources as console_resources
from courses.console import sessions as console_sessions
from courses.console import staff as console_staff
from courses.console.api import upload_bytes
from courses.console.entities import ENTITIES, Entity
from courses.console.forms import FieldSpec, campus_by_code, choose_campus, my_campuses
from courses.console.resources import OUTAGE_FIELDS
from courses.core import audit
from courses.core.deps import DB
from courses.core.downloads import csv_response
from courses.core.errors import Conflict, InvalidInput, NotFound

Form = URLEncodedBody[dict[str, str]]
STAFF = {"access": "staff"}
ADMIN = {"access": "admin"}
SAVED = {
    "saved": "保存しました。",
    "coordinator": "申込担当者を登録し、パスワード設定のご案内をメールで送りました。",
    "archived": "アーカイブしました。",
    "restored": "元に戻しました。",
    "outage": "使用停止の予定を登録しました。",
    "outage_removed": "使用停止の予定を取り消しました。",
    "publish": "公開しました。",
    "close": "受付を終了しました。",
    "cancel": "開催回を中止し、申込者全員に連絡しました。",
    "copy": "翌年度へコピーしました（準備中）。",
    "imported": "取り込みました。",
    "deactivated": "アカウントを無効にしました。",
}


def _now(request: Request[Any, Any, Any]) -> datetime:
    now: datetime = request.app.state.clock()
    return now


def _flash(msg: str | None, error: str | None = None) -> dict[str, str] | None:
    if error:
        return {"kind": "error", "text": error[:400]}
    return {"kind": "ok", "text": SAVED[msg]} if msg in SAVED else None


def _form_errors(exc: InvalidInput | Conflict) -> dict[str, str]:
    return {e.field: e.message_ja for e in exc.errors}


async def _edit_page(
    request: Request[Any, Any, Any],
    db: Any,
    ent: Entity,
    row_id: int,
    *,
    flash: dict[str, str] | None,
    outage_error: InvalidInput | None = None,
) -> Template:
    """A record's edit page; for rooms also their outages, with a refused outage's messages."""
    async with db.read() as s:
        row = await console_entities.load(s, me(request), ent, row_id)
        data = await console_entities.as_dict(s, ent, row)
        outages = (
            await console_resources.outages_of(s, row) if ent.name in ("classrooms", "dorm-rooms") else None
        )
    page = _form(
        f"{ent.label}の編集",
        ent.fields,
        console_entities.form_values(ent, data),
        f"/console/{ent.name}/{row_id}",
        back=f"/console/{ent.name}",
        flash={"kind": "error", "text": outage_error.detail_ja} if outage_error else flash,
        row=data,
        outages=outages,
        outage_fields=OUTAGE_FIELDS,
        outage_errors=_form_errors(outage_error) if outage_error else {},
        base=f"/console/{ent.name}",
    )
    if outage_error:
        page.status_code = outage_error.status
    return page


def _form(
    title: str,
    fields: list[Any],
    values: dict[str, str],
    action: str,
    *,
    exc: Any = None,
    back: str,
    **extra: Any,
) -> Template:
    return Template(
        "console/form.html",
        context={
            "title": title,
            "fields": fields,
            "values": values,
            "errors": _form_errors(exc) if exc else {},
            "flash": {"kind": "error", "text": exc.detail_ja} if exc else extra.pop("flash", None),
            "action": action,
            "back": back,
            **{k: None for k in ("row", "base", "outages", "session", "affected", "staff")},
            "outage_fields": [],
            "outage_errors": {},
            "creating": False,
            **extra,
        },
        status_code=exc.status if exc else 200,
    )


def entity_pages(ent: Entity) -> type[Controller]:
    base = f"/console/{ent.name}"

    class EntityPages(Controller):
        path = base
        include_in_schema = False
        opt = STAFF

        @get("/")
        async def index(
            self,
            request: Request[Any, Any, Any],
            db: DB,
            campus: FromQuery[str | None] = None,
            archived: FromQuery[bool] = False,
            msg: FromQuery[str | None] = None,
        ) -> Template:
            user = me(request)
            async with db.read() as s:
                chosen = await choose_campus(s, user, campus) if ent.scope != "shared" else None
                rows = await console_entities.list_rows(s, user, ent, chosen, include_archived=archived)
                items = await console_entities.as_dicts(s, ent, rows)
                campuses = await my_campuses(s, user)
            return Template(
                "console/list.html",
                context={
                    "ent": ent,
                    "items": items,
                    "campus": chosen,
                    "campuses": campuses,
                    "base": base,
                    "flash": _flash(msg),
                    "archived": archived,
                },
            )

        @get("/new")
        async def new(
            self, request: Request[Any, Any, Any], db: DB, campus: FromQuery[str | None] = None
        ) -> Template:
            return _form(
                f"{ent.label}の登録",
                ent.fields,
                {"campus": campus or ""},
                f"{base}/new",
                back=base,
                creating=True,
            )

        @post("/new")
        async def create(self, request: Request[Any, Any, Any], db: DB, data: Form) -> Response[Any]:
            try:
                async with db.write() as s:
                    row = await console_entities.create(s, me(request), ent, dict(data), _now(request))
            except (InvalidInput, Conflict) as exc:
                return _form(
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
            request: Request[Any, Any, Any],
            db: DB,
            row_id: FromPath[int],
            msg: FromQuery[str | None] = None,
            error: FromQuery[str | None] = None,
        ) -> Template:
            return await _edit_page(request, db, ent, row_id, flash=_flash(msg, error))

        @post("/{row_id:int}")
        async def update(
            self, request: Request[Any, Any, Any], db: DB, row_id: FromPath[int], data: Form
        ) -> Response[Any]:
            try:
                async with db.write() as s:
                    await console_entities.update(
                        s, me(request), ent, row_id, dict(data), _now(request), partial=False
                    )
            except (InvalidInput, Conflict) as exc:
                return _form(
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
            self, request: Request[Any, Any, Any], db: DB, row_id: FromPath[int], data: Form
        ) -> Response[Any]:
            try:
                async with db.write() as s:
                    row = await console_entities.set_archived(
                        s, me(request), ent, row_id, dict(data), _now(request)
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
            request: Request[Any, Any, Any],
            db: DB,
            campus: FromQuery[str | None] = None,
            encoding: FromQuery[str] = "utf-8",
        ) -> Response[bytes]:
            async with db.read() as s:
                chosen = await choose_campus(s, me(request), campus)
                body = await console_resources.export_csv(s, me(request), ent, chosen, encoding)
            return csv_response(body, f"{ent.name}.csv", encoding)

        @get("/import")
        async def import_form(self, request: Request[Any, Any, Any]) -> Template:
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
            self, request: Request[Any, Any, Any], db: DB, data: MultipartBody[dict[str, Any]]
        ) -> Response[Any]:

            if data.get("content"):
                content = base64.b64decode(str(data["content"]))
            else:
                content = await upload_bytes(data.get("file"))
            apply = str(data.get("apply") or "") == "1"
            try:
                async with db.write() if apply else db.read() as s:
                    report = await console_resources.import_csv(
                        s, me(request), ent, content, _now(request), dry_run=not apply
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


class ConsolePages(Controller):
    """The console's start page, room outages and sessions."""

    path = "/console"
    include_in_schema = False
    opt = STAFF

    @get("/")
    async def home(self, request: Request[Any, Any, Any], db: DB) -> Template:
        async with db.read() as s:
            campuses = await my_campuses(s, me(request))
        return Template(
            "console/index.html", context={"campuses": campuses, "entities": list(ENTITIES.values())}
        )

    @post("/room-outages/{kind:str}/{room_id:int}")
    async def add_outage(
        self, request: Request[Any, Any, Any], db: DB, kind: FromPath[str], room_id: FromPath[int], data: Form
    ) -> Response[Any]:
        if kind not in ("classrooms", "dorm-rooms"):
            raise NotFound("ページが見つかりません。", "Not found.")
        try:
            async with db.write() as s:
                await console_resources.add_outage(s, me(request), kind, room_id, dict(data), _now(request))
        except InvalidInput as exc:
            return await _edit_page(request, db, ENTITIES[kind], room_id, flash=None, outage_error=exc)
        return Redirect(f"/console/{kind}/{room_id}?msg=outage")

    @post("/outages/{outage_id:int}/delete")
    async def remove_outage(
        self, request: Request[Any, Any, Any], db: DB, outage_id: FromPath[int]
    ) -> Response[Any]:
        async with db.write() as s:
            o = await console_resources.remove_outage(s, me(request), outage_id, _now(request))
        kind, room = ("classrooms", o.classroom_id) if o.classroom_id else ("dorm-rooms", o.dorm_room_id)
        return Redirect(f"/console/{kind}/{room}?msg=outage_removed")

    @get("/sessions")
    async def sessions(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        campus: FromQuery[str | None] = None,
        msg: FromQuery[str | None] = None,
    ) -> Template:
        user = me(request)
        async with db.read() as s:
            chosen = await choose_campus(s, user, campus)
            rows = await console_sessions.list_for_campus(s, user, chosen, None) if chosen else []
            campuses = await my_campuses(s, user)
        return Template(
            "console/sessions.html",
            context={"rows": rows, "campus": chosen, "campuses": campuses, "flash": _flash(msg)},
        )

    @get("/sessions/new")
    async def new_session(
        self, request: Request[Any, Any, Any], campus: FromQuery[str | None] = None
    ) -> Template:
        return _form(
            "開催回の登録",
            console_sessions.SESSION_FIELDS,
            {"campus": campus or "", "lodging": "on"},
            "/console/sessions/new",
            back="/console/sessions",
            creating=True,
        )

    @post("/sessions/new")
    async def create_session(self, request: Request[Any, Any, Any], db: DB, data: Form) -> Response[Any]:
        try:
            async with db.write() as s:
                row = await console_sessions.create(s, me(request), dict(data), _now(request))
        except (InvalidInput, Conflict) as exc:
            return _form(
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
        request: Request[Any, Any, Any],
        db: DB,
        session_id: FromPath[int],
        msg: FromQuery[str | None] = None,
        error: FromQuery[str | None] = None,
    ) -> Template:
        async with db.read() as s:
            row = await console_sessions.load(s, me(request), session_id)
            data = await console_sessions.as_dict(s, row)
        return _form(
            f"開催回の編集: {data['course_title']}",
            console_sessions.EDIT_FIELDS,
            console_sessions.form_values(data),
            f"/console/sessions/{session_id}",
            back=f"/console/sessions?campus={data['campus']}",
            flash=_flash(msg, error),
            session=data,
        )

    @post("/sessions/{session_id:int}")
    async def update_session(
        self, request: Request[Any, Any, Any], db: DB, session_id: FromPath[int], data: Form
    ) -> Response[Any]:
        try:
            async with db.write() as s:
                await console_sessions.update(
                    s, me(request), session_id, dict(data), _now(request), partial=False
                )
        except (InvalidInput, Conflict) as exc:
            async with db.read() as s:
                current = await console_sessions.as_dict(
                    s, await console_sessions.load(s, me(request), session_id)
                )
            return _form(
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
        db: DB,
        session_id: FromPath[int],
        action: FromPath[str],
        data: Form,
    ) -> Response[Any]:
        if action not in ("publish", "close", "cancel", "copy"):
            raise NotFound("ページが見つかりません。", "Not found.")
        try:
            async with db.write() as s:
                if action == "copy":
                    row = await console_sessions.copy_to_next_year(s, me(request), session_id, _now(request))
                    return Redirect(f"/console/sessions/{row.id}?msg=copy")
                await console_sessions.change_status(
                    s, me(request), session_id, action, dict(data), _now(request)
                )
        except (InvalidInput, Conflict) as exc:
            return Redirect(f"/console/sessions/{session_id}?error={quote(exc.detail_ja)}")
        return Redirect(f"/console/sessions/{session_id}?msg={action}")


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False
    opt = ADMIN

    @get("/staff")
    async def staff(self, db: DB, msg: FromQuery[str | None] = None) -> Template:
        async with db.read() as s:
            items = await console_staff.staff_list(s)
        return Template("console/staff.html", context={"items": items, "flash": _flash(msg)})

    @get("/staff/new")
    async def new_staff(self) -> Template:

        fields = [
            *console_staff.STAFF_FIELDS,
            FieldSpec(
                "password",
                "初期パスワード",
                hint="10文字以上。本人に安全な方法で伝え、変更してもらってください。",
            ),
        ]
        return _form(
            "職員アカウントの作成",
            fields,
            {"role": "staff"},
            "/admin/staff/new",
            back="/admin/staff",
            creating=True,
        )

    @post("/staff/new")
    async def create_staff(self, request: Request[Any, Any, Any], db: DB, data: Form) -> Response[Any]:

        fields = [*console_staff.STAFF_FIELDS, FieldSpec("password", "初期パスワード")]
        try:
            console_staff.check_password(data.get("password", ""))
            hashed = await hash_password(data.get("password", ""))
            async with db.write() as s:
                await console_staff.create(s, me(request), dict(data), hashed, _now(request))
        except (InvalidInput, Conflict) as exc:
            return _form(
                "職員アカウントの作成",
                fields,
                {**data, "password": ""},
                "/admin/staff/new",
                exc=exc,
                back="/admin/staff",
                creating=True,
            )
        return Redirect("/admin/staff?msg=saved")

    @get("/staff/{user_id:int}")
    async def edit_staff(self, db: DB, user_id: FromPath[int]) -> Template:
        async with db.read() as s:
            row = await console_staff.get(s, user_id)
        values = {k: str(v) for k, v in row.items()}
        return _form(
            f"職員アカウント: {row['email']}",
            console_staff.STAFF_FIELDS,
            values,
            f"/admin/staff/{user_id}",
            back="/admin/staff",
            staff=row,
        )

    @post("/staff/{user_id:int}")
    async def update_staff(
        self, request: Request[Any, Any, Any], db: DB, user_id: FromPath[int], data: Form
    ) -> Response[Any]:
        try:
            async with db.write() as s:
                await console_staff.update(s, me(request), user_id, dict(data), _now(request))
        except (InvalidInput, Conflict) as exc:
            return _form(
                "職員アカウント",
                console_staff.STAFF_FIELDS,
                dict(data),
                f"/admin/staff/{user_id}",
                exc=exc,
                back="/admin/staff",
            )
        return Redirect("/admin/staff?msg=saved")

    @post("/staff/{user_id:int}/deactivate")
    async def deactivate(
        self, request: Request[Any, Any, Any], db: DB, user_id: FromPath[int]
    ) -> Response[Any]:
        async with db.write() as s:
            await console_staff.deactivate(s, me(request), user_id, _now(request))
        return Redirect("/admin/staff?msg=deactivated")

    @get("/organizations")
    async def organizations(self, db: DB, msg: FromQuery[str | None] = None) -> Template:
        async with db.read() as s:
            items = await console_orgs.org_list(s)
        return Template(
            "console/organizations.html",
            context={"items": items, "kinds": dict(console_orgs.ORG_KINDS), "flash": _flash(msg)},
        )

    @get("/organizations/new")
    async def new_organization(self) -> Template:
        return _form(
            "団体の登録",
            console_orgs.ORG_FIELDS,
            {},
            "/admin/organizations/new",
            back="/admin/organizations",
            creating=True,
        )

    @post("/organizations/new")
    async def create_organization(self, request: Request[Any, Any, Any], db: DB, data: Form) -> Response[Any]:
        try:
            async with db.write() as s:
                await console_orgs.create_org(s, me(request), dict(data), _now(request))
        except (InvalidInput, Conflict) as exc:
            return _form(
                "団体の登録",
                console_orgs.ORG_FIELDS,
                dict(data),
                "/admin/organizations/new",
                exc=exc,
                back="/admin/organizations",
                creating=True,
            )
        return Redirect("/admin/organizations?msg=saved")

    @get("/organizations/{organization_id:int}/coordinators/new")
    async def new_coordinator(self, db: DB, organization_id: FromPath[int]) -> Template:
        async with db.read() as s:
            org = await console_orgs.get_org(s, organization_id)
        return _form(
            f"団体申込担当者の登録: {org.name}",
            console_orgs.COORDINATOR_FIELDS,
            {},
            f"/admin/organizations/{organization_id}/coordinators/new",
            back="/admin/organizations",
            creating=True,
        )

    @post("/organizations/{organization_id:int}/coordinators/new")
    async def create_coordinator(
        self, request: Request[Any, Any, Any], db: DB, organization_id: FromPath[int], data: Form
    ) -> Response[Any]:
        try:
            async with db.write() as s:
                await console_orgs.create_coordinator(
                    s, me(request), organization_id, dict(data), _now(request), str(request.base_url)
                )
        except (InvalidInput, Conflict) as exc:
            return _form(
                "団体申込担当者の登録",
                console_orgs.COORDINATOR_FIELDS,
                dict(data),
                f"/admin/organizations/{organization_id}/coordinators/new",
                exc=exc,
                back="/admin/organizations",
                creating=True,
            )
        return Redirect("/admin/organizations?msg=coordinator")

    @get("/audit")
    async def audit_page(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        entity: FromQuery[str | None] = None,
        user_id: FromQuery[int | None] = None,
        campus: FromQuery[str | None] = None,
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        async with db.read() as s:
            campus_id = (await campus_by_code(s, campus)).id if campus else None
            flt = audit.AuditFilter(entity or None, user_id, campus_id, date_from, date_to, max(1, page))
            entries, total = await audit.search(s, flt, _now(request).tzinfo)
            campuses = await my_campuses(s, me(request))
            staff = await console_staff.staff_list(s)
        return Template(
            "console/audit.html",
            context={
                "entries": entries,
                "total": total,
                "flt": flt,
                "campus": campus or "",
                "campuses": campuses,
                "staff": staff,
                "entities": audit.ENTITY_JA,
            },
        )


def controllers() -> list[Any]:
    out: list[Any] = []
    for ent in ENTITIES.values():
        if ent.csv:
            out.append(csv_pages(ent))
        out.append(entity_pages(ent))
    return [*out, ConsolePages, AdminPages]

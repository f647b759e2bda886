"""The administrators' pages (/admin): staff accounts, organisations and their coordinators, and the
audit log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from courses.accounts.guards import CurrentUser
from courses.accounts.service import hash_password
from courses.console import organizations as console_orgs
from courses.console import staff as console_staff
from courses.console.forms import FieldSpec, campus_by_code, my_campuses
from courses.console.page_common import ADMIN, flash, form_page, request_now
from courses.core import audit
from courses.core.bodies import Form
from courses.core.deps import DB, Reading, Writing, undone_on_error
from courses.core.errors import Conflict, InvalidInput
from courses.core.security import link_base


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False
    opt = ADMIN

    @get("/staff")
    async def staff(self, reading: Reading, msg: FromQuery[str | None] = None) -> Template:
        items = await console_staff.staff_list(reading)
        return Template("console/staff.html", context={"items": items, "flash": flash(msg)})

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
        return form_page(
            "職員アカウントの作成",
            fields,
            {"role": "staff"},
            "/admin/staff/new",
            back="/admin/staff",
            creating=True,
        )

    @post("/staff/new")
    async def create_staff(
        self, request: Request[Any, Any, Any], user: CurrentUser, db: DB, data: Form
    ) -> Response[Any]:

        fields = [*console_staff.STAFF_FIELDS, FieldSpec("password", "初期パスワード")]
        try:
            console_staff.check_password(data.get("password", ""))
            hashed = await hash_password(data.get("password", ""))
            async with db.write() as s:
                await console_staff.create(s, user, dict(data), hashed, request_now(request))
        except (InvalidInput, Conflict) as exc:
            return form_page(
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
    async def edit_staff(self, reading: Reading, user_id: FromPath[int]) -> Template:
        row = await console_staff.get(reading, user_id)
        values = {k: str(v) for k, v in row.items()}
        return form_page(
            f"職員アカウント: {row['email']}",
            console_staff.STAFF_FIELDS,
            values,
            f"/admin/staff/{user_id}",
            back="/admin/staff",
            staff=row,
        )

    @post("/staff/{user_id:int}")
    async def update_staff(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        user_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        try:
            async with undone_on_error(writing):
                await console_staff.update(writing, user, user_id, dict(data), request_now(request))
        except (InvalidInput, Conflict) as exc:
            return form_page(
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
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, user_id: FromPath[int]
    ) -> Response[Any]:
        await console_staff.deactivate(writing, user, user_id, request_now(request))
        return Redirect("/admin/staff?msg=deactivated")

    @get("/organizations")
    async def organizations(self, reading: Reading, msg: FromQuery[str | None] = None) -> Template:
        items = await console_orgs.org_list(reading)
        return Template(
            "console/organizations.html",
            context={"items": items, "kinds": dict(console_orgs.ORG_KINDS), "flash": flash(msg)},
        )

    @get("/organizations/new")
    async def new_organization(self) -> Template:
        return form_page(
            "団体の登録",
            console_orgs.ORG_FIELDS,
            {},
            "/admin/organizations/new",
            back="/admin/organizations",
            creating=True,
        )

    @post("/organizations/new")
    async def create_organization(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, data: Form
    ) -> Response[Any]:
        try:
            async with undone_on_error(writing):
                await console_orgs.create_org(writing, user, dict(data), request_now(request))
        except (InvalidInput, Conflict) as exc:
            return form_page(
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
    async def new_coordinator(self, reading: Reading, organization_id: FromPath[int]) -> Template:
        org = await console_orgs.get_org(reading, organization_id)
        return form_page(
            f"団体申込担当者の登録: {org.name}",
            console_orgs.COORDINATOR_FIELDS,
            {},
            f"/admin/organizations/{organization_id}/coordinators/new",
            back="/admin/organizations",
            creating=True,
        )

    @post("/organizations/{organization_id:int}/coordinators/new")
    async def create_coordinator(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        organization_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        try:
            async with undone_on_error(writing):
                await console_orgs.create_coordinator(
                    writing,
                    user,
                    organization_id,
                    dict(data),
                    request_now(request),
                    link_base(request),
                )
        except (InvalidInput, Conflict) as exc:
            return form_page(
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
        user: CurrentUser,
        reading: Reading,
        entity: FromQuery[str | None] = None,
        user_id: FromQuery[int | None] = None,
        campus: FromQuery[str | None] = None,
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        campus_id = (await campus_by_code(reading, campus)).id if campus else None
        flt = audit.AuditFilter(entity or None, user_id, campus_id, date_from, date_to, max(1, page))
        entries, total = await audit.search(reading, flt, request_now(request).tzinfo)
        campuses = await my_campuses(reading, user)
        staff = await console_staff.staff_list(reading)
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

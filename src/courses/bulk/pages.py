"""HTML pages for organisations (upload, preview, confirm, registrants, billing) and the page where a
person registered by an organisation sets their password."""

from __future__ import annotations

import asyncio
import base64
import binascii
from datetime import datetime
from typing import Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, MultipartBody
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts import service as accounts
from courses.accounts.guards import CurrentUser, session_cookie
from courses.billing import service as billing_service
from courses.bulk import files as bulk_file
from courses.bulk import invitations
from courses.bulk import organization as bulk_org
from courses.bulk import service as bulk
from courses.bulk import sessions as bulk_sessions
from courses.bulk.api import XLSX, chosen_template, marked_response, template_file
from courses.core import i18n
from courses.core.bodies import Form
from courses.core.db import Database
from courses.core.deps import DB, Reading, Writing, undone_on_error
from courses.core.downloads import csv_response
from courses.core.errors import DomainError, InvalidInput
from courses.core.i18n import N_
from courses.core.security import link_base
from courses.core.tx import run_sync
from courses.models import Organization, User
from courses.models.bulk import BulkMode

COORDINATOR = {"access": "coordinator"}
MESSAGES = {  # translated when shown, in the page's language
    "committed": N_(
        "登録しました。受講決定・キャンセル待ちの方にはお知らせを、初めての方にはご本人の承諾を求めるメールを送りました。"
    ),
    "cancelled": N_("申込をキャンセルしました。キャンセル待ちの方がいれば繰り上げています。"),
    "cancelled_fee": N_(
        "申込をキャンセルしました。規定によりキャンセル料が発生します。請求書をご確認ください。"
    ),
}


async def _dashboard(
    s: AsyncSession,
    user: User,
    org_id: int | None,
    now: datetime,
    flash: dict[str, str] | None = None,
    campus: str | None = None,
) -> Template:
    orgs = await bulk_org.organizations_of(s, user)
    chosen = next((o for o in orgs if o.id == org_id), orgs[0] if orgs else None)
    context: dict[str, Any] = {
        "user": user,
        "orgs": orgs,
        "org": chosen,
        "flash": flash,
        "modes": BulkMode,
    }
    if chosen is not None:
        context |= {
            "batches": await bulk_org.batches(s, chosen.id or 0),
            "registrants": await bulk_org.registrants(s, chosen.id or 0),
            "invitations": await bulk_org.invitations(s, chosen.id or 0, now),
            "billing": await bulk_org.billing(s, chosen.id or 0),
            "invoices": await billing_service.invoices_of(s, user, organization_id=chosen.id),
            "open_sessions": await bulk_sessions.open_sessions(s, now.date(), campus),
            "campuses": await bulk_sessions.campuses(s),
            "campus": campus or "",
        }
    return Template("org/dashboard.html", context=context)


def _preview_page(
    org: Organization, report: bulk.Report | None, content: bytes, error: DomainError | None
) -> Template:
    status = error.status if error else 200
    return Template(
        "org/preview.html",
        context={
            "org": org,
            "report": report,
            "rows": [r.as_dict(i18n.current()) for r in report.rows] if report else [],
            "counts": report.counts if report else {},
            "error": error,
            "errors": [e.as_dict(i18n.current()) for e in (error.errors if error else [])],
            "file_b64": base64.b64encode(content).decode() if report else "",
            "labels": bulk.OUTCOME_JA,
        },
        status_code=status,
    )


async def _posted_file(data: dict[str, Any]) -> tuple[str, bytes]:
    """The file the preview page carries back (base64 in a hidden field), as it was uploaded."""
    try:
        content = base64.b64decode(str(data.get("file_b64") or ""), validate=True)
    except (binascii.Error, ValueError):
        content = b""
    if not content:
        raise InvalidInput("ファイルをもう一度アップロードしてください。", "Upload the file again.")
    return str(data.get("filename") or "upload.csv")[:255], content


async def _marked(
    request: Request[Any, Any, Any],
    user: User,
    db: Database,
    organization_id: int,
    data: dict[str, Any],
    fmt: Literal["csv", "xlsx"],
) -> Response[bytes]:
    mode = data.get("mode") if isinstance(data.get("mode"), str) else None
    return await marked_response(
        db,
        user,
        organization_id,
        lambda: _posted_file(data),
        mode,
        fmt,
        i18n.current(),
        request.app.state.clock(),
    )


class OrganizationPages(Controller):
    path = "/org"
    include_in_schema = False
    opt = COORDINATOR

    @get("/")
    async def dashboard(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        org: FromQuery[int | None] = None,
        msg: FromQuery[str | None] = None,
        campus: FromQuery[str | None] = None,
    ) -> Template:
        flash = {"kind": "ok", "text": i18n.gettext(MESSAGES[msg])} if msg in MESSAGES else None
        return await _dashboard(reading, user, org, request.app.state.clock(), flash, campus)

    @get("/template.csv", media_type="text/csv")
    async def template_csv(self) -> Response[bytes]:
        return template_file([], "csv")

    @get("/template.xlsx", media_type=XLSX)
    async def template_xlsx(self) -> Response[bytes]:
        return template_file([], "xlsx")

    @get("/{organization_id:int}/template.csv", media_type="text/csv")
    async def chosen_template_csv(
        self,
        user: CurrentUser,
        reading: Reading,
        organization_id: FromPath[int],
        session: FromQuery[list[str] | None] = None,
    ) -> Response[bytes]:
        """The template with one row per ticked session, its code filled in."""
        return await chosen_template(user, reading, organization_id, session, "csv")

    @get("/{organization_id:int}/template.xlsx", media_type=XLSX)
    async def chosen_template_xlsx(
        self,
        user: CurrentUser,
        reading: Reading,
        organization_id: FromPath[int],
        session: FromQuery[list[str] | None] = None,
    ) -> Response[bytes]:
        return await chosen_template(user, reading, organization_id, session, "xlsx")

    @post("/{organization_id:int}/errors.csv", media_type="text/csv", status_code=200)
    async def marked_csv(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        db: DB,
        organization_id: FromPath[int],
        data: MultipartBody[dict[str, Any]],
    ) -> Response[bytes]:
        """The previewed file (sent back from the preview page) with each row's errors in a first column."""
        return await _marked(request, user, db, organization_id, data, "csv")

    @post("/{organization_id:int}/errors.xlsx", media_type=XLSX, status_code=200)
    async def marked_xlsx(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        db: DB,
        organization_id: FromPath[int],
        data: MultipartBody[dict[str, Any]],
    ) -> Response[bytes]:
        return await _marked(request, user, db, organization_id, data, "xlsx")

    @post("/{organization_id:int}/upload")
    async def upload(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        db: DB,
        organization_id: FromPath[int],
        data: MultipartBody[dict[str, Any]],
    ) -> Template:
        """Step 1: check the file and show what registering it would do; nothing is written."""
        async with db.read() as s:
            org = await bulk_org.organization_for(s, user, organization_id)
        mode = data.get("mode") if isinstance(data.get("mode"), str) else None
        content = b""
        try:
            filename, content = await bulk_file.read_upload(data.get("file"))
            table = await asyncio.to_thread(bulk_file.read_table, filename, content)
            async with db.read() as s:
                report = await bulk.preview(s, org, table, mode, request.app.state.clock())
        except DomainError as exc:
            return _preview_page(org, None, content, exc)
        return _preview_page(org, report, content, None)

    @post("/{organization_id:int}/confirm")
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        db: DB,
        organization_id: FromPath[int],
        data: MultipartBody[dict[str, Any]],
    ) -> Response[Any]:
        """Step 2: the coordinator confirms (with the consent box ticked); the file is checked again."""
        async with db.read() as s:
            org = await bulk_org.organization_for(s, user, organization_id)
        content = b""
        report = None
        table: bulk_file.Table | None = None
        try:
            try:
                content = base64.b64decode(str(data.get("file_b64") or ""), validate=True)
            except (binascii.Error, ValueError):
                raise InvalidInput(
                    "ファイルをもう一度アップロードしてください。", "Upload the file again."
                ) from None
            filename = str(data.get("filename") or "upload.csv")[:255]
            mode = str(data.get("mode") or BulkMode.ALL_OR_NOTHING)
            consent = bulk_file.form_flag(data.get("consent"), False)
            table = await asyncio.to_thread(bulk_file.read_table, filename, content)
            async with db.write() as s:  # opened once the file is read: SQLite's write lock is held briefly
                report = await bulk.commit(
                    s,
                    org,
                    user,
                    table,
                    content,
                    mode=mode,
                    consent=consent,
                    now=request.app.state.clock(),
                    base_url=link_base(request),
                )
        except DomainError as exc:
            if table is not None:  # the file was read: its preview again, beside the refusal
                try:
                    async with db.read() as s:
                        report = await bulk.preview(
                            s, org, table, str(data.get("mode") or ""), request.app.state.clock()
                        )
                except DomainError:
                    report = None
            return _preview_page(org, report, content, exc)
        return Redirect(f"/org?org={org.id}&msg=committed&batch={report.batch_id}")

    @post("/{organization_id:int}/registrations/{enrollment_id:int}/cancel")
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        organization_id: FromPath[int],
        enrollment_id: FromPath[int],
    ) -> Response[Any]:
        await bulk_org.organization_for(writing, user, organization_id)
        try:
            async with undone_on_error(writing):
                owed = await bulk_org.cancel_registrant(
                    writing,
                    organization_id,
                    enrollment_id,
                    request.app.state.clock(),
                    request.app.state.settings,
                )
        except DomainError as exc:
            return await _dashboard(
                writing,
                user,
                organization_id,
                request.app.state.clock(),
                {"kind": "error", "text": exc.detail(i18n.current())},
            )
        return Redirect(f"/org?org={organization_id}&msg={'cancelled_fee' if owed.fee_yen else 'cancelled'}")

    @get("/{organization_id:int}/billing.csv", media_type="text/csv")
    async def billing_csv(
        self, user: CurrentUser, reading: Reading, organization_id: FromPath[int]
    ) -> Response[bytes]:
        await bulk_org.organization_for(reading, user, organization_id)
        bill = await bulk_org.billing(reading, organization_id)
        return csv_response(bulk_org.billing_csv(bill), f"billing-{organization_id}.csv")


class PasswordSetPage(Controller):
    """A person registered by an organisation has no password until they set one from the emailed link."""

    path = "/password/set"
    include_in_schema = False
    opt = {"access": "public"}

    @get("/")
    async def form(
        self, request: Request[Any, Any, Any], reading: Reading, token: FromQuery[str | None] = None
    ) -> Template:
        # Links carry the secret in their fragment, which the server never sees; a link of the older
        # form (?token=) still works.
        user = None
        if token:
            user = await run_sync(reading, accounts.user_for_token, token, "reset", request.app.state.clock())
        error = bulk_org.invalid_link().detail(i18n.current()) if token and user is None else None
        return Template(
            "org/password_set.html",
            context={"token": token if user else "", "user": user, "error": error},
            status_code=400 if error else 200,
        )

    @post("/")
    async def submit(self, request: Request[Any, Any, Any], db: DB, data: Form) -> Response[Any]:
        token = data.get("token", "")
        now = request.app.state.clock()
        user: User | None = None
        try:
            async with db.read() as s:
                user = await run_sync(s, accounts.user_for_token, token, "reset", now) if token else None
            if user is None:
                raise bulk_org.invalid_link()
            bulk_org.check_new_password(data.get("password", ""), data.get("password_confirm", ""))
            password_hash = await accounts.hash_password(data.get("password", ""))  # before the write lock
            async with db.write() as s:
                user = await bulk_org.set_password(s, token, password_hash, now)
                secret = await accounts.issue_token(s, user, "web", now)
        except DomainError as exc:
            return Template(
                "org/password_set.html",
                context={"token": token, "user": user, "error": exc.detail(i18n.current())},
                status_code=exc.status,
            )
        return Redirect("/me", cookies=[session_cookie(request, secret)])


class InvitationPage(Controller):
    """Where a person answers an organisation's invitation. The secret comes from the link's fragment
    (site.js puts it in the form) or is typed in, and is only ever POSTed: it never appears in a URL
    that a server log or a Referer could keep."""

    path = "/invitation"
    include_in_schema = False
    opt = {"access": "public"}

    @get("/")
    async def code_form(self) -> Template:
        return Template("org/invitation.html", context={"stage": "code", "token": "", "error": None})

    @post("/")
    async def view(self, request: Request[Any, Any, Any], reading: Reading, data: Form) -> Template:
        token = data.get("token", "").strip()
        try:
            offer = await invitations.show(reading, token, request.app.state.clock())
        except DomainError as exc:
            return _invitation_page("code", token, error=exc)
        return _invitation_page("offer", token, offer=offer)

    @post("/accept")
    async def accept(self, request: Request[Any, Any, Any], db: DB, data: Form) -> Response[Any]:
        token = data.get("token", "").strip()
        now = request.app.state.clock()
        offer = None
        try:
            async with db.read() as s:
                offer = await invitations.show(s, token, now)
            password_hash = None
            if not offer.has_account:
                bulk_org.check_new_password(data.get("password", ""), data.get("password_confirm", ""))
                password_hash = await accounts.hash_password(data.get("password", ""))  # off the lock
            async with db.write() as s:
                answer = await invitations.accept(s, token, password_hash, now)
        except DomainError as exc:
            return _invitation_page("offer" if offer else "code", token, offer=offer, error=exc)
        page = _invitation_page("accepted", "", answer=answer)
        if not answer.created:
            return page
        async with db.write() as s:
            secret = await accounts.issue_token(s, answer.user, "web", now)
        page.cookies.append(session_cookie(request, secret))
        return page

    @post("/decline")
    async def decline(self, request: Request[Any, Any, Any], writing: Writing, data: Form) -> Template:
        token = data.get("token", "").strip()
        try:
            async with undone_on_error(writing):
                await invitations.decline(writing, token, request.app.state.clock())
        except DomainError as exc:
            return _invitation_page("code", token, error=exc)
        return _invitation_page("declined", "")


def _invitation_page(
    stage: str,
    token: str,
    *,
    offer: invitations.Invitation | None = None,
    answer: invitations.Answer | None = None,
    error: DomainError | None = None,
) -> Template:
    return Template(
        "org/invitation.html",
        context={"stage": stage, "token": token, "offer": offer, "answer": answer, "error": error},
        status_code=error.status if error else 200,
    )

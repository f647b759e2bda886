"""Organisations through the JSON API: bulk registration from a spreadsheet, registrants, billing."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, FromQuery, MultipartBody

from courses.accounts.guards import me
from courses.bulk import files as bulk_file
from courses.bulk import organization as bulk_org
from courses.bulk import service as bulk
from courses.bulk import sessions as bulk_sessions
from courses.bulk.schemas import BulkUpload
from courses.core.db import Database
from courses.core.deps import DB
from courses.core.downloads import csv_response, file_response
from courses.core.problems import report_response, request_language
from courses.models import Organization

COORDINATOR = {"access": "coordinator"}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def marked_response(
    db: Database,
    org: Organization,
    filename: str,
    content: bytes,
    mode: str | None,
    fmt: Literal["csv", "xlsx"],
    lang: str,
    now: datetime,
) -> Response[bytes]:
    """Check the file as a preview does and hand it back with each row's errors in a first column."""
    table = await asyncio.to_thread(bulk_file.read_table, filename, content)
    report = await bulk.preview(db, org, table, mode, now)
    messages = bulk.row_messages(report, lang)
    stem = filename.rsplit(".", 1)[0] or "upload"
    if fmt == "csv":
        return csv_response(bulk_file.marked_csv(table, messages), f"{stem}_エラー.csv")
    marked = await asyncio.to_thread(bulk_file.marked_xlsx, table, messages)
    return file_response(marked, f"{stem}_エラー.xlsx", XLSX)


def template_file(codes: list[str], fmt: Literal["csv", "xlsx"]) -> Response[bytes]:
    """The registration template, pre-filled with one row per session code."""
    if fmt == "csv":
        return csv_response(bulk_file.template_csv(codes), "bulk-registration-template.csv")
    return file_response(bulk_file.template_xlsx(codes), "bulk-registration-template.xlsx", XLSX)


async def chosen_template(
    request: Request[Any, Any, Any],
    db: Database,
    organization_id: int,
    session: list[str] | None,
    fmt: Literal["csv", "xlsx"],
) -> Response[bytes]:
    """The template pre-filled with the sessions the coordinator of ``organization_id`` chose."""
    async with db.read() as s:
        await bulk_org.organization_for(s, me(request), organization_id)
        codes = await bulk_sessions.chosen_codes(s, session)
    return template_file(codes, fmt)


class OrganizationApi(Controller):
    path = "/api/organizations"
    tags = ("organizations",)
    opt = COORDINATOR

    @get("/{organization_id:int}", summary="My organisation")
    async def organization(
        self, request: Request[Any, Any, Any], db: DB, organization_id: FromPath[int]
    ) -> dict[str, Any]:
        async with db.read() as s:
            org = await bulk_org.organization_for(s, me(request), organization_id)
        return {"id": org.id, "name": org.name, "kind": org.kind, "prefecture": org.prefecture}

    @post(
        "/{organization_id:int}/bulk-registrations",
        summary="Register people from a CSV or .xlsx file (preview with dry_run=true, the default: 200)",
        responses={201: report_response("Registered: the report of what was written (dry_run=false)")},
        description=(
            "Multipart fields: file (CSV in UTF-8 or Shift_JIS, or .xlsx), mode (all_or_nothing | "
            "accept_valid), dry_run (true: validate and predict, write nothing), consent (true: the "
            "organisation has the learners' consent to pass their data on; required to commit)."
        ),
        status_code=200,
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        organization_id: FromPath[int],
        data: MultipartBody[BulkUpload],
    ) -> Response[Any]:
        user = me(request)
        now = request.app.state.clock()
        async with db.read() as s:
            org = await bulk_org.organization_for(s, user, organization_id)
        filename, content = await bulk_file.read_upload(data.file)
        dry_run, consent, mode = data.dry_run, data.consent, data.mode
        table = await asyncio.to_thread(bulk_file.read_table, filename, content)  # off the event loop
        lang = request_language(request)
        if dry_run:
            report = await bulk.preview(db, org, table, mode, now)
            return Response(report.as_dict(lang), status_code=200)
        report = await bulk.commit(
            db, org, user, table, content, mode=mode, consent=consent, now=now, base_url=str(request.base_url)
        )
        return Response(report.as_dict(lang), status_code=201)

    @get("/{organization_id:int}/bulk-registrations", summary="The organisation's confirmed uploads")
    async def batches(
        self, request: Request[Any, Any, Any], db: DB, organization_id: FromPath[int]
    ) -> list[dict[str, Any]]:
        async with db.read() as s:
            await bulk_org.organization_for(s, me(request), organization_id)
            rows = await bulk_org.batches(s, organization_id)
        return [bulk_org.batch_dict(b) for b in rows]

    @get(
        "/{organization_id:int}/bulk-registrations/template.csv",
        summary="Registration file with Japanese headers (CSV, UTF-8 with BOM), pre-filled with one row "
        "per session code given in `session` (repeatable)",
        media_type="text/csv",
    )
    async def template_csv(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        organization_id: FromPath[int],
        session: FromQuery[list[str] | None] = None,
    ) -> Response[bytes]:
        return await chosen_template(request, db, organization_id, session, "csv")

    @get(
        "/{organization_id:int}/bulk-registrations/template.xlsx",
        summary="Registration file with Japanese headers (.xlsx: drop-down lists for 業種, 都道府県 and "
        "宿泊希望, a sheet explaining each column), pre-filled with the session codes in `session`",
        media_type=XLSX,
    )
    async def template_xlsx(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        organization_id: FromPath[int],
        session: FromQuery[list[str] | None] = None,
    ) -> Response[bytes]:
        return await chosen_template(request, db, organization_id, session, "xlsx")

    @post(
        "/{organization_id:int}/bulk-registrations/errors.csv",
        summary="The uploaded file handed back as CSV (UTF-8 with BOM) with a first column エラー holding "
        "each row's errors; checked like a preview, nothing is written or kept",
        description="Multipart fields: file (as for the upload), mode.",
        media_type="text/csv",
        status_code=200,
    )
    async def marked_csv(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        organization_id: FromPath[int],
        data: MultipartBody[BulkUpload],
    ) -> Response[bytes]:
        return await self._marked(request, db, organization_id, data, "csv")

    @post(
        "/{organization_id:int}/bulk-registrations/errors.xlsx",
        summary="The uploaded file handed back as .xlsx with a first column エラー holding each row's "
        "errors; checked like a preview, nothing is written or kept",
        description="Multipart fields: file (as for the upload), mode.",
        media_type=XLSX,
        status_code=200,
    )
    async def marked_xlsx(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        organization_id: FromPath[int],
        data: MultipartBody[BulkUpload],
    ) -> Response[bytes]:
        return await self._marked(request, db, organization_id, data, "xlsx")

    async def _marked(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        organization_id: int,
        data: BulkUpload,
        fmt: Literal["csv", "xlsx"],
    ) -> Response[bytes]:
        async with db.read() as s:
            org = await bulk_org.organization_for(s, me(request), organization_id)
        filename, content = await bulk_file.read_upload(data.file)
        return await marked_response(
            db, org, filename, content, data.mode, fmt, request_language(request), request.app.state.clock()
        )

    @get(
        "/{organization_id:int}/sessions",
        summary="Sessions open for applications today, soonest first, with the codes a file names them by",
    )
    async def open_sessions(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        organization_id: FromPath[int],
        campus: FromQuery[str | None] = None,
    ) -> list[dict[str, Any]]:
        async with db.read() as s:
            await bulk_org.organization_for(s, me(request), organization_id)
            rows = await bulk_sessions.open_sessions(s, request.app.state.clock().date(), campus)
        return [r.as_dict() for r in rows]

    @get("/{organization_id:int}/registrations", summary="Everyone the organisation registered, with status")
    async def registrations(
        self, request: Request[Any, Any, Any], db: DB, organization_id: FromPath[int]
    ) -> list[dict[str, Any]]:
        async with db.read() as s:
            await bulk_org.organization_for(s, me(request), organization_id)
            rows = await bulk_org.registrants(s, organization_id)
        return [r.as_dict() for r in rows]

    @get(
        "/{organization_id:int}/invitations",
        summary="People invited by the organisation who have not (yet) accepted, as the file named them",
    )
    async def invitations(
        self, request: Request[Any, Any, Any], db: DB, organization_id: FromPath[int]
    ) -> list[dict[str, Any]]:
        async with db.read() as s:
            await bulk_org.organization_for(s, me(request), organization_id)
            rows = await bulk_org.invitations(s, organization_id, request.app.state.clock())
        return [r.as_dict() for r in rows]

    @delete(
        "/{organization_id:int}/registrations/{enrollment_id:int}",
        summary="Cancel one registrant (on the learner's behalf; the waiting list moves up)",
        status_code=200,
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        organization_id: FromPath[int],
        enrollment_id: FromPath[int],
    ) -> dict[str, Any]:
        async with db.read() as s:
            await bulk_org.organization_for(s, me(request), organization_id)
        async with db.write() as s:
            owed = await bulk_org.cancel_registrant(
                s, organization_id, enrollment_id, request.app.state.clock(), request.app.state.settings
            )
        return {
            "id": enrollment_id,
            "status": "cancelled",
            "cancellation_fee_yen": owed.fee_yen,
            "message": owed.text_ja,
        }

    @get("/{organization_id:int}/billing", summary="Fees and lodging nights per session and in total")
    async def billing(
        self, request: Request[Any, Any, Any], db: DB, organization_id: FromPath[int]
    ) -> dict[str, Any]:
        async with db.read() as s:
            await bulk_org.organization_for(s, me(request), organization_id)
            bill = await bulk_org.billing(s, organization_id)
        return bill.as_dict()

    @get(
        "/{organization_id:int}/billing.csv",
        summary="Billing summary as CSV (UTF-8 with BOM)",
        media_type="text/csv",
    )
    async def billing_csv(
        self, request: Request[Any, Any, Any], db: DB, organization_id: FromPath[int]
    ) -> Response[bytes]:
        async with db.read() as s:
            await bulk_org.organization_for(s, me(request), organization_id)
            bill = await bulk_org.billing(s, organization_id)
        return csv_response(bulk_org.billing_csv(bill), f"billing-{organization_id}.csv")

"""Organisations through the JSON API: bulk registration from a spreadsheet, registrants, billing."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, MultipartBody

from courses.accounts.guards import me
from courses.bulk import files as bulk_file
from courses.bulk import organization as bulk_org
from courses.bulk import service as bulk
from courses.bulk.schemas import BulkUpload
from courses.core.deps import DB
from courses.core.downloads import csv_response, file_response
from courses.core.problems import report_response, request_language

COORDINATOR = {"access": "coordinator"}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
        summary="Empty registration file with Japanese headers (CSV, UTF-8 with BOM)",
        media_type="text/csv",
    )
    async def template_csv(
        self, request: Request[Any, Any, Any], db: DB, organization_id: FromPath[int]
    ) -> Response[bytes]:
        async with db.read() as s:
            await bulk_org.organization_for(s, me(request), organization_id)
        return csv_response(bulk_file.template_csv(), "bulk-registration-template.csv")

    @get(
        "/{organization_id:int}/bulk-registrations/template.xlsx",
        summary="Empty registration file with Japanese headers (.xlsx, with a sheet explaining each column)",
        media_type=XLSX,
    )
    async def template_xlsx(
        self, request: Request[Any, Any, Any], db: DB, organization_id: FromPath[int]
    ) -> Response[bytes]:
        async with db.read() as s:
            await bulk_org.organization_for(s, me(request), organization_id)
        return file_response(bulk_file.template_xlsx(), "bulk-registration-template.xlsx", XLSX)

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

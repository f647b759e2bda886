"""Organisations through the JSON API: bulk registration from a spreadsheet, registrants, billing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal, cast

from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, MultipartBody
from msgspec import UNSET
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.guards import CurrentUser
from courses.accounts.schemas import OrganizationOut
from courses.bulk import files as bulk_file
from courses.bulk import organization as bulk_org
from courses.bulk import service as bulk
from courses.bulk import sessions as bulk_sessions
from courses.bulk.schemas import (
    Audience,
    BatchOut,
    Bill,
    BillLine,
    BillTotal,
    BulkReport,
    BulkRow,
    BulkSummary,
    BulkUpload,
    InvitationOut,
    InvitationState,
    InvitedSession,
    Mode,
    OpenSessionOut,
    Outcome,
    RegisteredSession,
    RegistrantOut,
    RowError,
)
from courses.core.db import Database
from courses.core.deps import DB, Reading, Writing
from courses.core.downloads import csv_response, file_response
from courses.core.errors import FieldError
from courses.core.problems import request_language
from courses.core.security import link_base
from courses.learners.schemas import CancellationOut, EnrollmentState
from courses.models import User, id_of
from courses.models.bulk import BulkBatch

COORDINATOR = {"access": "coordinator"}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def marked_response(
    db: Database,
    user: User,
    organization_id: int,
    upload: Callable[[], Awaitable[tuple[str, bytes]]],
    mode: str | None,
    fmt: Literal["csv", "xlsx"],
    lang: str,
    now: datetime,
) -> Response[bytes]:
    """Check an uploaded file as a preview does and hand it back with each row's errors in a first
    column (the API's and the pages' "marked file" handlers).

    The edge of those handlers: the coordinator's organisation is checked in one read session, then
    the file is taken from the request (``upload``) and parsed with no session open, then checked in
    another read session, so that no connection is held while a large file is read.
    """
    async with db.read() as s:
        org = await bulk_org.organization_for(s, user, organization_id)
    filename, content = await upload()
    table = await asyncio.to_thread(bulk_file.read_table, filename, content)
    async with db.read() as s:
        report = await bulk.preview(s, org, table, mode, now)
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
    user: User,
    s: AsyncSession,
    organization_id: int,
    session: list[str] | None,
    fmt: Literal["csv", "xlsx"],
) -> Response[bytes]:
    """The template pre-filled with the sessions the coordinator of ``organization_id`` chose."""
    await bulk_org.organization_for(s, user, organization_id)
    codes = await bulk_sessions.chosen_codes(s, session)
    return template_file(codes, fmt)


def row_error(e: FieldError, lang: str) -> RowError:
    return RowError(
        e.field, e.message_en if lang == "en" else e.message_ja, UNSET if e.row is None else e.row
    )


def report_out(report: bulk.Report, lang: str) -> BulkReport:
    """The report of a preview or of a registered file, in the caller's language."""
    rows = [
        BulkRow(
            row=r.row,
            email=r.email,
            name=r.name,
            session_code=r.session_code,
            lodging=r.lodging,
            status=cast("Outcome", r.outcome),
            waitlist_position=r.waitlist_position,
            enrollment_id=r.enrollment_id,
            errors=[row_error(e, lang) for e in r.errors],
        )
        for r in report.rows
    ]
    return BulkReport(
        dry_run=report.dry_run,
        committed=report.batch_id is not None,
        batch_id=report.batch_id,
        mode=cast("Mode", report.mode),
        filename=report.filename,
        rows_total=len(report.rows),
        summary=BulkSummary(**report.counts),
        can_commit=report.can_commit,
        rows=rows,
        errors=[row_error(e, lang) for e in report.errors],
    )


def batch_out(b: BulkBatch) -> BatchOut:
    return BatchOut(
        id=id_of(b),
        filename=b.filename,
        mode=cast("Mode", b.mode),
        rows_total=b.rows_total,
        confirmed=b.confirmed,
        waitlisted=b.waitlisted,
        already_registered=b.skipped,
        rejected=b.rejected,
        invited=b.invited,
        consent_confirmed=b.consent_confirmed,
        consent_at=b.consent_at.isoformat(),
        created_at=b.created_at.isoformat(),
    )


def open_session_out(o: bulk_sessions.OpenSession) -> OpenSessionOut:
    s = o.session
    return OpenSessionOut(
        id=id_of(s),
        code=s.code,
        course_code=o.course.code,
        course_title=o.course.title_ja,
        audience=cast("Audience", o.course.audience),
        campus=o.campus.code,
        campus_name=o.campus.name_ja,
        start_date=s.start_date,
        end_date=s.end_date,
        application_closes=s.application_closes,
        capacity=s.capacity,
        seats_left=o.seats_left,
        lodging=s.lodging,
    )


def registrant_out(r: bulk_org.Registrant) -> RegistrantOut:
    e, s = r.enrollment, r.session
    return RegistrantOut(
        id=id_of(e),
        batch_id=e.batch_id,
        status=cast("EnrollmentState", e.status),
        waitlist_position=r.waitlist_position,
        lodging=e.lodging,
        name=e.registered_name or "",  # as the organisation's file gave it, not the account's
        email=r.user.email,
        session=RegisteredSession(
            id_of(s), s.code, r.course.title_ja, r.campus.code, s.start_date, s.end_date
        ),
        created_at=e.created_at.isoformat(),
    )


def invitation_out(x: bulk_org.Invited) -> InvitationOut:
    i, s = x.invitation, x.session
    return InvitationOut(
        id=id_of(i),
        batch_id=i.batch_id,
        row=i.row,
        status=cast("InvitationState", x.status),
        name=i.name,
        email=i.email,
        lodging=i.lodging,
        session=InvitedSession(id_of(s), s.code, x.course.title_ja, s.start_date, s.end_date),
        sent_at=i.created_at.isoformat(),
        expires_at=i.expires_at.isoformat(),
    )


def bill_out(bill: bulk_org.Billing) -> Bill:
    lines = [
        BillLine(
            session_code=x.session_code,
            course_title=x.course_title,
            start_date=x.start_date,
            fee_yen=x.fee_yen,
            confirmed=x.confirmed,
            fees_yen=x.fees_yen,
            lodging_people=x.lodging_people,
            nights_per_person=x.nights_per_person,
            lodging_nights=x.lodging_nights,
        )
        for x in bill.lines
    ]
    total = BillTotal(bill.total_confirmed, bill.total_fees_yen, bill.total_lodging_nights)
    return Bill(lines, total)


class OrganizationApi(Controller):
    path = "/api/organizations"
    tags = ("organizations",)
    opt = COORDINATOR

    @get("/{organization_id:int}", summary="My organisation")
    async def organization(
        self, user: CurrentUser, reading: Reading, organization_id: FromPath[int]
    ) -> OrganizationOut:
        org = await bulk_org.organization_for(reading, user, organization_id)
        return OrganizationOut.of(org)

    @post(
        "/{organization_id:int}/bulk-registrations",
        summary="Register people from a CSV or .xlsx file (preview with dry_run=true, the default: 200)",
        responses={
            201: ResponseSpec(
                data_container=BulkReport,
                description="Registered: the report of what was written (dry_run=false)",
                generate_examples=False,
            )
        },
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
        user: CurrentUser,
        db: DB,
        organization_id: FromPath[int],
        data: MultipartBody[BulkUpload],
    ) -> Response[BulkReport]:
        now = request.app.state.clock()
        async with db.read() as s:
            org = await bulk_org.organization_for(s, user, organization_id)
        filename, content = await bulk_file.read_upload(data.file)
        dry_run, consent, mode = data.dry_run, data.consent, data.mode
        table = await asyncio.to_thread(bulk_file.read_table, filename, content)  # off the event loop
        lang = request_language(request)
        if dry_run:
            async with db.read() as s:
                report = await bulk.preview(s, org, table, mode, now)
            return Response(report_out(report, lang), status_code=200)
        async with db.write() as s:  # opened once the file is read: SQLite's write lock is held briefly
            report = await bulk.commit(
                s, org, user, table, content, mode=mode, consent=consent, now=now, base_url=link_base(request)
            )
        return Response(report_out(report, lang), status_code=201)

    @get("/{organization_id:int}/bulk-registrations", summary="The organisation's confirmed uploads")
    async def batches(
        self, user: CurrentUser, reading: Reading, organization_id: FromPath[int]
    ) -> list[BatchOut]:
        await bulk_org.organization_for(reading, user, organization_id)
        rows = await bulk_org.batches(reading, organization_id)
        return [batch_out(b) for b in rows]

    @get(
        "/{organization_id:int}/bulk-registrations/template.csv",
        summary="Registration file with Japanese headers (CSV, UTF-8 with BOM), pre-filled with one row "
        "per session code given in `session` (repeatable)",
        media_type="text/csv",
    )
    async def template_csv(
        self,
        user: CurrentUser,
        reading: Reading,
        organization_id: FromPath[int],
        session: FromQuery[list[str] | None] = None,
    ) -> Response[bytes]:
        return await chosen_template(user, reading, organization_id, session, "csv")

    @get(
        "/{organization_id:int}/bulk-registrations/template.xlsx",
        summary="Registration file with Japanese headers (.xlsx: drop-down lists for 業種, 都道府県 and "
        "宿泊希望, a sheet explaining each column), pre-filled with the session codes in `session`",
        media_type=XLSX,
    )
    async def template_xlsx(
        self,
        user: CurrentUser,
        reading: Reading,
        organization_id: FromPath[int],
        session: FromQuery[list[str] | None] = None,
    ) -> Response[bytes]:
        return await chosen_template(user, reading, organization_id, session, "xlsx")

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
        user: CurrentUser,
        db: DB,
        organization_id: FromPath[int],
        data: MultipartBody[BulkUpload],
    ) -> Response[bytes]:
        return await self._marked(request, user, db, organization_id, data, "csv")

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
        user: CurrentUser,
        db: DB,
        organization_id: FromPath[int],
        data: MultipartBody[BulkUpload],
    ) -> Response[bytes]:
        return await self._marked(request, user, db, organization_id, data, "xlsx")

    async def _marked(
        self,
        request: Request[Any, Any, Any],
        user: User,
        db: Database,
        organization_id: int,
        data: BulkUpload,
        fmt: Literal["csv", "xlsx"],
    ) -> Response[bytes]:
        return await marked_response(
            db,
            user,
            organization_id,
            lambda: bulk_file.read_upload(data.file),
            data.mode,
            fmt,
            request_language(request),
            request.app.state.clock(),
        )

    @get(
        "/{organization_id:int}/sessions",
        summary="Sessions open for applications today, soonest first, with the codes a file names them by",
    )
    async def open_sessions(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        organization_id: FromPath[int],
        campus: FromQuery[str | None] = None,
    ) -> list[OpenSessionOut]:
        await bulk_org.organization_for(reading, user, organization_id)
        rows = await bulk_sessions.open_sessions(reading, request.app.state.clock().date(), campus)
        return [open_session_out(r) for r in rows]

    @get("/{organization_id:int}/registrations", summary="Everyone the organisation registered, with status")
    async def registrations(
        self, user: CurrentUser, reading: Reading, organization_id: FromPath[int]
    ) -> list[RegistrantOut]:
        await bulk_org.organization_for(reading, user, organization_id)
        rows = await bulk_org.registrants(reading, organization_id)
        return [registrant_out(r) for r in rows]

    @get(
        "/{organization_id:int}/invitations",
        summary="People invited by the organisation who have not (yet) accepted, as the file named them",
    )
    async def invitations(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        organization_id: FromPath[int],
    ) -> list[InvitationOut]:
        await bulk_org.organization_for(reading, user, organization_id)
        rows = await bulk_org.invitations(reading, organization_id, request.app.state.clock())
        return [invitation_out(r) for r in rows]

    @delete(
        "/{organization_id:int}/registrations/{enrollment_id:int}",
        summary="Cancel one registrant (on the learner's behalf; the waiting list moves up)",
        status_code=200,
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        organization_id: FromPath[int],
        enrollment_id: FromPath[int],
    ) -> CancellationOut:
        await bulk_org.organization_for(writing, user, organization_id)
        owed = await bulk_org.cancel_registrant(
            writing, organization_id, enrollment_id, request.app.state.clock(), request.app.state.settings
        )
        return CancellationOut(enrollment_id, "cancelled", owed.fee_yen, owed.text_ja)

    @get("/{organization_id:int}/billing", summary="Fees and lodging nights per session and in total")
    async def billing(self, user: CurrentUser, reading: Reading, organization_id: FromPath[int]) -> Bill:
        await bulk_org.organization_for(reading, user, organization_id)
        bill = await bulk_org.billing(reading, organization_id)
        return bill_out(bill)

    @get(
        "/{organization_id:int}/billing.csv",
        summary="Billing summary as CSV (UTF-8 with BOM)",
        media_type="text/csv",
    )
    async def billing_csv(
        self, user: CurrentUser, reading: Reading, organization_id: FromPath[int]
    ) -> Response[bytes]:
        await bulk_org.organization_for(reading, user, organization_id)
        bill = await bulk_org.billing(reading, organization_id)
        return csv_response(bulk_org.billing_csv(bill), f"billing-{organization_id}.csv")

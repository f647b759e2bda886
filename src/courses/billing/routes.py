"""Billing through the JSON API and the pages: fee table, invoices and their PDFs, payments."""

from __future__ import annotations

import asyncio
import base64
from datetime import date, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody
from litestar.response import Redirect, Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.guards import CurrentUser
from courses.billing import invoicing, pdf, service, transfers
from courses.billing.schemas import (
    CampusFeeRead,
    CampusFeeWrite,
    CourseFeeRead,
    CourseFeeWrite,
    InvoiceData,
    InvoiceSummary,
    PaymentRead,
    PaymentWrite,
    TermsRead,
    TermsWrite,
    TransferImport,
    UnpaidRow,
)
from courses.billing.transfers import TransferReport
from courses.bulk import files as bulk_file
from courses.core.bodies import Form
from courses.core.deps import DB, Reading, Writing
from courses.core.downloads import attachment
from courses.core.errors import InvalidInput
from courses.core.settings import Settings
from courses.models import Campus, Course, Role, User, id_of
from courses.models.billing import CampusFee, CancellationTerms, Invoice

STAFF = {"access": "staff"}
USER = {"access": "user"}


def _now(request: Request[Any, Any, Any]) -> datetime:
    now: datetime = request.app.state.clock()
    return now


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _data(s: AsyncSession, request: Request[Any, Any, Any], user: User, invoice_id: int) -> InvoiceData:
    invoice = await invoicing.visible_invoice(s, user, invoice_id)
    return await invoicing.invoice_data(s, invoice, _settings(request))


async def pdf_response(
    reading: AsyncSession, request: Request[Any, Any, Any], user: User, invoice_id: int
) -> Response[bytes]:
    """An invoice's PDF, read through the request's read session (no transaction is held while it
    is drawn)."""
    data = await _data(reading, request, user, invoice_id)
    content = await asyncio.to_thread(pdf.render, data)  # off the event loop
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": attachment(f"{data.number}.pdf"),
            "Cache-Control": "no-store",
        },
    )


class BillingApi(Controller):
    path = "/api/billing"
    tags = ("billing",)

    @get("/campuses/{campus_id:int}/fees", opt=STAFF, summary="A campus's lodging and meal charges")
    async def fees(self, user: CurrentUser, reading: Reading, campus_id: FromPath[int]) -> CampusFeeRead:
        await invoicing.ensure_campus(reading, user, campus_id)
        row = await reading.get(CampusFee, campus_id)
        if row is None:
            return CampusFeeRead(campus_id, 0, 0)
        return CampusFeeRead(campus_id, row.lodging_per_night_yen, row.meals_per_day_yen)

    @put("/campuses/{campus_id:int}/fees", opt=STAFF, summary="Set a campus's lodging and meal charges (yen)")
    async def set_fees(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        campus_id: FromPath[int],
        data: JSONBody[CampusFeeWrite],
    ) -> CampusFeeRead:
        await invoicing.ensure_campus(writing, user, campus_id)
        row = await service.set_campus_fee(
            writing, campus_id, data.lodging_per_night_yen, data.meals_per_day_yen, _now(request)
        )
        return CampusFeeRead(campus_id, row.lodging_per_night_yen, row.meals_per_day_yen)

    @put(
        "/courses/{course_id:int}/fee",
        opt={"access": "admin"},
        summary="Set a course's fee (yen, tax included)",
    )
    async def set_course_fee(
        self, writing: Writing, course_id: FromPath[int], data: JSONBody[CourseFeeWrite]
    ) -> CourseFeeRead:
        course = await service.set_course_fee(writing, course_id, data.fee_yen)
        return CourseFeeRead(course_id, course.fee_yen)

    @get(
        "/courses/{course_id:int}/cancellation-terms",
        opt={"access": "public"},
        summary="A course's cancellation terms",
    )
    async def terms(self, reading: Reading, course_id: FromPath[int]) -> TermsRead:
        free, late = await service.terms_of(reading, course_id)
        return TermsRead(course_id, free, late, service.terms_text(free, late))

    @put(
        "/courses/{course_id:int}/cancellation-terms",
        opt={"access": "admin"},
        summary="Set a course's cancellation terms (free up to N days before, X % after, 100 % from the first day)",
    )
    async def set_terms(
        self, writing: Writing, course_id: FromPath[int], data: JSONBody[TermsWrite]
    ) -> TermsRead:
        row = await service.set_terms(writing, course_id, data.free_days_before, data.late_percent)
        text = service.terms_text(row.free_days_before, row.late_percent)
        return TermsRead(course_id, row.free_days_before, row.late_percent, text)

    @post(
        "/enrollments/{enrollment_id:int}/invoice",
        opt=USER,
        summary="Issue (or return) an enrollment's invoice",
    )
    async def issue(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        enrollment_id: FromPath[int],
    ) -> InvoiceData:
        invoice = await invoicing.issue_for_enrollment(
            writing, user, enrollment_id, _settings(request), _now(request)
        )
        return await _data(writing, request, user, id_of(invoice))

    @post(
        "/organizations/{organization_id:int}/campuses/{campus_id:int}/months/{month:str}/invoice",
        opt=STAFF,
        summary="Issue (or return) an organisation's consolidated invoice for a month (YYYY-MM)",
    )
    async def issue_org(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        organization_id: FromPath[int],
        campus_id: FromPath[int],
        month: FromPath[str],
    ) -> InvoiceData:
        invoice = await invoicing.issue_for_organization(
            writing, user, organization_id, campus_id, month, _settings(request), _now(request)
        )
        return await _data(writing, request, user, id_of(invoice))

    @get("/invoices", opt=USER, summary="My invoices, or my organisation's")
    async def mine(self, user: CurrentUser, reading: Reading) -> list[InvoiceSummary]:
        rows = await invoicing.invoices_of(reading, user)
        return [InvoiceSummary(id_of(i), i.number, i.kind, i.total_yen, i.due_date) for i in rows]

    @get("/invoices/{invoice_id:int}", opt=USER, summary="One invoice with its lines and tax per rate")
    async def one(
        self, request: Request[Any, Any, Any], user: CurrentUser, reading: Reading, invoice_id: FromPath[int]
    ) -> InvoiceData:
        return await _data(reading, request, user, invoice_id)

    @get(
        "/invoices/{invoice_id:int}/pdf", opt=USER, summary="One invoice as PDF", media_type="application/pdf"
    )
    async def as_pdf(
        self, request: Request[Any, Any, Any], user: CurrentUser, reading: Reading, invoice_id: FromPath[int]
    ) -> Response[bytes]:
        return await pdf_response(reading, request, user, invoice_id)

    @post(
        "/invoices/{invoice_id:int}/payments",
        opt=STAFF,
        summary="Record a transfer (the same reference counts once)",
    )
    async def pay(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        invoice_id: FromPath[int],
        data: JSONBody[PaymentWrite],
    ) -> PaymentRead:
        p = await invoicing.record_payment(
            writing, user, invoice_id, data.amount_yen, data.paid_on, data.reference, _now(request)
        )
        return PaymentRead(id_of(p), p.invoice_id, p.amount_yen, p.paid_on, p.reference)

    @get(
        "/campuses/{campus_id:int}/unpaid",
        opt=STAFF,
        summary="Invoices of a campus unpaid past their due date",
    )
    async def unpaid(
        self, request: Request[Any, Any, Any], user: CurrentUser, reading: Reading, campus_id: FromPath[int]
    ) -> list[UnpaidRow]:
        return await invoicing.unpaid_past_due(reading, user, campus_id, _now(request).date())

    @post(
        "/campuses/{campus_id:int}/transfers",
        opt=STAFF,
        status_code=200,
        summary="Import a bank statement: match each transfer to an unpaid invoice (dry_run=true previews)",
        description=(
            "A transfer matches when its amount is what the invoice still owes and the payer's kana name "
            "is the recipient's reading (or the payer line carries the invoice number). Rows come back "
            "matched, recorded, ambiguous, unmatched or invalid, each with its reason; with dry_run=false "
            "the matched ones are recorded as payments, each once however often the file is imported."
        ),
    )
    async def import_transfers(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        db: DB,
        campus_id: FromPath[int],
        data: MultipartBody[TransferImport],
    ) -> TransferReport:
        # the file is read before any transaction begins, so the write lock is held only to record
        _, content = await bulk_file.read_upload(data.file)
        rows = await transfers.read(content)
        if data.dry_run:
            async with db.read() as s:
                return await transfers.match(s, user, campus_id, rows)
        async with db.write() as s:
            return await transfers.record(s, user, campus_id, rows, _now(request))


def _form_int(data: dict[str, str], name: str) -> int:
    raw = (data.get(name) or "").strip().replace(",", "")
    if not raw.isdecimal():
        raise InvalidInput(
            f"{name} は整数（円）で入力してください。", f"{name} must be a whole number of yen."
        )
    return int(raw)


class BillingPages(Controller):
    path = "/billing"
    include_in_schema = False

    @get("/invoices/{invoice_id:int}/pdf", opt=USER)
    async def invoice_pdf(
        self, request: Request[Any, Any, Any], user: CurrentUser, reading: Reading, invoice_id: FromPath[int]
    ) -> Response[bytes]:
        return await pdf_response(reading, request, user, invoice_id)

    @post("/enrollments/{enrollment_id:int}/invoice", opt={"access": "learner"})
    async def issue_mine(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        enrollment_id: FromPath[int],
    ) -> Redirect:
        """Issue and send the browser to the PDF, which is drawn by that request, not in this one's
        write transaction."""
        invoice = await invoicing.issue_for_enrollment(
            writing, user, enrollment_id, _settings(request), _now(request)
        )
        return Redirect(f"/billing/invoices/{invoice.id}/pdf")

    @get("/campuses/{campus_id:int}", opt=STAFF)
    async def campus_page(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        campus_id: FromPath[int],
        msg: FromQuery[str | None] = None,
        n: FromQuery[int] = 0,
    ) -> Template:
        campus = await reading.get(Campus, campus_id)
        await invoicing.ensure_campus(reading, user, campus_id)
        fee = await reading.get(CampusFee, campus_id)
        invoices = await invoicing.campus_invoices(reading, user, campus_id)
        unpaid = await invoicing.unpaid_past_due(reading, user, campus_id, _now(request).date())
        return Template(
            "billing/campus.html",
            context={
                "campus": campus,
                "fee": fee,
                "invoices": invoices,
                "unpaid": unpaid,
                "msg": PAGE_MESSAGES.get(msg or "", "").format(n=n),
                "today": _now(request).date(),
            },
        )

    @post("/campuses/{campus_id:int}/fees", opt=STAFF)
    async def set_fees(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        campus_id: FromPath[int],
        data: Form,
    ) -> Redirect:
        lodging, meals = _form_int(data, "lodging_per_night_yen"), _form_int(data, "meals_per_day_yen")
        await invoicing.ensure_campus(writing, user, campus_id)
        await service.set_campus_fee(writing, campus_id, lodging, meals, _now(request))
        return Redirect(f"/billing/campuses/{campus_id}?msg=fees")

    @post("/invoices/{invoice_id:int}/payments", opt=STAFF)
    async def pay(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        invoice_id: FromPath[int],
        data: Form,
    ) -> Redirect:
        try:
            paid_on = date.fromisoformat(data.get("paid_on") or "")
        except ValueError:
            raise InvalidInput(
                "入金日を YYYY-MM-DD で入力してください。", "Give the payment date as YYYY-MM-DD."
            ) from None
        p = await invoicing.record_payment(
            writing,
            user,
            invoice_id,
            _form_int(data, "amount_yen"),
            paid_on,
            data.get("reference") or "",
            _now(request),
        )
        invoice = await writing.get(Invoice, p.invoice_id)
        return Redirect(f"/billing/campuses/{invoice.campus_id if invoice else 0}?msg=paid")

    @get("/courses", opt=STAFF)
    async def courses_page(
        self, user: CurrentUser, reading: Reading, msg: FromQuery[str | None] = None
    ) -> Template:
        """Every course's fee and cancellation terms; administrators change them here."""
        courses = list(await reading.exec(select(Course).order_by(col(Course.audience), col(Course.code))))
        terms = {t.course_id: t for t in await reading.exec(select(CancellationTerms))}
        rows = []
        for course in courses:
            own = terms.get(course.id or 0)
            free, late = (
                (own.free_days_before, own.late_percent)
                if own
                else (service.DEFAULT_FREE_DAYS_BEFORE, service.DEFAULT_LATE_PERCENT)
            )
            rows.append((course, free, late, own is not None, service.terms_text(free, late)))
        return Template(
            "billing/courses.html",
            context={
                "rows": rows,
                "may_edit": user.role == Role.ADMIN,
                "msg": PAGE_MESSAGES.get(msg or "", ""),
            },
        )

    @post("/courses/{course_id:int}", opt={"access": "admin"})
    async def set_course_terms(self, writing: Writing, course_id: FromPath[int], data: Form) -> Redirect:
        fee = _form_int(data, "fee_yen")
        free, late = _form_int(data, "free_days_before"), _form_int(data, "late_percent")
        await service.set_course_fee(writing, course_id, fee)
        await service.set_terms(writing, course_id, free, late)
        return Redirect(f"/billing/courses?msg=course#course-{course_id}")

    @post("/campuses/{campus_id:int}/transfers", opt=STAFF)
    async def transfers_page(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        db: DB,
        campus_id: FromPath[int],
        data: MultipartBody[dict[str, Any]],
    ) -> Template | Redirect:
        """Upload a statement for a preview; the preview's button posts the same bytes back to record."""
        if data.get("content"):
            content = base64.b64decode(str(data["content"]))
        else:
            _, content = await bulk_file.read_upload(data.get("file"))
        rows = await transfers.read(content)  # before any transaction: parsing may take a while
        if str(data.get("apply") or "") == "1":
            async with db.write() as s:
                report = await transfers.record(s, user, campus_id, rows, _now(request))
            return Redirect(f"/billing/campuses/{campus_id}?msg=transfers&n={report.recorded}")
        async with db.read() as s:
            campus = await s.get(Campus, campus_id)
            report = await transfers.match(s, user, campus_id, rows)
        return Template(
            "billing/transfers.html",
            context={
                "campus": campus,
                "report": report,
                "content": base64.b64encode(content).decode(),
                "labels": TRANSFER_LABELS,
            },
        )


TRANSFER_LABELS = {
    "matched": "照合済み（記録します）",
    "recorded": "記録済み",
    "ambiguous": "要確認（複数候補）",
    "unmatched": "照合できず",
    "invalid": "読めない行",
}
PAGE_MESSAGES = {
    "fees": "宿泊費・食事代を保存しました。",
    "paid": "入金を記録しました。",
    "transfers": "振込明細から{n}件の入金を記録しました。",
    "course": "受講料とキャンセル規定を保存しました。",
}

"""Request and response shapes of billing, apart from the tables. Money is integer yen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

import msgspec
from litestar.datastructures import UploadFile
from msgspec import Meta


class CampusFeeWrite(msgspec.Struct, forbid_unknown_fields=True):
    """What a campus charges for a night in the dormitory and a day's meals, tax included."""

    lodging_per_night_yen: Annotated[int, Meta(title="宿泊費（1泊・円）", ge=0, le=100_000, examples=[3300])]
    meals_per_day_yen: Annotated[int, Meta(title="食費（1日・円）", ge=0, le=100_000, examples=[2500])]


class CampusFeeRead(msgspec.Struct):
    campus_id: int
    lodging_per_night_yen: int
    meals_per_day_yen: int


class CourseFeeWrite(msgspec.Struct, forbid_unknown_fields=True):
    """A course's fee per learner, tax included."""

    fee_yen: Annotated[int, Meta(title="受講料（円）", ge=0, le=2_000_000, examples=[66000])]


class CourseFeeRead(msgspec.Struct):
    course_id: int
    fee_yen: Annotated[int, Meta(title="受講料（円・税込）")]


class InvoiceSummary(msgspec.Struct):
    """One invoice or credit note in a list; its lines come with ``GET /api/billing/invoices/{id}``."""

    id: int
    number: Annotated[str, Meta(title="請求書番号")]
    kind: Annotated[str, Meta(title="種別", description="invoice, or credit (a credit note)")]
    total_yen: Annotated[int, Meta(title="合計（円・税込）")]
    due_date: Annotated[date, Meta(title="支払期日")]


class TermsWrite(msgspec.Struct, forbid_unknown_fields=True):
    """Cancellation terms: free until ``free_days_before`` days before the start, then a share."""

    free_days_before: Annotated[
        int, Meta(title="無料で取り消せる日数（開始の何日前まで）", ge=0, le=365, examples=[14])
    ]
    late_percent: Annotated[int, Meta(title="それ以降の取消料（受講料の%）", ge=0, le=100, examples=[50])]


class TermsRead(msgspec.Struct):
    course_id: int
    free_days_before: int
    late_percent: int
    text_ja: str


class Line(msgspec.Struct, frozen=True):
    """One invoice line; its amount is always quantity × unit price."""

    description: str
    quantity: int
    unit_yen: int
    tax_rate_percent: int = 10
    enrollment_id: int | None = None

    @property
    def amount_yen(self) -> int:
        return self.quantity * self.unit_yen


class TaxRow(msgspec.Struct, frozen=True):
    rate_percent: int
    base_yen: int
    tax_yen: int


class InvoiceData(msgspec.Struct):
    """An invoice as read back: every total is recomputable from ``lines``."""

    id: int
    number: str
    kind: str
    issuer: str
    registration_number: str
    recipient_name: str
    issue_date: date
    due_date: date
    bank_account: str
    lines: list[Line]
    taxes: list[TaxRow]
    subtotal_yen: int
    tax_yen: int
    total_yen: int
    paid_yen: int = 0


class PaymentWrite(msgspec.Struct, forbid_unknown_fields=True):
    """A payment received against an invoice (a bank transfer, say)."""

    amount_yen: Annotated[int, Meta(title="入金額（円）", ge=1, le=99_999_999, examples=[66000])]
    paid_on: Annotated[date, Meta(title="入金日", examples=["2026-07-31"])]
    reference: Annotated[str, Meta(title="照合用の摘要", max_length=100, examples=["振込 サンジョウセイキ"])]


class PaymentRead(msgspec.Struct):
    id: int
    invoice_id: int
    amount_yen: int
    paid_on: date
    reference: str


class UnpaidRow(msgspec.Struct):
    invoice_id: int
    number: str
    recipient_name: str
    due_date: date
    total_yen: int
    paid_yen: int


class CancellationQuote(msgspec.Struct):
    days_before: int
    percent: int
    fee_yen: int
    text_ja: str


@dataclass
class TransferImport:
    """A bank statement (CSV in UTF-8 or Shift_JIS, or .xlsx) with the columns 入金日, 金額,
    振込依頼人名 and, where the bank gives it, 照会番号; ``dry_run`` true (the default) previews."""

    file: UploadFile | None = None
    dry_run: bool = True

"""Request and response shapes of billing, apart from the tables. Money is integer yen."""

from __future__ import annotations

from datetime import date

import msgspec


class CampusFeeWrite(msgspec.Struct, forbid_unknown_fields=True):
    lodging_per_night_yen: int = msgspec.field()
    meals_per_day_yen: int = msgspec.field()


class CampusFeeRead(msgspec.Struct):
    campus_id: int
    lodging_per_night_yen: int
    meals_per_day_yen: int


class CourseFeeWrite(msgspec.Struct, forbid_unknown_fields=True):
    fee_yen: int


class TermsWrite(msgspec.Struct, forbid_unknown_fields=True):
    free_days_before: int
    late_percent: int


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
    amount_yen: int
    paid_on: date
    reference: str


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

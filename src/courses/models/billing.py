"""Fees, invoices (適格請求書), payments and cancellation terms. Money is integer yen throughout."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


def _tz() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=False)


class CampusFee(SQLModel, table=True):
    """What a campus charges for lodging per night and meals per day (0: not charged)."""

    __tablename__ = "campus_fee"
    __table_args__ = (
        CheckConstraint("lodging_per_night_yen >= 0 AND meals_per_day_yen >= 0", name="fees_not_negative"),
    )

    campus_id: int = Field(foreign_key="campus.id", primary_key=True)
    lodging_per_night_yen: int = 0
    meals_per_day_yen: int = 0
    updated_at: datetime = Field(sa_column=_tz())


# The school's terms for a course without its own: free up to 8 days before the first day, then 30 %.
DEFAULT_FREE_DAYS_BEFORE = 8
DEFAULT_LATE_PERCENT = 30


class CancellationTerms(SQLModel, table=True):
    """A course's cancellation terms: free up to ``free_days_before`` days before the first day,
    ``late_percent`` % after that, 100 % from the first day on."""

    __tablename__ = "cancellation_terms"
    __table_args__ = (
        CheckConstraint(
            "late_percent >= 0 AND late_percent <= 100 AND free_days_before >= 0", name="terms_range"
        ),
    )

    course_id: int = Field(foreign_key="course.id", primary_key=True)
    free_days_before: int = 8
    late_percent: int = 30


class InvoiceKind:
    INVOICE = "invoice"  # 請求書
    CREDIT_NOTE = "credit"  # 請求取消 (negative amounts)


class Invoice(SQLModel, table=True):
    """An issued invoice. ``issue_key`` makes issuing idempotent: one per enrollment
    (``enr:<id>``), per organisation and month (``org:<id>:<yyyy-mm>``) or per credit note."""

    __table_args__ = (UniqueConstraint("issue_key", name="uq_invoice_issue_key"),)

    id: int | None = Field(default=None, primary_key=True)
    issue_key: str = Field(max_length=80)
    kind: str = Field(default=InvoiceKind.INVOICE, max_length=10)
    number: str = Field(max_length=40)
    campus_id: int = Field(foreign_key="campus.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    recipient_name: str = Field(max_length=200)
    registration_number: str = Field(max_length=14)
    issue_date: date
    due_date: date = Field(index=True)
    subtotal_yen: int
    tax_yen: int
    total_yen: int
    created_at: datetime = Field(sa_column=_tz())


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True, ondelete="CASCADE")
    enrollment_id: int | None = Field(default=None, foreign_key="enrollment.id", index=True)
    description: str = Field(max_length=300)
    quantity: int
    unit_yen: int
    amount_yen: int
    tax_rate_percent: int = 10


class Payment(SQLModel, table=True):
    """A transfer staff recorded against an invoice; the same transfer reference counts once."""

    __table_args__ = (UniqueConstraint("invoice_id", "reference", name="uq_payment_reference"),)

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    amount_yen: int
    paid_on: date
    reference: str = Field(max_length=100)
    recorded_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(sa_column=_tz())


class CancellationRecord(SQLModel, table=True):
    """The fee owed when an enrollment was cancelled, as computed and stated at the time."""

    __tablename__ = "cancellation_record"

    enrollment_id: int = Field(foreign_key="enrollment.id", primary_key=True)
    days_before: int
    percent: int
    fee_yen: int
    cancelled_by: str = Field(max_length=12)  # learner | organization | staff
    created_at: datetime = Field(sa_column=_tz())

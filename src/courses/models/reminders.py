"""Reminders sent before a session, and the question to those long on a waiting list: one row per
enrollment and kind, so that each goes out once however many instances run (``courses.enrollment.reminders``)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


class ReminderKind(enum.StrEnum):
    WEEK = "7d"  # a week before the first day (or later, up to two days before, if it was missed)
    DAY = "1d"  # the day before the first day
    WAITING = "waitlist"  # まだご希望ですか: waitlisted for 30 days or more


class ReminderSent(SQLModel, table=True):
    """A reminder queued to the outbox; inserted in the same transaction as the message, and the
    unique key makes a concurrent second sender lose."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("enrollment_id", "kind", name="uq_reminder_sent_enrollment_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollment.id", ondelete="CASCADE")
    kind: str = Field(max_length=12)
    sent_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))

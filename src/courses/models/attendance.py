"""Attendance per half-day (午前/午後) and certificates of completion (修了証書).

See docs/attendance.md. A mark is unique per enrollment and half-day, so saving a half-day again
replaces it; a certificate is unique per enrollment, so issuing is idempotent and its serial stable.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


def _tz() -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=False)


class Half(enum.StrEnum):
    AM = "am"  # 午前: before 12:00 JST
    PM = "pm"  # 午後: from 12:00 JST


class AttendanceSheet(SQLModel, table=True):
    """Who last saved the attendance of one half-day of a session, and when."""

    __tablename__ = "attendance_sheet"
    __table_args__ = (UniqueConstraint("session_id", "day", "half", name="uq_attendance_sheet_half"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="course_session.id", index=True, ondelete="CASCADE")
    day: date
    half: str = Field(max_length=2)
    saved_by: int = Field(foreign_key="app_user.id")
    saved_at: datetime = Field(sa_column=_tz())


class AttendanceMark(SQLModel, table=True):
    """One learner's presence in one half-day: taken by staff, or a check-in of the learner's own."""

    __tablename__ = "attendance_mark"
    __table_args__ = (UniqueConstraint("enrollment_id", "day", "half", name="uq_attendance_mark_half"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="course_session.id", index=True, ondelete="CASCADE")
    enrollment_id: int = Field(foreign_key="enrollment.id", index=True)
    day: date
    half: str = Field(max_length=2)
    present: bool
    source: str = Field(max_length=10)  # staff | checkin
    marked_by: int = Field(foreign_key="app_user.id")
    marked_at: datetime = Field(sa_column=_tz())


class Certificate(SQLModel, table=True):
    """A certificate of completion. The serial (``FY2026-TOK-000123``) is allocated once per enrollment,
    numbered through the fiscal year across the whole school; what it certifies is kept as issued."""

    __table_args__ = (
        UniqueConstraint("enrollment_id", name="uq_certificate_enrollment"),
        UniqueConstraint("serial", name="uq_certificate_serial"),
        UniqueConstraint("fiscal_year", "seq", name="uq_certificate_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollment.id")
    serial: str = Field(max_length=40)
    fiscal_year: int
    seq: int
    learner_name: str = Field(max_length=100)
    course_title: str = Field(max_length=200)
    campus_name: str = Field(max_length=100)
    start_date: date
    end_date: date
    issued_on: date
    created_at: datetime = Field(sa_column=_tz())

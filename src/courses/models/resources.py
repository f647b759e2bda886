"""Resources the scheduler plans with and the staff console keeps: outages of rooms, practicum host
companies, instructors with their availability, and the audit log of every staff change."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel


class InstructorKind(enum.StrEnum):
    STAFF = "staff"  # a member of a campus's own teaching staff
    EXTERNAL = "external"  # an outside expert (中小企業診断士, 税理士, ...)


class RoomOutage(SQLModel, table=True):
    """A classroom or dormitory room out of service for a date range (both ends inclusive)."""

    __tablename__ = "room_outage"
    __table_args__ = (
        CheckConstraint("(dorm_room_id IS NULL) <> (classroom_id IS NULL)", name="room_outage_one_room"),
        CheckConstraint("start_date <= end_date", name="room_outage_dates"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campus_id: int = Field(foreign_key="campus.id", index=True)
    dorm_room_id: int | None = Field(default=None, foreign_key="dorm_room.id", index=True)
    classroom_id: int | None = Field(default=None, foreign_key="classroom.id", index=True)
    start_date: date
    end_date: date
    reason: str = Field(default="", max_length=200)


class PracticumSite(SQLModel, table=True):
    """A company that hosts learners for the practicum (企業診断実習) of a course."""

    __tablename__ = "practicum_site"

    id: int | None = Field(default=None, primary_key=True)
    campus_id: int = Field(foreign_key="campus.id", index=True)
    name: str = Field(max_length=200)
    company_name: str = Field(max_length=200)
    industry: str = Field(max_length=1)  # JSIC major division, A-T
    address: str = Field(default="", max_length=200)
    travel_minutes: int
    capacity_per_day: int
    excluded_companies: str = ""  # newline-separated company names it must not host
    archived: bool = False
    version: int = 1


class PracticumSiteAvailability(SQLModel, table=True):
    __tablename__ = "practicum_site_availability"

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="practicum_site.id", index=True, ondelete="CASCADE")
    start_date: date
    end_date: date


class Instructor(SQLModel, table=True):
    """A lecturer: campus staff or an outside expert, with the subjects they teach."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    name_kana: str = Field(default="", max_length=100)
    kind: str = Field(max_length=10)  # staff | external
    qualification: str = Field(default="", max_length=100)
    home_prefecture: str = Field(max_length=2)  # JIS code 01-47
    home_campus_id: int | None = Field(default=None, foreign_key="campus.id", index=True)
    subjects: str = ""  # comma-separated category codes
    max_modules_per_month: int = 4
    fee_per_module_yen: int = 0
    travel_cost_yen: int = 0
    email: str = Field(default="", max_length=254)
    archived: bool = False
    version: int = 1


class InstructorAvailability(SQLModel, table=True):
    __tablename__ = "instructor_availability"

    id: int | None = Field(default=None, primary_key=True)
    instructor_id: int = Field(foreign_key="instructor.id", index=True, ondelete="CASCADE")
    start_date: date
    end_date: date


class AuditLog(SQLModel, table=True):
    """One change made by a person: who, when, what, and the record before and after (JSON)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    action: str = Field(max_length=40)
    entity: str = Field(max_length=40)
    entity_id: int
    campus_id: int | None = Field(default=None, index=True)
    before_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    after_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

"""Storage tables. Request and response shapes live in ``schemas.py``, never here."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


class Audience(enum.StrEnum):
    """Who a course is for."""

    SME = "sme"  # executives and managers of small and medium enterprises
    SUPPORT = "support"  # staff of support agencies (chambers of commerce, 商工会, prefectures)


class SessionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class RoomKind(enum.StrEnum):
    SINGLE = "single"
    TWIN = "twin"


class Zone(enum.StrEnum):
    WOMEN = "women"
    MEN = "men"
    ANY = "any"


def _tz() -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=False)


class Campus(SQLModel, table=True):
    """One of the university's campuses. The list is data: campuses open, close and move."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name_ja: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    prefecture: str = Field(max_length=10)
    address: str = Field(max_length=200)
    has_lodging: bool = True
    sort_order: int = 0


class Classroom(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campus_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    campus_id: int = Field(foreign_key="campus.id", index=True)
    name: str = Field(max_length=100)
    seats: int


class DormRoom(SQLModel, table=True):
    """A dormitory room. Women's and men's zones are whole floors; twins are shared by two learners."""

    __tablename__ = "dorm_room"
    __table_args__ = (UniqueConstraint("campus_id", "room_number"),)

    id: int | None = Field(default=None, primary_key=True)
    campus_id: int = Field(foreign_key="campus.id", index=True)
    room_number: str = Field(max_length=20)
    floor: int
    kind: str = Field(default=RoomKind.SINGLE, max_length=10)
    zone: str = Field(default=Zone.ANY, max_length=10)
    accessible: bool = False


class Category(SQLModel, table=True):
    """A subject area of the catalog (経営戦略, 財務・会計, ...)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name_ja: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    sort_order: int = 0


class Course(SQLModel, table=True):
    """A course of the catalog; it runs as one or more sessions a year."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    title_ja: str = Field(max_length=200)
    title_en: str = Field(max_length=200)
    audience: str = Field(max_length=10, index=True)
    category: str = Field(foreign_key="category.code", max_length=32, index=True)
    description: str = ""
    days: int
    fee_yen: int
    default_capacity: int
    residential: bool = True
    has_practicum: bool = False


class CourseSession(SQLModel, table=True):
    """One run of a course at a campus, meeting in one or more date blocks.

    ``confirmed_count`` is the number of seats taken. It is only ever changed by the conditional
    update in ``services.enrollment`` so that it can never pass ``capacity``.
    """

    __tablename__ = "course_session"
    __table_args__ = (
        CheckConstraint("confirmed_count >= 0 AND confirmed_count <= capacity", name="seats_within_capacity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    campus_id: int = Field(foreign_key="campus.id", index=True)
    capacity: int
    confirmed_count: int = 0
    waitlist_seq: int = 0
    lodging: bool = True
    start_date: date = Field(index=True)
    end_date: date = Field(index=True)
    application_opens: date
    application_closes: date
    status: str = Field(default=SessionStatus.DRAFT, max_length=12, index=True)
    version: int = 1
    created_at: datetime = Field(sa_column=_tz())


class SessionBlock(SQLModel, table=True):
    """A run of consecutive days in which a session meets."""

    __tablename__ = "session_block"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="course_session.id", index=True, ondelete="CASCADE")
    seq: int
    start_date: date
    end_date: date

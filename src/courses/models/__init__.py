"""Storage tables. Request and response shapes live apart from them, never here.

The core tables are in this module; later capabilities add theirs as submodules of this package
(``courses.models.<topic>``), which the migrations load through ``load_all()``.
"""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import CheckConstraint, Column, DateTime, Index, Table, Text, UniqueConstraint, text
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


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, for statements built once and run on a connection."""
    return model.__table__  # type: ignore[attr-defined,no-any-return]


class Identified(Protocol):
    @property
    def id(self) -> int | None: ...


def id_of(row: Identified) -> int:
    """The primary key of a stored row. SQLModel types ``id`` as ``int | None`` because it stays empty
    until the row is flushed; a row read back or flushed always has one."""
    assert row.id is not None, f"{type(row).__name__} has no id before it is flushed"
    return row.id


def _tz() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=False)


DORM_CHECKIN_DEFAULT = "初日 8:30〜9:15 に寮の受付へ"


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
    # how to get there (nearest station, bus or taxi), for the reminders sent before a session
    access_ja: str | None = Field(default=None, sa_type=Text)
    # when and where learners who stay check in to the dormitory (reminders)
    dorm_checkin_ja: str = Field(
        default=DORM_CHECKIN_DEFAULT,
        max_length=200,
        sa_column_kwargs={"server_default": DORM_CHECKIN_DEFAULT},
    )


class Classroom(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campus_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    campus_id: int = Field(foreign_key="campus.id", index=True)
    name: str = Field(max_length=100)
    seats: int
    archived: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    version: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})


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
    archived: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    version: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})


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
    # the title's reading in katakana (ザイムショヒョウノヨミカタ), so that a search in kana finds it
    title_kana: str = Field(default="", max_length=200)
    audience: str = Field(max_length=10, index=True)
    category: str = Field(foreign_key="category.code", max_length=32, index=True)
    description: str = ""
    days: int
    fee_yen: int
    default_capacity: int
    residential: bool = True
    has_practicum: bool = False
    # practicum learners go out in groups of this size, on the last ``practicum_days`` days
    practicum_group_min: int = 4
    practicum_group_max: int = 8
    practicum_days: int = 2
    # a learner completes the course by attending at least this share of its half-days (docs/attendance.md)
    completion_min_percent: int = Field(default=80, sa_column_kwargs={"server_default": text("80")})
    archived: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    version: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})


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


# --- accounts -------------------------------------------------------------------------------------


class Role(enum.StrEnum):
    LEARNER = "learner"
    COORDINATOR = "coordinator"  # registers people on behalf of a chamber of commerce or similar
    STAFF = "staff"  # campus staff, scoped to the campuses in staff_campus
    ADMIN = "admin"


class OrganizationKind(enum.StrEnum):
    """What kind of organisation a learner works for (decides which courses they may take)."""

    SME = "sme"
    SUPPORT_AGENCY = "support_agency"


class Organization(SQLModel, table=True):
    """A chamber of commerce (商工会議所), 商工会 or prefectural support centre that registers people."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=30)  # chamber | society_of_commerce | prefectural_center | other
    prefecture: str = Field(max_length=2)  # JIS code 01-47


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str | None = Field(default=None, max_length=200)  # None until the person sets one
    name: str = Field(max_length=100)
    name_kana: str = Field(default="", max_length=100)
    role: str = Field(default=Role.LEARNER, max_length=12, index=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    # the secret part of the person's calendar URL, drawn for every new account
    feed_token: str = Field(default_factory=lambda: secrets.token_urlsafe(24), max_length=64, unique=True)
    created_at: datetime = Field(sa_column=_tz())
    # set when the person opens the link emailed at registration (or sets a password from one);
    # a learner applies for a session only with a verified address
    email_verified_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    language: str = Field(default="ja", max_length=2)  # 'ja' | 'en': the language of their mail

    @property
    def awaits_verification(self) -> bool:
        """A learner whose address no link has proved yet: they may not apply themselves (staff and
        coordinators are created by staff)."""
        return self.role == Role.LEARNER and self.email_verified_at is None


class LearnerProfile(SQLModel, table=True):
    """What a Japanese training application form asks. Gender and access needs are optional and
    only used to allocate dormitory rooms."""

    __tablename__ = "learner_profile"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True, ondelete="CASCADE")
    organization_kind: str = Field(max_length=20)
    company: str = Field(max_length=200)
    company_kana: str = Field(default="", max_length=200)
    department: str = Field(default="", max_length=100)
    position: str = Field(default="", max_length=100)
    industry: str = Field(max_length=1)  # JSIC major division, A-T
    employees: int
    capital_yen: int
    prefecture: str = Field(max_length=2)  # JIS code 01-47
    phone: str = Field(default="", max_length=30)
    gender: str | None = Field(default=None, max_length=10)  # female | male | None (not given)
    accessibility_needs: str = Field(default="", max_length=500)
    needs_accessible_room: bool = False
    competitors: str = ""  # newline-separated companies the learner must not be sent to


class StaffCampus(SQLModel, table=True):
    __tablename__ = "staff_campus"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True, ondelete="CASCADE")
    campus_id: int = Field(foreign_key="campus.id", primary_key=True)


class AuthToken(SQLModel, table=True):
    """A bearer token (API), browser session (cookie), password-reset or email-change link; only the
    SHA-256 of the secret is stored."""

    __tablename__ = "auth_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=10)  # api | web | reset | email (a change of address, to be confirmed)
    created_at: datetime = Field(sa_column=_tz())
    expires_at: datetime = Field(sa_column=_tz())
    new_email: str | None = Field(default=None, max_length=254)  # kind "email": the address asked for


# --- enrollment -----------------------------------------------------------------------------------


class EnrollmentStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Enrollment(SQLModel, table=True):
    """A person's place in a session: confirmed (holds a seat), waitlisted (in ``waitlist_seq``
    order) or cancelled. At most one active enrollment per person and session."""

    __table_args__ = (
        Index(
            "uq_enrollment_active",
            "session_id",
            "user_id",
            unique=True,
            sqlite_where=text("status <> 'cancelled'"),
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index("ix_enrollment_waitlist", "session_id", "status", "waitlist_seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="course_session.id", index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    status: str = Field(max_length=12)
    lodging: bool = False
    waitlist_seq: int | None = None
    source: str = Field(default="self", max_length=12)  # self | staff | bulk
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    batch_id: int | None = Field(default=None, index=True)
    registered_name: str | None = Field(default=None, max_length=100)  # as the organisation's file gave it
    # A place given from the waiting list once cancelling already costs a fee is held until the
    # person accepts it by this time (then None); otherwise it passes to the next on the list.
    confirm_by: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = Field(sa_column=_tz())
    updated_at: datetime = Field(sa_column=_tz())


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a request with an ``Idempotency-Key``, replayed to retries."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    key: str = Field(max_length=200)
    status_code: int
    response_json: str
    created_at: datetime = Field(sa_column=_tz())


class OutboxMessage(SQLModel, table=True):
    """A notification waiting to be delivered (SMTP) or kept for the development mailbox."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    to_email: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body: str
    created_at: datetime = Field(sa_column=_tz())
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    attempts: int = 0
    last_error: str = ""


def load_all() -> None:
    """Import every submodule, so that SQLModel.metadata knows every table (for Alembic)."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


from courses.models import billing as billing  # noqa: E402  (fees and invoices, see courses.billing)


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins counted per (email, source address) and per source address.

    Times are whole seconds since the epoch, so the atomic reservation in
    `courses.accounts.throttle` compares plain integers on SQLite and PostgreSQL alike.
    """

    __tablename__ = "signin_throttle"

    key: str = Field(primary_key=True, max_length=400)
    failures: int = 0
    locked_until: int = 0
    updated: int = 0

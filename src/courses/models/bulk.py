"""Bulk registration by organisations: one row per confirmed upload (a batch).

The registrations themselves are ordinary ``Enrollment`` rows carrying ``organization_id``,
``batch_id`` and the name the file gave. A person the organisation has not registered before is not
enrolled by the upload: they get a ``RegistrationInvitation`` and decide themselves. The batch records who uploaded what, in which mode, what came of it, and the
coordinator's confirmation that the organisation holds the learners' consent to pass their data on
(個人情報の保護に関する法律 第27条).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


class BulkMode:
    """How a batch treats bad rows."""

    ALL_OR_NOTHING = "all_or_nothing"  # one bad row and nothing is registered (the default)
    ACCEPT_VALID = "accept_valid"  # the good rows are registered, the bad ones reported

    ALL = (ALL_OR_NOTHING, ACCEPT_VALID)


class BulkBatch(SQLModel, table=True):
    """One confirmed upload of an organisation's coordinator."""

    __tablename__ = "bulk_batch"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    uploaded_by: int = Field(foreign_key="app_user.id")
    filename: str = Field(max_length=255)
    file_sha256: str = Field(max_length=64, index=True)
    mode: str = Field(max_length=20)
    rows_total: int
    confirmed: int  # rows that got a seat
    waitlisted: int  # rows that joined a waiting list
    skipped: int  # rows of people already registered in that session
    rejected: int  # rows with errors (only in accept_valid mode)
    invited: int  # rows sent as invitations to people not yet linked to the organisation
    consent_confirmed: bool  # the coordinator confirmed the learners' consent to the data transfer
    consent_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class OrganizationMember(SQLModel, table=True):
    """A learner linked to an organisation: they accepted one of its invitations, so it may register
    them directly (and sees whether they are already registered in a session it uploads)."""

    __tablename__ = "organization_member"

    organization_id: int = Field(foreign_key="organization.id", primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", primary_key=True, index=True, ondelete="CASCADE")
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class InvitationStatus:
    PENDING = "pending"  # sent; the person has not answered
    ACCEPTED = "accepted"  # the person accepted: ``enrollment_id`` is their registration
    DECLINED = "declined"  # the person declined
    CLOSED = "closed"  # accepted, but this session could not take them (its reason went to the person)


class RegistrationInvitation(SQLModel, table=True):
    """One row of an upload for a person not yet linked to the organisation. Nothing about an
    account is looked at until the person, holding the emailed secret, answers; the coordinator sees
    what the file said and the status. The secret is shared by the person's rows of one upload and
    stored only as its SHA-256."""

    __tablename__ = "registration_invitation"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    batch_id: int = Field(foreign_key="bulk_batch.id", index=True)
    row: int
    email: str = Field(max_length=254, index=True)
    name: str = Field(max_length=100)
    name_kana: str = Field(max_length=100)
    session_id: int = Field(foreign_key="course_session.id", index=True)
    lodging: bool = False
    profile_json: str  # the learner profile the row describes, for a person who has none yet
    token_hash: str = Field(max_length=64, index=True)
    status: str = Field(default=InvitationStatus.PENDING, max_length=10)
    enrollment_id: int | None = Field(default=None, foreign_key="enrollment.id")
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

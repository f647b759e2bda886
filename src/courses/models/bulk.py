"""Bulk registration by organisations: one row per confirmed upload (a batch).

The registrations themselves are ordinary ``Enrollment`` rows carrying ``organization_id`` and
``batch_id``; the batch records who uploaded what, in which mode, what came of it, and the
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
    accounts_created: int
    consent_confirmed: bool  # the coordinator confirmed the learners' consent to the data transfer
    consent_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))

"""Solver runs and the plan versions they produce (dormitory rooms, practicum sites)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Column, DateTime, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PlanKind(enum.StrEnum):
    ROOMS = "rooms"
    PRACTICUM = "practicum"
    TIMETABLE = "timetable"  # campus timetable with instructors (courses.models.timetable)


def _tz(nullable: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


class SolverRun(SQLModel, table=True):
    """A job: plan one campus and date range. Any service instance may claim a queued run;
    ``attempts`` counts the claims, so a run whose instances keep dying ends failed."""

    __tablename__ = "solver_run"

    id: int | None = Field(default=None, primary_key=True)
    campus_id: int = Field(foreign_key="campus.id", index=True)
    kinds: str = Field(max_length=40)  # comma-separated PlanKind values
    date_from: date
    date_to: date
    time_limit_s: float
    pin_published: bool = False
    status: str = Field(default=RunStatus.QUEUED, max_length=10, index=True)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(sa_column=_tz())
    started_at: datetime | None = Field(default=None, sa_column=_tz(True))
    finished_at: datetime | None = Field(default=None, sa_column=_tz(True))
    claimed_by: str = Field(default="", max_length=80)
    # The claiming instance refreshes the heartbeat while it works; a running run whose heartbeat
    # is stale belonged to an instance that died and is reclaimed (courses.planning.runner).
    heartbeat_at: datetime | None = Field(default=None, sa_column=_tz(True))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    progress_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class PlanVersion(SQLModel, table=True):
    """The result of one solve: status, objective by rule, who could not be placed and why, and
    the independent validator's verdict. Published plans are what learners see."""

    __tablename__ = "plan_version"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="solver_run.id", index=True)
    campus_id: int = Field(foreign_key="campus.id", index=True)
    kind: str = Field(max_length=12)
    date_from: date
    date_to: date
    status: str = Field(max_length=12)  # optimal | feasible | infeasible | timed_out | model_invalid
    objective: float = 0
    best_bound: float = 0
    gap: float = 0
    moved: int = 0
    solve_seconds: float = 0
    breakdown_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    unassigned_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    messages_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    violations_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_tz())
    published_at: datetime | None = Field(default=None, sa_column=_tz(True))
    published_by: int | None = Field(default=None, foreign_key="app_user.id")


class PlannedRoom(SQLModel, table=True):
    """One learner in one dormitory room for one block of their session."""

    __tablename__ = "planned_room"
    __table_args__ = (UniqueConstraint("plan_id", "enrollment_id", "block_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan_version.id", index=True, ondelete="CASCADE")
    enrollment_id: int = Field(foreign_key="enrollment.id", index=True)
    session_id: int = Field(foreign_key="course_session.id")
    block_seq: int
    dorm_room_id: int = Field(foreign_key="dorm_room.id")


class PlannedSite(SQLModel, table=True):
    """One learner's practicum host company."""

    __tablename__ = "planned_site"
    __table_args__ = (UniqueConstraint("plan_id", "enrollment_id"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan_version.id", index=True, ondelete="CASCADE")
    enrollment_id: int = Field(foreign_key="enrollment.id", index=True)
    session_id: int = Field(foreign_key="course_session.id")
    site_id: int = Field(foreign_key="practicum_site.id")

"""The campus timetable: the modules a course is made of, the modules a timetable plan places
(period, classroom, instructor), and the private link an instructor opens to see their own schedule."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


class ModuleKind(enum.StrEnum):
    LECTURE = "lecture"  # 講義
    EXERCISE = "exercise"  # 演習
    PRACTICUM = "practicum"  # 実習


class CourseModule(SQLModel, table=True):
    """One module of a course's curriculum: half a day (``half_days=1``) or a full day (2),
    taught by an instructor of ``subject`` (a category code)."""

    __tablename__ = "course_module"
    __table_args__ = (
        UniqueConstraint("course_id", "seq"),
        CheckConstraint("half_days IN (1, 2)", name="course_module_half_days"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    seq: int  # position in the curriculum, from 1
    title: str = Field(max_length=200)
    kind: str = Field(default=ModuleKind.LECTURE, max_length=10)
    half_days: int = 1
    subject: str = Field(max_length=32)  # category code an instructor must teach


class PlannedModule(SQLModel, table=True):
    """A module of a session placed by a timetable plan: day, morning/afternoon, classroom and
    (once assigned) instructor. ``half`` is the first half day; a full-day module starts at 0."""

    __tablename__ = "planned_module"
    __table_args__ = (UniqueConstraint("plan_id", "session_id", "course_module_id"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan_version.id", index=True, ondelete="CASCADE")
    session_id: int = Field(foreign_key="course_session.id", index=True)
    course_module_id: int = Field(foreign_key="course_module.id")
    day: date = Field(index=True)
    half: int  # 0 morning (午前), 1 afternoon (午後)
    half_days: int = 1
    classroom_id: int = Field(foreign_key="classroom.id")
    instructor_id: int | None = Field(default=None, foreign_key="instructor.id", index=True)


class InstructorLink(SQLModel, table=True):
    """The secret that addresses an instructor's own schedule page (and .ics): the unguessable
    token is the credential, like the learner's calendar feed."""

    __tablename__ = "instructor_link"

    instructor_id: int = Field(foreign_key="instructor.id", primary_key=True, ondelete="CASCADE")
    token: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))

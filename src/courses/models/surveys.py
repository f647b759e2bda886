"""The satisfaction survey (受講者アンケート) sent after a session, and its anonymous answers.

See docs/surveys.md. An answer (``survey_response`` and its ``survey_module_rating`` rows) carries no
user or enrollment id; the separate marker ``survey_answered`` (unique per session and user) only
says that a learner has answered, so that nobody answers twice. ``survey_sent`` makes the email go
out once per enrollment, like the reminders.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class SurveySent(SQLModel, table=True):
    """The survey email queued to the outbox for one confirmed enrollment (inserted with the message)."""

    __tablename__ = "survey_sent"
    __table_args__ = (UniqueConstraint("enrollment_id", name="uq_survey_sent_enrollment"),)

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollment.id", ondelete="CASCADE")
    sent_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class SurveyAnswered(SQLModel, table=True):
    """That a learner has answered a session's survey: nothing of the answer, and no time (which
    would pair it with the answer)."""

    __tablename__ = "survey_answered"
    __table_args__ = (UniqueConstraint("session_id", "user_id", name="uq_survey_answered_session_user"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="course_session.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")


class SurveyResponse(SQLModel, table=True):
    """One anonymous answer: the session, overall usefulness (5 役に立った … 1 役に立たなかった) and
    the free text. Deliberately without a user, an enrollment or a timestamp."""

    __tablename__ = "survey_response"
    __table_args__ = (CheckConstraint("usefulness BETWEEN 1 AND 5", name="survey_response_usefulness"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="course_session.id", index=True, ondelete="CASCADE")
    usefulness: int
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class SurveyModuleRating(SQLModel, table=True):
    """The rating (1–5) of one module of the session in one answer, with the instructor the
    published timetable named for it when the answer was given (none without a timetable)."""

    __tablename__ = "survey_module_rating"
    __table_args__ = (
        UniqueConstraint("response_id", "course_module_id", name="uq_survey_rating_module"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="survey_module_rating_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="survey_response.id", index=True, ondelete="CASCADE")
    course_module_id: int = Field(foreign_key="course_module.id", index=True, ondelete="CASCADE")
    instructor_id: int | None = Field(default=None, foreign_key="instructor.id", index=True)
    rating: int

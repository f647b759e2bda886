"""The learners a message about their place goes to: one join of enrollment, person, session, course
and campus, which each sender filters its own way (the reminders before a session, the survey email
after it, a published plan's rooms and practicum sites). Each row carries the recipient's language,
the one their message is written in (``courses.core.mail``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from courses.core import mail
from courses.models import Campus, Course, CourseSession, Enrollment, User


@dataclass
class Recipient:
    enrollment: Enrollment
    user: User
    session: CourseSession
    course: Course
    campus: Campus

    @property
    def language(self) -> str:
        """The language of their mail ('ja' or 'en')."""
        return mail.language_of(self.user)


def recipients_query(
    *where: ColumnElement[bool] | bool,
) -> Select[Enrollment, User, CourseSession, Course, Campus]:
    """Enrollment, User, CourseSession, Course and Campus rows that meet ``where``, in enrollment order."""
    query: Select[Enrollment, User, CourseSession, Course, Campus] = (
        select(Enrollment, User, CourseSession, Course, Campus)  # type: ignore[call-overload]
        .join(User, col(User.id) == Enrollment.user_id)
        .join(CourseSession, col(CourseSession.id) == Enrollment.session_id)
        .join(Course, col(Course.id) == CourseSession.course_id)
        .join(Campus, col(Campus.id) == CourseSession.campus_id)
        .where(*where)
        .order_by(col(Enrollment.id))
    )
    return query


async def recipients(s: AsyncSession, *where: ColumnElement[bool] | bool) -> list[Recipient]:
    """The people, places and sessions that meet ``where``, in enrollment order."""
    return [Recipient(e, u, sess, c, k) for e, u, sess, c, k in await s.exec(recipients_query(*where))]

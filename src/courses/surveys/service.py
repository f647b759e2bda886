"""The satisfaction survey (受講者アンケート): the email the day after a session's last day, the
form of a learner's own ended session and the anonymous answer. See docs/surveys.md.

Exactly once, as the reminders (``courses.enrollment.reminders``): the message is queued to the outbox
in the transaction that inserts its ``survey_sent`` row, and that insert does nothing when the
enrollment's row is already there (``ON CONFLICT DO NOTHING``), so a second sender sends nothing.

One answer per learner and session: the answer is stored without any id of the learner, in the
transaction that inserts the ``survey_answered`` marker (unique per session and user); a second
submit finds the marker and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core import mail
from courses.core.db import Database
from courses.core.errors import Conflict, FieldError, InvalidInput, NotEligible, NotFound
from courses.core.i18n import N_
from courses.core.tx import insert_once
from courses.core.web import date_in
from courses.enrollment.recipients import Recipient, recipients
from courses.enrollment.reminders import japan_today
from courses.models import (
    Campus,
    Course,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    SessionStatus,
    User,
    id_of,
)
from courses.models.resources import Instructor
from courses.models.surveys import SurveyAnswered, SurveyModuleRating, SurveyResponse, SurveySent
from courses.models.timetable import CourseModule, PlannedModule
from courses.planning.timetable_job import latest_published_rows

OPEN_DAYS = 30  # the survey is open from the day after the last day, for this many days
HELD = (SessionStatus.PUBLISHED, SessionStatus.CLOSED)  # sessions that went ahead
BATCH = 200  # emails queued per write transaction
COMMENT_MAX = 2000
USEFULNESS = (  # the 5-point scale, best first, as the form shows it (translated there)
    (5, N_("役に立った")),
    (4, N_("どちらかといえば役に立った")),
    (3, N_("どちらともいえない")),
    (2, N_("どちらかといえば役に立たなかった")),
    (1, N_("役に立たなかった")),
)
RATINGS = (5, 4, 3, 2, 1)


def opens_on(session: CourseSession) -> date:
    return session.end_date + timedelta(days=1)


def closes_on(session: CourseSession) -> date:
    """The last day an answer is taken (30 days from the day it opens)."""
    return session.end_date + timedelta(days=OPEN_DAYS)


# --- the email, once per confirmed learner ---------------------------------------------------------


Due = Recipient


async def due(s: AsyncSession, now: datetime) -> list[Due]:
    """Confirmed learners of sessions that went ahead and ended, whose survey is open today and who
    have not had the email, in enrollment order (sessions that ended more than 30 days ago are left
    alone: their survey is closed)."""
    today = japan_today(now)
    sent = exists().where(col(SurveySent.enrollment_id) == Enrollment.id)
    return await recipients(
        s,
        Enrollment.status == EnrollmentStatus.CONFIRMED,
        col(CourseSession.status).in_(HELD),
        col(CourseSession.end_date) < today,
        col(CourseSession.end_date) >= today - timedelta(days=OPEN_DAYS),
        ~sent,
    )


@dataclass
class Sent:
    total: int = 0


async def send_due(db: Database, now: datetime, base_url: str) -> Sent:
    """Queue the survey email of every learner it is due to, each once. Safe to run from several
    instances at once (the background loop and ``python -m courses send-surveys``)."""
    sent = Sent()
    async with db.read() as s:
        if not await due(s, now):
            return sent
    claim = insert_once(SurveySent, ["enrollment_id"], db.sqlite)
    for _ in range(10_000):
        async with db.write() as s:
            batch = (await due(s, now))[:BATCH]
            for item in batch:
                params = {"enrollment_id": item.enrollment.id, "sent_at": now}
                if (await s.exec(claim, params=params)).first() is None:
                    continue  # another instance sent it
                mail.send(s, item.user, "survey.txt", now, **survey_mail(item, base_url))
                sent.total += 1
        if len(batch) < BATCH:
            break
    return sent


def survey_mail(item: Due, base_url: str) -> dict[str, Any]:
    """What the email says (``templates/mail/survey.txt``): the session, where to answer and by when."""
    return {
        "course": item.course,
        "campus": item.campus,
        "session": item.session,
        "url": f"{base_url.rstrip('/')}/surveys/{item.session.id}",
        "closes": closes_on(item.session),
    }


# --- the form -----------------------------------------------------------------------------------------


@dataclass
class ModuleLine:
    module: CourseModule
    instructor: str | None  # from the published timetable, when there is one


@dataclass
class Survey:
    session: CourseSession
    course: Course
    campus: Campus
    enrollment: Enrollment
    modules: list[ModuleLine]
    answered: bool
    closes: date
    instructors: dict[int, int | None] = field(default_factory=dict)  # module id -> instructor id


def _not_found(session_id: int) -> NotFound:
    return NotFound(
        f"受講された開催回（{session_id}）のアンケートは見つかりません。",
        f"No survey of a session you attended ({session_id}).",
    )


async def survey_of(s: AsyncSession, user: User, session_id: int, today: date) -> Survey:
    """The survey of the learner's own confirmed place in an ended session, open for 30 days;
    anyone else's session, or one without the learner, is not found."""
    row = (
        await s.exec(
            select(Enrollment, CourseSession, Course, Campus)
            .join(CourseSession, col(CourseSession.id) == Enrollment.session_id)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .join(Campus, col(Campus.id) == CourseSession.campus_id)
            .where(
                Enrollment.session_id == session_id,
                Enrollment.user_id == user.id,
                Enrollment.status == EnrollmentStatus.CONFIRMED,
                col(CourseSession.status).in_(HELD),
            )
        )
    ).first()
    if row is None:
        raise _not_found(session_id)
    enrollment, session, course, campus = row
    if today < opens_on(session):
        start = opens_on(session)
        raise NotEligible(
            f"アンケートは研修終了の翌日（{start.month}月{start.day}日）から回答できます。",
            f"The survey opens the day after the session ends ({date_in('en', start)}).",
        )
    if today > closes_on(session):
        raise NotEligible(
            "このアンケートの回答期間は終了しました。", "This survey is closed (30 days after the session)."
        )
    answered = (
        await s.exec(
            select(SurveyAnswered.id).where(
                SurveyAnswered.session_id == session_id, SurveyAnswered.user_id == user.id
            )
        )
    ).first() is not None
    modules = list(
        await s.exec(
            select(CourseModule).where(CourseModule.course_id == course.id).order_by(col(CourseModule.seq))
        )
    )
    teaching = await instructors_of(s, session_id)
    names: dict[int, str] = {}
    ids = {i for i in teaching.values() if i is not None}
    if ids:
        names = {
            id_of(i): i.name for i in await s.exec(select(Instructor).where(col(Instructor.id).in_(ids)))
        }
    lines = [ModuleLine(m, names.get(teaching.get(id_of(m)) or 0)) for m in modules]
    return Survey(
        session,
        course,
        campus,
        enrollment,
        lines,
        answered,
        closes_on(session),
        {id_of(m): teaching.get(id_of(m)) for m in modules},
    )


async def open_for(s: AsyncSession, user_id: int, sessions: list[CourseSession], today: date) -> set[int]:
    """Of the learner's sessions (confirmed places), those whose survey is open and not yet answered."""
    ids = {id_of(x) for x in sessions if x.status in HELD and opens_on(x) <= today <= closes_on(x)}
    if not ids:
        return set()
    answered = await s.exec(
        select(SurveyAnswered.session_id).where(
            SurveyAnswered.user_id == user_id, col(SurveyAnswered.session_id).in_(ids)
        )
    )
    return ids - set(answered)


async def instructors_of(s: AsyncSession, session_id: int) -> dict[int, int | None]:
    """Course module id -> instructor of the session's latest published timetable."""
    rows = await latest_published_rows(s, col(PlannedModule.session_id) == session_id)
    return {r.course_module_id: r.instructor_id for r, _ in rows}


# --- the answer ---------------------------------------------------------------------------------------


@dataclass
class Answer:
    usefulness: int
    ratings: dict[int, int]  # course module id -> 1..5
    comment: str


def _score(
    raw: str | int | None, name: str, label_ja: str, label_en: str
) -> tuple[int | None, FieldError | None]:
    try:
        value = int(str(raw).strip()) if raw not in (None, "") else None
    except ValueError:
        value = 0
    if value is None:
        return None, FieldError(name, f"{label_ja}を選んでください。", f"Choose {label_en}.")
    if not 1 <= value <= 5:
        return None, FieldError(
            name, f"{label_ja}は1〜5で選んでください。", f"Choose {label_en} from 1 to 5."
        )
    return value, None


def read_answer(survey: Survey, usefulness: object, ratings: dict[int, object], comment: str) -> Answer:
    """Check the answer against the session's modules: every field is reported at once."""
    errors: list[FieldError] = []
    useful, problem = _score(usefulness, "usefulness", "研修全体の評価", "how useful the course was")  # type: ignore[arg-type]
    if problem:
        errors.append(problem)
    got: dict[int, int] = {}
    known = {id_of(line.module): line.module.title for line in survey.modules}
    for mid in sorted(set(ratings) - set(known)):
        errors.append(
            FieldError(f"m_{mid}", "この研修の科目ではありません。", "Not a module of this course.")
        )
    for mid, title in known.items():
        value, problem = _score(ratings.get(mid), f"m_{mid}", f"「{title}」の評価", f"a rating for “{title}”")  # type: ignore[arg-type]
        if problem:
            errors.append(problem)
        elif value is not None:
            got[mid] = value
    text = comment.replace("\r\n", "\n").strip()
    if len(text) > COMMENT_MAX:
        errors.append(
            FieldError(
                "comment",
                f"自由記述は{COMMENT_MAX}文字以内で入力してください（{len(text)}文字）。",
                f"At most {COMMENT_MAX} characters ({len(text)}).",
            )
        )
    if errors or useful is None:
        raise InvalidInput("回答に誤りがあります。", "The answer has errors.", errors=errors)
    return Answer(useful, got, text)


def already_answered() -> Conflict:
    return Conflict(
        "このアンケートにはすでに回答いただいています。", "You have already answered this survey."
    )


async def answer_survey(
    s: AsyncSession,
    user: User,
    session_id: int,
    today: date,
    usefulness: object,
    ratings: dict[int, object],
    comment: str,
) -> None:
    """The learner's answer to their session's survey, checked and stored once (API and page)."""
    survey = await survey_of(s, user, session_id, today)
    if survey.answered:
        raise already_answered()
    await submit(s, user, survey, read_answer(survey, usefulness, ratings, comment))


async def submit(s: AsyncSession, user: User, survey: Survey, answer: Answer) -> None:
    """Store the answer without the learner, and the marker that they answered (in one transaction);
    a second answer, even a concurrent one, finds the marker and is refused."""
    params = {"session_id": id_of(survey.session), "user_id": id_of(user)}
    on_sqlite = s.bind.dialect.name == "sqlite" if s.bind is not None else False
    if (
        await s.exec(insert_once(SurveyAnswered, ["session_id", "user_id"], on_sqlite), params=params)
    ).first() is None:
        raise already_answered()
    response = SurveyResponse(
        session_id=id_of(survey.session), usefulness=answer.usefulness, comment=answer.comment
    )
    s.add(response)
    await s.flush()
    for mid, rating in sorted(answer.ratings.items()):
        s.add(
            SurveyModuleRating(
                response_id=id_of(response),
                course_module_id=mid,
                instructor_id=survey.instructors.get(mid),
                rating=rating,
            )
        )
    await s.flush()

"""Survey results for staff: per session, course, campus and instructor, over the sessions of a
fiscal year that went ahead and have ended, at the campuses the member of staff looks after.

A handful of GROUP BY queries over the scope; the groups are then added up from their rows. An
instructor's figures are shown only from ``MIN_ANSWERS`` answers on (anonymity), and never with the
free text. See docs/surveys.md for the definitions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.service import staff_campus_ids
from courses.attendance.certificates import fiscal_year
from courses.core.errors import InvalidInput, not_found
from courses.core.tabular import write_csv
from courses.enrollment.service import ensure_staff_campus
from courses.models import Campus, Course, CourseSession, Enrollment, EnrollmentStatus, User, id_of
from courses.models.resources import Instructor
from courses.models.surveys import SurveyModuleRating, SurveyResponse
from courses.models.timetable import CourseModule
from courses.surveys.service import HELD

MIN_ANSWERS = 3  # fewer answers: an instructor's results are not shown
HIDDEN_JA = "回答が3件未満のため表示しません"
KINDS = {"session": "開催回", "course": "研修", "campus": "キャンパス", "instructor": "講師"}


# --- who sees what, and which year ---------------------------------------------------------------


@dataclass
class Scope:
    fiscal_year: int
    campuses: list[Campus]  # the campuses looked at, in the catalog's order
    today: date

    @property
    def campus_ids(self) -> list[int]:
        return [id_of(c) for c in self.campuses]

    @property
    def first(self) -> date:
        return date(self.fiscal_year, 4, 1)

    @property
    def last(self) -> date:
        return date(self.fiscal_year + 1, 3, 31)


def year_of(raw: int | None, today: date) -> int:
    if raw is None:
        return fiscal_year(today)
    if not 2000 <= raw <= 2100:
        raise InvalidInput(
            "年度は2000〜2100で指定してください。",
            "Give the fiscal year as 2000 to 2100.",
        )
    return raw


async def scope_of(s: AsyncSession, user: User, campus: str | None, fy: int | None, today: date) -> Scope:
    """The member of staff's campuses (administrators: all), or the one asked for, which must be
    theirs (another campus: 403; a code that does not exist: 404)."""
    year = year_of(fy, today)
    if campus:
        row = (await s.exec(select(Campus).where(Campus.code == campus[:32]))).first()
        if row is None:
            raise not_found("キャンパス", "Campus", campus[:32])
        await ensure_staff_campus(s, user, id_of(row))
        return Scope(year, [row], today)
    ids = await staff_campus_ids(s, user)
    rows = list(
        await s.exec(select(Campus).where(col(Campus.id).in_(ids or {0})).order_by(col(Campus.sort_order)))
    )
    return Scope(year, rows, today)


def held_sessions(scope: Scope) -> Any:
    """The ids of the scope's sessions that went ahead and ended within the fiscal year."""
    return select(CourseSession.id).where(
        col(CourseSession.campus_id).in_(scope.campus_ids or [0]),
        col(CourseSession.status).in_(HELD),
        col(CourseSession.end_date) >= scope.first,
        col(CourseSession.end_date) <= scope.last,
        col(CourseSession.end_date) < scope.today,
    )


# --- the figures ----------------------------------------------------------------------------------


@dataclass
class Group:
    kind: str  # session | course | campus | instructor
    key: str
    label: str
    confirmed: int = 0
    dist: list[int] = field(default_factory=lambda: [0] * 5)  # answers of usefulness 1..5
    modules: dict[str, list[int]] = field(default_factory=dict)  # module title -> [sum, count]

    @property
    def answers(self) -> int:
        return sum(self.dist)

    @property
    def hidden(self) -> bool:
        return self.kind == "instructor" and self.answers < MIN_ANSWERS

    @property
    def response_rate(self) -> float | None:
        return self.answers / self.confirmed if self.confirmed else None

    @property
    def useful_rate(self) -> float | None:
        """The share of answers of 4 or 5 (役に立った, どちらかといえば役に立った)."""
        return (self.dist[3] + self.dist[4]) / self.answers if self.answers else None

    def module_averages(self) -> list[tuple[str, float, int]]:
        return [(title, total / n, n) for title, (total, n) in self.modules.items() if n]


@dataclass
class Results:
    scope: Scope
    groups: dict[str, list[Group]]
    comments: dict[str, list[str]]  # session -> free texts (staff only, never to instructors)


async def results(s: AsyncSession, scope: Scope) -> Results:
    held = held_sessions(scope)
    sessions = list(
        await s.exec(
            select(CourseSession, Course, Campus)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .join(Campus, col(Campus.id) == CourseSession.campus_id)
            .where(col(CourseSession.id).in_(held))
            .order_by(col(Campus.sort_order), col(CourseSession.end_date), col(CourseSession.code))
        )
    )
    confirmed: dict[int, int] = {
        sid: int(n)
        for sid, n in await s.exec(
            select(Enrollment.session_id, func.count())
            .where(col(Enrollment.session_id).in_(held), Enrollment.status == EnrollmentStatus.CONFIRMED)
            .group_by(col(Enrollment.session_id))
        )
    }
    dist: dict[int, list[int]] = defaultdict(lambda: [0] * 5)
    for sid, useful, n in await s.exec(
        select(SurveyResponse.session_id, SurveyResponse.usefulness, func.count())
        .where(col(SurveyResponse.session_id).in_(held))
        .group_by(col(SurveyResponse.session_id), col(SurveyResponse.usefulness))
    ):
        dist[sid][useful - 1] += int(n)
    # (session, module, instructor) -> rating sum and count
    ratings = list(
        await s.exec(
            select(  # type: ignore[call-overload]
                SurveyResponse.session_id,
                CourseModule.seq,
                CourseModule.title,
                SurveyModuleRating.instructor_id,
                func.sum(SurveyModuleRating.rating),
                func.count(),
            )
            .join(SurveyResponse, col(SurveyResponse.id) == SurveyModuleRating.response_id)
            .join(CourseModule, col(CourseModule.id) == SurveyModuleRating.course_module_id)
            .where(col(SurveyResponse.session_id).in_(held))
            .group_by(
                col(SurveyResponse.session_id),
                col(CourseModule.seq),
                col(CourseModule.title),
                col(SurveyModuleRating.instructor_id),
            )
            .order_by(col(CourseModule.seq))
        )
    )
    # (session, instructor) -> usefulness of the answers that rated one of the instructor's modules
    taught = list(
        await s.exec(
            select(
                SurveyResponse.session_id,
                SurveyModuleRating.instructor_id,
                SurveyResponse.usefulness,
                func.count(func.distinct(SurveyResponse.id)),
            )
            .join(SurveyResponse, col(SurveyResponse.id) == SurveyModuleRating.response_id)
            .where(
                col(SurveyResponse.session_id).in_(held), col(SurveyModuleRating.instructor_id).is_not(None)
            )
            .group_by(
                col(SurveyResponse.session_id),
                col(SurveyModuleRating.instructor_id),
                col(SurveyResponse.usefulness),
            )
        )
    )
    instructor_ids = {iid for _, iid, _, _ in taught}
    names = {
        id_of(i): i.name
        for i in await s.exec(select(Instructor).where(col(Instructor.id).in_(instructor_ids or {0})))
    }
    label_of = {id_of(sess): f"{course.title_ja}（{sess.code}）" for sess, course, _ in sessions}
    comments: dict[str, list[str]] = defaultdict(list)
    for sid, text in await s.exec(
        select(SurveyResponse.session_id, SurveyResponse.comment)
        .where(col(SurveyResponse.session_id).in_(held), SurveyResponse.comment != "")
        .order_by(col(SurveyResponse.id))
    ):
        comments[label_of[sid]].append(text)

    groups: dict[str, dict[str, Group]] = {k: {} for k in KINDS}

    def group(kind: str, key: str, label: str) -> Group:
        if key not in groups[kind]:
            groups[kind][key] = Group(kind, key, label)
        return groups[kind][key]

    of_session: dict[int, list[Group]] = {}
    for sess, course, campus in sessions:
        sid = id_of(sess)
        lines = [
            group("session", sess.code, f"{course.title_ja}（{sess.code}）"),
            group("course", course.code, course.title_ja),
            group("campus", campus.code, campus.name_ja),
        ]
        of_session[sid] = lines
        for g in lines:
            g.confirmed += confirmed.get(sid, 0)
            for k, n in enumerate(dist.get(sid, [0] * 5)):
                g.dist[k] += n
    for sid, _seq, title, iid, total, n in ratings:
        targets = list(of_session.get(sid, []))
        if iid is not None:
            targets.append(group("instructor", str(iid), names.get(iid, str(iid))))
        for g in targets:
            slot = g.modules.setdefault(title, [0, 0])
            slot[0] += int(total)
            slot[1] += int(n)
    counted: set[tuple[int, int]] = set()
    for sid, iid, useful, n in taught:
        iid = iid or 0  # only rows with an instructor were asked for
        g = group("instructor", str(iid), names.get(iid, str(iid)))
        g.dist[useful - 1] += int(n)
        if (sid, iid) not in counted:
            counted.add((sid, iid))
            g.confirmed += confirmed.get(sid, 0)
    ordered = {kind: list(rows.values()) for kind, rows in groups.items()}
    ordered["course"].sort(key=lambda g: g.key)
    ordered["instructor"].sort(key=lambda g: (g.hidden, g.label))
    return Results(scope, ordered, dict(comments))


# --- CSV ----------------------------------------------------------------------------------------------

CSV_HEADER = [
    "区分",
    "コード",
    "名称",
    "回答数",
    "受講決定者数",
    "回答率(%)",
    "役に立った(5)",
    "どちらかといえば役に立った(4)",
    "どちらともいえない(3)",
    "どちらかといえば役に立たなかった(2)",
    "役に立たなかった(1)",
    "役に立った率(%)",
    "科目別平均",
    "備考",
]


def _percent(value: float | None) -> object:
    return "" if value is None else round(100 * value, 1)


def results_csv(r: Results) -> bytes:
    rows: list[list[object]] = []
    for kind, groups in r.groups.items():
        for g in groups:
            if g.hidden:
                rows.append([KINDS[kind], g.key, g.label, *[""] * 10, HIDDEN_JA])
                continue
            modules = "; ".join(f"{t}: {avg:.2f}" for t, avg, _ in g.module_averages())
            rows.append(
                [
                    KINDS[kind],
                    g.key,
                    g.label,
                    g.answers,
                    g.confirmed,
                    _percent(g.response_rate),
                    *reversed(g.dist),
                    _percent(g.useful_rate),
                    modules,
                    "",
                ]
            )
    return write_csv(CSV_HEADER, rows)


def rounded_rate(value: float | None) -> float | None:
    """A rate as the JSON answers give it: four decimals, or null where nothing was counted."""
    return None if value is None else round(value, 4)

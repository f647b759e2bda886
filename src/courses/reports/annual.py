"""The annual report (年度実績報告): per audience (sme / support) and campus, the sessions held in a
fiscal year, learners confirmed and completed, the completion rate and the survey's usefulness rate.

Set-based: five queries over the whole year whatever the number of sessions (the sessions, their
blocks, confirmed learners, attended half-days per learner, and the survey answers), then the
completion rule of ``courses.attendance.service`` applied to those counts. See docs/surveys.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, exists, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.attendance.service import meets
from courses.core.tabular import write_csv
from courses.models import (
    Audience,
    Course,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    SessionBlock,
)
from courses.models.attendance import AttendanceMark
from courses.models.surveys import SurveyResponse
from courses.planning.plans import practicum_days
from courses.surveys.results import Scope, held_sessions

AUDIENCES = {Audience.SME.value: "中小企業者向け", Audience.SUPPORT.value: "支援機関向け"}


@dataclass
class Line:
    audience: str
    campus_code: str
    campus_name: str
    sessions: int = 0
    confirmed: int = 0
    completed: int = 0
    answers: int = 0
    useful: int = 0  # answers of 4 or 5

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.confirmed if self.confirmed else None

    @property
    def useful_rate(self) -> float | None:
        return self.useful / self.answers if self.answers else None

    def add(self, other: Line) -> None:
        self.sessions += other.sessions
        self.confirmed += other.confirmed
        self.completed += other.completed
        self.answers += other.answers
        self.useful += other.useful


@dataclass
class Report:
    scope: Scope
    lines: list[Line]  # per audience and campus
    subtotals: list[Line] = field(default_factory=list)  # per audience
    total: Line | None = None


@dataclass
class _Session:
    audience: str
    campus_id: int
    min_percent: int
    practicum: int  # practicum days (0: none)
    half_days: int = 0
    practicum_days: set[date] = field(default_factory=set)


async def annual_report(s: AsyncSession, scope: Scope) -> Report:
    held = held_sessions(scope)
    info: dict[int, _Session] = {
        sid: _Session(audience, campus_id, min_percent, p_days if has_p else 0)
        for sid, audience, campus_id, min_percent, has_p, p_days in await s.exec(
            select(  # type: ignore[call-overload]
                CourseSession.id,
                Course.audience,
                CourseSession.campus_id,
                Course.completion_min_percent,
                Course.has_practicum,
                Course.practicum_days,
            )
            .join(Course, col(Course.id) == CourseSession.course_id)
            .where(col(CourseSession.id).in_(held))
        )
    }
    # half-days of each session (its meeting days, twice), and the practicum days of the last block
    days: dict[int, set[date]] = defaultdict(set)
    last_block: dict[int, SessionBlock] = {}
    for block in await s.exec(
        select(SessionBlock).where(col(SessionBlock.session_id).in_(held)).order_by(col(SessionBlock.seq))
    ):
        span = (block.end_date - block.start_date).days + 1
        days[block.session_id].update(date.fromordinal(block.start_date.toordinal() + i) for i in range(span))
        last_block[block.session_id] = block
    for sid, x in info.items():
        x.half_days = 2 * len(days.get(sid, ()))
        if x.practicum and sid in last_block:
            x.practicum_days = set(practicum_days([last_block[sid]], x.practicum))
    confirmed = (
        col(Enrollment.session_id).in_(held),
        Enrollment.status == EnrollmentStatus.CONFIRMED,
    )
    counts: dict[int, int] = {
        sid: int(n)
        for sid, n in await s.exec(
            select(Enrollment.session_id, func.count()).where(*confirmed).group_by(col(Enrollment.session_id))
        )
    }
    # attended half-days per confirmed learner, counting only days the session meets
    on_a_meeting_day = exists().where(
        col(SessionBlock.session_id) == AttendanceMark.session_id,
        col(SessionBlock.start_date) <= AttendanceMark.day,
        col(SessionBlock.end_date) >= AttendanceMark.day,
    )
    attended = list(
        await s.exec(
            select(Enrollment.session_id, col(Enrollment.id), func.count())
            .join(AttendanceMark, col(AttendanceMark.enrollment_id) == Enrollment.id)
            .where(*confirmed, col(AttendanceMark.present).is_(True), on_a_meeting_day)
            .group_by(col(Enrollment.session_id), col(Enrollment.id))
        )
    )
    # practicum: the present half-days on each practicum day, per learner (only practicum sessions)
    practicum_ids = [sid for sid, x in info.items() if x.practicum_days]
    practicum_marks: dict[int, int] = defaultdict(int)
    if practicum_ids:
        for sid, eid, day, n in await s.exec(
            select(Enrollment.session_id, Enrollment.id, AttendanceMark.day, func.count())  # type: ignore[call-overload]
            .join(AttendanceMark, col(AttendanceMark.enrollment_id) == Enrollment.id)
            .where(
                col(Enrollment.session_id).in_(practicum_ids),
                Enrollment.status == EnrollmentStatus.CONFIRMED,
                col(AttendanceMark.present).is_(True),
            )
            .group_by(col(Enrollment.session_id), col(Enrollment.id), col(AttendanceMark.day))
        ):
            if day in info[sid].practicum_days:
                practicum_marks[eid] += int(n)
    completed: dict[int, int] = defaultdict(int)
    for sid, eid, n in attended:
        x = info[sid]
        if not meets(int(n), x.half_days, x.min_percent):
            continue
        if x.practicum_days and practicum_marks.get(eid or 0, 0) < 2 * len(x.practicum_days):
            continue
        completed[sid] += 1
    answers: dict[int, tuple[int, int]] = {
        sid: (int(n), int(useful or 0))
        for sid, n, useful in await s.exec(
            select(
                SurveyResponse.session_id,
                func.count(),
                func.sum(case((col(SurveyResponse.usefulness) >= 4, 1), else_=0)),
            )
            .where(col(SurveyResponse.session_id).in_(held))
            .group_by(col(SurveyResponse.session_id))
        )
    }
    return _add_up(scope, info, counts, completed, answers)


def _add_up(
    scope: Scope,
    info: dict[int, _Session],
    counts: dict[int, int],
    completed: dict[int, int],
    answers: dict[int, tuple[int, int]],
) -> Report:
    campuses = {c.id: c for c in scope.campuses}
    lines: dict[tuple[str, int], Line] = {}
    for sid, x in info.items():
        campus = campuses[x.campus_id]
        line = lines.setdefault((x.audience, x.campus_id), Line(x.audience, campus.code, campus.name_ja))
        n, useful = answers.get(sid, (0, 0))
        line.add(Line(x.audience, "", "", 1, counts.get(sid, 0), completed.get(sid, 0), n, useful))
    order = {c.id: k for k, c in enumerate(scope.campuses)}
    audience_order = list(AUDIENCES)
    ordered = sorted(
        lines.items(),
        key=lambda kv: (audience_order.index(kv[0][0]) if kv[0][0] in AUDIENCES else 9, order[kv[0][1]]),
    )
    report = Report(scope, [line for _, line in ordered])
    subtotals: dict[str, Line] = {}
    total = Line("all", "all", "合計")
    for line in report.lines:
        subtotals.setdefault(line.audience, Line(line.audience, "all", "小計")).add(line)
        total.add(line)
    report.subtotals = list(subtotals.values())
    report.total = total
    return report


CSV_HEADER = [
    "対象",
    "キャンパスコード",
    "キャンパス",
    "開催回数",
    "受講決定者数",
    "修了者数",
    "修了率(%)",
    "アンケート回答数",
    "役に立った率(%)",
]


def _percent(value: float | None) -> object:
    return "" if value is None else round(100 * value, 1)


def report_csv(report: Report) -> bytes:
    rows: list[list[object]] = []
    for line in [*report.lines, *report.subtotals, *([report.total] if report.total else [])]:
        rows.append(
            [
                AUDIENCES.get(line.audience, "全体" if line.audience == "all" else line.audience),
                line.campus_code,
                line.campus_name,
                line.sessions,
                line.confirmed,
                line.completed,
                _percent(line.completion_rate),
                line.answers,
                _percent(line.useful_rate),
            ]
        )
    return write_csv(CSV_HEADER, rows)

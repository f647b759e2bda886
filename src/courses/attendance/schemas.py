"""Request and response bodies of the attendance API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta


class AttendanceWrite(msgspec.Struct, forbid_unknown_fields=True):
    """One half-day's attendance: every confirmed learner is present except those listed."""

    absent: Annotated[
        list[Annotated[int, Meta(ge=1)]],
        Meta(title="欠席者の申込ID", max_length=1000, examples=[[12, 31]]),
    ] = []


class CheckInWrite(msgspec.Struct, forbid_unknown_fields=True):
    """A learner's own check-in: the 6-character code shown by staff, or the QR code's token."""

    code: Annotated[str, Meta(title="出席コード", max_length=20, examples=["K7Q2MX"])] = ""
    token: Annotated[str, Meta(title="QRコードのトークン", max_length=200)] = ""


class CompletionRuleWrite(msgspec.Struct, forbid_unknown_fields=True):
    """The share of a course's half-days a learner must attend to complete it."""

    completion_min_percent: Annotated[int, Meta(title="修了に必要な出席率（%）", ge=1, le=100, examples=[80])]


# --- response bodies --------------------------------------------------------------------------------

Half = Literal["am", "pm"]
MarkSource = Literal["staff", "checkin"]  # who recorded a mark: staff, or the learner checking in
_PERCENT = Meta(title="修了に必要な出席率（%）", examples=[80])


class AttendanceSession(msgspec.Struct):
    id: int
    code: Annotated[str, Meta(title="開催回コード", examples=["2026-TOK-ZAI01-01"])]


class LearnerProgress(msgspec.Struct):
    """A confirmed learner's attendance so far and whether it completes the course."""

    name: Annotated[str, Meta(title="氏名", examples=["山田 太郎"])]
    enrollment_id: int
    attended_half_days: Annotated[int, Meta(title="出席した半日数")]
    half_days: Annotated[int, Meta(title="半日数")]
    percent: Annotated[int, Meta(title="出席率（%）", description="rounded down")]
    completion_min_percent: Annotated[int, _PERCENT]
    practicum_missed: Annotated[list[str], Meta(title="欠席した実習の半日", examples=[["2026-06-24 午後"]])]
    completed: Annotated[bool, Meta(title="修了")]


class AttendanceSummary(msgspec.Struct):
    session: AttendanceSession
    days: Annotated[list[date], Meta(title="開催日")]
    half_days: Annotated[int, Meta(title="半日数")]
    completion_min_percent: Annotated[int, _PERCENT]
    learners: list[LearnerProgress]


class SheetLearner(msgspec.Struct):
    enrollment_id: int
    name: Annotated[str, Meta(title="氏名")]
    present: Annotated[bool, Meta(title="出席")]
    source: Annotated[
        MarkSource | None,
        Meta(title="記録元", description="null while nothing is recorded (present by default)"),
    ]


class HalfDaySheet(msgspec.Struct):
    """One half-day's attendance: as saved, or everyone present while nothing is."""

    session_id: int
    day: date
    half: Annotated[Half, Meta(title="午前・午後")]
    saved: Annotated[bool, Meta(title="保存済み")]
    saved_by: Annotated[str | None, Meta(title="保存した職員")]
    saved_at: Annotated[
        str | None, Meta(description="ISO 8601 date and time", examples=["2026-06-08T12:40:00+09:00"])
    ]
    learners: list[SheetLearner]


class CheckInCode(msgspec.Struct):
    """What learners check in with during the half-day: the QR code's URL or the code to type."""

    url: Annotated[str, Meta(title="QRコードのURL")]
    code: Annotated[str, Meta(title="出席コード", examples=["K7Q2MX"])]
    valid_until: Annotated[
        str, Meta(title="有効期限", description="ISO 8601", examples=["2026-06-08T12:00:00+09:00"])
    ]


class HalfDaySheetWithCheckIn(HalfDaySheet):
    check_in: CheckInCode


class IssuedCertificate(msgspec.Struct):
    enrollment_id: int
    serial: Annotated[str, Meta(title="修了証番号", examples=["FY2026-TOK-000123"])]
    issued_on: Annotated[date, Meta(title="発行日")]


class CompletionRule(msgspec.Struct):
    course_id: int
    completion_min_percent: Annotated[int, _PERCENT]


class CheckedIn(msgspec.Struct):
    session_id: int
    day: date
    half: Annotated[Half, Meta(title="午前・午後")]
    present: Literal[True]


class MyAttendance(msgspec.Struct):
    """One of my confirmed enrollments: attendance, completion and the certificate once issued."""

    session_id: int
    enrollment_id: int
    attended_half_days: Annotated[int, Meta(title="出席した半日数")]
    half_days: Annotated[int, Meta(title="半日数")]
    percent: Annotated[int, Meta(title="出席率（%）", description="rounded down")]
    completion_min_percent: Annotated[int, _PERCENT]
    practicum_missed: Annotated[list[str], Meta(title="欠席した実習の半日", examples=[["2026-06-24 午後"]])]
    completed: Annotated[bool, Meta(title="修了")]
    certificate: Annotated[str | None, Meta(title="修了証番号")]

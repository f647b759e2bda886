"""The learner API's request and response bodies."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta


class EnrollRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Apply for a session: a seat, or the end of its waiting list when it is full."""

    lodging: Annotated[
        bool, Meta(title="宿泊の希望", description="研修期間中、大学校の寮に泊まるか", examples=[True])
    ] = False


# --- response bodies ---------------------------------------------------------------------------------

EnrollmentState = Literal["confirmed", "waitlisted", "cancelled"]
State = Annotated[
    EnrollmentState,
    Meta(
        title="状況",
        description="confirmed（受講決定）、waitlisted（キャンセル待ち）、cancelled（キャンセル）",
    ),
]
SessionState = Literal["draft", "published", "closed", "cancelled"]
WaitlistPosition = Annotated[
    int | None, Meta(title="キャンセル待ちの順番", description="null unless waitlisted")
]


class EnrollmentOut(msgspec.Struct):
    """The application just made: a seat (confirmed) or a place on the waiting list."""

    id: int
    status: Annotated[
        Literal["confirmed", "waitlisted"],
        Meta(title="状況", description="confirmed（受講決定）、waitlisted（キャンセル待ち）"),
    ]
    waitlist_position: WaitlistPosition
    session_id: int


class CancellationOut(msgspec.Struct):
    """A cancelled enrollment and the cancellation fee it costs (0 within the free period)."""

    id: int
    status: Literal["cancelled"]
    cancellation_fee_yen: Annotated[int, Meta(title="キャンセル料（円）", examples=[0])]
    message: Annotated[str, Meta(title="キャンセル料の説明", examples=["キャンセル料はかかりません。"])]


class AcceptedOut(msgspec.Struct):
    """A place given from the waiting list, now taken."""

    id: int
    status: State
    accept_by: Annotated[None, Meta(description="always null: the place is accepted, no deadline is left")]


class MySession(msgspec.Struct):
    id: int
    code: Annotated[str, Meta(title="開催回コード", examples=["2026-TOK-ZAI01-01"])]
    course_code: Annotated[str, Meta(examples=["ZAI01"])]
    course_title: Annotated[str, Meta(title="研修名", examples=["財務諸表の読み方"])]
    campus: Annotated[str, Meta(examples=["tokyo"])]
    campus_name: Annotated[str, Meta(title="キャンパス名", examples=["中小企業大学校 東京校"])]
    start_date: date
    end_date: date
    status: Annotated[SessionState, Meta(title="開催回の状況")]


class MyEnrollment(msgspec.Struct):
    """One of my enrollments, with the room and practicum site once they are planned."""

    id: int
    status: State
    waitlist_position: WaitlistPosition
    accept_by: Annotated[
        str | None,
        Meta(
            title="承諾期限",
            description="a place given from the waiting list once cancelling costs a fee: accept it by "
            "then (ISO 8601 date and time), or it passes on; null otherwise",
            examples=["2026-06-01T15:00:00+00:00"],
        ),
    ]
    lodging: Annotated[bool, Meta(title="宿泊")]
    room: Annotated[str | None, Meta(title="部屋", description="null until rooms are allocated")]
    practicum_site: Annotated[str | None, Meta(title="実習先", description="null until sites are allocated")]
    session: MySession

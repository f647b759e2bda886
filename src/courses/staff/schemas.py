"""The campus staff API's request and response bodies."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta


class ManualEnrollment(msgspec.Struct, forbid_unknown_fields=True):
    """Enroll a registered learner by hand (a telephone or paper application)."""

    email: Annotated[
        str, Meta(title="受講者のメールアドレス", max_length=254, examples=["yamada@example.jp"])
    ]
    lodging: Annotated[bool, Meta(title="宿泊あり", examples=[False])] = False


# --- response bodies --------------------------------------------------------------------------------

EnrollmentStatus = Literal["confirmed", "waitlisted", "cancelled"]
Placed = Literal["confirmed", "waitlisted"]  # what enrolling answers


class RosterSession(msgspec.Struct):
    id: int
    code: Annotated[str, Meta(title="開催回コード", examples=["2026-TOK-ZAI01-01"])]
    capacity: Annotated[int, Meta(title="定員")]
    confirmed: Annotated[int, Meta(title="受講決定者数")]


class RosterEntry(msgspec.Struct):
    """One person of the session, with their room and practicum site once a plan is published."""

    enrollment_id: int
    status: Annotated[EnrollmentStatus, Meta(title="状態")]
    waitlist_seq: Annotated[int | None, Meta(title="待ち順")]
    lodging: Annotated[bool, Meta(title="宿泊")]
    source: Annotated[str, Meta(title="申込経路", description="self, staff or bulk")]
    name: Annotated[str, Meta(title="氏名", examples=["山田 太郎"])]
    name_kana: Annotated[str, Meta(title="フリガナ")]
    email: str
    company: Annotated[str, Meta(title="会社・団体")]
    department: Annotated[str, Meta(title="部署")]
    position: Annotated[str, Meta(title="役職")]
    industry: Annotated[str, Meta(title="業種", examples=["E"])]
    prefecture: Annotated[str, Meta(title="都道府県", description="JIS code 01-47", examples=["13"])]
    phone: Annotated[str, Meta(title="電話")]
    gender: Annotated[str, Meta(title="性別", description="female, male or ''")]
    needs_accessible_room: Annotated[bool, Meta(title="バリアフリー室")]
    room: Annotated[
        str | None, Meta(title="部屋", description="room number(s), one per block when they differ")
    ]
    site: Annotated[str | None, Meta(title="実習先")]


class Roster(msgspec.Struct):
    session: RosterSession
    enrollments: list[RosterEntry]


class ManualEnrollmentResult(msgspec.Struct):
    id: int
    status: Annotated[Placed, Meta(title="状態")]
    waitlist_position: Annotated[int | None, Meta(title="キャンセル待ちの順番")]
    session_id: int


class Promotion(msgspec.Struct):
    id: int
    status: Annotated[EnrollmentStatus, Meta(title="状態", examples=["confirmed"])]


class StaffCancellation(msgspec.Struct):
    id: int
    status: Literal["cancelled"]
    promoted: Annotated[list[int], Meta(title="繰り上がった申込のID")]
    cancellation_fee_yen: Annotated[int, Meta(title="キャンセル料（円）")]
    message: Annotated[str, Meta(title="キャンセル料の説明")]


class SessionCancellation(msgspec.Struct):
    id: int
    status: Literal["cancelled"]
    enrollments_cancelled: Annotated[int, Meta(title="取り消した申込の数")]

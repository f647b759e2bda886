"""The planning API's request bodies."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from courses.planning.runner import MAX_TIME_LIMIT_S

Kind = Literal["rooms", "practicum", "timetable"]


class SolverRunRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Queue a solver run for one campus over a date range (both days included)."""

    campus: Annotated[str, Meta(title="キャンパス", max_length=40, examples=["tokyo"])]
    date_from: Annotated[date, Meta(title="開始日", examples=["2026-06-01"])] = msgspec.field(name="from")
    date_to: Annotated[date, Meta(title="終了日", examples=["2026-06-30"])] = msgspec.field(name="to")
    kinds: Annotated[
        list[Kind],
        Meta(
            title="計画の種類",
            description="rooms（寮の部屋）、practicum（企業実習）、timetable（時間割と講師）",
            examples=[["rooms", "practicum"]],
        ),
    ] = msgspec.field(default_factory=lambda: ["rooms", "practicum"])
    time_limit_s: Annotated[float, Meta(title="制限時間（秒）", ge=1, le=MAX_TIME_LIMIT_S, examples=[10])] = (
        10.0
    )
    pin_published: Annotated[
        bool, Meta(title="公開済みの割当てを固定", description="公開した計画の割当てを動かさない")
    ] = False

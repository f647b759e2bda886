"""The annual report API's response body."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from msgspec import Meta


class ReportLine(msgspec.Struct):
    """One audience at one campus, an audience's subtotal (campus ``all``), or the total (audience
    and campus ``all``)."""

    audience: Annotated[str, Meta(title="対象", description="sme, support or all", examples=["sme"])]
    campus: Annotated[str, Meta(title="キャンパスコード", examples=["tokyo"])]
    campus_name: Annotated[str, Meta(title="キャンパス", examples=["中小企業大学校 東京校"])]
    sessions: Annotated[int, Meta(title="開催回数")]
    confirmed: Annotated[int, Meta(title="受講決定者数")]
    completed: Annotated[int, Meta(title="修了者数")]
    completion_rate: Annotated[
        float | None, Meta(title="修了率", description="0-1, four decimals; null without learners")
    ]
    answers: Annotated[int, Meta(title="アンケート回答数")]
    useful_rate: Annotated[
        float | None,
        Meta(title="役に立った率", description="answers of 4 or 5, 0-1, four decimals; null without answers"),
    ]


class AnnualReport(msgspec.Struct):
    fiscal_year: Annotated[int, Meta(title="年度", examples=[2026])]
    date_from: Annotated[date, Meta(title="開始日")] = msgspec.field(name="from")
    date_to: Annotated[date, Meta(title="終了日")] = msgspec.field(name="to")
    campuses: Annotated[list[str], Meta(title="対象キャンパス", examples=[["tokyo", "sendai"]])]
    lines: Annotated[list[ReportLine], Meta(title="対象・キャンパス別")]
    audiences: Annotated[list[ReportLine], Meta(title="対象別の小計")]
    total: Annotated[ReportLine | None, Meta(title="合計")]

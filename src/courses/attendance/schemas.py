"""Request bodies of the attendance API."""

from __future__ import annotations

from typing import Annotated

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

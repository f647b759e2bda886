"""The public catalog API's response bodies: what anyone may read, no personal data."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

Application = Literal["open", "upcoming", "closed", "cancelled", "draft"]


class CampusOut(msgspec.Struct):
    code: Annotated[str, Meta(examples=["tokyo"])]
    name: Annotated[str, Meta(title="キャンパス名", examples=["中小企業大学校 東京校"])]
    name_en: str
    prefecture: Annotated[str, Meta(description="JIS code 01-47", examples=["13"])]
    address: str
    has_lodging: bool


class CategoryOut(msgspec.Struct):
    code: Annotated[str, Meta(examples=["finance"])]
    name: Annotated[str, Meta(examples=["財務・会計"])]
    name_en: str


class CourseOut(msgspec.Struct):
    code: Annotated[str, Meta(examples=["ZAI01"])]
    title: Annotated[str, Meta(title="研修名", examples=["財務諸表の読み方"])]
    title_en: str
    title_kana: Annotated[str, Meta(description="the title's reading in katakana ('' when not given)")]
    audience: Literal["sme", "support"]
    category: str
    description: str
    days: int
    fee_yen: Annotated[int, Meta(description="tax included")]
    default_capacity: int
    residential: bool
    has_practicum: bool


class BlockOut(msgspec.Struct):
    start: date
    end: date


class SessionOut(msgspec.Struct, omit_defaults=True):
    """A session with its course and campus; ``application`` (where applying stands today) is given
    where the answer is for a day."""

    id: int
    code: Annotated[str, Meta(examples=["2026-TOK-ZAI01-01"])]
    course_code: str
    course_title: str
    course_title_en: str
    course_title_kana: str
    audience: Literal["sme", "support"]
    category: str
    campus: str
    campus_name: str
    blocks: list[BlockOut]
    start_date: date
    end_date: date
    days: int
    fee_yen: int
    lodging: bool
    capacity: int
    seats_left: int
    application_opens: date
    application_closes: date
    status: Literal["draft", "published", "closed", "cancelled"]
    application: Application | UnsetType = UNSET


class SessionPage(msgspec.Struct):
    items: list[SessionOut]
    total: int
    page: int
    per_page: int


class Health(msgspec.Struct):
    """The service answers and its database does too."""

    status: Literal["ok"]

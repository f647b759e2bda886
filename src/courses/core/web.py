"""Jinja2 set-up: filters that print dates, money and labels the way a Japanese page expects."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from jinja2 import Environment

from courses.core.reference import PREFECTURES

WEEKDAYS_JA = "月火水木金土日"
# The solver's named rules, as staff read them on a plan page.
RULE_LABELS = {
    "unhoused": "部屋を割り当てられなかった受講者",
    "moved": "公開済みの割り当てからの変更",
    "room_change": "ブロック間の部屋替え",
    "sme_in_twin": "経営者・管理者のツイン利用",
    "unplaced": "実習先を割り当てられなかった受講者",
    "industry_mismatch": "業種の異なる実習先",
    "travel_minutes": "実習先までの移動時間（分）",
    "group_opened": "実習グループの数",
    "group_above_balanced_size": "グループ人数の偏り",
}


def ja_date(value: date | datetime | None, with_weekday: bool = True) -> str:
    if value is None:
        return ""
    text = f"{value.year}年{value.month}月{value.day}日"
    return f"{text}（{WEEKDAYS_JA[value.weekday()]}）" if with_weekday else text


def ja_short_date(value: date | None) -> str:
    return "" if value is None else f"{value.month}/{value.day}（{WEEKDAYS_JA[value.weekday()]}）"


def yen(value: int | None) -> str:
    return "" if value is None else f"{value:,}円"


def block_range(start: date, end: date) -> str:
    if start == end:
        return ja_date(start)
    if start.year == end.year:
        return f"{ja_date(start)}〜{end.month}月{end.day}日（{WEEKDAYS_JA[end.weekday()]}）"
    return f"{ja_date(start)}〜{ja_date(end)}"


def configure(env: Environment) -> None:
    env.filters.update(
        ja_date=ja_date,
        ja_short_date=ja_short_date,
        yen=yen,
        block_range=block_range,
        prefecture_name=lambda code: PREFECTURES.get(code, code),
    )
    env.globals["site_name"] = "中小企業大学校 研修申込"
    env.globals["rule_labels"] = RULE_LABELS


def context_processor(ctx: dict[str, Any]) -> dict[str, Any]:
    return ctx

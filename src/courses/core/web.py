"""Jinja2 set-up: filters that print dates, money and labels the way a Japanese page expects."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from jinja2 import Environment

from courses.core.reference import PREFECTURES

WEEKDAYS_JA = "月火水木金土日"
# The solver's named rules, as staff read them on a plan page.
STAGE_LABELS = {"timetable": "時間割", "instructors": "講師"}
TIMETABLE_RULE_LABELS = {
    "unplaced": "時間割に入らなかったモジュール",
    "curriculum_order": "カリキュラムの順序の入れ替わり",
    "spread": "予定の日からのずれ（日）",
    "session_room": "開催回が使う2室目以降の教室",
    "change": "公開済みの時間割からの変更",
    "unassigned": "講師が決まらなかったモジュール",
    "cost": "講師謝金・旅費（円）",
    "non_local": "遠方の講師",
    "load_above_target": "講師の月間担当の目安超過（半日）",
}
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


def rule_label(name: str) -> str:
    """A rule of a plan's objective in words: "timetable.unplaced" -> "時間割: 時間割に入らなかったモジュール"."""
    stage, _, rule = name.rpartition(".")
    if stage in STAGE_LABELS:
        return f"{STAGE_LABELS[stage]}: {TIMETABLE_RULE_LABELS.get(rule, rule)}"
    return RULE_LABELS.get(name, TIMETABLE_RULE_LABELS.get(name, name))


def plan_status(status: str, gap: float, bound: float) -> str:
    """A plan's status in words a person understands, with how far from optimal it may be."""
    if status == "optimal":
        return "最適（証明済み）"
    if status == "feasible":
        if bound <= 0 or gap <= 0:
            return "実行可能（最適かどうかは未証明）"
        share = gap * 100
        return "実行可能（最適まで最大 " + ("0.1%未満" if share < 0.1 else f"{share:.1f}%") + "）"
    return {
        "timed_out": "時間切れ（一部は簡易な割り当て。時間を延ばして再計算してください）",
        "infeasible": "解なし（固定した割り当てが守れません）",
        "model_invalid": "計算できませんでした（モデルの誤り）",
    }.get(status, status)


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
        rule_label=rule_label,
    )
    env.globals["plan_status"] = plan_status
    env.globals["site_name"] = "中小企業大学校 研修申込"
    env.globals["rule_labels"] = RULE_LABELS


def context_processor(ctx: dict[str, Any]) -> dict[str, Any]:
    return ctx

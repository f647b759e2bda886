"""Jinja2 set-up: filters that print dates, money and labels in the page's language (Japanese first,
English on the learner's and coordinator's pages when asked for), and the gettext of the templates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from jinja2 import Environment
from markupsafe import Markup, escape

from courses.core import i18n
from courses.core.clock import JST
from courses.core.i18n import N_
from courses.core.reference import PREFECTURES, PREFECTURES_EN

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
    """A date in the page's language: 2026年6月8日（月） or Mon 8 Jun 2026."""
    if value is None:
        return ""
    if i18n.english():
        text = f"{value.day} {value:%b} {value.year}"
        return f"{value:%a} {text}" if with_weekday else text
    text = f"{value.year}年{value.month}月{value.day}日"
    return f"{text}（{WEEKDAYS_JA[value.weekday()]}）" if with_weekday else text


def date_in(lang: str, value: date | datetime | None, with_weekday: bool = True) -> str:
    """A date as a page in ``lang`` writes it, whatever the language of the request: for texts kept
    in one language (a Japanese email or certificate) and for the two texts of an error."""
    with i18n.speaking(lang):
        return ja_date(value, with_weekday)


def ja_datetime(value: datetime | None) -> str:
    """A moment in Japan time, in the page's language: 2026年6月8日（月） 17:30."""
    if value is None:
        return ""
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(JST)
    return f"{ja_date(local.date())} {local:%H:%M}"


def ja_short_date(value: date | None) -> str:
    if value is None:
        return ""
    if i18n.english():
        return f"{value:%a} {value.day} {value:%b}"
    return f"{value.month}/{value.day}（{WEEKDAYS_JA[value.weekday()]}）"


def yen(value: int | None) -> str:
    """An amount of yen: 66,000円 on a Japanese page, ¥66,000 on an English one."""
    if value is None:
        return ""
    return f"¥{value:,}" if i18n.english() else f"{value:,}円"


def block_range(start: date, end: date) -> str:
    if start == end:
        return ja_date(start)
    if i18n.english():
        if start.year == end.year:
            return f"{start:%a} {start.day} {start:%b} – {ja_date(end)}"
        return f"{ja_date(start)} – {ja_date(end)}"
    if start.year == end.year:
        return f"{ja_date(start)}〜{end.month}月{end.day}日（{WEEKDAYS_JA[end.weekday()]}）"
    return f"{ja_date(start)}〜{ja_date(end)}"


def date_span(start: date | datetime, end: date | datetime) -> str:
    """From one date to another, both written in full: 2026年6月8日（月）〜2026年6月12日（金）."""
    return f"{ja_date(start)} – {ja_date(end)}" if i18n.english() else f"{ja_date(start)}〜{ja_date(end)}"


def day_labels(blocks: Iterable[Any]) -> dict[str, str]:
    """Every day of a session's blocks, its ISO date to the date as this page writes it: for the
    timetable that site.js draws from the API, which gives ISO dates."""
    labels = {}
    for block in blocks:
        day = block.start_date
        while day <= block.end_date:
            labels[day.isoformat()] = ja_date(day)
            day += timedelta(days=1)
    return labels


def month_label(value: str) -> str:
    """A month of the catalog's filter, "2026-06": 2026年6月 or June 2026."""
    year, _, month = value.partition("-")
    if i18n.english():
        return f"{date(int(year), int(month), 1):%B} {year}"
    return f"{int(year)}年{int(month)}月"


def course_title(course: Any) -> str:
    """A course's title in the page's language (its Japanese title when it has no English one)."""
    return i18n.pick(course.title_ja, getattr(course, "title_en", "") or "")


def campus_name(campus: Any, short: bool = False) -> str:
    """A campus's name in the page's language; ``short`` drops the school's name ("東京校", "Tokyo")."""
    name = i18n.pick(campus.name_ja, getattr(campus, "name_en", "") or "")
    if short:
        for prefix in ("中小企業大学校 ", "SME University "):
            name = name.removeprefix(prefix)
    return name


def category_name(category: Any) -> str:
    return i18n.pick(category.name_ja, getattr(category, "name_en", "") or "")


class LocalText:
    """A text of the site translated when it is printed (a global such as the site's name)."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return i18n.gettext(self.message)

    def __html__(self) -> Markup:
        return escape(str(self))


SITE_NAME = N_("中小企業大学校 研修申込")
# Labels the services keep in Japanese (``planning.timetable.HALF_LABELS``, ``KIND_LABELS``,
# ``bulk.service.OUTCOME_JA``, ``bulk.organization.INVITATION_JA``, ``attendance.service.HALF_JA``)
# that the learner's and coordinator's pages print through ``_()``: marked here for the catalogue.
DATA_LABELS = (
    N_("午前"),
    N_("午後"),
    N_("終日"),
    N_("講義"),
    N_("演習"),
    N_("実習"),
    N_("受講決定"),
    N_("キャンセル待ち"),
    N_("招待（本人の承諾後に登録）"),
    N_("登録済み（スキップ）"),
    N_("エラー"),
    N_("招待送信済み（本人の承諾待ち）"),
    N_("辞退"),
    N_("登録に至りませんでした"),
    N_("期限切れ"),
)


def configure(env: Environment) -> None:
    env.add_extension("jinja2.ext.i18n")
    # a {% trans %} block's msgid is its text with the line breaks and indentation collapsed
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    env.filters.update(
        ja_date=ja_date,
        ja_datetime=ja_datetime,
        ja_short_date=ja_short_date,
        yen=yen,
        block_range=block_range,
        date_span=date_span,
        month_label=month_label,
        day_labels=day_labels,
        course_title=course_title,
        campus_name=campus_name,
        category_name=category_name,
        prefecture_name=lambda code: (PREFECTURES_EN if i18n.english() else PREFECTURES).get(code, code),
        rule_label=rule_label,
    )
    env.globals["plan_status"] = plan_status
    env.globals["site_name"] = LocalText(SITE_NAME)
    env.globals["page_lang"] = i18n.current
    env.globals["rule_labels"] = RULE_LABELS


def context_processor(ctx: dict[str, Any]) -> dict[str, Any]:
    return ctx

"""The survey's request and response bodies: the learner's API, and the results for staff."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

Score = Annotated[int, Meta(ge=1, le=5, description="5 役に立った … 1 役に立たなかった", examples=[4])]


class ModuleRating(msgspec.Struct, forbid_unknown_fields=True):
    module_id: int
    rating: Score


class SurveyAnswer(msgspec.Struct, forbid_unknown_fields=True):
    """One learner's answer: the overall usefulness, a rating per module (those left out are
    unrated) and free text. It is stored without the learner's name or id."""

    usefulness: Annotated[int, Meta(title="研修全体の評価", ge=1, le=5, examples=[5])]
    ratings: Annotated[list[ModuleRating], Meta(title="科目ごとの評価")] = msgspec.field(default_factory=list)
    comment: Annotated[
        str, Meta(title="自由記述", max_length=2000, examples=["事例演習が役に立ちました。"])
    ] = ""


class ModuleOut(msgspec.Struct):
    module_id: int
    title: str
    instructor: str | None


class SurveyOut(msgspec.Struct):
    session_id: int
    session_code: str
    course_title: str
    closes: date
    answered: bool
    modules: list[ModuleOut]


class SurveyAnswered(msgspec.Struct):
    answered: Annotated[bool, Meta(title="回答済み", description="always true: the answer is stored")]


# --- the staff's results -----------------------------------------------------------------------------

GroupKind = Literal["session", "course", "campus", "instructor"]


class Usefulness(msgspec.Struct):
    """How many answers gave each overall usefulness, by the score ("1" to "5")."""

    not_at_all: Annotated[int, Meta(title="役に立たなかった")] = msgspec.field(name="1")
    rather_not: Annotated[int, Meta(title="どちらかといえば役に立たなかった")] = msgspec.field(name="2")
    neutral: Annotated[int, Meta(title="どちらともいえない")] = msgspec.field(name="3")
    rather: Annotated[int, Meta(title="どちらかといえば役に立った")] = msgspec.field(name="4")
    very: Annotated[int, Meta(title="役に立った")] = msgspec.field(name="5")


class ModuleAverage(msgspec.Struct):
    title: Annotated[str, Meta(title="科目", examples=["財務諸表の基礎"])]
    average: Annotated[float, Meta(title="平均評価", ge=1, le=5, examples=[4.25])]
    ratings: Annotated[int, Meta(title="評価数")]


class SurveyGroup(msgspec.Struct, omit_defaults=True):
    """The figures of a session, course, campus or instructor. An instructor with fewer answers than
    ``min_answers_for_instructors`` is ``hidden``: only who it is and a note are given, no figures."""

    kind: Annotated[
        GroupKind,
        Meta(
            title="区分",
            description="session（開催回）、course（研修）、campus（キャンパス）、instructor（講師）",
        ),
    ]
    key: Annotated[str, Meta(title="コード", description="an instructor's id", examples=["ZAI01"])]
    label: Annotated[str, Meta(title="名称", examples=["財務諸表の読み方"])]
    hidden: Annotated[bool, Meta(title="非表示", description="true: too few answers to show (instructors)")]
    note: Annotated[str, Meta(title="備考", examples=["回答が3件未満のため表示しません"])] | UnsetType = UNSET
    answers: Annotated[int, Meta(title="回答数")] | UnsetType = UNSET
    confirmed: Annotated[int, Meta(title="受講決定者数")] | UnsetType = UNSET
    response_rate: Annotated[
        float | UnsetType | None,
        Meta(title="回答率", description="answers per confirmed learner, to 4 decimals; null without any"),
    ] = UNSET
    usefulness: Annotated[Usefulness, Meta(title="全体評価の分布")] | UnsetType = UNSET
    useful_rate: Annotated[
        float | UnsetType | None,
        Meta(
            title="役に立った率",
            description="the share of answers of 4 or 5, to 4 decimals; null without any",
        ),
    ] = UNSET
    modules: Annotated[list[ModuleAverage], Meta(title="科目別平均")] | UnsetType = UNSET


class SurveyResults(msgspec.Struct):
    """A fiscal year's survey results at the campuses looked at, per session, course, campus and
    instructor (without the free text)."""

    fiscal_year: Annotated[int, Meta(title="年度", examples=[2026])]
    campuses: Annotated[list[str], Meta(title="キャンパス", examples=[["tokyo"]])]
    min_answers_for_instructors: Annotated[int, Meta(title="講師の結果を示す最少回答数", examples=[3])]
    session: Annotated[list[SurveyGroup], Meta(title="開催回別")]
    course: Annotated[list[SurveyGroup], Meta(title="研修別")]
    campus: Annotated[list[SurveyGroup], Meta(title="キャンパス別")]
    instructor: Annotated[list[SurveyGroup], Meta(title="講師別")]

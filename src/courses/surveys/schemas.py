"""The survey's request and response bodies for the learner's API."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from msgspec import Meta

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

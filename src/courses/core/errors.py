"""Typed domain errors with their user-facing text, in Japanese first and English second.

Every refusal the service makes is one of these. ``courses.core.problems`` turns them into RFC 9457
problem responses for the API and into messages on HTML pages, in the caller's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass
class FieldError:
    """One problem with one input field (or one row and column of an uploaded file)."""

    field: str
    message_ja: str
    message_en: str
    row: int | None = None

    def as_dict(self, lang: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "field": self.field,
            "message": self.message_en if lang == "en" else self.message_ja,
        }
        if self.row is not None:
            data["row"] = self.row
        return data


@dataclass
class DomainError(Exception):
    """Base class: a refusal with a reason a person can act on."""

    detail_ja: str
    detail_en: str
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title_ja: ClassVar[str] = "入力内容に誤りがあります"
    title_en: ClassVar[str] = "Invalid input"

    def __str__(self) -> str:
        return self.detail_en

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_ja

    def detail(self, lang: str) -> str:
        return self.detail_en if lang == "en" else self.detail_ja


class InvalidInput(DomainError):
    status = 400
    slug = "invalid-input"


class Unauthorized(DomainError):
    status = 401
    slug = "unauthorized"
    title_ja = "ログインが必要です"
    title_en = "Authentication required"


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"
    title_ja = "この操作は許可されていません"
    title_en = "Not allowed"


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title_ja = "見つかりません"
    title_en = "Not found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title_ja = "現在の状態では実行できません"
    title_en = "Conflict with the current state"


class NotEligible(DomainError):
    """The learner may not take this session (audience, window, lodging)."""

    status = 422
    slug = "not-eligible"
    title_ja = "お申し込みいただけません"
    title_en = "Not eligible"


class TooManyAttempts(DomainError):
    status = 429
    slug = "too-many-attempts"
    title_ja = "試行回数が多すぎます"
    title_en = "Too many attempts"


def not_found(what_ja: str, what_en: str, key: object) -> NotFound:
    return NotFound(f"{what_ja}（{key}）は見つかりません。", f"{what_en} {key} was not found.")

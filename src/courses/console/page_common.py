"""What the console's pages share: the form page, the flash messages after a redirect, and the clock
(``entity_pages``, ``session_pages`` and ``admin_pages`` build on it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request
from litestar.response import Template

from courses.core.errors import Conflict, InvalidInput

STAFF = {"access": "staff"}
ADMIN = {"access": "admin"}
SAVED = {
    "saved": "保存しました。",
    "coordinator": "申込担当者を登録し、パスワード設定のご案内をメールで送りました。",
    "archived": "アーカイブしました。",
    "restored": "元に戻しました。",
    "outage": "使用停止の予定を登録しました。",
    "outage_removed": "使用停止の予定を取り消しました。",
    "publish": "公開しました。",
    "close": "受付を終了しました。",
    "cancel": "開催回を中止し、申込者全員に連絡しました。",
    "copy": "翌年度へコピーしました（準備中）。",
    "imported": "取り込みました。",
    "deactivated": "アカウントを無効にしました。",
}


def request_now(request: Request[Any, Any, Any]) -> datetime:
    now: datetime = request.app.state.clock()
    return now


def flash(msg: str | None, error: str | None = None) -> dict[str, str] | None:
    if error:
        return {"kind": "error", "text": error[:400]}
    return {"kind": "ok", "text": SAVED[msg]} if msg in SAVED else None


def form_errors(exc: InvalidInput | Conflict) -> dict[str, str]:
    return {e.field: e.message_ja for e in exc.errors}


def form_page(
    title: str,
    fields: list[Any],
    values: dict[str, str],
    action: str,
    *,
    exc: InvalidInput | Conflict | None = None,
    back: str,
    **extra: Any,
) -> Template:
    return Template(
        "console/form.html",
        context={
            "title": title,
            "fields": fields,
            "values": values,
            "errors": form_errors(exc) if exc else {},
            "flash": {"kind": "error", "text": exc.detail_ja} if exc else extra.pop("flash", None),
            "action": action,
            "back": back,
            **{k: None for k in ("row", "base", "outages", "session", "affected", "staff")},
            "outage_fields": [],
            "outage_errors": {},
            "creating": False,
            **extra,
        },
        status_code=exc.status if exc else 200,
    )

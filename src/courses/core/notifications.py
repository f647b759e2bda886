"""Notifications go through an outbox table in the same transaction as the change they announce.

A delivery loop sends them by SMTP when SMTP_HOST is set; otherwise they stay in the outbox and are
shown on the development mailbox page. Nothing is lost when SMTP is down: a failed message is retried.
"""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core import i18n
from courses.core.db import Database
from courses.core.i18n import N_
from courses.core.settings import Settings
from courses.core.tx import Params, Tx, as_tx
from courses.models import OutboxMessage, User, table_of

log = logging.getLogger(__name__)
SIGNATURE = N_("中小企業大学校 研修申込窓口\n※このメールは送信専用です。")
_LINK_HELP = N_("リンクが開けない場合は、%(page)s に次の確認コードを入力してください。")
_CODE = N_("確認コード")  # ``redact_secrets`` knows it, and its English, followed by ": "


def signature(lang: str = i18n.SOURCE) -> str:
    """What ends every message, in ``lang``."""
    with i18n.speaking(lang):
        return "\n\n――\n" + i18n.gettext(SIGNATURE)


def queue(db: Session | AsyncSession | Tx, user: User, subject: str, body: str, now: datetime) -> None:
    """Put a message written in Japanese in the outbox, in the caller's transaction (``courses.core.mail``
    writes one in the person's language)."""
    queue_to(db, user.email, user.id, subject, body, now)


def secret_link(base_url: str, path: str, secret: str, lang: str = i18n.SOURCE) -> str:
    """A link with its secret in the fragment (which no server log or ``Referer`` sees), then the same
    secret as a 確認コード to type in at ``path`` where the link cannot be opened; ends with a newline.
    ``redact_secrets`` removes both once the message is sent."""
    page = base_url.rstrip("/") + path
    with i18n.speaking(lang):
        help_text, code = i18n.gettext(_LINK_HELP) % {"page": page}, i18n.gettext(_CODE)
    return f"{page}#{secret}\n\n{help_text}\n{code}: {secret}\n"


def queue_to(
    db: Session | AsyncSession | Tx,
    email: str,
    user_id: int | None,
    subject: str,
    body: str,
    now: datetime,
    *,
    lang: str = i18n.SOURCE,
) -> None:
    """Put a message to an address in the outbox (``user_id`` when it is known to be an account's),
    signed in ``lang``, the language it is written in."""
    queue_row(db, outbox_row(email, user_id, subject, body, now, lang=lang))


OUTBOX_VALUES = ("user_id", "to_email", "subject", "body", "created_at", "sent_at", "attempts", "last_error")


def outbox_row(
    email: str, user_id: int | None, subject: str, body: str, now: datetime, *, lang: str = i18n.SOURCE
) -> dict[str, Any]:
    """The outbox row of a message, signed in ``lang`` (every column of ``OUTBOX_VALUES``), for
    ``queue_row`` or for a statement that inserts it with other things."""
    return {
        "user_id": user_id,
        "to_email": email,
        "subject": subject,
        "body": body + signature(lang),
        "created_at": now,
        "sent_at": None,
        "attempts": 0,
        "last_error": "",
    }


def queue_row(db: Session | AsyncSession | Tx, row: Params) -> None:
    """Put an ``outbox_row`` in the outbox, in the caller's transaction."""
    if isinstance(db, AsyncSession):
        db.add(OutboxMessage(**row))
    else:  # synchronous code (the enrollment path) writes at once, without a flush of the session
        as_tx(db).execute(_INSERT, row)


_INSERT = insert(table_of(OutboxMessage))
# secrets in links (after '#' or 'token=') and printed codes; token_urlsafe(32) gives 43 characters
_SECRET = re.compile(r"(#|token=|確認コード: |Confirmation code: )[A-Za-z0-9_-]{32,}")


def redact_secrets(body: str) -> str:
    """The message with every emailed secret replaced, for keeping once it has been delivered."""
    return _SECRET.sub(lambda m: m.group(1) + "（送信済みのため削除）", body)


async def recent(db: AsyncSession, limit: int = 100) -> list[OutboxMessage]:
    return list(await db.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)))


def _send(settings: Settings, message: OutboxMessage) -> None:
    email = EmailMessage()
    email["From"] = settings.smtp_from
    email["To"] = message.to_email
    email["Subject"] = message.subject
    email.set_content(message.body)
    with smtplib.SMTP(settings.smtp_host or "localhost", settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(email)


async def deliver_pending(database: Database, settings: Settings, now: datetime, batch: int = 50) -> int:
    """Send what is waiting; each message is marked sent only after the server took it."""
    if not settings.smtp_host:
        return 0
    async with database.read() as s:
        pending = list(
            await s.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.sent_at).is_(None), OutboxMessage.attempts < 10)
                .order_by(col(OutboxMessage.id))
                .limit(batch)
            )
        )
    sent = 0
    for message in pending:
        error = ""
        try:
            await asyncio.to_thread(_send, settings, message)
        except (OSError, smtplib.SMTPException) as exc:
            error = str(exc)[:500]
            log.warning("mail to %s failed: %s", message.to_email, error)
        async with database.write() as s:
            row = await s.get(OutboxMessage, message.id)
            if row is not None:
                row.attempts += 1
                row.last_error = error
                row.sent_at = None if error else now
                if not error:  # the mail server has the message: the outbox keeps no usable secret
                    row.body = redact_secrets(row.body)
                s.add(row)
        sent += 0 if error else 1
    return sent

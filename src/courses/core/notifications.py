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

from courses.core.db import Database
from courses.core.settings import Settings
from courses.core.tx import Tx, as_tx
from courses.models import OutboxMessage, User, table_of

log = logging.getLogger(__name__)
SIGNATURE = "\n\n――\n中小企業大学校 研修申込窓口\n※このメールは送信専用です。"


def queue(db: Session | AsyncSession | Tx, user: User, subject: str, body: str, now: datetime) -> None:
    """Put a message in the outbox, in the caller's transaction."""
    queue_to(db, user.email, user.id, subject, body, now)


def secret_link(base_url: str, path: str, secret: str, lang: str = "ja") -> str:
    """A link with its secret in the fragment (which no server log or ``Referer`` sees), then the same
    secret as a 確認コード to type in at ``path`` where the link cannot be opened; ends with a newline.
    ``redact_secrets`` removes both once the message is sent."""
    page = base_url.rstrip("/") + path
    if lang == "en":
        return (
            f"{page}#{secret}\n"
            f"\nIf the link does not open, enter this confirmation code at {page}\nConfirmation code: {secret}\n"
        )
    return (
        f"{page}#{secret}\n"
        f"\nリンクが開けない場合は、{page} に次の確認コードを入力してください。\n確認コード: {secret}\n"
    )


def queue_to(
    db: Session | AsyncSession | Tx, email: str, user_id: int | None, subject: str, body: str, now: datetime
) -> None:
    """Put a message to an address in the outbox (``user_id`` when it is known to be an account's)."""
    row: dict[str, Any] = {
        "user_id": user_id,
        "to_email": email,
        "subject": subject,
        "body": body + SIGNATURE,
        "created_at": now,
        "sent_at": None,
        "attempts": 0,
        "last_error": "",
    }
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

"""The outbox as the tests read it, and the check that a mail written in English has no Japanese but
its data (a person's name, a campus's address, a course without an English title)."""

from __future__ import annotations

import re

from sqlmodel import col, select

from courses.core.db import Database
from courses.models import OutboxMessage

# kana, kanji and the full-width forms and punctuation (「」、。（）：) of Japanese text
JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")


async def mails_to(db: Database, email: str) -> list[OutboxMessage]:
    async with db.read() as s:
        return list(
            await s.exec(
                select(OutboxMessage).where(OutboxMessage.to_email == email).order_by(col(OutboxMessage.id))
            )
        )


def japanese_in(text: str, *data: str) -> list[str]:
    """The Japanese characters of ``text`` once each of ``data`` is taken out (longest first)."""
    for value in sorted((d for d in data if d), key=len, reverse=True):
        text = text.replace(value, "")
    return JAPANESE.findall(text)


def assert_english(mail: OutboxMessage, *data: str) -> None:
    """Subject and body (signature included) are English but for ``data``."""
    for part in (mail.subject, mail.body):
        assert not japanese_in(part, *data), part

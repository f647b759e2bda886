"""Mail to a person with an account, written in the language they read (``User.language``).

Each message is a text template under ``templates/mail/``: its first line is the subject, the lines
after it the body (``notifications`` adds the signature). Its words are Japanese inside ``{% trans %}``
blocks, translated through the pages' own catalogue (``make messages`` extracts the mail templates
too), and it is rendered inside ``i18n.speaking(lang)``, so that the filters of the pages
(``ja_date``, ``block_range``, ``yen``, ``course_title``, ``campus_name``...) print in that language.

Writing one: the line break after a block tag is dropped (``trim_blocks``), so that an ``{% if %}``
line leaves nothing behind; a line of text in ``{% trans %}`` keeps its line break by ending in
``{% endtrans +%}``. A line break inside a ``{% trans %}`` block becomes a space: one line of the mail
is one line of the template.

Mail to an address without an account (an organisation's invitation) and to staff and instructors is
not written here: it stays Japanese (``notifications.queue_to`` in its default language).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core import i18n, notifications, web
from courses.core.settings import TEMPLATES_DIR
from courses.core.tx import Tx
from courses.models import Role, User

MAIL_DIR = TEMPLATES_DIR / "mail"

_env = Environment(
    loader=FileSystemLoader(MAIL_DIR),
    autoescape=False,  # plain text: "&" and "<" in a course title stay as they are
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=StrictUndefined,
    auto_reload=False,  # read once: the enrollment path renders one on every application
)
web.configure(_env)
_env.globals["pick"] = i18n.pick


def _secret_link(base_url: str, path: str, secret: str) -> str:
    return notifications.secret_link(base_url, path, secret, lang=i18n.current())


_env.globals["secret_link"] = _secret_link  # in the language of the mail being written


def language_of(user: User) -> str:
    """The language of ``user``'s mail: the one they read, except for staff, whose pages are
    Japanese only."""
    return user.language if user.role in (Role.LEARNER, Role.COORDINATOR) else i18n.SOURCE


def write(template: str, lang: str, **context: Any) -> tuple[str, str]:
    """The subject and body of ``template`` in ``lang``."""
    with i18n.speaking(lang):
        text = _env.get_template(template).render(**context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip("\n")


def send(
    db: Session | AsyncSession | Tx,
    user: User,
    template: str,
    now: datetime,
    *,
    to: str | None = None,
    **context: Any,
) -> None:
    """Queue ``template`` to ``user`` (at ``to`` instead of their address when given: a new address
    being confirmed, or the old one being told of the change), in their language, in the caller's
    transaction. The template sees ``user`` and ``context``."""
    notifications.queue_row(db, letter(user, template, now, to=to, **context))


def letter(
    user: User, template: str, now: datetime, *, to: str | None = None, **context: Any
) -> dict[str, Any]:
    """The outbox row ``send`` would queue, written but not queued (for a statement that inserts it
    only when something else happened: the enrollment's confirmation, only when a seat was free)."""
    lang = language_of(user)
    subject, body = write(template, lang, user=user, **context)
    return notifications.outbox_row(to or user.email, user.id, subject, body, now, lang=lang)

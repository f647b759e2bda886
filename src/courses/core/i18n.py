"""The language of a page: Japanese (the source language) or English, chosen per request.

The learner's and coordinator's pages speak both. The message catalogues are gettext ``.po`` files
under ``courses/locale`` whose msgids are the Japanese text of the templates; they are read with
Babel when first needed, so a clean checkout needs no compile step (``make messages`` extracts and
updates them). The language of the request being answered lives in a context variable, set by
:func:`language_middleware` from the ``lang`` cookie (the header's 日本語 / English switch), else
from ``Accept-Language``, else Japanese.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from gettext import NullTranslations
from http.cookies import CookieError, SimpleCookie
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("ja", "en")
SOURCE = "ja"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

_language: ContextVar[str] = ContextVar("page_language", default=SOURCE)


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; translated where it is shown."""
    return message


def current() -> str:
    """The language of the page being answered: 'ja' or 'en'."""
    return _language.get()


def english() -> bool:
    return _language.get() == "en"


def pick(ja: str, en: str) -> str:
    """Of a text kept in both languages (``detail_ja``/``detail_en``), the one of this page."""
    return en if english() and en else ja


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Answer in ``lang`` inside the block (for tests and for mail written in a given language)."""
    token = _language.set(lang if lang in LANGUAGES else SOURCE)
    try:
        yield
    finally:
        _language.reset(token)


def use(lang: str) -> None:
    """Set the language of the rest of this request (a route that stays Japanese, say)."""
    _language.set(lang if lang in LANGUAGES else SOURCE)


@cache
def translations(lang: str) -> NullTranslations:
    """The catalogue of ``lang``, read from its .po file (the source language translates to itself)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == SOURCE or not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext(message: str) -> str:
    lang = _language.get()
    return message if lang == SOURCE else translations(lang).gettext(message)


def pgettext(context: str, message: str) -> str:
    """The translation of ``message`` in ``context`` (a msgctxt), where the same Japanese needs another
    English: a mail's "%(name)s 様" opens with "Dear", a page's does not."""
    lang = _language.get()
    return message if lang == SOURCE else translations(lang).pgettext(context, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    lang = _language.get()
    if lang == SOURCE:
        return singular if n == 1 else plural
    return translations(lang).ngettext(singular, plural, n)


def from_accept_language(header: str) -> str:
    """'en' when the caller prefers English over Japanese, else 'ja' (the site speaks Japanese first)."""
    best, best_q = SOURCE, -1.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = "en" if tag.startswith("en") else "ja" if tag.startswith("ja") else None
        if lang and q > best_q:
            best, best_q = lang, q
    return best


def choose(cookie: str | None, accept_language: str) -> str:
    """The ``lang`` cookie when it names a language, else the Accept-Language header, else Japanese."""
    if cookie in LANGUAGES:
        return str(cookie)
    return from_accept_language(accept_language)


def _cookie_of(raw: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


def language_of_scope(scope: Any) -> str:
    cookie, accept = None, ""
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            cookie = _cookie_of(value.decode("latin-1")) or cookie
        elif name == b"accept-language":
            accept = value.decode("latin-1")
    return choose(cookie, accept)


def language_middleware(inner: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps the ASGI app: every request is answered in its language, error pages included."""

    async def handler(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        token = _language.set(language_of_scope(scope))
        try:
            await inner(scope, receive, send)
        finally:
            _language.reset(token)

    return handler


def same_site_path(target: str | None) -> str:
    """``target`` when it is a path on this site ("/me?x=1"), else "/": never another site's address."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return "/"
    return target

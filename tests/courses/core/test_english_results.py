"""English pages (issue #18), what the learner's and the coordinator's actions answer: a chamber's bulk
registration (the preview's rows, the messages after registering and cancelling, the file handed back
with its errors), the person's answer to an invitation, the survey a learner answers, the messages of
My page and of the account's forms, the session's pages' titles. Every text of these
pages is English when the page is, but for the data the people typed (names, the organisation, the
file's own column headings) and what is kept in Japanese only (marked ``lang="ja"``)."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from courses.accounts.profile import FLASH as PROFILE_FLASH
from courses.attendance import pdf as certificate_pdf
from courses.core import i18n, web
from courses.core.db import Database
from courses.learners.pages import FLASH
from courses.models import OutboxMessage
from tests.courses.accounts.test_account_pages import FORM
from tests.courses.bulk.test_bulk_api import HEADER, csv_file, org_world, sme_row
from tests.courses.bulk.test_bulk_marked import _read_csv
from tests.courses.bulk.test_invitations import _mail_to, _secret, strangers
from tests.courses.bulk.test_org_pages import _hidden, sign_in
from tests.courses.core.test_english_pages import _lang
from tests.courses.core.test_english_pages import _world as learner_world
from tests.courses.surveys.test_surveys import _sign_in as survey_sign_in
from tests.courses.surveys.test_surveys import _world as survey_world

# kana, kanji, full-width forms and Japanese punctuation; not the middle dot (・), which both languages'
# pages use between links
JAPANESE = re.compile(r"[\u3040-\u30fa\u30fc-\u30ff\u3400-\u9fff\uff01-\uff60「」『』〜、。]")
SHOWN_ATTRIBUTES = ("title", "aria-label", "data-confirm", "placeholder", "alt")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SME_DATES = (
    "2026年6月10日（水）〜2026年6月12日（金）"  # org_world's SME session, as the Japanese emails write it
)
FILE_HEADINGS = HEADER.split(",")  # the registration file's own columns, as the template heads them


class _Shown(HTMLParser):
    """The texts a reader of the page meets (text, and the attributes read out or shown), leaving out
    scripts and what is marked ``lang="ja"`` or hidden from everyone (``aria-hidden``)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, bool]] = []  # (tag, left out)
        self.texts: list[str] = []

    def _left_out(self) -> bool:
        return bool(self.open) and self.open[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        out = (
            self._left_out()
            or a.get("lang") == "ja"
            or a.get("aria-hidden") == "true"
            or tag in ("script", "style")
        )
        if not out:
            self.texts.extend(str(a[name]) for name in SHOWN_ATTRIBUTES if a.get(name))
        if tag not in VOID:
            self.open.append((tag, out))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._left_out():
            self.texts.append(data.strip())


def japanese_left(html: str, *data: str) -> list[str]:
    """The texts of an English page still in Japanese once ``data`` (what people typed, and the
    like) is taken out of them."""
    parser = _Shown()
    parser.feed(html)
    left = []
    for text in parser.texts:
        for item in sorted(data, key=len, reverse=True):
            text = text.replace(item, "")
        if JAPANESE.search(text):
            left.append(text)
    return left


# --- a chamber's bulk registration -------------------------------------------------------------------


async def test_the_preview_of_a_file_with_errors_in_english(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db, capacity=1)
    csrf = await sign_in(client, "coord@example.jp")
    client.cookies.set("lang", "en")
    content = csv_file(
        sme_row(w.sme, 0),  # a seat
        sme_row(w.sme, 1),  # the waiting list
        sme_row(w.sme, 2, email="broken"),
        sme_row("NOPE-1", 3, kana="Yamada"),
        sme_row(w.closed, 4),  # applications closed: the session's own refusal
        sme_row(w.sme, 5, lodging="maybe"),
        sme_row(w.sme, 100, email="new@example.jp"),  # invited
    )
    names = [f"山田 太郎{n}" for n in (0, 1, 2, 3, 4, 5, 100)]
    for mode in ("all_or_nothing", "accept_valid"):
        r = await client.post(
            f"/org/{w.id}/upload",
            files={"file": ("list.csv", content, "text/csv")},
            data={"mode": mode, "_csrf_token": csrf},
        )
        assert r.status_code == 200 and _lang(r.text) == "en", r.text[:300]
        assert not japanese_left(r.text, *names, *FILE_HEADINGS, "東京商工会議所", "“エラー”"), mode
        results = r.text.split("Results by row", 1)[1]
        assert "Not a valid email address" in results and "must be written in katakana" in results
        assert "Applications closed on Sun 10 May 2026." in results and "There is no session with" in results
    # registering it, all or nothing, is refused with a reason the page's reader can act on
    form = {k: _hidden(r.text, k) for k in ("file_b64", "filename")} | {
        "_csrf_token": csrf,
        "consent": "true",
    }
    refused = await client.post(
        f"/org/{w.id}/confirm", files={"none": ("", b"")}, data={**form, "mode": "all_or_nothing"}
    )
    assert refused.status_code == 422 and "or choose to register the correct rows only" in refused.text
    assert not japanese_left(refused.text, *names, *FILE_HEADINGS, "東京商工会議所", "“エラー”")
    # the file handed back from the page has its errors in the page's language too
    form = {k: _hidden(r.text, k) for k in ("file_b64", "filename", "mode")}
    marked = await client.post(
        f"/org/{w.id}/errors.csv", files={"none": ("", b"")}, data={**form, "_csrf_token": csrf}
    )
    grid = _read_csv(marked.content)
    assert grid[0][0] == "エラー" and "Not a valid email address" in grid[3][0]
    assert not JAPANESE.search(grid[3][0].replace("「メールアドレス」", "")), grid[3][0]


async def test_registering_and_cancelling_in_english(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await org_world(db, capacity=1)
    csrf = await sign_in(client, "coord@example.jp")
    client.cookies.set("lang", "en")
    content = csv_file(sme_row(w.sme, 0), sme_row(w.sme, 1), sme_row(w.sme, 100, email="new@example.jp"))
    preview = await client.post(
        f"/org/{w.id}/upload",
        files={"file": ("list.csv", content, "text/csv")},
        data={"mode": "all_or_nothing", "_csrf_token": csrf},
    )
    form = {k: _hidden(preview.text, k) for k in ("file_b64", "filename", "mode")} | {"_csrf_token": csrf}
    done = await client.post(
        f"/org/{w.id}/confirm",
        files={"none": ("", b"")},
        data={**form, "consent": "true"},
        follow_redirects=False,
    )
    assert done.status_code in (302, 303), done.text[:300]
    # the emails (an invitation, and the members' news) are Japanese: their dates too
    async with db.read() as s:
        bodies = [m.body for m in await s.exec(select(OutboxMessage))]
    assert len(bodies) == 3 and all(SME_DATES in body and "Jun" not in body for body in bodies), bodies
    data = ["山田 太郎0", "山田 太郎1", "山田 太郎100", "東京商工会議所", "開催回コード"]
    page = (await client.get(done.headers["location"])).text
    assert 'role="status">Registered.' in page, page[:3000]
    assert not japanese_left(page, *data)
    cancel = re.findall(r"/org/\d+/registrations/\d+/cancel", page)[0]
    r = await client.post(cancel, data={"_csrf_token": csrf}, follow_redirects=False)
    page = (await client.get(r.headers["location"])).text
    assert 'role="status">The application was cancelled.' in page
    assert not japanese_left(page, *data)
    # the Japanese page keeps its Japanese
    client.cookies.set("lang", "ja")
    page = (await client.get(r.headers["location"])).text
    assert "申込をキャンセルしました。キャンセル待ちの方がいれば繰り上げています。" in page


async def test_an_invitation_answered_in_english(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await org_world(db, capacity=1)
    await strangers(db, w)  # theirs@example.jp holds a place another organisation made
    csrf = await sign_in(client, "coord@example.jp")
    rows = [
        sme_row(w.sme, 0),  # a member: registered at once, in the one seat
        sme_row(w.sme, 100, email="new@example.jp"),
        sme_row(w.sme, 101, email="theirs@example.jp"),
    ]
    preview = await client.post(
        f"/org/{w.id}/upload",
        files={"file": ("list.csv", csv_file(*rows), "text/csv")},
        data={"mode": "all_or_nothing", "_csrf_token": csrf},
    )
    form = {k: _hidden(preview.text, k) for k in ("file_b64", "filename", "mode")} | {"_csrf_token": csrf}
    await client.post(f"/org/{w.id}/confirm", files={"none": ("", b"")}, data={**form, "consent": "true"})
    client.cookies.clear()
    client.cookies.set("lang", "en")
    await client.get("/invitation")
    csrf = client.cookies.get("csrftoken", "")
    password = {"password": "a long enough secret", "password_confirm": "a long enough secret"}
    new = _secret(await _mail_to(db, "new@example.jp"))
    r = await client.post("/invitation/accept", data={"token": new, **password, "_csrf_token": csrf})
    assert r.status_code == 200 and _lang(r.text) == "en", r.text[:300]
    assert "Reading Financial Statements" in r.text and "Waiting list (no. 1)" in r.text  # the seat is taken
    assert not japanese_left(r.text), japanese_left(r.text)
    async with db.read() as s:
        told = (
            await s.exec(
                select(OutboxMessage)
                .where(OutboxMessage.to_email == "new@example.jp")
                .order_by(col(OutboxMessage.id).desc())
            )
        ).first()
    # the account was made on an English page, so its mail is English, dates included
    assert told is not None and told.subject == "On the waiting list: Reading Financial Statements", told
    assert SME_DATES not in told.body and not re.search(r"[\u3040-\u30ff]", told.body), told.body
    client.cookies.clear()
    client.cookies.set("lang", "en")
    await client.get("/invitation")
    csrf = client.cookies.get("csrftoken", "")
    theirs = _secret(await _mail_to(db, "theirs@example.jp"))
    r = await client.post("/invitation/accept", data={"token": theirs, "_csrf_token": csrf})
    assert r.status_code == 200 and "Could not be registered: " in r.text, r.text[-1500:]
    assert not japanese_left(r.text), japanese_left(r.text)


# --- the survey a learner answers ----------------------------------------------------------------------


async def test_the_survey_in_english(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await survey_world(db)
    sid = w.sessions["yesterday"]
    csrf = await survey_sign_in(db, client, w.users["ann"])
    client.cookies.set("lang", "en")
    data = ["山田 花子"]  # the instructor; the modules' titles are marked lang="ja"
    form = await client.get(f"/surveys/{sid}")
    assert form.status_code == 200 and _lang(form.text) == "en"
    assert (
        "<h1>Course survey</h1>" in form.text and "Reading Financial Statements (Tokyo Campus, " in form.text
    )
    assert (
        "Overall, was the course useful for your work?" in form.text
        and "> Not very useful</label>" in form.text
    )
    assert '<span lang="ja">貸借対照表</span> (instructor: 山田 花子)' in form.text
    assert not japanese_left(form.text, *data), japanese_left(form.text, *data)
    client.cookies.set("lang", "ja")
    ja = (await client.get(f"/surveys/{sid}")).text  # the Japanese form, as it was
    client.cookies.set("lang", "en")
    assert "財務諸表の読み方（中小企業大学校 tokyo校、2026年5月13日（水）〜2026年5月14日（木））" in ja
    assert "貸借対照表（講師：山田 花子）" in ja and "> どちらかといえば役に立たなかった</label>" in ja
    m1, m2 = w.modules
    bad = {"_csrf_token": csrf, "usefulness": "", f"m_{m1}": "9", "comment": "x" * 2001}
    r = await client.post(f"/surveys/{sid}", data=bad)
    assert r.status_code == 400 and "Choose how useful the course was." in r.text and "At most 2000" in r.text
    assert not japanese_left(r.text, *data, "貸借対照表", "損益計算書"), japanese_left(r.text, *data)
    answer = {"_csrf_token": csrf, "usefulness": "4", f"m_{m1}": "5", f"m_{m2}": "3"}
    r = await client.post(f"/surveys/{sid}", data=answer)
    assert r.status_code == 200 and "Thank you for your answers." in r.text and not japanese_left(r.text)
    r = await client.post(f"/surveys/{sid}", data=answer)
    assert r.status_code == 409 and "You have already answered this survey." in r.text
    assert not japanese_left(r.text)
    r = await client.get(f"/surveys/{w.sessions['today']}")  # not open yet
    assert (
        r.status_code == 422
        and "The survey opens the day after the session ends (Sat 16 May 2026)." in r.text
    )
    assert not japanese_left(r.text)


# --- the learner's messages ----------------------------------------------------------------------------


def _notice(page: str) -> str:
    shown = re.search(r'<p class="notice notice-\w+" role="(?:status|alert)">([^<]*)</p>', page)
    assert shown, page[-2500:]
    return shown.group(1)


async def test_the_messages_of_my_page_and_the_profile_in_english(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    await learner_world(db)
    await sign_in(client, "learner@example.jp")
    pages = [("/me", msg, text) for msg, (_kind, text) in FLASH.items()]
    pages += [("/account/profile", msg, text) for msg, text in PROFILE_FLASH.items()]
    for path, msg, japanese in pages:
        client.cookies.set("lang", "en")
        en = await client.get(f"{path}?msg={msg}")
        assert _notice(en.text) and not JAPANESE.search(_notice(en.text)), (path, msg, _notice(en.text))
        client.cookies.set("lang", "ja")
        assert _notice((await client.get(f"{path}?msg={msg}")).text) == japanese, (path, msg)
    client.cookies.set("lang", "en")
    me = (await client.get("/me")).text
    assert re.search(r"</a> \(株式会社テスト\d+\) ・|様? \(株式会社テスト\d+\)", me), me[1500:3000]


async def test_the_account_forms_refuse_in_english(client: AsyncTestClient[Litestar], db: Database) -> None:
    await learner_world(db)
    client.cookies.set("lang", "en")
    await client.get("/register")
    csrf = client.cookies.get("csrftoken", "")
    r = await client.post("/register", data={"_csrf_token": csrf, "email": "x"})
    assert _notice(r.text) == "Some of the entries are wrong. Please check each field."
    taken = {**FORM, "email": "learner@example.jp", "_csrf_token": csrf}
    r = await client.post("/register", data=taken)
    assert (
        r.status_code == 409 and _notice(r.text) == "Some of the entries are wrong. Please check each field."
    )
    assert '<p class="field-error" id="email-error">This email address is already registered.</p>' in r.text
    r = await client.post("/password/forgot", data={"_csrf_token": csrf, "email": "x"})
    assert r.status_code == 400 and _notice(r.text) == "This is not a valid email address."
    client.cookies.set("lang", "ja")
    r = await client.post("/register", data=taken)
    assert '<p class="field-error" id="email-error">このメールアドレスは既に登録されています。</p>' in r.text
    assert _notice(r.text) == "入力内容に誤りがあります。各項目をご確認ください。"


async def test_the_session_pages_titles_in_english(client: AsyncTestClient[Litestar], db: Database) -> None:
    session_id, _ = await learner_world(db)
    client.cookies.set("lang", "en")
    page = (await client.get(f"/sessions/{session_id}")).text
    assert "<title>Reading Financial Statements (Tokyo Campus) | SME University" in page
    assert not japanese_left(page), japanese_left(page)  # the description and address are marked lang="ja"
    page = (await client.get(f"/sessions/{session_id}/timetable")).text
    assert re.search(r"<p>Tokyo Campus / Session <code>T-\d+</code></p>", page), page[1500:3000]
    client.cookies.set("lang", "ja")
    page = (await client.get(f"/sessions/{session_id}")).text
    assert "<title>財務諸表の読み方（tokyo校） | 中小企業大学校 研修申込</title>" in page
    page = (await client.get(f"/sessions/{session_id}/timetable")).text
    assert re.search(r"<p>中小企業大学校 tokyo校 ／ 開催回 <code>T-\d+</code></p>", page)


def test_texts_kept_in_japanese_write_japanese_dates_on_an_english_request() -> None:
    """Emails and certificates are Japanese whatever page led to them; errors keep one date per language."""
    day = date(2026, 6, 8)
    with i18n.speaking("en"):
        assert web.date_in("ja", day) == "2026年6月8日（月）" and web.date_in("en", day) == "Mon 8 Jun 2026"
        assert certificate_pdf._date(day) == "2026年6月8日"
    with i18n.speaking("ja"):
        assert web.date_in("en", day, with_weekday=False) == "8 Jun 2026"

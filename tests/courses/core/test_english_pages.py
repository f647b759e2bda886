"""English pages (issue #18): every learner and coordinator page answers in English when asked
(Accept-Language or the header's switch, which sets the ``lang`` cookie), in Japanese otherwise; the
switch never sends anyone off the site; every text of the templates has its English translation."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core import i18n, web
from courses.core.db import Database
from courses.core.settings import TEMPLATES_DIR
from tests.courses import builders as b
from tests.courses.bulk.test_bulk_api import csv_file, org_world, sme_row
from tests.courses.bulk.test_org_pages import sign_in

EN = {"accept-language": "en-GB,en;q=0.9"}
HTML = {"accept": "text/html"}


async def _world(db: Database) -> tuple[int, int]:
    async with db.write() as s:
        await b.category(s)
        campus = await b.campus(s)
        course = await b.course(s, fee_yen=66000)
        row = await b.session(s, course, campus, start=date(2026, 6, 8), blocks=[(0, 3), (14, 2)])
        await b.user(s, "learner@example.jp")
    return row.id or 0, course.id or 0


def _lang(html: str) -> str:
    match = re.search(r'<html lang="(\w+)">', html)
    assert match, html[:200]
    return match.group(1)


PUBLIC_PAGES = {
    "/": ("Find a course", "研修を探す"),
    "/login": ("Forgot your password?", "パスワードをお忘れの方"),
    "/register": ("Learner registration", "受講者登録"),
    "/password/forgot": ("Send reset instructions", "再設定のご案内を送る"),
    "/privacy": ("Who sees it", "閲覧できる人"),
    "/password/set": ("Confirmation code (in the email)", "確認コード（メールに記載）"),
    "/invitation": ("Request to apply for a course", "研修お申し込みのご依頼"),
    "/certificates/NOPE-1": ("No certificate has this number", "この番号の修了証書は見つかりません"),
}
LEARNER_PAGES = {
    "/me": ("Your applications", "お申し込み中の研修"),
    "/account/profile": ("Edit your profile", "登録情報の変更"),
    "/account/password": ("Change your password", "パスワードの変更"),
    "/account/delete": ("Delete your account", "退会（アカウントの削除）"),
    "/account/email/confirm": ("Confirmation code (in the email)", "確認コード（メールに記載）"),
    "/me/check-in": ("Attendance code shown at the venue", "会場で表示されている出席コード"),
}


async def test_public_pages_in_english_and_japanese(client: AsyncTestClient[Litestar], db: Database) -> None:
    session_id, _ = await _world(db)
    pages = {
        **PUBLIC_PAGES,
        f"/sessions/{session_id}": ("About the course", "研修の内容"),
        f"/sessions/{session_id}/timetable": ("Timetable of Reading Financial Statements", "の時間割"),
    }
    for path, (english, japanese) in pages.items():
        r = await client.get(path, headers=EN)
        assert r.status_code == (404 if "NOPE" in path else 200), (path, r.text[:300])
        assert _lang(r.text) == "en" and english in r.text, path
        assert "SME University course applications" in r.text and "Skip to content" in r.text, path
        r = await client.get(path)
        assert _lang(r.text) == "ja" and japanese in r.text and english not in r.text, path
        assert "中小企業大学校 研修申込" in r.text and "本文へ移動" in r.text, path


async def test_session_page_in_english(client: AsyncTestClient[Litestar], db: Database) -> None:
    session_id, _ = await _world(db)
    en = (await client.get(f"/sessions/{session_id}", headers=EN)).text
    assert "<h1>Reading Financial Statements</h1>" in en and "¥66,000" in en and "66,000円" not in en
    assert "Tokyo Campus" in en and "Finance" in en and "For SME executives and managers" in en
    assert "Mon 8 Jun – Wed 10 Jun 2026" in en and "Part 1" in en and "Cancellation fee: free until" in en
    assert "テスト用の研修です。" in en  # no English description: the Japanese one is shown
    ja = (await client.get(f"/sessions/{session_id}")).text
    assert (
        "<h1>財務諸表の読み方</h1>" in ja and "66,000円" in ja and "2026年6月8日（月）〜6月10日（水）" in ja
    )
    assert "第1回" in ja and "キャンセル料: 開講日の" in ja and "Cancellation fee" not in ja


async def test_catalog_in_english_with_cookie_and_back(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    await _world(db)
    r = await client.get("/lang/en?next=/%3Fshow%3Dupcoming", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?show=upcoming"
    assert "lang=en" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    page = (await client.get("/?show=upcoming")).text  # the cookie, no Accept-Language
    assert _lang(page) == "en" and "Keywords" in page and "Tokyo" in page and "¥66,000" in page
    assert "June 2026" in page and "Mon 8 Jun – Wed 10 Jun 2026" in page
    # the catalog's cache keeps one page per language
    r = await client.get("/lang/ja?next=/%3Fshow%3Dupcoming", follow_redirects=False)
    assert r.headers["location"] == "/?show=upcoming"
    page = (await client.get("/?show=upcoming", headers=EN)).text  # the cookie wins over the header
    assert _lang(page) == "ja" and "キーワード" in page and "2026年6月" in page and "66,000円" in page


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "evil.example",
        "",
        "/%0d%0aSet-Cookie:x",
    ],
)
async def test_switch_never_redirects_off_site(client: AsyncTestClient[Litestar], target: str) -> None:
    r = await client.get("/lang/en", params={"next": target}, follow_redirects=False)
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert "evil" not in location or target.startswith("/%0d")
    r = await client.get("/lang/xx", params={"next": "/privacy"}, follow_redirects=False)
    assert r.headers["location"] == "/privacy" and "lang=ja" in r.headers["set-cookie"]


def test_same_site_path() -> None:
    assert i18n.same_site_path("/me?x=1#y") == "/me?x=1#y"
    for bad in (
        "//evil.example",
        "/\\evil.example",
        "http://evil.example",
        "javascript:alert(1)",
        None,
        "/a\r\nb",
    ):
        assert i18n.same_site_path(bad) == "/"


async def test_learner_pages_in_english(client: AsyncTestClient[Litestar], db: Database) -> None:
    session_id, _ = await _world(db)
    await sign_in(client, "learner@example.jp")
    pages = {
        **LEARNER_PAGES,
        f"/sessions/{session_id}/apply": ("I would like to stay", "寮への宿泊を希望する"),
    }
    for path, (english, japanese) in pages.items():
        r = await client.get(path, headers=EN)
        assert r.status_code == 200, (path, r.text[:300])
        assert _lang(r.text) == "en" and english in r.text and "Sign out" in r.text, path
        r = await client.get(path)
        assert _lang(r.text) == "ja" and japanese in r.text and "ログアウト" in r.text, path


async def test_apply_and_my_page_in_english(client: AsyncTestClient[Litestar], db: Database) -> None:
    session_id, _ = await _world(db)
    csrf = await sign_in(client, "learner@example.jp")
    client.cookies.set("lang", "en")
    r = await client.post(f"/sessions/{session_id}/apply", data={"_csrf_token": csrf}, headers=EN)
    assert r.status_code in (200, 302, 303), r.text[:300]
    me = (await client.get("/me")).text
    assert "Confirmed" in me and "Reading Financial Statements" in me and "Mon 8 Jun – Wed 10 Jun 2026" in me
    assert "Cancel this application?" in me and "Add your confirmed courses to your calendar" in me
    # a refusal from the service comes in English: applying twice
    r = await client.post(f"/sessions/{session_id}/apply", data={"_csrf_token": csrf})
    assert _lang(r.text) == "en" and not re.search(r'role="alert">[^<]*[\u3040-\u30ff]', r.text), r.text[
        :2000
    ]


async def test_form_errors_in_english(client: AsyncTestClient[Litestar]) -> None:
    await client.get("/register")
    csrf = client.cookies.get("csrftoken", "")
    r = await client.post("/register", data={"_csrf_token": csrf, "email": "x"}, headers=EN)
    assert _lang(r.text) == "en"
    errors = re.findall(r'<p class="field-error" id="[a-z_]+-error">([^<]*)</p>', r.text)
    assert errors and all(not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", e) for e in errors), errors
    r = await client.post("/register", data={"_csrf_token": csrf, "email": "x"})
    errors = re.findall(r'<p class="field-error" id="[a-z_]+-error">([^<]*)</p>', r.text)
    assert errors and any(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", e) for e in errors), errors


async def test_error_page_in_english(client: AsyncTestClient[Litestar]) -> None:
    r = await client.get("/sessions/987654", headers={**EN, **HTML})
    assert r.status_code == 404 and _lang(r.text) == "en" and "Back to the courses" in r.text
    assert not re.search(r"<h1>[^<]*[\u3040-\u30ff\u4e00-\u9fff]", r.text)
    r = await client.get("/sessions/987654", headers=HTML)
    assert r.status_code == 404 and _lang(r.text) == "ja" and "研修一覧へ戻る" in r.text


async def test_coordinator_pages_in_english(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await org_world(db, capacity=1)
    csrf = await sign_in(client, "coord@example.jp")
    page = (await client.get("/org", headers=EN)).text
    assert _lang(page) == "en" and "Sessions open for applications" in page and "Bulk application" in page
    assert "Group applications" in page and "Reading Financial Statements" in page
    ja = (await client.get("/org")).text
    assert _lang(ja) == "ja" and "受付中の開催回" in ja and "一括申込（CSV・Excel）" in ja
    client.cookies.set("lang", "en")
    r = await client.post(
        f"/org/{w.id}/upload",
        files={"file": ("list.csv", csv_file(sme_row(w.sme, 0), sme_row(w.sme, 1)), "text/csv")},
        data={"mode": "all_or_nothing", "_csrf_token": csrf},
    )
    assert r.status_code == 200 and _lang(r.text) == "en", r.text[:500]
    assert "confirmed 1" in r.text and "waiting list 1" in r.text and "Results by row" in r.text


async def test_staff_pages_stay_japanese(client: AsyncTestClient[Litestar], db: Database) -> None:
    async with db.write() as s:
        campus = await b.campus(s)
        await b.user(s, "staff@example.jp", role="staff", campuses=[campus])
    await sign_in(client, "staff@example.jp")
    r = await client.get("/staff", headers=EN)
    assert r.status_code == 200 and _lang(r.text) == "ja" and "職員メニュー" in r.text


def test_dates_and_yen_per_language() -> None:
    day, end = date(2026, 6, 8), date(2026, 6, 12)
    assert web.ja_date(day) == "2026年6月8日（月）" and web.yen(66000) == "66,000円"
    assert web.block_range(day, end) == "2026年6月8日（月）〜6月12日（金）"
    assert web.month_label("2026-06") == "2026年6月"
    with i18n.speaking("en"):
        assert web.ja_date(day) == "Mon 8 Jun 2026" and web.ja_date(day, with_weekday=False) == "8 Jun 2026"
        assert web.yen(66000) == "¥66,000"
        assert web.block_range(day, end) == "Mon 8 Jun – Fri 12 Jun 2026"
        assert web.block_range(day, date(2027, 1, 4)) == "Mon 8 Jun 2026 – Mon 4 Jan 2027"
        assert web.date_span(day, end) == "Mon 8 Jun 2026 – Fri 12 Jun 2026"
        assert web.month_label("2026-06") == "June 2026"
        assert i18n.gettext("研修を探す") == "Find a course"
    assert i18n.gettext("研修を探す") == "研修を探す"


def test_accept_language_and_cookie() -> None:
    assert i18n.choose(None, "") == "ja"
    assert i18n.choose(None, "en-US,en;q=0.9") == "en"
    assert i18n.choose(None, "ja,en;q=0.8") == "ja"
    assert i18n.choose("ja", "en") == "ja" and i18n.choose("en", "ja") == "en"
    assert i18n.choose("fr", "en") == "en"


def _extracted() -> set[str]:
    """Every msgid of the templates and of the Python sources, as `make messages` extracts them."""
    root = Path(i18n.LOCALE_DIR).parents[2]
    method_map = [
        ("templates/**.html", "jinja2"),
        ("templates/mail/**.txt", "jinja2"),
        ("src/**.py", "python"),
    ]
    jinja = {"extensions": "jinja2.ext.i18n", "trimmed": "true"}
    options = {"templates/**.html": jinja, "templates/mail/**.txt": {**jinja, "trim_blocks": "true"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None}
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(root), method_map, options, keywords=keywords
    ):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def test_every_text_of_the_templates_has_its_english() -> None:
    assert Path(TEMPLATES_DIR).is_dir()
    with (i18n.LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="en")
    english = {str(m.id): m.string for m in catalog if m.id and not m.fuzzy}
    used = _extracted()
    assert len(used) > 300
    missing = sorted(m for m in used if not english.get(m))
    assert not missing, (
        f"translate these in src/courses/locale/en/LC_MESSAGES/messages.po (make messages): {missing}"
    )
    # the placeholders of each translation are those of its msgid
    for msgid, text in english.items():
        assert isinstance(text, str)
        assert sorted(re.findall(r"%\(\w+\)s", msgid)) == sorted(re.findall(r"%\(\w+\)s", text)), msgid


async def test_the_industry_and_prefecture_choices_follow_the_language(
    client: AsyncTestClient[Litestar],
) -> None:
    english = (await client.get("/register", headers=EN)).text
    assert "E: Manufacturing" in english and ">Tokyo</option>" in english
    assert "製造業" not in english and "東京都" not in english
    japanese = (await client.get("/register")).text
    assert "E: 製造業" in japanese and ">東京都</option>" in japanese

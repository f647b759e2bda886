"""End to end in a real headless Chromium: register → enroll → my page, against a real server.

Uses Debian's chromium (installed by .ci/run) through Playwright; where no browser is installed the
test is skipped and says why.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from courses.core.db import Database
from courses.core.migrate import upgrade
from courses.enrollment import service as enrollment
from courses.models import DormRoom, SessionStatus
from tests.courses import builders as b

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SRC = Path(__file__).resolve().parents[2] / "src"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="no chromium on this machine (.ci/run installs Debian's chromium)"
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# axe-core (through axe-playwright-python) on every page a journey reaches: the WCAG 2.0, 2.1 and 2.2
# A and AA rules, at desktop width and at a phone's 390 px. A "serious" or "critical" violation fails
# the test; the lesser ones are printed (pytest -s shows them).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _axe(page, found: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Audit the page as it stands at both widths (the viewport is put back); violations of impact
    serious or critical are appended to ``found``."""
    from axe_playwright_python.sync_playwright import Axe

    size = page.viewport_size
    path = page.url.split("//", 1)[-1].split("/", 1)[-1]
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        for v in Axe().run(page, options=AXE_OPTIONS).response["violations"]:
            where = [" ".join(map(str, n["target"])) for n in v["nodes"]][:4]
            line = f"/{path} @{viewport['width']}px {v['id']} ({v['impact']}): {v['help']} {where}"
            if v["impact"] in ("serious", "critical"):
                found.append(line)
            else:
                print("axe:", line)
    if size:
        page.set_viewport_size(size)


async def _prepare(url: str) -> dict[str, int]:
    """The journeys' world; returns the ids the pages are reached by."""
    db = Database.connect(url)
    today = date.today()
    async with db.write() as s:
        await b.category(s, "finance")
        campus = await b.campus(s, "tokyo")
        course = await b.course(s, "ZAI01", title_ja="財務諸表の読み方")
        later = await b.session(s, course, campus, start=today + timedelta(days=30), capacity=20)
        await b.user(s, "admin@e2e.example", role="admin")
        await b.user(s, "staff@e2e.example", role="staff", campuses=[campus])
        # a session of next week with lodgers, and a small dormitory, for the planning journey
        for i in range(4):
            s.add(
                DormRoom(campus_id=campus.id or 0, room_number=f"30{i}", floor=3, kind="single", zone="any")
            )
        soon = await b.session(s, course, campus, start=today + timedelta(days=7), capacity=20)
        lodgers = []
        for i in range(3):
            learner = await b.user(s, f"lodger{i}@e2e.example")
            lodgers.append(learner)
            await s.run_sync(
                enrollment.enroll,
                user=learner,
                session_id=soon.id or 0,
                lodging=True,
                now=datetime.now(UTC),
                check_window=False,
                notify=False,
            )
        # every colour the catalog and my page can show, for axe: few seats left, full with a waiting
        # list (lodger0 on it), applications not yet open, cancelled
        other = await b.course(s, "JIN01", title_ja="人材育成の基礎", days=1)
        agencies = await b.course(s, "SIE01", title_ja="支援機関の経営相談", audience="support", days=1)
        await b.session(s, agencies, campus, start=today + timedelta(days=45), lodging=False)
        few = await b.session(s, other, campus, start=today + timedelta(days=40), capacity=4, lodging=False)
        full = await b.session(s, other, campus, start=today + timedelta(days=50), capacity=1, lodging=False)
        await b.session(s, other, campus, start=today + timedelta(days=200), opens=today + timedelta(days=20))
        await b.session(
            s, other, campus, start=today + timedelta(days=60), status=SessionStatus.CANCELLED, lodging=False
        )
        for session_id, who in [(few.id, 1), (full.id, 2), (full.id, 0)]:
            await s.run_sync(
                enrollment.enroll,
                user=lodgers[who],
                session_id=session_id or 0,
                lodging=False,
                now=datetime.now(UTC),
                check_window=False,
                notify=False,
            )
        # a session that ended the day before yesterday (its survey is open) and one that meets today
        # (its attendance sheet shows the check-in QR code), for the survey and attendance pages
        ended = await b.session(s, course, campus, start=today - timedelta(days=3), lodging=False)
        today_session = await b.session(s, other, campus, start=today, lodging=False)
        for session_id, who in [(ended.id, 0), (today_session.id, 1)]:
            await s.run_sync(
                enrollment.enroll,
                user=lodgers[who],
                session_id=session_id or 0,
                lodging=False,
                now=datetime.now(UTC),
                check_window=False,
                notify=False,
            )
        ids = {
            "campus": campus.id or 0,
            "session": later.id or 0,
            "soon": soon.id or 0,
            "full": full.id or 0,
            "ended": ended.id or 0,
            "today": today_session.id or 0,
        }
    await db.dispose()
    return ids


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}"
    upgrade(url)
    (tmp_path / "ids.json").write_text(json.dumps(asyncio.run(_prepare(url))))
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORT": str(port),
        "COURSES_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "e2e-" + "k" * 40,
        # the server runs this checkout's code and templates, not whatever `courses` the venv installed
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "courses", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the server did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def test_register_enroll_my_page(server: str, tmp_path: Path) -> None:
    import re

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(locale="ja-JP")
        bad: list[str] = []
        page.goto(server + "/")
        _axe(page, bad)
        page.get_by_role("link", name="財務諸表の読み方").first.click()
        _axe(page, bad)
        page.get_by_role("link", name="この研修に申し込む").first.click()
        # not signed in: the sign-in page offers registration
        page.wait_for_url("**/login**")
        _axe(page, bad)
        page.locator("#main").get_by_role("link", name="新規登録").click()
        page.wait_for_url("**/register**")
        _axe(page, bad)
        page.fill("#email", "e2e@example.jp")
        page.fill("#password", "browser test password")
        page.fill("#name", "試験 太郎")
        page.fill("#name_kana", "シケン タロウ")
        page.fill("#company", "株式会社ブラウザ")
        page.select_option("#industry", "E")
        page.fill("#employees", "40")
        page.fill("#capital_yen", "10000000")
        page.select_option("#prefecture", "13")
        page.get_by_role("button", name="登録する").click()
        # registered: an emailed link proves the address before the first application
        page.wait_for_url("**/me?msg=registered")
        _axe(page, bad)
        assert "確認のメールをお送りしました" in page.inner_text("main")
        admin = browser.new_page(locale="ja-JP")
        _sign_in(admin, server, "admin@e2e.example")
        admin.goto(server + "/dev/mailbox")
        link = re.search(r"(/account/verify\S*#[A-Za-z0-9_-]{32,})", admin.inner_text("main"))
        assert link is not None, "no verification link in the mailbox"
        admin.close()
        # on a phone: My page with the notice to verify, and the link's page, fit the screen
        page.set_viewport_size(PHONE)
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.goto(server + link.group(1))  # site.js posts the link's code
        page.wait_for_load_state()
        assert "を確認しました" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _axe(page, bad)
        page.set_viewport_size(DESKTOP)
        page.get_by_role("link", name="お申し込みを続ける").click()
        page.wait_for_url("**/sessions/*/apply")
        _axe(page, bad)
        page.check("input[name=lodging]")
        page.get_by_role("button", name="申し込む").click()
        page.wait_for_url("**/me?msg=*")
        _axe(page, bad)
        text = page.inner_text("main")
        page.screenshot(path=str(tmp_path / "my-page.png"), full_page=True)
        browser.close()
    assert bad == [], "\n".join(bad)
    assert "お申し込みを受け付けました" in text
    assert "財務諸表の読み方" in text and "受講決定" in text and "宿泊" in text


# Every element outside a horizontally scrolling table box, whose right edge lies beyond the screen.
OVERFLOWING = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.table-scroll')) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > window.innerWidth + 1) out.push(el.tagName + '.' + el.className);
  }
  return out.slice(0, 5);
}"""
PHONE_PAGES = {
    "admin@e2e.example": ["/console", "/admin/staff", "/admin/organizations", "/admin/audit", "/dev/mailbox"],
    "staff@e2e.example": [
        "/staff",
        "/staff/planning",
        "/console/sessions",
        "/console/instructors",
        "/staff/timetable",
    ],
}


def test_staff_pages_fit_a_phone_screen(server: str, tmp_path: Path) -> None:
    """At 390 px nothing but a table's own scroll box is wider than the screen (screenshots kept)."""
    from playwright.sync_api import sync_playwright

    wide: dict[str, list[str]] = {}
    bad: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for email, paths in PHONE_PAGES.items():
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP")
            page = context.new_page()
            page.goto(server + "/login")
            page.fill("#email", email)
            page.fill("#password", b.PASSWORD)
            page.locator("form[action='/login'] button[type=submit]").click()
            page.wait_for_load_state()
            for path in paths:
                response = page.goto(server + path)
                assert response is not None and response.status == 200, (email, path)
                found = page.evaluate(OVERFLOWING)
                if found or page.evaluate("document.documentElement.scrollWidth") > 391:
                    wide[path] = found
                page.screenshot(path=str(tmp_path / f"phone{path.replace('/', '_')}.png"), full_page=True)
                _axe(page, bad)
            context.close()
        browser.close()
    assert wide == {}, wide
    assert bad == [], "\n".join(bad)


def _sign_in(page, server: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/login")
    page.fill("#email", email)
    page.fill("#password", b.PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_load_state()


def test_planning_journey_run_watch_inspect_publish(server: str, tmp_path: Path) -> None:
    """A dormitory officer starts a rooms run, watches it finish, reads who sleeps where, publishes,
    and the front-desk view fits a phone too."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        page.on("dialog", lambda dialog: dialog.accept())  # the publish button asks first
        bad: list[str] = []
        _sign_in(page, server, "staff@e2e.example")
        page.goto(server + "/staff/planning")
        _axe(page, bad)
        page.fill("#time_limit_s", "5")
        page.get_by_role("button", name="計算を開始").click()
        page.wait_for_url("**/staff/runs/*")
        page.get_by_role("link", name="部屋割りの計画").first.wait_for(timeout=60_000)  # polled, no reload
        assert page.inner_text("#elapsed-text") == "終了"
        page.screenshot(path=str(tmp_path / "run-done.png"), full_page=True)
        _axe(page, bad)
        page.get_by_role("link", name="部屋割りの計画").first.click()
        page.wait_for_url("**/staff/plans/*")
        _axe(page, bad)
        assert "最適（証明済み）" in page.inner_text("main") or "実行可能" in page.inner_text("main")
        plan_url = page.url
        page.get_by_role("link", name="部屋割り表を見る").click()
        page.wait_for_url("**/rooms")
        page.fill("#from", str(date.today() + timedelta(days=7)))
        page.fill("#to", str(date.today() + timedelta(days=13)))
        page.get_by_role("button", name="表示").click()
        page.wait_for_load_state()
        table = page.inner_text(".occupancy")
        page.screenshot(path=str(tmp_path / "occupancy-desktop.png"), full_page=True)
        _axe(page, bad)
        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")
        phone.context.add_cookies(page.context.cookies())
        phone.goto(page.url)
        assert phone.evaluate(OVERFLOWING) == []
        phone.screenshot(path=str(tmp_path / "occupancy-phone.png"), full_page=True)
        page.goto(plan_url)
        page.get_by_role("button", name="この計画を公開する").click()
        page.wait_for_url("**msg=published")
        published = page.inner_text("main")
        page.screenshot(path=str(tmp_path / "plan-published.png"), full_page=True)
        _axe(page, bad)
        browser.close()
    assert bad == [], "\n".join(bad)
    (tmp_path / "occupancy.txt").write_text(table)
    assert table.count("受講 太郎") >= 3, table  # the three lodgers, by name, on their nights
    assert "計画を公開しました" in published


def _roles_pages(ids: dict[str, int]) -> dict[str | None, list[str]]:
    session = f"/sessions/{ids['session']}"
    return {
        None: [
            "/",
            "/?show=upcoming",
            "/campuses/tokyo/calendar",
            session,
            f"/sessions/{ids['full']}",
            "/login",
            "/register",
            "/password/forgot",
            "/privacy",
            "/no-such-page",
        ],
        "lodger0@e2e.example": [
            "/",
            session,
            f"/sessions/{ids['full']}",
            "/me",
            "/account/profile",
            "/account/password",
            "/privacy",
            f"/surveys/{ids['ended']}",
            "/me/check-in",
        ],
        "staff@e2e.example": [
            f"/staff/sessions/{ids['today']}/attendance",
            "/staff/surveys?campus=tokyo",
            "/staff/annual-report",
            "/staff",
            f"/staff/sessions/{ids['soon']}",
            f"/billing/campuses/{ids['campus']}",
            "/console",
            "/console/sessions",
            f"/console/sessions/{ids['soon']}",
            "/console/courses",
            "/console/classrooms",
            "/console/dorm-rooms",
            "/console/instructors",
            "/console/sites",
            "/console/courses/new",
        ],
    }


# The page, and every box of it that scrolls, with content wider than the box: a list of them.
SIDEWAYS = """() => [document.documentElement, ...document.querySelectorAll('body *')]
  .filter(el => (el === document.documentElement || ['auto', 'scroll'].includes(getComputedStyle(el).overflowX))
    && el.scrollWidth > el.clientWidth + 1)
  .map(el => el.tagName + '.' + el.className + ' ' + el.scrollWidth + '>' + el.clientWidth)"""
# pages read on a phone: at 390 px neither they nor a box in them scrolls sideways (my page's
# enrollments are cards there, not a table in a scroll box)
NO_SIDEWAYS = {"/", "/me", "/staff"}


def test_every_page_passes_axe_and_fits_a_phone(server: str, tmp_path: Path) -> None:
    """axe-core as a visitor, a learner and staff; at 390 px the learner's pages do not scroll sideways
    and the session page offers its apply link in the first screenful."""
    from playwright.sync_api import sync_playwright

    ids = json.loads((tmp_path / "ids.json").read_text())
    session = f"/sessions/{ids['session']}"
    bad: list[str] = []
    wide: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for who, paths in _roles_pages(ids).items():
            context = browser.new_context(viewport=DESKTOP, locale="ja-JP")
            page = context.new_page()
            if who:
                _sign_in(page, server, who)
            else:  # a refused sign-in and a registration with errors show their messages
                page.goto(server + "/login")
                page.fill("#email", "nobody@e2e.example")
                page.fill("#password", "wrong password")
                page.locator("form[action='/login'] button[type=submit]").click()
                page.wait_for_load_state()
                _axe(page, bad)
                page.goto(server + "/register")
                page.fill("#email", "not-an-address")
                page.locator("form[action='/register'] button[type=submit]").click()
                page.wait_for_load_state()
                _axe(page, bad)
            for path in paths:
                response = page.goto(server + path)
                assert response is not None and response.status < 500, (who, path)
                if path.startswith(("/surveys/", "/me/check-in", "/staff/")):  # the pages themselves
                    assert response.status == 200, (who, path, response.status)
                _axe(page, bad)
                if path in NO_SIDEWAYS or path == session:
                    page.set_viewport_size(PHONE)
                    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
                    if found := page.evaluate(SIDEWAYS):
                        wide[f"{who} {path}"] = found
                    if path == "/me":  # each enrollment a full-width card, キャンセル on one line
                        cells = (
                            page.locator("main table")
                            .first.locator("td")
                            .evaluate_all("cells => cells.map(td => td.getBoundingClientRect().width)")
                        )
                        assert cells and min(cells) > 300, cells
                        button = page.get_by_role("button", name="キャンセル").first.bounding_box()
                        assert button is not None and button["height"] < 60, button
                    name = f"axe-{(who or 'visitor').split('@')[0]}{path.replace('/', '_')}.png"
                    page.screenshot(path=str(tmp_path / name), full_page=True)
                    page.set_viewport_size(DESKTOP)
            if who == "lodger0@e2e.example":
                # the apply link is within the first screenful of a phone, above the long description
                page.set_viewport_size(PHONE)
                page.goto(server + session)
                link = page.get_by_role("link", name="この研修に申し込む").first
                box = link.bounding_box()
                assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
                assert link.get_attribute("href") == f"{session}/apply"
                # and at desktop width the page shows the one button of the facts box only
                page.set_viewport_size(DESKTOP)
                assert page.get_by_role("link", name="この研修に申し込む").count() == 1
            context.close()
        browser.close()
    assert wide == {}, wide
    assert bad == [], "\n".join(bad)


def test_a_learners_own_account_in_english_on_a_phone(server: str, tmp_path: Path) -> None:
    """In English at 390 px: a forgotten password reset through the development mailbox, the data
    download, and deleting the account, after which the old password signs nobody in."""
    import re

    from playwright.sync_api import sync_playwright

    email, new_password = "lodger2@e2e.example", "a new password 2026"
    bad: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        learner = browser.new_context(viewport=PHONE, locale="en-US")
        page = learner.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(server + "/lang/en?next=/password/forgot")
        assert page.locator("html").get_attribute("lang") == "en"
        _axe(page, bad)
        page.fill("#email", email)
        page.locator("form[action='/password/forgot'] button[type=submit]").click()
        page.wait_for_load_state()
        # the reset link, read from the development mailbox by an administrator
        admin = browser.new_context(viewport=DESKTOP, locale="ja-JP")
        mailbox = admin.new_page()
        _sign_in(mailbox, server, "admin@e2e.example")
        mailbox.goto(server + "/dev/mailbox")
        link = re.search(r"(/password/set#[A-Za-z0-9_-]{32,})", mailbox.inner_text("main"))
        assert link is not None, "no reset link in the mailbox"
        admin.close()
        page.goto(server + link.group(1))
        page.fill("#password", new_password)
        page.fill("#password_confirm", new_password)
        page.locator("form[action='/password/set'] button[type=submit]").click()
        page.wait_for_load_state()
        page.goto(server + "/login")
        page.fill("#email", email)
        page.fill("#password", new_password)
        page.locator("form[action='/login'] button[type=submit]").click()
        page.wait_for_load_state()
        page.goto(server + "/me")
        assert page.url.endswith("/me") and page.locator("html").get_attribute("lang") == "en"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _axe(page, bad)
        # everything held about me, as JSON
        data = page.request.get(server + "/account/data.json").json()
        assert email in json.dumps(data) and "enrollments" in json.dumps(data)
        page.goto(server + "/account/delete")
        _axe(page, bad)
        page.fill("#password", new_password)
        page.locator("form[action='/account/delete'] button[type=submit]").click()
        page.wait_for_load_state()
        page.screenshot(path=str(tmp_path / "account-deleted.png"), full_page=True)
        page.goto(server + "/login")
        page.fill("#email", email)
        page.fill("#password", new_password)
        page.locator("form[action='/login'] button[type=submit]").click()
        page.wait_for_load_state()
        assert "/login" in page.url  # the account is gone: nobody signs in with it
        learner.close()
        browser.close()
    assert bad == [], "\n".join(bad)

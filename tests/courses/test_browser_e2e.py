"""End to end in a real headless Chromium: register → enroll → my page, against a real server.

Uses Debian's chromium (installed by .ci/run) through Playwright; where no browser is installed the
test is skipped and says why.
"""

from __future__ import annotations

import asyncio
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
from courses.models import DormRoom
from tests.courses import builders as b

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
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


async def _prepare(url: str) -> None:
    db = Database.connect(url)
    today = date.today()
    async with db.write() as s:
        await b.category(s, "finance")
        campus = await b.campus(s, "tokyo")
        course = await b.course(s, "ZAI01", title_ja="財務諸表の読み方")
        await b.session(s, course, campus, start=today + timedelta(days=30), capacity=20)
        await b.user(s, "admin@e2e.example", role="admin")
        await b.user(s, "staff@e2e.example", role="staff", campuses=[campus])
        # a session of next week with lodgers, and a small dormitory, for the planning journey
        for i in range(4):
            s.add(
                DormRoom(campus_id=campus.id or 0, room_number=f"30{i}", floor=3, kind="single", zone="any")
            )
        soon = await b.session(s, course, campus, start=today + timedelta(days=7), capacity=20)
        for i in range(3):
            learner = await b.user(s, f"lodger{i}@e2e.example")
            await s.run_sync(
                enrollment.enroll,
                user=learner,
                session_id=soon.id or 0,
                lodging=True,
                now=datetime.now(UTC),
                check_window=False,
                notify=False,
            )
    await db.dispose()


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}"
    upgrade(url)
    asyncio.run(_prepare(url))
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORT": str(port),
        "COURSES_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "e2e-" + "k" * 40,
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
        page.goto(server + "/")
        page.get_by_role("link", name="財務諸表の読み方").first.click()
        page.get_by_role("link", name="この研修に申し込む").click()
        # not signed in: the sign-in page offers registration
        page.locator("#main").get_by_role("link", name="新規登録").click()
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
        page.wait_for_url("**/sessions/*/apply")
        page.check("input[name=lodging]")
        page.get_by_role("button", name="申し込む").click()
        page.wait_for_url("**/me?msg=*")
        text = page.inner_text("main")
        page.screenshot(path=str(tmp_path / "my-page.png"), full_page=True)
        browser.close()
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
            context.close()
        browser.close()
    assert wide == {}, wide


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
        _sign_in(page, server, "staff@e2e.example")
        page.goto(server + "/staff/planning")
        page.fill("#time_limit_s", "5")
        page.get_by_role("button", name="計算を開始").click()
        page.wait_for_url("**/staff/runs/*")
        page.get_by_role("link", name="部屋割りの計画").first.wait_for(timeout=60_000)  # polled, no reload
        assert page.inner_text("#elapsed-text") == "終了"
        page.screenshot(path=str(tmp_path / "run-done.png"), full_page=True)
        page.get_by_role("link", name="部屋割りの計画").first.click()
        page.wait_for_url("**/staff/plans/*")
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
        browser.close()
    (tmp_path / "occupancy.txt").write_text(table)
    assert table.count("受講 太郎") >= 3, table  # the three lodgers, by name, on their nights
    assert "計画を公開しました" in published

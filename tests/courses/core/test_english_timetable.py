"""English pages (issue #18): the session's daily timetable that site.js draws from the API, and the
names site.js gives the tables' scrolling boxes, follow the page's language. The page hands the
script its words (data- attributes rendered through the catalogue); the API stays as it is."""

from __future__ import annotations

import html
import json
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core.db import Database
from courses.core.settings import STATIC_DIR
from courses.models.plans import PlanVersion, SolverRun
from courses.models.timetable import PlannedModule
from tests.courses import builders as b

JAPANESE = re.compile(r"[\u3040-\u30fa\u30fc-\u30ff\u3400-\u9fff\uff01-\uff60「」『』〜、。]")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


async def _published_timetable(db: Database) -> int:
    """A two-day session from Monday 8 June 2026 whose timetable is published: two half-day modules
    on the first day, a whole-day exercise on the second."""
    now = datetime.now(UTC)
    first, second = date(2026, 6, 8), date(2026, 6, 9)
    async with db.write() as s:
        await b.category(s)
        campus = await b.campus(s)
        course = await b.course(s, days=2)
        modules = await b.course_modules(s, course, [("貸借対照表", 1), ("損益計算書", 1), ("事例演習", 2)])
        session = await b.session(s, course, campus, start=first)
        classroom = await b.classroom(s, campus)
        run = SolverRun(
            campus_id=campus.id or 0,
            kinds="timetable",
            date_from=first,
            date_to=second,
            time_limit_s=1,
            status="done",
            created_at=now,
        )
        s.add(run)
        await s.flush()
        plan = PlanVersion(
            run_id=run.id or 0,
            campus_id=campus.id or 0,
            kind="timetable",
            date_from=first,
            date_to=second,
            status="optimal",
            created_at=now,
            published_at=now,
        )
        s.add(plan)
        await s.flush()
        for module, day, half in ((modules[0], first, 0), (modules[1], first, 1), (modules[2], second, 0)):
            s.add(
                PlannedModule(
                    plan_id=plan.id or 0,
                    session_id=session.id or 0,
                    course_module_id=module.id,
                    day=day,
                    half=half,
                    half_days=module.half_days,
                    classroom_id=classroom.id,
                )
            )
    return session.id or 0


def _labels(page: str) -> dict[str, Any]:
    found = re.search(r"<section id=\"daily-timetable\"[^>]* data-labels='([^']*)'", page)
    assert found, page[:3000]
    labels: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return labels


def _body(page: str) -> dict[str, str]:
    found = re.search(r'<body data-table-name="([^"]*)" data-table-suffix="([^"]*)">', page)
    assert found, page[:1000]
    return {"name": html.unescape(found.group(1)), "suffix": html.unescape(found.group(2))}


async def test_the_page_gives_the_script_its_words(client: AsyncTestClient[Litestar], db: Database) -> None:
    session_id = await _published_timetable(db)
    client.cookies.set("lang", "en")
    page = (await client.get(f"/sessions/{session_id}")).text
    assert _labels(page) == {
        "halves": ["Morning", "Afternoon"],
        "whole_day": "All day",
        "days": {"2026-06-08": "Mon 8 Jun 2026", "2026-06-09": "Tue 9 Jun 2026"},
    }
    assert _body(page) == {"name": "Table", "suffix": " (table)"}
    client.cookies.set("lang", "ja")
    page = (await client.get(f"/sessions/{session_id}")).text
    assert _labels(page) == {
        "halves": ["午前", "午後"],
        "whole_day": "終日",
        "days": {"2026-06-08": "2026年6月8日（月）", "2026-06-09": "2026年6月9日（火）"},
    }
    assert _body(page) == {"name": "表", "suffix": "（表）"}


def test_the_script_writes_japanese_only_on_the_staffs_run_page() -> None:
    """Every word site.js writes on a learner's or coordinator's page comes from the page; the only
    Japanese left in it is the staff's planning run page (watchRun), which is Japanese only."""
    script = (Path(STATIC_DIR) / "site.js").read_text(encoding="utf-8")
    start = script.index("function watchRun(")
    end = script.index("\n}\n", start)
    rest = script[:start] + script[end:]
    assert not JAPANESE.findall(rest), JAPANESE.findall(rest)


@pytest.mark.browser
@pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on this machine (.ci/run installs Debian's chromium)"
)
async def test_the_timetable_drawn_in_the_browser_follows_the_page(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    """Chromium runs site.js on the session page as the service answers it (page, script, style and
    API, each fetched through the test client), in English and in Japanese."""
    from playwright.async_api import Route, async_playwright

    session_id = await _published_timetable(db)
    drawn: dict[str, list[str]] = {}
    boxes: dict[str, str | None] = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for lang in ("en", "ja"):
            client.cookies.set("lang", lang)

            async def answer(route: Route) -> None:
                path = route.request.url.removeprefix("http://courses.test")
                if not path.startswith(("/sessions/", "/static/", "/api/sessions/")):
                    await route.abort()
                    return
                r = await client.get(path)
                await route.fulfill(status=r.status_code, headers=dict(r.headers), body=r.content)

            page = await browser.new_page()
            await page.route("**/*", answer)
            await page.goto(f"http://courses.test/sessions/{session_id}")
            await page.wait_for_selector("#daily-timetable:not([hidden]) tbody tr")
            drawn[lang] = await page.locator("#daily-timetable tbody tr").all_inner_texts()
            boxes[lang] = await page.locator("#daily-timetable .table-scroll").get_attribute("aria-label")
            await page.close()
        await browser.close()
    assert [row.split("\t")[:3] for row in drawn["en"]] == [
        ["Mon 8 Jun 2026", "Morning", "貸借対照表"],
        ["Mon 8 Jun 2026", "Afternoon", "損益計算書"],
        ["Tue 9 Jun 2026", "All day", "事例演習"],
    ]
    assert boxes["en"] == "Timetable (table)"
    assert [row.split("\t")[:3] for row in drawn["ja"]] == [
        ["2026年6月8日（月）", "午前", "貸借対照表"],
        ["2026年6月8日（月）", "午後", "損益計算書"],
        ["2026年6月9日（火）", "終日", "事例演習"],
    ]
    assert boxes["ja"] == "時間割（表）"

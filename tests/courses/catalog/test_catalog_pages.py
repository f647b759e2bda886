"""The public catalog pages render in Japanese with filters, paging and seats left."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core.db import Database


async def test_catalog_opens_on_upcoming_sessions(
    seeded: Database, client: AsyncTestClient[Litestar]
) -> None:
    r = await client.get("/")
    assert r.status_code == 200
    html = r.text
    assert '<html lang="ja">' in html and "研修を探す" in html
    assert "残席" in html and 'name="viewport"' in html
    assert "次へ" in html  # more than one page


async def test_catalog_filters_and_keyword(seeded: Database, client: AsyncTestClient[Litestar]) -> None:
    r = await client.get("/", params={"campus": "kyushu", "q": "財務"})
    assert r.status_code == 200
    assert "九州校" in r.text and "財務" in r.text
    assert "旭川校</span>" not in r.text


async def test_catalog_bad_filter_shows_message(seeded: Database, client: AsyncTestClient[Litestar]) -> None:
    r = await client.get("/", params={"month": "2026-99"})
    assert r.status_code == 400
    assert "YYYY-MM" in r.text and "研修を探す" in r.text


async def test_session_page(seeded: Database, client: AsyncTestClient[Litestar]) -> None:
    items = (await client.get("/api/sessions", params={"status": "published", "per_page": 1})).json()["items"]
    sid = items[0]["id"]
    r = await client.get(f"/sessions/{sid}")
    assert r.status_code == 200
    for text in ("日程", "会場", "受講料", "定員", "残席", items[0]["course_title"], "申込期間"):
        assert text in r.text


async def test_unknown_page_is_a_japanese_404(seeded: Database, client: AsyncTestClient[Litestar]) -> None:
    r = await client.get("/sessions/999999", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert "見つかりません" in r.text


async def test_static_stylesheet(client: AsyncTestClient[Litestar]) -> None:
    r = await client.get("/static/site.css")
    assert r.status_code == 200 and "@media" in r.text


async def test_head_answers_like_get_without_a_body(client: AsyncTestClient[Litestar], db: Database) -> None:
    for path, media in [
        ("/", "text/html"),
        ("/api/sessions", "application/json"),
        ("/health", "application/json"),
    ]:
        get = await client.get(path)
        head = await client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.headers["content-type"].startswith(media), path
        assert head.content == b"", path
    r = await client.head("/api/sessions/999999")
    assert r.status_code == 404 and r.content == b""
    r = await client.head("/api/auth/token")  # a POST-only route
    assert r.status_code == 405 and "POST" in r.headers["allow"]

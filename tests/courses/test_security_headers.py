"""Security headers on every response, and templates that need no inline script or style."""

from __future__ import annotations

import re
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core.security import CSP

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _assert_headers(r: object, csp: str | None = CSP) -> None:
    headers = r.headers  # type: ignore[attr-defined]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    if csp:
        assert policy == csp and "'unsafe-inline'" not in policy


async def test_every_kind_of_response_carries_the_headers(client: AsyncTestClient[Litestar]) -> None:
    for path in [
        "/",
        "/login",
        "/health",
        "/api/campuses",
        "/static/site.css",
        "/static/site.js",
        "/no-such-page",
        "/api/no-such-thing",
        "/me",
        "/api/auth/me",
    ]:
        r = await client.get(path, follow_redirects=False)
        _assert_headers(r)
    _assert_headers(await client.head("/"))
    _assert_headers(await client.post("/api/auth/token", content=b"{not json"))
    _assert_headers(await client.delete("/api/campuses"))  # 405
    r = await client.get("/schema/openapi.json")
    _assert_headers(r, csp=None)


async def test_the_favicon_is_served_and_linked(client: AsyncTestClient[Litestar]) -> None:
    """The SVG mark is a static file the CSP admits (img-src 'self'); /favicon.ico, which browsers ask
    for by themselves, leads to it instead of a 404."""
    r = await client.get("/static/favicon.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in r.text and "中" in r.text
    _assert_headers(r)
    r = await client.get("/favicon.ico", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/static/favicon.svg"
    _assert_headers(r)
    assert (await client.get("/favicon.ico")).status_code == 200
    page = (await client.get("/")).text
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page


def test_templates_hold_no_inline_script_style_or_handlers() -> None:
    offenders = []
    for page in TEMPLATES.rglob("*.html"):
        text = page.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\son[a-z]+\s*=", r"\sstyle\s*=", r"<style\b"):
            offenders += [f"{page.relative_to(TEMPLATES)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert offenders == []


def test_the_access_log_masks_secrets_in_urls() -> None:
    """uvicorn logs the request line; the calendar feed's secret and an old-style ?token= never reach it."""
    import logging

    from courses.core.security import MaskSecretsInAccessLog

    def line(path: str) -> str:
        record = logging.LogRecord(
            "uvicorn.access",
            logging.INFO,
            __file__,
            1,
            '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5000", "GET", path, "1.1", 200),
            None,
        )
        MaskSecretsInAccessLog().filter(record)
        return record.getMessage()

    assert line("/calendar/AbC-d_9xYz.ics") == '127.0.0.1:5000 - "GET /calendar/***.ics HTTP/1.1" 200'
    assert "s3cret" not in line("/password/set?token=s3cret&x=1") and "x=1" in line(
        "/password/set?token=s3cret&x=1"
    )
    assert line("/catalog?q=token") == '127.0.0.1:5000 - "GET /catalog?q=token HTTP/1.1" 200'

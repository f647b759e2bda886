"""Certificates of completion (issue #19): only after the session's end and for a learner who
completed it, one serial per enrollment however often or concurrently asked, unique across the
school, printed in the PDF with the verification URL; the public page tells valid or not found."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.attendance import certificates
from courses.core.db import Database
from courses.models import Enrollment
from courses.models.attendance import Certificate
from tests.courses import builders as b
from tests.courses.attendance.test_attendance import DAYS, _attend, at, sign_in, world

AFTER = date(2026, 6, 11)  # the day after the session's last day


def _pdf_text(content: bytes) -> bytes:
    try:
        import pypdf  # noqa: F401  (not installed here: the serial is looked for in the bytes)
    except ImportError:
        return content
    import io

    from pypdf import PdfReader

    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).encode()


async def _completed_world(db: Database, client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    w = await world(db)
    # l1 attends everything; l2 misses three half-days (7 of 10: not completed)
    await _attend(client, w, [(DAYS[0], "am"), (DAYS[1], "pm"), (DAYS[2], "am")])
    return w


async def test_fiscal_year_and_serial() -> None:
    assert certificates.fiscal_year(date(2027, 3, 31)) == 2026
    assert certificates.fiscal_year(date(2026, 4, 1)) == 2026
    assert certificates.serial_of(2026, "tokyo", 123) == "FY2026-TOK-000123"


async def test_learner_downloads_one_certificate_after_the_end(
    app: Litestar, db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _completed_world(db, client)
    url = f"/me/enrollments/{w['e_l1']}/certificate.pdf"
    await sign_in(client, w["c_l1"])
    at(app, DAYS[-1], 16)  # the last day: not yet for the learner
    r = await client.get(url, follow_redirects=False)
    assert r.status_code in (302, 303) and "certificate_unavailable" in r.headers["location"]
    at(app, AFTER, 10)
    page = (await client.get("/me")).text
    assert url in page and "出席 10 / 10コマ" in page
    first = await client.get(url)
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    assert first.content.startswith(b"%PDF")
    async with db.read() as s:
        cert = (await s.exec(select(Certificate))).one()
    assert cert.serial == "FY2026-TOK-000001" and cert.learner_name == w["l1"].name
    assert cert.serial.encode() in _pdf_text(first.content)
    assert f"/certificates/{cert.serial}".encode() in first.content
    second = await client.get(url)
    assert second.status_code == 200 and cert.serial.encode() in second.content
    # a certificate already issued is only read: the download opens no write transaction
    writes = app.state.db.writes
    third = await client.get(url)
    assert app.state.db.writes == writes
    assert third.status_code == 200 and cert.serial.encode() in third.content
    async with db.read() as s:
        assert len(list(await s.exec(select(Certificate)))) == 1
    assert cert.serial in (await client.get("/me")).text

    # l2 did not complete; someone else's enrollment is not found
    await sign_in(client, w["c_l2"])
    r = await client.get(f"/me/enrollments/{w['e_l2']}/certificate.pdf", follow_redirects=False)
    assert r.status_code in (302, 303) and "certificate_unavailable" in r.headers["location"]
    assert "修了証書は、修了要件を満たした研修の終了後に" in (await client.get(r.headers["location"])).text
    assert (await client.get(url, follow_redirects=False)).status_code == 404


async def _issue_concurrently(db: Database, enrollment_ids: list[int], now: Any) -> list[Certificate]:
    """Issue in one write transaction per call, all at once. On PostgreSQL every transaction has
    looked for the certificate (and found none) before any of them inserts, so the losers' inserts
    wait for the winner's commit and fail: the retry in a SAVEPOINT is what gives one serial. SQLite
    serialises the writers (a barrier inside them would never open)."""
    barrier = None if db.sqlite else asyncio.Barrier(len(enrollment_ids))

    async def one(enrollment_id: int) -> Certificate:
        async with db.write() as s:
            row = await s.get(Enrollment, enrollment_id)
            assert row is not None
            if barrier is not None:  # every transaction looks before any inserts
                assert await certificates.find(s, enrollment_id) is None
                await barrier.wait()
            return await certificates.issue(s, row, now)

    return list(await asyncio.gather(*(one(eid) for eid in enrollment_ids)))


async def test_concurrent_issues_give_one_serial(
    app: Litestar, db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _completed_world(db, client)
    now = at(app, AFTER, 10)
    got = await _issue_concurrently(db, [w["e_l1"]] * 4, now)
    assert len({c.serial for c in got}) == 1 and len({c.id for c in got}) == 1
    async with db.read() as s:
        assert len(list(await s.exec(select(Certificate)))) == 1
    async with db.write() as s:  # asked again later: the same row
        row = await s.get(Enrollment, w["e_l1"])
        assert row is not None
        assert (await certificates.issue(s, row, now)).serial == got[0].serial


async def test_concurrent_issues_for_different_enrollments_give_distinct_serials(
    app: Litestar, db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await world(db)
    await _attend(client, w, [])  # both complete
    now = at(app, AFTER, 10)
    got = await _issue_concurrently(db, [w["e_l1"], w["e_l2"]] * 3, now)
    by_enrollment = {c.enrollment_id: c.serial for c in got}
    assert all(by_enrollment[c.enrollment_id] == c.serial for c in got)  # one serial per enrollment
    assert sorted(by_enrollment.values()) == ["FY2026-TOK-000001", "FY2026-TOK-000002"]
    async with db.read() as s:
        rows = list(await s.exec(select(Certificate)))
    assert sorted(c.serial for c in rows) == sorted(by_enrollment.values())


async def test_verification_page_shows_valid_or_not_found(
    app: Litestar, db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _completed_world(db, client)
    at(app, AFTER, 10)
    r = await client.post(
        f"/api/staff/sessions/{w['session'].id}/certificates", headers=b.bearer(w["t_staff"])
    )
    assert r.status_code == 200 and [c["enrollment_id"] for c in r.json()] == [w["e_l1"]]
    serial = r.json()[0]["serial"]
    client.cookies.clear()  # anyone may verify, signed in or not
    page = await client.get(f"/certificates/{serial}")
    assert page.status_code == 200 and "有効です" in page.text
    assert w["l1"].name in page.text and "財務諸表の読み方" in page.text and "2026年6月1日" in page.text
    assert w["l1"].email not in page.text and "株式会社テスト" not in page.text  # nothing more
    missing = await client.get("/certificates/FY2026-TOK-999999")
    assert (
        missing.status_code == 404 and "見つかりません" in missing.text and w["l1"].name not in missing.text
    )


async def test_staff_print_every_certificate_of_a_session(
    app: Litestar, db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await world(db)
    await _attend(client, w, [])  # both complete
    url = f"/staff/sessions/{w['session'].id}/certificates.pdf"
    await sign_in(client, w["c_other_staff"])
    at(app, AFTER, 10)
    assert (await client.get(url)).status_code == 403
    await sign_in(client, w["c_staff"])
    at(app, DAYS[0], 10)  # before the last day: back to the page with the reason
    r = await client.get(url, follow_redirects=False)
    assert r.status_code in (302, 303) and "error=" in r.headers["location"]
    at(app, DAYS[-1], 15)  # from the last day (the closing ceremony)
    r = await client.get(url)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    async with db.read() as s:
        serials = sorted(c.serial for c in await s.exec(select(Certificate)))
    assert serials == ["FY2026-TOK-000001", "FY2026-TOK-000002"]
    assert all(x.encode() in _pdf_text(r.content) for x in serials)
    again = await client.get(url)  # printing again issues nothing new
    assert all(x.encode() in again.content for x in serials)
    api = await client.post(
        f"/api/staff/sessions/{w['session'].id}/certificates", headers=b.bearer(w["t_staff"])
    )
    assert sorted(c["serial"] for c in api.json()) == serials
    refused = await client.post(
        f"/api/staff/sessions/{w['session'].id}/certificates", headers=b.bearer(w["t_other_staff"])
    )
    assert refused.status_code == 403
    async with db.read() as s:
        assert len(list(await s.exec(select(Certificate)))) == 2
    page = (await client.get(f"/staff/sessions/{w['session'].id}/attendance")).text
    assert "FY2026-TOK-000001" in page and "修了証書を印刷" in page

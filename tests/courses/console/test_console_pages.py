"""The staff console in the browser: forms show messages next to fields and refuse stale saves."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core.db import Database
from tests.courses.console.test_console_api import world


async def _csrf(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    await client.get("/")
    return {"x-csrftoken": client.cookies.get("csrftoken", "")}


async def test_pages_render_and_link_from_dashboard(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await world(db)
    r = await client.get("/staff", headers=w.staff)
    assert 'href="/console"' in r.text
    for url in [
        "/console",
        "/console/sessions",
        f"/console/sessions/{w.session_id}",
        "/console/sessions/new",
        "/console/classrooms",
        f"/console/classrooms/{w.classroom_id}",
        f"/console/dorm-rooms/{w.dorm_id}",
        "/console/instructors",
        f"/console/instructors/{w.instructor_id}",
        "/console/sites/import",
        "/console/courses",
    ]:
        r = await client.get(url, headers=w.staff)
        assert r.status_code == 200, url
    for url in ["/admin/staff", "/admin/audit", "/admin/staff/new"]:
        assert (await client.get(url, headers=w.admin)).status_code == 200, url


async def test_form_errors_next_to_field_and_stale_save(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await world(db)
    headers = {**w.staff, **await _csrf(client)}
    url = f"/console/classrooms/{w.classroom_id}"
    r = await client.post(url, data={"name": "第1研修室", "seats": "-1", "version": "1"}, headers=headers)
    assert r.status_code == 400
    assert '<p class="field-error" id="e-seats">座席数は1以上500以下で入力してください。</p>' in r.text
    r = await client.post(url, data={"name": "第1研修室", "seats": "44", "version": "1"}, headers=headers)
    assert r.status_code in (302, 303) or r.status_code == 200
    r = await client.post(url, data={"name": "第1研修室", "seats": "50", "version": "1"}, headers=headers)
    assert r.status_code == 409 and "他の職員が先に" in r.text
    r = await client.get("/admin/audit", params={"entity": "classrooms"}, headers=w.admin)
    assert "seats" in r.text and "44" in r.text


async def test_outage_form_refuses_a_far_off_end_date(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await world(db)
    headers = {**w.staff, **await _csrf(client)}
    r = await client.post(
        f"/console/room-outages/dorm-rooms/{w.dorm_id}",
        data={"start_date": "2026-07-01", "end_date": "9999-12-31"},
        headers=headers,
    )
    assert r.status_code == 400 and "終了日は2025-04-01から2032-03-31までの日付にしてください" in r.text
    assert 'id="oe-end_date"' in r.text
    assert "使用停止" in r.text


async def test_a_refused_archive_says_why_on_the_record_page(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await world(db)
    headers = {**w.staff, **await _csrf(client)}
    url = f"/console/classrooms/{w.classroom_id}"
    r = await client.post(f"{url}/archive", data={"version": "99", "archived": "true"}, headers=headers)
    assert r.status_code == 200 and "他の職員が先に" in r.text  # followed to the page, which says why

"""Campus scoping, proved over the route table: every console route (API and pages, present and
future) refuses anonymous callers (401), learners (403) and staff of another campus (403/404)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core.db import Database
from tests.courses import builders as b
from tests.courses.console.test_console_api import World, world

PREFIXES = ("/api/console", "/api/admin", "/console", "/admin")
# Records shared by every campus, and pages that hold no campus data: other staff may use them.
SHARED = re.compile(r"^(/api)?/console/?(courses(/.*)?)?$|/new$|/import$")

BODIES: dict[str, dict[str, Any]] = {
    "classrooms": {"campus": "tokyo", "name": "新研修室", "seats": "20"},
    "dorm-rooms": {"campus": "tokyo", "room_number": "999", "floor": "9", "kind": "single", "zone": "any"},
    "instructors": {
        "name": "新 講師",
        "name_kana": "シン コウシ",
        "kind": "staff",
        "home_prefecture": "13",
        "home_campus": "tokyo",
        "subjects": "finance",
        "max_modules_per_month": "2",
        "fee_per_module_yen": "0",
        "travel_cost_yen": "0",
    },
    "sites": {
        "campus": "tokyo",
        "name": "新実習先",
        "company_name": "株式会社新",
        "industry": "E",
        "travel_minutes": "20",
        "capacity_per_day": "5",
    },
    "sessions": {
        "campus": "tokyo",
        "course": "ZAI01",
        "capacity": "10",
        "blocks": "2026-11-02..2026-11-03",
        "application_opens": "2026-06-01",
        "application_closes": "2026-10-26",
    },
    "outages": {"start_date": "2026-07-01", "end_date": "2026-07-02"},
}


def _routes(app: Litestar) -> list[tuple[str, str]]:
    out = []
    for route in app.routes:
        if not route.path.startswith(PREFIXES):
            continue
        for method in sorted(getattr(route, "methods", set()) - {"OPTIONS", "HEAD"}):
            out.append((method, route.path))
    return out


def _url(path: str, w: World) -> str:
    ids = {
        "classrooms": w.classroom_id,
        "dorm-rooms": w.dorm_id,
        "instructors": w.instructor_id,
        "sites": w.site_id,
        "sessions": w.session_id,
        "courses": 1,
        "staff": 1,
        "outages": 1,
    }
    segment = next((k for k in ids if f"/{k}/" in path or path.endswith(f"/{k}")), "classrooms")
    path = re.sub(r"\{kind:str\}", "classrooms", path)
    path = re.sub(r"\{action:str\}", "publish", path)
    path = re.sub(r"\{(row_id|room_id|session_id|user_id):int\}", str(ids[segment]), path)
    path = re.sub(r"\{outage_id:int\}", "1", path)
    path = re.sub(r"\{organization_id:int\}", "1", path)
    return path


def _body(path: str) -> dict[str, Any]:
    for key, body in BODIES.items():
        if (path.endswith("/outages") or "room-outages" in path) and key == "outages":
            return {**body, "version": "1"}
        if (
            f"/{key}" in path
            and key != "outages"
            and not path.endswith("/outages")
            and "room-outages" not in path
        ):
            return {**body, "version": "1"}
    return {"version": "1"}


async def _call(client: AsyncTestClient[Litestar], method: str, url: str, headers: dict[str, str]) -> int:
    path = url.split("?")[0]
    params = {"campus": "tokyo"} if method == "GET" else None
    body = _body(path)
    if url.startswith("/api/"):
        if method in {"GET", "DELETE"}:
            r = await client.request(method, url, params=params, headers=headers)
        elif path.endswith("/import"):
            r = await client.post(url, files={"file": ("x.csv", b"campus,name\ntokyo,x\n")}, headers=headers)
        else:
            # the API decodes each body into its own type: a create sends the record, an edit or a
            # status change the version it read, so that only the campus check can refuse it
            editing = method == "PATCH" or path.endswith(("/publish", "/close", "/cancel", "/archive"))
            api_body = {"version": 1} if editing else {k: v for k, v in body.items() if k != "version"}
            if path.endswith("/deactivate") or path.endswith("/copy"):
                api_body = {}
            r = await client.request(method, url, json=api_body, headers=headers)
        return r.status_code
    await client.get("/")
    csrf = {"x-csrftoken": client.cookies.get("csrftoken", "")}
    if method == "GET":
        r = await client.get(url, params=params, headers=headers)
    elif path.endswith("/import"):
        r = await client.post(
            url, files={"file": ("x.csv", b"campus,name\ntokyo,x\n")}, headers={**headers, **csrf}
        )
    else:
        r = await client.post(url, data={k: str(v) for k, v in body.items()}, headers={**headers, **csrf})
    return r.status_code


async def test_route_table_is_covered(app: Litestar) -> None:
    routes = _routes(app)
    assert len(routes) > 40
    assert ("PATCH", "/api/console/sessions/{session_id:int}") in routes


@pytest.mark.parametrize("who", ["anonymous", "learner", "other_staff"])
async def test_every_console_route_is_scoped(
    app: Litestar, client: AsyncTestClient[Litestar], db: Database, who: str
) -> None:
    w = await world(db)
    async with db.write() as s:
        from courses.models.resources import RoomOutage

        s.add(
            RoomOutage(
                campus_id=w.tokyo_id,
                classroom_id=w.classroom_id,
                start_date=b.date(2026, 8, 1),
                end_date=b.date(2026, 8, 2),
            )
        )
    headers = {"anonymous": {}, "learner": w.learner, "other_staff": w.other}[who]
    failures = []
    for method, path in _routes(app):
        url = _url(path, w)
        status = await _call(client, method, url, headers)
        admin_only = path.startswith(("/api/admin", "/admin"))
        if who == "anonymous":
            ok = status == 401
        elif who == "learner" or admin_only:
            ok = status == 403
        elif SHARED.search(path):
            ok = True
        else:
            ok = status in (403, 404)
        if not ok:
            failures.append((who, method, url, status))
    assert failures == []

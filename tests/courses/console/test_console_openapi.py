"""The console API's answers are described in the OpenAPI document field by field: every JSON body
it answers with is a named schema (a msgspec Struct), not a bare object."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core.db import Database
from tests.courses.console.test_console_api import world

Client = AsyncTestClient[Litestar]
CONSOLE = ("/api/console/", "/api/admin/")  # the routes of courses.console.api


async def _document(client: Client) -> dict[str, Any]:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def _component(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    name = schema["$ref"].removeprefix("#/components/schemas/")
    return doc["components"]["schemas"][name]  # type: ignore[no-any-return]


def _answer(doc: dict[str, Any], path: str, method: str, status: str = "200") -> dict[str, Any]:
    """The component schema of one operation's JSON answer."""
    response = doc["paths"][path][method]["responses"][status]
    return _component(doc, response["content"]["application/json"]["schema"])


def _named(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "array":
        schema = schema.get("items") or {}
    return str(schema.get("$ref", "")).startswith("#/components/schemas/")


async def test_every_console_answer_refers_to_a_named_schema(client: Client) -> None:
    doc = await _document(client)
    answers = 0
    bare = []
    for path, operations in doc["paths"].items():
        if not path.startswith(CONSOLE):
            continue
        for method, op in operations.items():
            for status, response in op["responses"].items():
                content = response.get("content", {}).get("application/json")
                if not status.startswith("2") or content is None:
                    continue  # problems, 204 and CSV downloads
                answers += 1
                if not _named(content["schema"]):
                    bare.append(f"{method.upper()} {path} {status}: {content['schema']}")
    assert bare == []
    assert answers >= 45  # five kinds of record, outages, sessions, organisations, staff, audit log
    # a refused import (422) answers the same report as a preview
    imports = doc["paths"]["/api/console/sites/import"]["post"]["responses"]
    assert (
        imports["422"]["content"]["application/json"]["schema"]
        == (imports["200"]["content"]["application/json"]["schema"])
    )


async def test_records_and_sessions_list_their_fields(client: Client) -> None:
    doc = await _document(client)
    room = _answer(doc, "/api/console/classrooms/{row_id}", "get")
    assert set(room["properties"]) == {"id", "campus_id", "campus", "name", "seats", "archived", "version"}
    assert room["properties"]["seats"]["type"] == "integer"
    assert room["properties"]["seats"]["title"] == "座席数"
    assert set(room["required"]) == set(room["properties"])
    listed = _answer(doc, "/api/console/classrooms", "get")
    assert set(listed["properties"]) == {"items", "count"}
    assert _component(doc, listed["properties"]["items"]["items"]) == room

    instructor = _answer(doc, "/api/console/instructors/{row_id}", "get")
    availability = instructor["properties"]["availability"]
    assert availability["type"] == "array" and _named(availability)
    assert {"home_campus", "home_campus_id", "subjects", "version"} <= set(instructor["properties"])

    session = _answer(doc, "/api/console/sessions/{session_id}", "get")
    assert {"code", "course_code", "blocks", "status", "capacity", "seats_left"} <= set(session["properties"])
    assert {"version", "confirmed_count", "waitlisted_count"} <= set(session["required"])
    assert "application" not in session["properties"]  # the console's sessions are not for a day
    changed = _answer(doc, "/api/console/sessions/{session_id}", "patch")
    assert set(changed["properties"]) == set(session["properties"]) | {"promoted", "notified"}
    cancelled = _answer(doc, "/api/console/sessions/{session_id}/cancel", "post")
    assert set(cancelled["properties"]) == set(session["properties"]) | {"enrollments_cancelled"}

    report = _answer(doc, "/api/console/sites/import", "post")
    assert set(report["properties"]) == {"rows", "created", "updated", "applied", "errors", "preview"}
    problem = _component(doc, report["properties"]["errors"]["items"])
    assert set(problem["required"]) == {"field", "message"}  # a row number only where there is one

    log = _answer(doc, "/api/admin/audit-log", "get")
    assert set(log["properties"]) == {"items", "total", "page", "per_page"}
    staff = _answer(doc, "/api/admin/staff", "post", "201")
    assert set(staff["properties"]) == {
        "id",
        "email",
        "name",
        "name_kana",
        "role",
        "campuses",
        "active",
        "version",
    }


async def test_the_documented_fields_are_the_answered_keys(client: Client, db: Database) -> None:
    doc = await _document(client)
    w = await world(db)
    for url, path in [
        (f"/api/console/classrooms/{w.classroom_id}", "/api/console/classrooms/{row_id}"),
        (f"/api/console/dorm-rooms/{w.dorm_id}", "/api/console/dorm-rooms/{row_id}"),
        (f"/api/console/instructors/{w.instructor_id}", "/api/console/instructors/{row_id}"),
        (f"/api/console/sites/{w.site_id}", "/api/console/sites/{row_id}"),
        (f"/api/console/sessions/{w.session_id}", "/api/console/sessions/{session_id}"),
    ]:
        r = await client.get(url, headers=w.staff)
        assert r.status_code == 200, r.text
        assert set(r.json()) == set(_answer(doc, path, "get")["properties"]), url
    course = (await client.get("/api/console/courses", headers=w.staff)).json()["items"][0]
    schema = _component(doc, _answer(doc, "/api/console/courses", "get")["properties"]["items"]["items"])
    assert set(course) == set(schema["properties"])

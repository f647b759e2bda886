"""The OpenAPI document states every status and content type an API operation answers with
(``make fuzz`` checks the answers against it; this checks the document itself)."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

PROBLEM = "application/problem+json"


async def _document(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


async def test_every_operation_documents_its_problem_responses(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    doc = await _document(client)
    access = {
        (route.path, method): handler.opt.get("access")
        for route in app.routes
        for handler in route.route_handlers
        for method in getattr(handler, "http_methods", ())
    }
    missing = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            wanted = {400, 404, 503}
            route_path = next(p for p, m in access if re.sub(r"\{(\w+):\w+\}", r"{\1}", p) == path)
            if access[(route_path, method.upper())] != "public":
                wanted |= {401, 403}
            if method != "get":
                wanted |= {409, 422}
            for status in sorted(wanted):
                content = op["responses"].get(str(status), {}).get("content", {})
                if (status != 422 or "/import" not in path) and PROBLEM not in content:
                    missing.append(f"{method.upper()} {path} {status}")
    assert missing == []
    assert "Problem" in doc["components"]["schemas"]


async def test_statuses_besides_the_usual_one_are_documented(client: AsyncTestClient[Litestar]) -> None:
    doc = await _document(client)
    assert "202" in doc["paths"]["/api/staff/solver-runs"]["post"]["responses"]
    imports = doc["paths"]["/api/console/sites/import"]["post"]["responses"]
    assert "application/json" in imports["422"]["content"]  # the report of a refused import
    bulk = doc["paths"]["/api/organizations/{organization_id}/bulk-registrations"]["post"]["responses"]
    assert {"200", "201"} <= set(bulk)  # the preview, and the registration
    assert {"401", "429"} <= set(doc["paths"]["/api/auth/token"]["post"]["responses"])  # wrong password


async def test_file_downloads_document_their_content_type(client: AsyncTestClient[Litestar]) -> None:
    """A path ending in .csv, .xlsx, .ics or /pdf answers that type, and the document says so."""
    doc = await _document(client)
    expected = {
        ".csv": "text/csv",
        ".xlsx": "spreadsheetml",
        ".ics": "text/calendar",
        "/pdf": "application/pdf",
    }
    wrong = []
    for path, operations in doc["paths"].items():
        for suffix, kind in expected.items():
            if path.endswith(suffix) and "get" in operations:
                types = list(operations["get"]["responses"]["200"].get("content", {}))
                if not any(kind in t for t in types):
                    wrong.append((path, types))
    assert wrong == []


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


async def test_every_request_body_is_described_field_by_field(client: AsyncTestClient[Litestar]) -> None:
    """No operation takes an untyped object: each body lists its fields, each field has a type, and
    the JSON bodies name their fields in Japanese and give an example."""
    doc = await _document(client)
    bodies = 0
    untyped = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                bodies += 1
                schema = _resolve(doc, content["schema"])
                props = schema.get("properties") or {}
                if not props:
                    untyped.append(f"{method.upper()} {path} {media}: no fields")
                    continue
                for name, prop in props.items():
                    prop = _resolve(doc, prop)
                    if not ({"type", "oneOf", "anyOf", "enum", "const"} & set(prop)):
                        untyped.append(f"{method.upper()} {path}: {name} has no type")
                if media == "application/json":
                    titled = [n for n, p in props.items() if _resolve(doc, p).get("title")]
                    if len(titled) < len(props) - 1:  # a bare version number may stay untitled
                        untyped.append(f"{method.upper()} {path}: fields without a Japanese title")
    assert untyped == []
    assert bodies >= 30


async def test_a_typed_field_states_its_bounds(client: AsyncTestClient[Litestar]) -> None:
    doc = await _document(client)
    body = doc["paths"]["/api/console/classrooms"]["post"]["requestBody"]["content"]["application/json"]
    schema = _resolve(doc, body["schema"])
    seats = schema["properties"]["seats"]
    assert (seats["type"], seats["minimum"], seats["maximum"], seats["title"]) == (
        "integer",
        1,
        500,
        "座席数",
    )
    assert set(schema["required"]) == {"campus", "name", "seats"}
    session = _resolve(
        doc,
        doc["paths"]["/api/console/sessions/{session_id}"]["patch"]["requestBody"]["content"][
            "application/json"
        ]["schema"],
    )
    assert session["required"] == ["version"]  # an edit sends only what changes


async def test_every_json_answer_is_a_named_schema(client: AsyncTestClient[Litestar]) -> None:
    """The typed API: every 2xx JSON body of every operation is a component schema (or a list of
    one) whose properties are typed, never a bare object."""
    doc = await _document(client)
    components = doc["components"]["schemas"]
    bare, untyped = [], []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            for status, response in op["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if not status.startswith("2") or schema is None:
                    continue
                target = schema.get("items", {}) if schema.get("type") == "array" else schema
                ref = target.get("$ref", "")
                if not ref:
                    bare.append(f"{method.upper()} {path} {status}")
                    continue
                for name, prop in components[ref.rsplit("/", 1)[1]].get("properties", {}).items():
                    if not prop or prop == {"type": "object"}:
                        untyped.append(f"{ref}.{name}")
    assert bare == []
    assert untyped == []

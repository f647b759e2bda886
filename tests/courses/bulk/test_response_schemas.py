"""The JSON answers of the organisations', accounts', enrollments' and surveys' API are described field
by field in the OpenAPI document: each 2xx JSON response names a component schema (``$ref``, or an
array of them) instead of a bare object. File downloads (CSV, xlsx, ics, pdf) are not JSON."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

MODULES = (
    "courses.app",
    "courses.bulk.api",
    "courses.learners.api",
    "courses.accounts.api",
    "courses.surveys.api",
    "courses.enrollment.",
)
TYPED = {"type", "$ref", "oneOf", "anyOf", "allOf", "enum", "const"}


def _operations(app: Litestar) -> set[tuple[str, str]]:
    """(path as the document writes it, method) of every documented route defined in ``MODULES``."""
    found = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            module = getattr(handler.fn, "__module__", "")
            if not handler.include_in_schema or not module.startswith(MODULES):
                continue
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            for method in handler.http_methods:
                if method not in ("HEAD", "OPTIONS"):
                    found.add((path, method.lower()))
    return found


def _named(schema: dict[str, Any]) -> str | None:
    """The component a response schema refers to, itself or as the items of an array."""
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[1] if ref.startswith("#/components/schemas/") else None


def _untyped_fields(doc: dict[str, Any], name: str, seen: set[str]) -> list[str]:
    """Fields of the component ``name`` and of the components it refers to that state no type."""
    if name in seen:
        return []
    seen.add(name)
    schema = doc["components"]["schemas"][name]
    props = schema.get("properties") or {}
    if not props:
        return [f"{name}: no fields"]
    out = []
    for field, prop in props.items():
        if not TYPED & set(prop):
            out.append(f"{name}.{field}")
        for ref in re.findall(r"#/components/schemas/([\w.-]+)", repr(prop)):
            out += _untyped_fields(doc, ref, seen)
    return out


async def test_every_json_answer_names_a_component_schema(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    operations = _operations(app)
    assert len(operations) >= 25  # the routes were found (a typo in MODULES would find none)
    bare, untyped, checked = [], [], 0
    seen: set[str] = set()
    for path, method in sorted(operations):
        responses = doc["paths"][path][method]["responses"]
        for status, response in responses.items():
            if not status.startswith("2"):
                continue
            for media, content in response.get("content", {}).items():
                if "json" not in media:
                    continue  # a file download
                checked += 1
                name = _named(content.get("schema", {}))
                if name is None:
                    bare.append(f"{method.upper()} {path} {status}: {content.get('schema')}")
                else:
                    untyped += _untyped_fields(doc, name, seen)
    assert bare == []
    assert untyped == []
    assert checked >= 19  # the JSON answers of those routes today


async def test_the_bulk_upload_documents_its_preview_and_its_registration(
    client: AsyncTestClient[Litestar],
) -> None:
    doc = (await client.get("/schema/openapi.json")).json()
    responses = doc["paths"]["/api/organizations/{organization_id}/bulk-registrations"]["post"]["responses"]
    preview = _named(responses["200"]["content"]["application/json"]["schema"])
    registered = _named(responses["201"]["content"]["application/json"]["schema"])
    assert preview is not None and preview == registered  # one report, before and after
    report = doc["components"]["schemas"][preview]
    rows = report["properties"]["rows"]
    row = _named(rows)
    assert row is not None
    errors = doc["components"]["schemas"][row]["properties"]["errors"]
    assert _named(errors) is not None  # each row's errors are typed too
    refused = responses["422"]["content"]["application/problem+json"]["schema"]
    assert _named(refused) == "Problem"  # a refused file: every row error listed in the problem

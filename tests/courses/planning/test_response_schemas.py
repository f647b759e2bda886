"""The operations API clients script against most (solver runs and plans, the campus timetable, staff
rosters and actions, the annual report, attendance) describe their JSON answers field by field: every
2xx JSON response names a component schema, never a bare ``object``. And the solver's stored
explanations (who was left out and why, the validator's findings) fit the structs that describe them,
so that no key a solver writes is silently dropped from the answer."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, fields
from datetime import date
from typing import Any

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.planning.schemas import PlanOut, UnassignedOut, ViolationOut
from scheduler import validate
from scheduler.practicum.types import UnplacedLearner
from scheduler.rooms.types import UnhousedLearner

MODULES = {
    "courses.planning.plans_api",
    "courses.planning.timetable_api",
    "courses.staff.api",
    "courses.reports.api",
    "courses.attendance.api",
}


def _operations(app: Litestar) -> list[tuple[str, str]]:
    """(OpenAPI path, method) of every operation the modules above define."""
    out = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if getattr(handler.fn, "__module__", "") in MODULES:
                path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
                out += [(path, method.lower()) for method in handler.http_methods]
    return sorted(set(out))


def _names_a_component(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    return set(schema) == {"$ref"}


async def test_every_json_answer_names_a_component_schema(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    doc = (await client.get("/schema/openapi.json")).json()
    operations = _operations(app)
    bare = []
    described = 0
    for path, method in operations:
        for status, response in doc["paths"][path][method]["responses"].items():
            if not status.startswith("2"):
                continue
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                continue  # a file download (the roster as CSV)
            described += 1
            if not _names_a_component(schema):
                bare.append(f"{method.upper()} {path} {status}: {json.dumps(schema)[:80]}")
            else:
                ref = (schema.get("items") or schema)["$ref"].rsplit("/", 1)[1]
                if not doc["components"]["schemas"][ref].get("properties"):
                    bare.append(f"{method.upper()} {path} {status}: {ref} lists no fields")
    assert bare == []
    assert described == 23  # every JSON operation of the five modules was looked at


def _roundtrip(value: Any, type_: Any) -> Any:
    """What the API answers for a stored payload: decoded into the struct, encoded again."""
    stored = json.dumps(value, ensure_ascii=False, default=str)  # as courses.planning.plans saves it
    return json.loads(msgspec.json.encode(msgspec.json.decode(stored, type=type_)))


def test_every_key_a_solver_explains_with_is_kept() -> None:
    """Each kind of plan stores its unassigned and violations in its own shape; the structs hold
    every key of every shape (a key added to a scheduler dataclass must be added to them too)."""
    unhoused = UnhousedLearner(1, 2, 0, "women", "空き室がありません", "shortage", (date(2026, 6, 8),))
    unplaced = UnplacedLearner(1, 2, "capacity", "受入枠がありません")
    timetable = {
        "module_id": "1:1",
        "session_id": 1,
        "course_module_id": 3,
        "stage": "instructors",
        "label": "T-001 財務",
        "reason": "講師がいません",
    }
    for item in (asdict(unhoused), asdict(unplaced), timetable):
        assert _roundtrip([item], list[UnassignedOut]) == json.loads(json.dumps([item], default=str))
    kept = {f.name for f in fields(UnhousedLearner)} | {f.name for f in fields(UnplacedLearner)}
    assert kept <= set(UnassignedOut.__struct_fields__)
    rooms = validate.Violation("double_booked", "二重割当て", 1, 2, 3, None, date(2026, 6, 8))
    stages = {"rule": "clash", "message": "重複", "stage": "timetable"}
    for item in (asdict(rooms), stages):
        assert _roundtrip([item], list[ViolationOut]) == json.loads(json.dumps([item], default=str))
    assert {f.name for f in fields(validate.Violation)} <= set(ViolationOut.__struct_fields__)
    assert "validator" in PlanOut.__struct_fields__

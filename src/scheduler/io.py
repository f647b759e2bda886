"""JSON in and out: read a problem file into the solvers' dataclasses, write a solution as plain JSON.

A problem file holds a "rooms" problem, a "practicum" problem, or both (see docs/scheduler-json.md).
Reading is strict: unknown keys, missing fields and wrong types are all reported at once, with the
path of each, as a ProblemError.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from scheduler.practicum import (
    PracticumLearner,
    PracticumPlacement,
    PracticumProblem,
    PracticumSession,
    PracticumSite,
    PracticumSolution,
    PracticumWeights,
)
from scheduler.rooms import (
    DormRoom,
    Lodger,
    LodgingSession,
    RoomAssignment,
    RoomOutage,
    RoomsProblem,
    RoomsSolution,
    RoomWeights,
    StayBlock,
)
from scheduler.solvekit import ProblemError, RuleCost
from scheduler.validate import Violation

_LISTS: dict[type, dict[str, type]] = {
    RoomsProblem: {
        "rooms": DormRoom,
        "sessions": LodgingSession,
        "lodgers": Lodger,
        "outages": RoomOutage,
        "pins": RoomAssignment,
        "previous": RoomAssignment,
    },
    PracticumProblem: {
        "sites": PracticumSite,
        "sessions": PracticumSession,
        "learners": PracticumLearner,
        "pins": PracticumPlacement,
        "previous": PracticumPlacement,
    },
}
_WEIGHTS: dict[type, type] = {RoomsProblem: RoomWeights, PracticumProblem: PracticumWeights}


@dataclass
class ProblemFile:
    """What one problem file asks for: either or both problems."""

    rooms: RoomsProblem | None = None
    practicum: PracticumProblem | None = None


def load_problem(path: str | Path) -> ProblemFile:
    """Read a problem file. Raises ProblemError on unreadable JSON or a malformed problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ProblemError([f"cannot read {path}: {error.strerror or error}"]) from None
    except UnicodeDecodeError as error:
        raise ProblemError(
            [f"{path} is not UTF-8 text (byte {error.start}); save it as UTF-8 and try again"]
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProblemError(
            [f"{path} is not valid JSON: line {error.lineno} column {error.colno}: {error.msg}"]
        ) from None
    return problem_from_dict(data)


def problem_from_dict(data: Any) -> ProblemFile:
    """Build the dataclasses from parsed JSON; every defect is collected before raising ProblemError."""
    errors: list[str] = []
    if not isinstance(data, dict):
        raise ProblemError(["the problem must be a JSON object with a 'rooms' and/or 'practicum' key"])
    unknown = sorted(set(data) - {"rooms", "practicum", "comment"})
    if unknown:
        errors.append(f"unknown top-level keys {unknown}; expected 'rooms' and/or 'practicum'")
    if "rooms" not in data and "practicum" not in data:
        errors.append("the problem holds neither 'rooms' nor 'practicum'")
    result = ProblemFile()
    if "rooms" in data:
        result.rooms = _problem(RoomsProblem, data["rooms"], "rooms", errors)
    if "practicum" in data:
        result.practicum = _problem(PracticumProblem, data["practicum"], "practicum", errors)
    if errors:
        raise ProblemError(errors)
    return result


def _problem(cls: type, data: Any, where: str, errors: list[str]) -> Any:
    if not isinstance(data, dict):
        errors.append(f"{where}: must be an object")
        return None
    lists = _LISTS[cls]
    unknown = sorted(set(data) - set(lists) - {"weights"})
    if unknown:
        errors.append(f"{where}: unknown keys {unknown}")
    values: dict[str, Any] = {}
    for name, item_cls in lists.items():
        items = data.get(name, [])
        if name in ("rooms", "sessions", "lodgers", "sites", "learners") and name not in data:
            errors.append(f"{where}.{name}: missing")
        if not isinstance(items, list):
            errors.append(f"{where}.{name}: must be a list")
            continue
        values[name] = [
            _record(item_cls, item, f"{where}.{name}[{i}]", errors) for i, item in enumerate(items)
        ]
    values["weights"] = _record(_WEIGHTS[cls], data.get("weights", {}), f"{where}.weights", errors)
    return cls(**values)


def _record(cls: type, data: Any, where: str, errors: list[str]) -> Any:
    """One dataclass from one JSON object, converting dates, tuples and nested blocks by the type hints."""
    if not isinstance(data, dict):
        errors.append(f"{where}: must be an object")
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        errors.append(f"{where}: unknown keys {unknown}")
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        if name not in data:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                errors.append(f"{where}.{name}: missing")
            continue
        values[name] = _value(hints[name], data[name], f"{where}.{name}", errors)
    try:
        return cls(**values)
    except TypeError:
        return None


def _value(hint: Any, value: Any, where: str, errors: list[str]) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _value(inner[0], value, where, errors)
    if origin is tuple:
        if not isinstance(value, list):
            errors.append(f"{where}: must be a list")
            return ()
        return tuple(_value(args[0], v, f"{where}[{i}]", errors) for i, v in enumerate(value))
    if hint is date:
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            errors.append(f"{where}: must be a date like 2025-06-10, not {value!r}")
            return None
    if hint is StayBlock:
        return _record(StayBlock, value, where, errors)
    if hint is bool:
        if not isinstance(value, bool):
            errors.append(f"{where}: must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{where}: must be an integer, not {value!r}")
        return value
    if hint is str and not isinstance(value, str):
        errors.append(f"{where}: must be a string, not {value!r}")
    return value


# ---------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------


def to_jsonable(value: Any) -> Any:
    """Plain JSON values from dataclasses, dates, tuples and rule costs."""
    if isinstance(value, RuleCost):
        return {"value": value.value, "weight": value.weight, "cost": value.cost}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def solution_to_dict(
    solution: RoomsSolution | PracticumSolution, violations: list[Violation] | None = None
) -> dict[str, Any]:
    """A solution as a JSON object, with the validator's verdict when one is given."""
    data: dict[str, Any] = to_jsonable(solution)
    if isinstance(solution, RoomsSolution):
        data["messages"] = solution.messages
    if violations is not None:
        data["validation"] = {"ok": not violations, "violations": to_jsonable(violations)}
    return data


def problem_to_dict(problem: RoomsProblem | PracticumProblem) -> dict[str, Any]:
    """A problem as the JSON object that load_problem reads back."""
    data = to_jsonable(problem)
    assert isinstance(data, dict)
    return data

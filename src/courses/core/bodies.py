"""Typed request bodies.

Every JSON body the API accepts is a msgspec Struct, so ``/schema`` describes each field with its
type, bounds and an example. A field's Japanese name travels in its ``title``. When msgspec refuses a
value, ``explain`` turns its English message into one in the caller's language that names the field
(``定員は1以上500以下で入力してください。``), in the same words as the console's own checks.

Handlers hand the services ``sent(body)``: the fields the client sent, as JSON values, so the rules
that need the database or several fields at once (a campus code that exists, blocks that do not
overlap) stay where they are, shared with the HTML forms.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import msgspec
from litestar.params import URLEncodedBody
from msgspec import inspect

from courses.core.errors import FieldError

# An HTML form's fields, as the pages read them (the API's bodies are Structs).
Form = URLEncodedBody[dict[str, str]]

# A body checked field by field by the console's own rules, when msgspec refuses it, is checked
# again by them so that the caller hears of every wrong field at once, in the form's words.
Recheck = Callable[[Mapping[str, Any], date], list[FieldError]]
RECHECKS: dict[Any, Recheck] = {}

UNKNOWN_FIELD = re.compile(r"Object contains unknown field `([^`]*)`")
MISSING_FIELD = re.compile(r"Object missing required field `([^`]*)`")
EXPECTED = re.compile(r"Expected `([^`]*)`(?:, got `([^`]*)`)?(?: (of length )?([<>]=?) (\S+))?")

KIND_JA = {
    "int": "整数",
    "float": "数値",
    "str": "文字列",
    "date": "YYYY-MM-DD の形式の日付",
    "object": "JSONオブジェクト（{ ... }）",
    "array": "配列（[ ... ]）",
}
KIND_EN = {"bool": "true or false", "date": "a date (YYYY-MM-DD)", "object": "a JSON object"}


def sent(body: msgspec.Struct) -> dict[str, Any]:
    """The fields the client sent (unset ones left out), by their names on the wire, as JSON values."""
    out = msgspec.to_builtins(body)
    assert isinstance(out, dict)
    return out


def every_error(body_type: Any, raw: bytes, today: date, refused: list[FieldError]) -> list[FieldError]:
    """The fields' own rules over the raw body, where the body type has them, plus whatever msgspec
    refused that they did not mention (an unknown field, a number sent as text)."""
    recheck = RECHECKS.get(body_type)
    if recheck is None or not raw:
        return refused
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return refused
    if not isinstance(data, dict):
        return refused
    found = recheck(data, today)
    named = {e.field for e in found}
    return found + [e for e in refused if e.field not in named]


def _field_info(body_type: Any, key: str) -> inspect.Field | None:
    if body_type is None:
        return None
    try:
        info = inspect.type_info(body_type)
    except (TypeError, ValueError):
        return None
    if not isinstance(info, inspect.StructType):
        return None
    head = _top(key)
    return next((f for f in info.fields if head in (f.encode_name, f.name)), None)


def _top(key: str) -> str:
    """The top-level field of a path such as ``kinds[0]`` or ``blocks[1].start``."""
    return key.split(".")[0].split("[")[0]


def _title(field: inspect.Field | None, key: str) -> str:
    if field is not None and isinstance(field.type, inspect.Metadata):
        title = (field.type.extra_json_schema or {}).get("title")
        if title:
            return str(title)
    return key


def _example(field: inspect.Field | None) -> str:
    if field is not None and isinstance(field.type, inspect.Metadata):
        examples = (field.type.extra_json_schema or {}).get("examples") or []
        return str(examples[0]) if examples else ""
    return ""


def _bounds(field: inspect.Field | None) -> tuple[Any, Any]:
    """The (low, high) bounds msgspec checks on an int field, whichever are declared."""
    if field is None:
        return None, None
    node: Any = field.type
    while isinstance(node, inspect.Metadata):
        node = node.type
    if isinstance(node, inspect.UnionType):
        node = next((t for t in node.types if isinstance(t, inspect.IntType | inspect.FloatType)), None)
    if isinstance(node, inspect.IntType | inspect.FloatType):
        return _number(node.ge), _number(node.le)
    return None, None


def _number(value: float | None) -> float | None:
    """600.0 is said as 600."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _choices(field: inspect.Field | None) -> list[str]:
    if field is None:
        return []
    node: Any = field.type
    while isinstance(node, inspect.Metadata):
        node = node.type
    if isinstance(node, inspect.UnionType):
        node = next((t for t in node.types if isinstance(t, inspect.LiteralType)), None)
    if isinstance(node, inspect.ListType | inspect.SetType | inspect.FrozenSetType):
        node = node.item_type
    return [str(v) for v in node.values] if isinstance(node, inspect.LiteralType) else []


def explain(body_type: Any, key: str, message: str) -> tuple[str, str, str]:
    """(field, Japanese message, English message) for one msgspec validation message."""
    if m := UNKNOWN_FIELD.search(message):
        name = m.group(1)
        return name, f"「{name}」という項目はありません。", f"{name}: unknown field."
    if m := MISSING_FIELD.search(message):
        name = m.group(1)
        label = _title(_field_info(body_type, name), name)
        return name, f"{label}を入力してください。", f"{name} is required."
    if key in ("", "data", "body"):
        if "Expected `object`" in message:
            return "body", "リクエスト本文はJSONオブジェクト（{ ... }）で送ってください。", message
        return "body", f"リクエスト本文が正しくありません（{message}）。", message
    field = _field_info(body_type, key)
    key = _top(key)
    label = _title(field, key)
    if "Invalid enum value" in message:
        choices = _choices(field)
        listed = "、".join(choices)
        return key, f"{label}は次から選んでください: {listed}", f"{key}: one of {choices}."
    if "RFC3339" in message or "Invalid date" in message:
        return (
            key,
            f"{label}の日付が正しくありません。YYYY-MM-DD の形式で、実在する日付を入力してください。",
            f"{key}: use YYYY-MM-DD.",
        )
    if "matching regex" in message:  # the field's example shows what it takes
        example = _example(field)
        return (
            key,
            f"{label}の形式が正しくありません" + (f"（例: {example}）。" if example else "。"),
            f"{key}: not in the expected form" + (f" (e.g. {example})." if example else "."),
        )
    if m := EXPECTED.search(message):
        kind, _, length, op, limit = m.groups()
        if length and op:
            if op == ">=" and limit == "1":
                return key, f"{label}を入力してください。", f"{key} is required."
            if "<" in op:
                return key, f"{label}は{limit}文字以内で入力してください。", f"{key}: at most {limit}."
            return key, f"{label}は{limit}文字以上で入力してください。", f"{key}: at least {limit}."
        if op:
            low, high = _bounds(field)
            if low is not None and high is not None:
                return (
                    key,
                    f"{label}は{low}以上{high}以下で入力してください。",
                    f"{key} must be between {low} and {high}.",
                )
            word = "以上" if ">" in op else "以下"
            return key, f"{label}は{limit}{word}で入力してください。", f"{key} must be {op} {limit}."
        kinds = [k.strip() for k in kind.split("|") if k.strip() != "null"]
        ja = "、または".join(KIND_JA.get(k, k) for k in kinds)
        en = " or ".join(KIND_EN.get(k, k) for k in kinds)
        if kinds == ["int"]:
            return key, f"{label}は半角の整数で入力してください。", f"{key}: a whole number."
        if kinds == ["bool"]:
            return key, f"{label}は true か false で指定してください。", f"{key}: true or false."
        return key, f"{label}は{ja}で指定してください。", f"{key}: {en}."
    return key, f"{label}の値が正しくありません（{message}）。", f"{key}: {message}"

"""The console API's request bodies, derived from the ``FieldSpec`` lists the HTML forms check.

One list describes a record's fields; from it come the form, the Japanese messages and, here, the
msgspec Structs that ``/schema`` shows: each field with its type, bounds, Japanese title, hint and
an example. A create body requires what the form requires; a change (PATCH) body sends only the
fields that change, with the ``version`` the client read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from courses.console.entities import ENTITIES
from courses.console.forms import FieldSpec, parse
from courses.console.organizations import COORDINATOR_FIELDS, ORG_FIELDS
from courses.console.resources import OUTAGE_FIELDS
from courses.console.sessions import EDIT_FIELDS, SESSION_FIELDS
from courses.console.staff import STAFF_FIELDS
from courses.core.bodies import RECHECKS
from courses.core.errors import FieldError


class DateRange(msgspec.Struct, forbid_unknown_fields=True):
    """A period, both days included."""

    start: date
    end: date


EXAMPLES: dict[str, Any] = {
    "str": "例",
    "email": "yamada@example.jp",
    "kana": "ヤマダ タロウ",
    "date": "2026-06-08",
    "prefecture": "13",
    "industry": "E",
    "campus": "tokyo",
    "subjects": "finance,marketing",
    "ranges": "2026-06-08..2026-06-12",
    "bool": True,
}
NAMED_EXAMPLES: dict[str, Any] = {
    "code": "ZAI05",
    "course": "ZAI05",
    "title_ja": "財務管理の基礎",
    "title_en": "Financial management basics",
    "name": "山田 太郎",
    "company_name": "三条精機株式会社",
    "campuses": ["tokyo"],
}
VERSION = Annotated[int, Meta(title="版番号", description="編集を始めたときに読んだ version", examples=[3])]


def _wire_type(spec: FieldSpec) -> Any:
    """The JSON type of one field with its bounds, title, hint and example."""
    example = NAMED_EXAMPLES.get(spec.name)
    if example is None:
        if spec.kind == "int":
            example = spec.low if spec.low is not None and spec.low > 0 else 1
        elif spec.kind == "choice":
            example = str(getattr(spec.choices[0][0], "value", spec.choices[0][0]))
        else:
            example = EXAMPLES.get(spec.kind)
    described: dict[str, Any] = {"title": spec.label}
    if spec.hint:
        described["description"] = spec.hint
    if example is not None:
        described["examples"] = [example]
    if spec.kind == "int":
        return Annotated[int, Meta(ge=spec.low, le=spec.high, **described)]
    if spec.kind == "bool":
        return Annotated[bool, Meta(**described)]
    if spec.kind == "date":
        return Annotated[date, Meta(**described)]
    if spec.kind == "choice":
        codes = tuple(str(getattr(code, "value", code)) for code, _ in spec.choices)
        names = "、".join(f"{code}（{name}）" for code, name in spec.choices)
        described["description"] = names
        return Annotated[Literal[codes], Meta(**described)]
    if spec.kind == "ranges":
        return Annotated[str | list[DateRange], Meta(**described)]
    if spec.name == "campuses":
        return Annotated[str | list[str], Meta(**described)]
    return Annotated[str, Meta(max_length=spec.max_len, **described)]


def body(
    name: str,
    specs: list[FieldSpec],
    *,
    partial: bool = False,
    creating: bool = True,
    extra: tuple[tuple[str, Any, Any], ...] = (),
) -> type[msgspec.Struct]:
    """A Struct for one body: required fields first, then the optional ones (UNSET when not sent)."""
    required: list[tuple[str, Any]] = []
    optional: list[tuple[str, Any, Any]] = []
    for extra_name, extra_type, default in extra:
        if default is msgspec.NODEFAULT:
            required.append((extra_name, extra_type))
        else:
            optional.append((extra_name, extra_type, default))
    for spec in specs:
        if spec.create_only and not creating:
            continue
        wire = _wire_type(spec)
        if partial:
            optional.append((spec.name, wire | None | UnsetType, UNSET))
        elif spec.required and spec.kind != "bool":
            required.append((spec.name, wire))
        else:
            optional.append((spec.name, wire | None | UnsetType, UNSET))
    struct = msgspec.defstruct(name, [*required, *optional], forbid_unknown_fields=True, module=__name__)

    def recheck(data: Mapping[str, Any], today: date) -> list[FieldError]:
        return parse(specs, data, today, partial=partial, creating=creating)[1]

    RECHECKS[struct] = recheck
    return struct


def _title(entity_name: str) -> str:
    return "".join(part.capitalize() for part in entity_name.split("-"))


ENTITY_CREATE = {ent.name: body(f"{_title(ent.name)}Create", ent.fields) for ent in ENTITIES.values()}
ENTITY_CHANGE = {
    ent.name: body(
        f"{_title(ent.name)}Change",
        ent.fields,
        partial=True,
        creating=False,
        extra=(("version", VERSION, msgspec.NODEFAULT),),
    )
    for ent in ENTITIES.values()
}


class ArchiveChange(msgspec.Struct, forbid_unknown_fields=True):
    """Archive (``archived: true``) or restore (``false``) a record."""

    version: VERSION
    archived: Annotated[bool, Meta(title="アーカイブ", examples=[True])] = True


SessionCreate = body("SessionCreate", SESSION_FIELDS)
SessionChange = body(
    "SessionChange",
    EDIT_FIELDS,
    partial=True,
    creating=False,
    extra=(
        ("version", VERSION, msgspec.NODEFAULT),
        (
            "confirm_affected",
            Annotated[
                bool,
                Meta(
                    title="影響を確認済み",
                    description="申込者の日程や宿泊に影響する変更は true を付けて送り直します",
                ),
            ],
            False,
        ),
    ),
)


class StatusChange(msgspec.Struct, forbid_unknown_fields=True):
    """Publish, close or cancel a session: the version the client read."""

    version: VERSION


OutageCreate = body("OutageCreate", OUTAGE_FIELDS)
OrganizationCreate = body("OrganizationCreate", ORG_FIELDS)
CoordinatorCreate = body("CoordinatorCreate", COORDINATOR_FIELDS)
StaffCreate = body(
    "StaffCreate",
    STAFF_FIELDS,
    extra=(
        (
            "password",
            Annotated[str, Meta(title="パスワード", max_length=200, examples=["correct-horse-9"])],
            msgspec.NODEFAULT,
        ),
    ),
)
StaffChange = body("StaffChange", STAFF_FIELDS, partial=True, creating=False)

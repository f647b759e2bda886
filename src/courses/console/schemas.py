"""The console API's request bodies, derived from the ``FieldSpec`` lists the HTML forms check.

One list describes a record's fields; from it come the form, the Japanese messages and, here, the
msgspec Structs that ``/schema`` shows: each field with its type, bounds, Japanese title, hint and
an example. A create body requires what the form requires; a change (PATCH) body sends only the
fields that change, with the ``version`` the client read.

The answers are Structs too (the ``answers`` section): a record's is made from its model's columns
with the titles of the same lists; the others are written out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal, get_args

import msgspec
from msgspec import UNSET, Meta, UnsetType

from courses.catalog.schemas import BlockOut
from courses.console.entities import ENTITIES, Entity
from courses.console.forms import FieldSpec, parse
from courses.console.organizations import COORDINATOR_FIELDS, ORG_FIELDS, ORG_KINDS
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


def _described(spec: FieldSpec) -> dict[str, Any]:
    """The Japanese title, hint (for a choice: its codes and their names) and example of a field."""
    example = NAMED_EXAMPLES.get(spec.name)
    if example is None:
        if spec.kind == "int":
            example = spec.low if spec.low is not None and spec.low > 0 else 1
        elif spec.kind == "choice":
            example = _codes(spec)[0]
        else:
            example = EXAMPLES.get(spec.kind)
    described: dict[str, Any] = {"title": spec.label}
    if spec.hint:
        described["description"] = spec.hint
    if spec.kind == "choice":
        described["description"] = "、".join(f"{code}（{name}）" for code, name in spec.choices)
    if example is not None:
        described["examples"] = [example]
    return described


def _codes(spec: FieldSpec) -> tuple[str, ...]:
    return tuple(str(getattr(code, "value", code)) for code, _ in spec.choices)


def _wire_type(spec: FieldSpec) -> Any:
    """The JSON type of one field with its bounds, title, hint and example."""
    described = _described(spec)
    if spec.kind == "int":
        return Annotated[int, Meta(ge=spec.low, le=spec.high, **described)]
    if spec.kind == "bool":
        return Annotated[bool, Meta(**described)]
    if spec.kind == "date":
        return Annotated[date, Meta(**described)]
    if spec.kind == "choice":
        return Annotated[Literal[_codes(spec)], Meta(**described)]
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


# --- answers ---------------------------------------------------------------------------------------
# The API turns the JSON-ready dicts of the console's services into these with ``msgspec.convert``:
# a Struct declares every key a client receives, and ``forbid_unknown_fields`` makes a key the
# services add without declaring it here fail (in the tests) instead of vanishing from the answer.

READ_VERSION = Annotated[
    int, Meta(title="版番号", description="変更するときに version として送り返す番号", examples=[3])
]
READ_HINTS = {  # what a stored value looks like (the forms accept more, and store this)
    "prefecture": "JIS の都道府県コード（01〜47）",
    "industry": "日本標準産業分類の大分類（A〜T）",
    "subjects": "分野コードのカンマ区切り",
    "campus": "キャンパスのコード",
}
COLUMN_TITLES = {
    "id": "ID",
    "campus_id": "キャンパスID",
    "home_campus_id": "所属キャンパスID",
    "archived": "アーカイブ済み",
    "practicum_group_min": "実習グループの最少人数",
    "practicum_group_max": "実習グループの最多人数",
    "practicum_days": "実習日数",
    "completion_min_percent": "修了に必要な出席率（%）",
}


def _column_type(name: str, info: Any, spec: FieldSpec | None) -> Any:
    """A column of a record as answered: its model's type, with its field's title. A column that
    refers to another table (a course's category) takes its values from that table, so it stays a
    string where the form offers a fixed list."""
    if name == "version":
        return READ_VERSION
    annotation = int if name == "id" else info.annotation  # ``None`` only before the INSERT
    if spec is None:
        return Annotated[annotation, Meta(title=COLUMN_TITLES[name])] if name in COLUMN_TITLES else annotation
    if spec.kind == "choice" and not isinstance(getattr(info, "foreign_key", None), str):
        annotation = Literal[_codes(spec)]
    return Annotated[annotation, _read_meta(spec)]


def _read_meta(spec: FieldSpec) -> Meta:
    """A field's title, and for a coded value its codes and an example (the hints of the forms
    speak of typing a value in, which an answer does not need)."""
    described = _described(spec)
    if spec.kind == "choice":
        return Meta(**described)
    if spec.kind in READ_HINTS:
        return Meta(title=spec.label, description=READ_HINTS[spec.kind], examples=described["examples"])
    if spec.kind == "email":
        return Meta(title=spec.label, examples=described["examples"])
    return Meta(title=spec.label)


def record(ent: Entity) -> type[msgspec.Struct]:
    """What ``entities.as_dicts`` answers for one kind of record: its columns in the model's order,
    the code of its campus and, where it has one, its availability calendar."""
    specs = {spec.name: spec for spec in ent.fields}
    fields = [
        (name, _column_type(name, info, specs.get(name))) for name, info in ent.model.model_fields.items()
    ]
    if ent.campus_column:
        code = ent.campus_column.removesuffix("_id")
        optional = type(None) in get_args(ent.model.model_fields[ent.campus_column].annotation)
        fields.append((code, Annotated[str | None if optional else str, _read_meta(specs[code])]))
    if ent.availability is not None:
        fields.append(("availability", Annotated[list[DateRange], _read_meta(specs["availability"])]))
    return msgspec.defstruct(f"{_title(ent.name)}Read", fields, forbid_unknown_fields=True, module=__name__)


def record_list(ent: Entity, item: type[msgspec.Struct]) -> type[msgspec.Struct]:
    fields = [("items", list[item]), ("count", Annotated[int, Meta(title="件数")])]  # type: ignore[valid-type]
    return msgspec.defstruct(f"{_title(ent.name)}List", fields, forbid_unknown_fields=True, module=__name__)


ENTITY_READ = {ent.name: record(ent) for ent in ENTITIES.values()}
ENTITY_LIST = {ent.name: record_list(ent, ENTITY_READ[ent.name]) for ent in ENTITIES.values()}


class SessionRead(msgspec.Struct, forbid_unknown_fields=True):
    """A session as the console shows it, drafts included: the catalog's ``SessionOut`` (without
    ``application``, which the catalog gives for a day) with what staff need to edit it."""

    id: int
    code: Annotated[str, Meta(title="開催回コード", examples=["2026-TOK-ZAI01-01"])]
    course_code: Annotated[str, Meta(title="研修コード", examples=["ZAI01"])]
    course_title: Annotated[str, Meta(title="研修名", examples=["財務諸表の読み方"])]
    course_title_en: Annotated[str, Meta(title="研修名（英語）")]
    course_title_kana: Annotated[str, Meta(title="研修名フリガナ", description="登録がなければ空文字")]
    audience: Annotated[Literal["sme", "support"], Meta(title="対象")]
    category: Annotated[str, Meta(title="分野", examples=["finance"])]
    campus: Annotated[str, Meta(title="キャンパス", examples=["tokyo"])]
    campus_name: Annotated[str, Meta(title="キャンパス名", examples=["中小企業大学校 東京校"])]
    blocks: Annotated[list[BlockOut], Meta(title="日程（ブロック）")]
    start_date: Annotated[date, Meta(title="初日")]
    end_date: Annotated[date, Meta(title="最終日")]
    days: Annotated[int, Meta(title="日数")]
    fee_yen: Annotated[int, Meta(title="受講料（円）", description="税込")]
    lodging: Annotated[bool, Meta(title="宿泊あり")]
    capacity: Annotated[int, Meta(title="定員")]
    seats_left: Annotated[int, Meta(title="残席")]
    application_opens: Annotated[date, Meta(title="申込開始日")]
    application_closes: Annotated[date, Meta(title="申込締切日")]
    status: Annotated[
        Literal["draft", "published", "closed", "cancelled"],
        Meta(
            title="状態",
            description="draft（下書き）、published（公開）、closed（受付終了）、cancelled（中止）",
        ),
    ]
    version: READ_VERSION
    confirmed_count: Annotated[int, Meta(title="受講決定者数")]
    waitlisted_count: Annotated[int, Meta(title="キャンセル待ちの人数")]


class SessionList(msgspec.Struct, forbid_unknown_fields=True):
    items: list[SessionRead]
    count: Annotated[int, Meta(title="件数")]


class SessionChanged(SessionRead):
    """The changed session, and what the change did to its learners."""

    promoted: Annotated[
        list[int], Meta(title="繰り上げた申込", description="キャンセル待ちから受講決定にした申込の ID")
    ]
    notified: Annotated[int, Meta(title="通知した申込者の数", description="日程や宿泊の変更を知らせた人数")]


class SessionStatusChanged(SessionRead):
    """The session after publishing, closing or cancelling it."""

    enrollments_cancelled: Annotated[
        int,
        Meta(
            title="取り消した申込の数",
            description="中止で取り消し、受講者に知らせた申込の数（公開・受付終了では 0）",
        ),
    ]


class OutageRead(msgspec.Struct, forbid_unknown_fields=True):
    """A room out of service, both days included."""

    id: int
    start_date: Annotated[date, Meta(title="開始日")]
    end_date: Annotated[date, Meta(title="終了日")]
    reason: Annotated[str, Meta(title="理由", examples=["空調工事"])]


class OutageList(msgspec.Struct, forbid_unknown_fields=True):
    items: list[OutageRead]


class ImportRowError(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One problem of an imported file, in the language the client asked for."""

    field: Annotated[str, Meta(title="列", examples=["travel_minutes"])]
    message: Annotated[str, Meta(title="内容", examples=["移動時間（分）は半角の整数で入力してください。"])]
    row: Annotated[int, Meta(title="行番号", description="見出しが1行目")] | UnsetType = UNSET


class ImportPreviewRow(msgspec.Struct, forbid_unknown_fields=True):
    row: Annotated[int, Meta(title="行番号")]
    action: Annotated[Literal["create", "update"], Meta(title="処理", description="id のある行は更新")]
    name: Annotated[str, Meta(title="名前")]


class CsvImportReport(msgspec.Struct, forbid_unknown_fields=True):
    """What an import found and did: nothing is applied while any row has an error."""

    rows: Annotated[int, Meta(title="行数")]
    created: Annotated[int, Meta(title="追加する（した）件数")]
    updated: Annotated[int, Meta(title="更新する（した）件数")]
    applied: Annotated[bool, Meta(title="反映済み", description="false: プレビュー、またはエラーで中止")]
    errors: list[ImportRowError]
    preview: list[ImportPreviewRow]


class CoordinatorSummary(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    email: Annotated[str, Meta(title="メールアドレス", examples=["yamada@example.jp"])]
    name: Annotated[str, Meta(title="氏名", examples=["山田 太郎"])]


class OrganizationRead(msgspec.Struct, forbid_unknown_fields=True):
    """An organisation that registers people in bulk, with its coordinators."""

    id: int
    name: Annotated[str, Meta(title="団体名", examples=["東京商工会議所"])]
    kind: Annotated[
        Literal["chamber", "society_of_commerce", "prefectural_center", "other"],
        Meta(title="種別", description="、".join(f"{code}（{name}）" for code, name in ORG_KINDS)),
    ]
    prefecture: Annotated[str, Meta(title="都道府県", description=READ_HINTS["prefecture"], examples=["13"])]
    coordinators: Annotated[list[CoordinatorSummary], Meta(title="団体申込担当者")]


class OrganizationList(msgspec.Struct, forbid_unknown_fields=True):
    items: list[OrganizationRead]


class CoordinatorRead(msgspec.Struct, forbid_unknown_fields=True):
    """A new coordinator: they set their password from the email they are sent."""

    id: int
    email: Annotated[str, Meta(title="メールアドレス", examples=["yamada@example.jp"])]
    name: Annotated[str, Meta(title="氏名", examples=["山田 太郎"])]
    organization_id: Annotated[int, Meta(title="団体ID")]


class StaffRead(msgspec.Struct, forbid_unknown_fields=True):
    """A staff or administrator account with the campuses it acts on."""

    id: int
    email: Annotated[str, Meta(title="メールアドレス", examples=["yamada@example.jp"])]
    name: Annotated[str, Meta(title="氏名", examples=["山田 太郎"])]
    name_kana: Annotated[str, Meta(title="フリガナ", description="登録がなければ空文字")]
    role: Annotated[
        Literal["staff", "admin"], Meta(title="権限", description="staff（職員）、admin（管理者）")
    ]
    campuses: Annotated[
        str,
        Meta(
            title="担当キャンパス", description="キャンパスのコードをカンマ区切りで", examples=["sanjo,tokyo"]
        ),
    ]
    active: Annotated[bool, Meta(title="有効", description="false: 無効にしたアカウント")]
    version: Annotated[
        int,
        Meta(title="版番号", description="常に 0（職員アカウントの変更は版番号を使いません）", examples=[0]),
    ]


class StaffList(msgspec.Struct, forbid_unknown_fields=True):
    items: list[StaffRead]


class AuditEntryRead(msgspec.Struct, forbid_unknown_fields=True):
    """One change made by a person, with the record before and after it."""

    id: int
    at: Annotated[str, Meta(title="日時", description="ISO 8601", examples=["2026-05-15T10:00:00+09:00"])]
    user_id: Annotated[int | None, Meta(title="職員ID")]
    user_name: Annotated[str | None, Meta(title="職員名")]
    action: Annotated[str, Meta(title="操作", examples=["update"])]
    entity: Annotated[str, Meta(title="記録の種類", examples=["sites"])]
    entity_id: Annotated[int, Meta(title="記録のID")]
    campus_id: Annotated[int | None, Meta(title="キャンパスID")]
    before: Annotated[
        dict[str, Any] | None, Meta(title="変更前", description="記録の種類ごとの項目（追加では null）")
    ]
    after: Annotated[
        dict[str, Any] | None, Meta(title="変更後", description="記録の種類ごとの項目（削除では null）")
    ]


class AuditLogPage(msgspec.Struct, forbid_unknown_fields=True):
    """One page of the audit log, newest first."""

    items: list[AuditEntryRead]
    total: Annotated[int, Meta(title="件数", description="条件に合う全件数")]
    page: Annotated[int, Meta(title="ページ")]
    per_page: Annotated[int, Meta(title="1ページの件数")]

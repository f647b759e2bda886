"""Records the staff console keeps, described once and edited the same way through pages and API:
courses (shared catalog), classrooms, dormitory rooms, instructors and practicum sites.

Who may change what:
- courses are shared by every campus: any member of staff may add and edit them; only
  administrators archive them;
- classrooms, dormitory rooms and practicum sites belong to one campus (``campus_id``): staff of
  that campus, or administrators;
- instructors belong to their home campus (``home_campus_id``); an outside expert without a home
  campus teaches everywhere, so any member of staff may edit them.
Nothing here is ever deleted (enrollments and plans may refer to it): it is archived instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.service import staff_campus_ids
from courses.console.forms import (
    FieldSpec,
    check,
    ensure_admin,
    ensure_campus,
    format_ranges,
    save_versioned,
    version_of,
)
from courses.core import audit
from courses.core.errors import Conflict, FieldError, InvalidInput, not_found
from courses.models import Audience, Campus, Classroom, Course, DormRoom, RoomKind, User, Zone
from courses.models.resources import (
    Instructor,
    InstructorAvailability,
    InstructorKind,
    PracticumSite,
    PracticumSiteAvailability,
)

F = FieldSpec
CATEGORY_CHOICES = (
    ("strategy", "経営戦略・経営全般"),
    ("organization", "組織・人材育成"),
    ("finance", "財務・会計"),
    ("marketing", "マーケティング・営業"),
    ("production", "生産・品質管理"),
    ("succession", "事業承継・創業"),
    ("digital", "IT・DX"),
    ("advisory", "支援スキル"),
    ("policy", "支援施策・制度"),
)


@dataclass
class Entity:
    """How one kind of record is validated, scoped, listed and shown."""

    name: str  # URL segment and audit entity name
    label: str  # Japanese name shown to staff
    model: Any
    fields: list[FieldSpec]
    scope: str  # campus | home_campus | shared
    columns: list[tuple[str, str]]  # (key of as_dict, header) for the list page
    availability: Any = None  # the availability table, if the record has a calendar
    availability_fk: str = ""
    admin_archive: bool = False
    csv: bool = False
    normalize: Callable[[dict[str, Any]], None] | None = None
    extra_checks: list[Callable[..., Any]] = field(default_factory=list)

    @property
    def campus_column(self) -> str | None:
        return {"campus": "campus_id", "home_campus": "home_campus_id"}.get(self.scope)


def _excluded(values: dict[str, Any]) -> None:
    if "excluded_companies" in values:
        names = [
            n.strip()
            for n in str(values["excluded_companies"]).replace(";", "\n").replace("；", "\n").split("\n")
        ]
        values["excluded_companies"] = "\n".join(n for n in names if n)


COURSE = Entity(
    "courses",
    "研修（コース）",
    Course,
    [
        F(
            "code",
            "研修コード",
            max_len=32,
            create_only=True,
            hint="英数字（例: ZAI05）。後から変更できません。",
        ),
        F("title_ja", "研修名"),
        F("title_en", "研修名（英語）"),
        F(
            "title_kana",
            "研修名フリガナ",
            "kana",
            required=False,
            hint="カタカナ。かなで検索したときに見つかります",
        ),
        F(
            "audience",
            "対象",
            "choice",
            choices=(("sme", "中小企業の経営者・管理者向け"), ("support", "支援機関職員向け")),
        ),
        F("category", "分野", "choice", choices=CATEGORY_CHOICES),
        F("description", "内容", "text", required=False, max_len=4000),
        F("days", "日数", "int", low=1, high=60),
        F("fee_yen", "受講料（円）", "int", low=0, high=2_000_000),
        F("default_capacity", "標準定員", "int", low=1, high=500),
        F("residential", "宿泊研修", "bool"),
        F("has_practicum", "企業実習あり", "bool"),
    ],
    "shared",
    [
        ("code", "コード"),
        ("title_ja", "研修名"),
        ("audience", "対象"),
        ("days", "日数"),
        ("fee_yen", "受講料"),
    ],
    admin_archive=True,
)
CLASSROOM = Entity(
    "classrooms",
    "研修室",
    Classroom,
    [
        F("campus", "キャンパス", "campus", create_only=True),
        F("name", "研修室名", max_len=100),
        F("seats", "座席数", "int", low=1, high=500),
    ],
    "campus",
    [("name", "研修室名"), ("seats", "座席数")],
)
DORM_ROOM = Entity(
    "dorm-rooms",
    "宿泊室",
    DormRoom,
    [
        F("campus", "キャンパス", "campus", create_only=True),
        F("room_number", "部屋番号", max_len=20),
        F("floor", "階", "int", low=1, high=30),
        F("kind", "部屋の種類", "choice", choices=((RoomKind.SINGLE, "シングル"), (RoomKind.TWIN, "ツイン"))),
        F(
            "zone",
            "区画",
            "choice",
            choices=((Zone.WOMEN, "女性専用"), (Zone.MEN, "男性"), (Zone.ANY, "共用")),
        ),
        F("accessible", "バリアフリー対応", "bool"),
    ],
    "campus",
    [("room_number", "部屋番号"), ("floor", "階"), ("kind", "種類"), ("zone", "区画")],
)
INSTRUCTOR = Entity(
    "instructors",
    "講師",
    Instructor,
    [
        F("name", "氏名", max_len=100),
        F("name_kana", "フリガナ", "kana", max_len=100),
        F(
            "kind",
            "区分",
            "choice",
            choices=((InstructorKind.STAFF, "職員"), (InstructorKind.EXTERNAL, "外部専門家")),
        ),
        F(
            "qualification",
            "資格・経歴",
            required=False,
            max_len=100,
            hint="例: 中小企業診断士、税理士、技術士、元大企業役員",
        ),
        F("home_prefecture", "居住地（都道府県）", "prefecture", hint="01〜47 のコードまたは都道府県名"),
        F(
            "home_campus",
            "所属キャンパス",
            "campus",
            required=False,
            hint="外部専門家は空欄可（全キャンパスの職員が編集できます）",
        ),
        F(
            "subjects",
            "担当分野",
            "subjects",
            hint="カンマ区切り: strategy, organization, finance, marketing, production, succession, digital, advisory, policy",
        ),
        F("max_modules_per_month", "月あたり上限コマ数", "int", low=0, high=40),
        F("fee_per_module_yen", "1コマの謝金（円）", "int", low=0, high=1_000_000),
        F("travel_cost_yen", "旅費（円）", "int", low=0, high=500_000),
        F("email", "メールアドレス", "email", required=False, max_len=254),
        F(
            "availability",
            "対応可能期間",
            "ranges",
            required=False,
            hint="1行に1期間: 2026-06-01..2026-09-30、all（今年度すべて）、6-11（6月〜11月）",
        ),
    ],
    "home_campus",
    [
        ("name", "氏名"),
        ("kind", "区分"),
        ("qualification", "資格"),
        ("subjects", "担当分野"),
        ("home_campus", "所属"),
    ],
    availability=InstructorAvailability,
    availability_fk="instructor_id",
    csv=True,
)
PRACTICUM_SITE = Entity(
    "sites",
    "実習先企業",
    PracticumSite,
    [
        F("campus", "キャンパス", "campus", create_only=True),
        F("name", "表示名", max_len=200, hint="例: 三条精機（本社工場）"),
        F("company_name", "会社名", max_len=200),
        F("industry", "業種（大分類）", "industry", hint="日本標準産業分類の大分類 A〜T（製造業は E）"),
        F("address", "所在地", required=False, max_len=200),
        F("travel_minutes", "移動時間（分）", "int", low=0, high=240),
        F("capacity_per_day", "1日の受入人数", "int", low=1, high=100),
        F(
            "excluded_companies",
            "受入不可の会社",
            "text",
            required=False,
            max_len=4000,
            hint="1行に1社（取引先・競合など、受け入れられない受講者の会社名）",
        ),
        F(
            "availability",
            "受入可能期間",
            "ranges",
            required=False,
            hint="1行に1期間: 2026-06-01..2026-09-30、all（今年度すべて）、6-11（6月〜11月）",
        ),
    ],
    "campus",
    [
        ("name", "表示名"),
        ("industry", "業種"),
        ("travel_minutes", "移動（分）"),
        ("capacity_per_day", "受入/日"),
    ],
    availability=PracticumSiteAvailability,
    availability_fk="site_id",
    csv=True,
    normalize=_excluded,
)
ENTITIES = {e.name: e for e in (COURSE, CLASSROOM, DORM_ROOM, INSTRUCTOR, PRACTICUM_SITE)}
_ = Audience  # the choices above spell the values out


def campus_of(ent: Entity, row: Any) -> int | None:
    column = ent.campus_column
    return getattr(row, column) if column else None


async def ensure_scope(s: AsyncSession, user: User, ent: Entity, row: Any) -> None:
    """Staff may act on a record of their campus; shared records and roaming experts on any."""
    campus_id = campus_of(ent, row)
    if campus_id is not None:
        await ensure_campus(s, user, campus_id)


async def load(s: AsyncSession, user: User, ent: Entity, row_id: int) -> Any:
    row = await s.get(ent.model, row_id)
    if row is None:
        raise not_found(ent.label, ent.name, row_id)
    await ensure_scope(s, user, ent, row)
    return row


async def ranges_of(s: AsyncSession, ent: Entity, ids: list[int]) -> dict[int, list[tuple[date, date]]]:
    out: dict[int, list[tuple[date, date]]] = {i: [] for i in ids}
    if ent.availability is None or not ids:
        return out
    fk = getattr(ent.availability, ent.availability_fk)
    rows = await s.exec(
        select(ent.availability).where(col(fk).in_(ids)).order_by(col(fk), col(ent.availability.start_date))
    )
    for r in rows:
        out[getattr(r, ent.availability_fk)].append((r.start_date, r.end_date))
    return out


async def as_dicts(s: AsyncSession, ent: Entity, rows: list[Any]) -> list[dict[str, Any]]:
    """The API shape: the record's columns, its campus code and its availability calendar."""
    codes = dict((await s.exec(select(Campus.id, Campus.code))).all())
    ranges = await ranges_of(s, ent, [r.id for r in rows])
    out = []
    for row in rows:
        data = row.model_dump(mode="json")
        if ent.campus_column:
            data[ent.campus_column.removesuffix("_id")] = codes.get(getattr(row, ent.campus_column))
        if ent.availability is not None:
            data["availability"] = [{"start": a.isoformat(), "end": b.isoformat()} for a, b in ranges[row.id]]
        out.append(data)
    return out


async def as_dict(s: AsyncSession, ent: Entity, row: Any) -> dict[str, Any]:
    return (await as_dicts(s, ent, [row]))[0]


async def list_rows(
    s: AsyncSession, user: User, ent: Entity, campus: Campus | None, *, include_archived: bool = False
) -> list[Any]:
    """Records of one campus (shared records: all; instructors: the campus's and the roaming ones)."""
    stmt = select(ent.model)
    if ent.scope == "campus":
        if campus is None:
            return []
        await ensure_campus(s, user, campus.id or 0)
        stmt = stmt.where(ent.model.campus_id == campus.id)
    elif ent.scope == "home_campus":
        mine = await staff_campus_ids(s, user)
        wanted = {campus.id} if campus is not None else mine
        if campus is not None:
            await ensure_campus(s, user, campus.id or 0)
        stmt = stmt.where(
            or_(col(ent.model.home_campus_id).in_(wanted & mine), col(ent.model.home_campus_id).is_(None))
        )
    if not include_archived:
        stmt = stmt.where(ent.model.archived == False)  # noqa: E712
    # dormitory rooms have neither a name nor a code: they sort by their number
    key = next(getattr(ent.model, c) for c in ("name", "code", "room_number") if hasattr(ent.model, c))
    order = [col(key)]
    return list(await s.exec(stmt.order_by(*order, col(ent.model.id))))


async def _to_columns(
    s: AsyncSession, user: User, ent: Entity, values: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[date, date]] | None]:
    """Turn checked form values into column values: campus codes become ids the user may act on."""
    values = dict(values)
    if ent.normalize:
        ent.normalize(values)
    ranges = values.pop("availability", None) if ent.availability is not None else None
    for spec in ent.fields:
        if spec.kind != "campus" or spec.name not in values:
            continue
        code = values.pop(spec.name)
        column = ent.campus_column or "campus_id"
        if not code:
            values[column] = None
            continue
        campus = (await s.exec(select(Campus).where(Campus.code == code))).first()
        if campus is None:
            ja = f"キャンパス「{code}」はありません。"
            raise InvalidInput(
                ja, f"Unknown campus {code}", errors=[FieldError(spec.name, ja, f"Unknown campus {code}")]
            )
        await ensure_campus(s, user, campus.id or 0)
        if ent.model is DormRoom and not campus.has_lodging:
            ja = f"{campus.name_ja}には宿泊施設がないため、宿泊室を登録できません。"
            raise InvalidInput(
                ja, "This campus has no lodging.", errors=[FieldError(spec.name, ja, "No lodging.")]
            )
        values[column] = campus.id
    return values, ranges


async def _replace_ranges(
    s: AsyncSession, ent: Entity, row_id: int, ranges: list[tuple[date, date]] | None
) -> None:
    if ent.availability is None or ranges is None:
        return
    fk = getattr(ent.availability, ent.availability_fk)
    await s.exec(delete(ent.availability).where(col(fk) == row_id))
    for a, b in ranges:
        s.add(ent.availability(**{ent.availability_fk: row_id, "start_date": a, "end_date": b}))
    await s.flush()


def _duplicate(ent: Entity) -> Conflict:
    field_name = {"classrooms": "name", "dorm-rooms": "room_number", "courses": "code"}.get(ent.name, "name")
    ja = {
        "classrooms": "このキャンパスには同じ名前の研修室が既にあります。",
        "dorm-rooms": "このキャンパスには同じ番号の宿泊室が既にあります。",
        "courses": "この研修コードは既に使われています。",
    }.get(ent.name, "同じ内容の記録が既にあります。")
    return Conflict(
        ja, "A record with the same name already exists.", errors=[FieldError(field_name, ja, "Duplicate")]
    )


async def snapshot(s: AsyncSession, ent: Entity, row: Any) -> dict[str, Any]:
    ranges = (await ranges_of(s, ent, [row.id]))[row.id] if ent.availability is not None else None
    extra = {"availability": format_ranges(ranges)} if ranges is not None else {}
    return audit.snapshot(row, **extra)


async def create(s: AsyncSession, user: User, ent: Entity, data: dict[str, Any], now: datetime) -> Any:
    """Add a record, checked field by field, with an audit entry."""
    values = check(ent.fields, data, now.date())
    columns, ranges = await _to_columns(s, user, ent, values)
    row = ent.model(**columns)
    s.add(row)
    try:
        await s.flush()
    except IntegrityError:
        raise _duplicate(ent) from None
    await _replace_ranges(s, ent, row.id, ranges)
    await audit.record(
        s, user, "create", ent.name, row.id, campus_of(ent, row), None, await snapshot(s, ent, row), now
    )
    return row


async def update(
    s: AsyncSession,
    user: User,
    ent: Entity,
    row_id: int,
    data: dict[str, Any],
    now: datetime,
    *,
    partial: bool,
) -> Any:
    """Change a record the user started editing at ``version``; refused if someone saved since."""
    version = version_of(data)
    row = await load(s, user, ent, row_id)
    values = check(ent.fields, data, now.date(), partial=partial, creating=False)
    columns, ranges = await _to_columns(s, user, ent, values)
    before = await snapshot(s, ent, row)
    try:
        await save_versioned(s, ent.model, row, version, columns, ent.label)
    except IntegrityError:
        raise _duplicate(ent) from None
    await _replace_ranges(s, ent, row.id, ranges)
    after = await snapshot(s, ent, row)
    await audit.record(s, user, "update", ent.name, row.id, campus_of(ent, row), before, after, now)
    return row


async def set_archived(
    s: AsyncSession, user: User, ent: Entity, row_id: int, data: dict[str, Any], now: datetime
) -> Any:
    """Archive (or restore) a record instead of deleting it: history and plans keep pointing at it."""
    if ent.admin_archive:
        ensure_admin(user)
    version = version_of(data)
    archived = data.get("archived", True)
    archived = archived if isinstance(archived, bool) else str(archived).lower() in {"true", "1", "on"}
    row = await load(s, user, ent, row_id)
    before = await snapshot(s, ent, row)
    await save_versioned(s, ent.model, row, version, {"archived": archived}, ent.label)
    action = "archive" if archived else "restore"
    await audit.record(
        s, user, action, ent.name, row.id, campus_of(ent, row), before, await snapshot(s, ent, row), now
    )
    return row


def form_values(ent: Entity, row: dict[str, Any] | None) -> dict[str, str]:
    """The values an edit form starts from (text, as the person would type them)."""
    if row is None:
        return {}
    out: dict[str, str] = {}
    for spec in ent.fields:
        value = row.get(spec.name)
        if spec.kind == "ranges":
            value = "\n".join(f"{r['start']}..{r['end']}" for r in row.get("availability") or [])
        elif spec.kind == "bool":
            value = "on" if value else ""
        out[spec.name] = "" if value is None else str(value)
    out["version"] = str(row.get("version", ""))
    return out

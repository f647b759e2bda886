"""Rooms out of service, CSV import and export of instructors and practicum sites, and the seed
loader for both (called at the end of ``seeding.load_catalog``)."""

from __future__ import annotations

import asyncio
import csv
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.bulk import files as bulk_file
from courses.console.entities import (
    INSTRUCTOR,
    PRACTICUM_SITE,
    Entity,
    as_dicts,
    create,
    list_rows,
    load,
    update,
)
from courses.console.forms import FieldSpec, check, ensure_campus, parse
from courses.core import audit, tabular
from courses.core.errors import FieldError, Forbidden, InvalidInput, NotFound, not_found
from courses.core.settings import SEEDS_DIR
from courses.models import Campus, Classroom, DormRoom, User
from courses.models.resources import (
    Instructor,
    InstructorAvailability,
    PracticumSite,
    PracticumSiteAvailability,
    RoomOutage,
)

OUTAGE_FIELDS = [
    FieldSpec("start_date", "開始日", "date"),
    FieldSpec("end_date", "終了日", "date"),
    FieldSpec("reason", "理由", required=False, max_len=200, hint="例: 空調工事"),
]


# --- rooms out of service --------------------------------------------------------------------------


async def room_of(s: AsyncSession, user: User, kind: str, room_id: int) -> Classroom | DormRoom:
    room: Classroom | DormRoom | None = (
        await s.get(Classroom, room_id) if kind == "classrooms" else await s.get(DormRoom, room_id)
    )
    if room is None:
        raise not_found("部屋", "Room", room_id)
    await ensure_campus(s, user, room.campus_id)
    return room


async def outages_of(s: AsyncSession, room: Classroom | DormRoom) -> list[RoomOutage]:
    column = RoomOutage.classroom_id if isinstance(room, Classroom) else RoomOutage.dorm_room_id
    return list(
        await s.exec(select(RoomOutage).where(column == room.id).order_by(col(RoomOutage.start_date)))
    )


async def add_outage(
    s: AsyncSession, user: User, kind: str, room_id: int, data: dict[str, Any], now: datetime
) -> RoomOutage:
    """Take a room out of service from one day to another (both included); the next solve sees it."""
    room = await room_of(s, user, kind, room_id)
    values = check(OUTAGE_FIELDS, data, now.date())
    if values["end_date"] < values["start_date"]:
        ja = "終了日は開始日以降の日付にしてください。"
        en = "The end date is before the start date."
        raise InvalidInput(ja, en, errors=[FieldError("end_date", ja, en)])
    outage = RoomOutage(
        campus_id=room.campus_id,
        classroom_id=room.id if isinstance(room, Classroom) else None,
        dorm_room_id=room.id if isinstance(room, DormRoom) else None,
        **values,
    )
    s.add(outage)
    await s.flush()
    await audit.record(
        s, user, "create", "room_outage", outage.id or 0, room.campus_id, None, audit.snapshot(outage), now
    )
    return outage


async def remove_outage(s: AsyncSession, user: User, outage_id: int, now: datetime) -> RoomOutage:
    """An outage may be withdrawn (it is a plan, not a record others refer to); the log keeps it."""
    outage = await s.get(RoomOutage, outage_id)
    if outage is None:
        raise NotFound("この使用停止の予定は見つかりません。", "No such outage.")
    await ensure_campus(s, user, outage.campus_id)
    before = audit.snapshot(outage)
    await s.delete(outage)
    await audit.record(s, user, "delete", "room_outage", outage_id, outage.campus_id, before, None, now)
    return outage


def outage_dict(o: RoomOutage) -> dict[str, Any]:
    return {
        "id": o.id,
        "start_date": o.start_date.isoformat(),
        "end_date": o.end_date.isoformat(),
        "reason": o.reason,
    }


# --- CSV import and export -------------------------------------------------------------------------

CSV_COLUMNS = {
    "instructors": [
        "id",
        "version",
        "name",
        "name_kana",
        "kind",
        "qualification",
        "home_prefecture",
        "home_campus",
        "subjects",
        "max_modules_per_month",
        "fee_per_module_yen",
        "travel_cost_yen",
        "email",
        "availability",
    ],
    "sites": [
        "id",
        "version",
        "campus",
        "name",
        "company_name",
        "industry",
        "address",
        "travel_minutes",
        "capacity_per_day",
        "excluded_companies",
        "availability",
    ],
}


async def export_csv(s: AsyncSession, user: User, ent: Entity, campus: Campus | None, encoding: str) -> bytes:
    """Every record the user may see, in the columns the import reads back."""
    rows = await as_dicts(s, ent, await list_rows(s, user, ent, campus))
    header = CSV_COLUMNS[ent.name]
    out = []
    for r in rows:
        cells = dict(r)
        cells["availability"] = ";".join(f"{a['start']}..{a['end']}" for a in r.get("availability", []))
        if "excluded_companies" in cells:
            cells["excluded_companies"] = ";".join(str(cells["excluded_companies"]).splitlines())
        out.append(["" if cells.get(h) is None else cells.get(h) for h in header])
    return tabular.write_csv(
        header, out, "cp932" if encoding.lower() in {"cp932", "sjis", "shift_jis"} else "utf-8"
    )


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[FieldError] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False

    def as_dict(self, lang: str = "ja") -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "applied": self.applied,
            "errors": [e.as_dict(lang) for e in self.errors],
            "preview": self.preview,
        }


async def import_csv(
    s: AsyncSession, user: User, ent: Entity, content: bytes, now: datetime, *, dry_run: bool
) -> ImportReport:
    """Check every row (row number, column and reason for each problem); when nothing is wrong and
    this is not a dry run, create or update every row (rows with an ``id`` update that record)."""
    required = [f.name for f in ent.fields if f.required and f.kind != "bool"]
    rows = await asyncio.to_thread(bulk_file.read_rows, content, required)  # off the event loop
    report = ImportReport(rows=len(rows))
    seen_ids: set[int] = set()
    plans: list[tuple[int, int | None, dict[str, Any]]] = []
    for number, cells in rows:
        _, errors = parse(ent.fields, cells, now.date(), row=number)
        row_id: int | None = None
        if cells.get("id"):
            try:
                row_id = int(cells["id"])
            except ValueError:
                errors.append(
                    FieldError(
                        "id", "id は整数で入力してください（新規は空欄）。", "id: a number.", row=number
                    )
                )
        if row_id is not None:
            if row_id in seen_ids:
                errors.append(
                    FieldError("id", f"id {row_id} が複数の行にあります。", "Duplicate id.", row=number)
                )
            seen_ids.add(row_id)
            existing = await s.get(ent.model, row_id)
            if existing is None:
                errors.append(
                    FieldError(
                        "id",
                        f"id {row_id} の{ent.label}はありません。新規なら空欄にしてください。",
                        "Unknown id.",
                        row=number,
                    )
                )
            elif not cells.get("version"):
                cells["version"] = str(existing.version)
        errors += await _scope_errors(s, user, ent, cells, row_id, number)
        report.errors += errors
        if not errors:
            plans.append((number, row_id, cells))
            report.preview.append(
                {"row": number, "action": "update" if row_id else "create", "name": cells.get("name", "")}
            )
    report.created = sum(1 for _, rid, _ in plans if rid is None)
    report.updated = len(plans) - report.created
    if dry_run or report.errors:
        return report
    for number, row_id, cells in plans:
        try:
            if row_id is None:
                await create(s, user, ent, cells, now)
            else:
                await update(s, user, ent, row_id, cells, now, partial=False)
        except InvalidInput as exc:
            raise _at_row(exc, number) from None
    report.applied = True
    return report


def _at_row(exc: Any, number: int) -> Any:
    for e in exc.errors:
        e.row = number
    exc.detail_ja = f"{number}行目: {exc.detail_ja}"
    return exc


async def _scope_errors(
    s: AsyncSession, user: User, ent: Entity, cells: dict[str, str], row_id: int | None, number: int
) -> list[FieldError]:
    """A row may only name campuses the user acts on, and only update records of those campuses."""

    errors: list[FieldError] = []
    column = "campus" if ent.scope == "campus" else "home_campus"
    code = cells.get(column, "")
    if code:
        campus = (await s.exec(select(Campus).where(Campus.code == code))).first()
        if campus is None:
            errors.append(
                FieldError(column, f"キャンパス「{code}」はありません。", "Unknown campus.", row=number)
            )
        else:
            try:
                await ensure_campus(s, user, campus.id or 0)
            except Forbidden:
                errors.append(
                    FieldError(
                        column,
                        f"キャンパス「{code}」のデータを扱う権限がありません。",
                        "Not your campus.",
                        row=number,
                    )
                )
    if row_id is not None:
        try:
            await load(s, user, ent, row_id)
        except (Forbidden, NotFound):
            pass  # reported as unknown id above when missing
        except Exception:  # pragma: no cover
            raise
    return errors


# --- seeds -----------------------------------------------------------------------------------------


@dataclass
class ResourceSeedReport:
    instructors: int = 0
    practicum_sites: int = 0


async def load_resources(db: AsyncSession, today: date, seeds_dir: Path = SEEDS_DIR) -> ResourceSeedReport:
    """Insert the seed instructors and practicum sites, their availability laid out on the fiscal year
    of ``today`` ('all' is the whole year). The caller owns the transaction; nothing is audited."""

    report = ResourceSeedReport()
    campuses = dict((await db.exec(select(Campus.code, Campus.id))).all())
    for ent, name, model, avail, fk in (
        (INSTRUCTOR, "instructors.csv", Instructor, InstructorAvailability, "instructor_id"),
        (PRACTICUM_SITE, "practicum_sites.csv", PracticumSite, PracticumSiteAvailability, "site_id"),
    ):
        path = seeds_dir / name
        if not path.exists():
            continue
        pending = []
        with path.open(encoding="utf-8", newline="") as f:
            seed_rows = list(csv.DictReader(f))
        for number, cells in enumerate(seed_rows, start=2):
            values = check(ent.fields, cells, today, row=number)
            ranges = values.pop("availability") or []
            for key in ("campus", "home_campus"):
                if key in values:
                    code = values.pop(key)
                    values[f"{key}_id"] = campuses[code] if code else None
            if ent.normalize:
                ent.normalize(values)
            row = model(**values)
            db.add(row)
            pending.append((row, ranges))
        await db.flush()
        for row, ranges in pending:
            for a, b in ranges:
                db.add(avail(**{fk: row.id, "start_date": a, "end_date": b}))
        await db.flush()
        if model is Instructor:
            report.instructors = len(pending)
        else:
            report.practicum_sites = len(pending)
    return report

"""The audit log: who changed what, when, with the record before and after, in the same transaction
as the change itself (so a change and its record are committed or rolled back together)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.models import Campus, User
from courses.models.resources import AuditLog

PER_PAGE = 50


def snapshot(row: Any, **extra: Any) -> dict[str, Any]:
    """A JSON-ready copy of a table row (dates as ISO strings), plus any related values."""
    data: dict[str, Any] = row.model_dump(mode="json")
    data.pop("password_hash", None)
    data.pop("feed_token", None)
    data.update(extra)
    return data


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


async def record(
    s: AsyncSession,
    user: User | None,
    action: str,
    entity: str,
    entity_id: int,
    campus_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> AuditLog:
    """Write one audit entry inside the caller's write transaction."""
    row = AuditLog(
        at=now,
        user_id=user.id if user else None,
        action=action,
        entity=entity,
        entity_id=entity_id,
        campus_id=campus_id,
        before_json=_json(before),
        after_json=_json(after),
    )
    s.add(row)
    await s.flush()
    return row


@dataclass
class AuditFilter:
    entity: str | None = None
    user_id: int | None = None
    campus_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1


@dataclass
class AuditEntry:
    log: AuditLog
    user_name: str | None
    campus_name: str | None

    def changes(self) -> list[tuple[str, Any, Any]]:
        """The fields whose values differ between before and after."""
        before = json.loads(self.log.before_json) if self.log.before_json else {}
        after = json.loads(self.log.after_json) if self.log.after_json else {}
        keys = [k for k in {**before, **after} if before.get(k) != after.get(k) and k != "version"]
        return [(k, before.get(k), after.get(k)) for k in sorted(keys)]

    def as_dict(self) -> dict[str, Any]:
        log = self.log
        return {
            "id": log.id,
            "at": log.at.isoformat(),
            "user_id": log.user_id,
            "user_name": self.user_name,
            "action": log.action,
            "entity": log.entity,
            "entity_id": log.entity_id,
            "campus_id": log.campus_id,
            "before": json.loads(log.before_json) if log.before_json else None,
            "after": json.loads(log.after_json) if log.after_json else None,
        }


async def search(s: AsyncSession, flt: AuditFilter, tz: Any) -> tuple[list[AuditEntry], int]:
    """One page of entries, newest first, and the total count."""
    stmt = (
        select(AuditLog, User.name, Campus.name_ja)
        .join(User, col(User.id) == AuditLog.user_id, isouter=True)
        .join(Campus, col(Campus.id) == AuditLog.campus_id, isouter=True)
    )
    count = select(func.count()).select_from(AuditLog)
    conditions = []
    if flt.entity:
        conditions.append(col(AuditLog.entity) == flt.entity)
    if flt.user_id:
        conditions.append(col(AuditLog.user_id) == flt.user_id)
    if flt.campus_id:
        conditions.append(col(AuditLog.campus_id) == flt.campus_id)
    if flt.date_from:
        conditions.append(col(AuditLog.at) >= datetime.combine(flt.date_from, datetime.min.time(), tz))
    if flt.date_to:
        end = datetime.combine(flt.date_to + timedelta(days=1), datetime.min.time(), tz)
        conditions.append(col(AuditLog.at) < end)
    for c in conditions:
        stmt = stmt.where(c)
        count = count.where(c)
    total = int((await s.exec(count)).one())
    rows = await s.exec(
        stmt.order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
        .offset((flt.page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    )
    return [AuditEntry(log, name, campus) for log, name, campus in rows], total

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
# every kind of record the log holds, in the order the filter lists them
ENTITY_JA = {
    "courses": "研修",
    "session": "開催回",
    "enrollment": "申込",
    "plan": "計画",
    "classrooms": "研修室",
    "dorm-rooms": "宿泊室",
    "room_outage": "使用停止",
    "instructors": "講師",
    "sites": "実習先企業",
    "staff": "職員アカウント",
    "organization": "団体",
    "coordinator": "申込担当者",
}
ACTION_JA = {
    "create": "作成",
    "update": "変更",
    "delete": "削除",
    "archive": "アーカイブ",
    "restore": "復元",
    "deactivate": "無効化",
    "copy": "複製",
    "publish": "公開",
    "close": "受付終了",
    "cancel": "中止・キャンセル",
    "enroll": "職員による申込",
    "promote": "キャンセル待ちからの繰り上げ",
}
FIELD_JA = {
    "name": "氏名・名称",
    "name_ja": "名称",
    "title_ja": "研修名",
    "code": "コード",
    "email": "メールアドレス",
    "role": "権限",
    "campuses": "担当キャンパス",
    "active": "有効",
    "status": "状態",
    "capacity": "定員",
    "start_date": "開始日",
    "end_date": "終了日",
    "application_opens": "申込開始日",
    "application_closes": "申込締切日",
    "lodging": "宿泊",
    "blocks": "日程ブロック",
    "fee_yen": "受講料（円）",
    "room_number": "部屋番号",
    "floor": "階",
    "kind": "種別",
    "zone": "区画",
    "accessible": "バリアフリー",
    "archived": "アーカイブ",
    "reason": "理由",
    "subjects": "担当分野",
    "home_prefecture": "居住都道府県",
    "travel_minutes": "移動時間（分）",
    "capacity_per_day": "1日の受入人数",
    "address": "所在地",
    "company_name": "会社名",
    "industry": "業種",
    "prefecture": "都道府県",
    "published_at": "公開日時",
    "waitlist_seq": "キャンセル待ち順",
    "session_code": "開催回コード",
    "learner": "受講者",
    "cancellation_fee_yen": "キャンセル料（円）",
    "enrollments_cancelled": "キャンセルした申込",
    "learners_told": "お知らせした受講者",
    "replaces": "置き換える計画",
}


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
) -> AuditLog | None:
    """Write one audit entry inside the caller's write transaction. An update that changes nothing
    is not a change, and writes nothing."""
    if action == "update" and before is not None and after is not None and _same(before, after):
        return None
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


def _same(before: dict[str, Any], after: dict[str, Any]) -> bool:
    ignore = {"version", "updated_at"}
    return {k: v for k, v in before.items() if k not in ignore} == {
        k: v for k, v in after.items() if k not in ignore
    }


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

    @property
    def action_ja(self) -> str:
        return ACTION_JA.get(self.log.action, self.log.action)

    @property
    def entity_ja(self) -> str:
        return ENTITY_JA.get(self.log.entity, self.log.entity)

    def changes_ja(self) -> list[tuple[str, Any, Any]]:
        """The changed fields, named in Japanese."""
        return [(FIELD_JA.get(k, k), a, b) for k, a, b in self.changes()]

    def changes(self) -> list[tuple[str, Any, Any]]:
        """The fields whose values differ between before and after."""
        before = json.loads(self.log.before_json) if self.log.before_json else {}
        after = json.loads(self.log.after_json) if self.log.after_json else {}
        keys = [
            k
            for k in {**before, **after}
            if before.get(k) != after.get(k) and k not in ("version", "updated_at")
        ]
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

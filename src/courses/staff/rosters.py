"""Rosters for campus staff: who is in a session, with their room and practicum site once a plan is
published, as a table and as CSV (Excel-friendly)."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core import tabular
from courses.core.reference import INDUSTRIES, PREFECTURES
from courses.enrollment import service as enrollment
from courses.models import Enrollment, LearnerProfile, User
from courses.planning import plans

STATUS_JA = {"confirmed": "受講決定", "waitlisted": "キャンセル待ち", "cancelled": "キャンセル"}
GENDER_JA = {"female": "女性", "male": "男性"}


async def session_roster(s: AsyncSession, session_id: int) -> list[dict[str, Any]]:
    """The session's people, each with the room (per block) and site of the published plans."""
    rows = await enrollment.roster(s, session_id)
    placed = await plans.placements_for(s, [e.id or 0 for e, _, _ in rows if e.status == "confirmed"])
    return roster_rows(rows, placed)


def roster_rows(
    rows: list[tuple[Enrollment, User, LearnerProfile | None]],
    placed: dict[int, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    out = []
    for e, u, p in rows:
        where = (placed or {}).get(e.id or 0, {})
        out.append(
            {
                "enrollment_id": e.id,
                "status": e.status,
                "waitlist_seq": e.waitlist_seq,
                "lodging": e.lodging,
                "source": e.source,
                "name": u.name,
                "name_kana": u.name_kana,
                "email": u.email,
                "company": p.company if p else "",
                "department": p.department if p else "",
                "position": p.position if p else "",
                "industry": p.industry if p else "",
                "prefecture": p.prefecture if p else "",
                "phone": p.phone if p else "",
                "gender": (p.gender if p else None) or "",
                "needs_accessible_room": bool(p and p.needs_accessible_room),
                "room": where.get("room"),  # room number(s), one per block when they differ
                "site": where.get("site"),
            }
        )
    return out


def roster_csv(rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with BOM, so that Excel opens the Japanese text correctly."""
    return tabular.write_csv(
        [
            "申込ID",
            "状態",
            "待ち順",
            "氏名",
            "フリガナ",
            "メール",
            "会社・団体",
            "部署",
            "役職",
            "業種",
            "都道府県",
            "電話",
            "宿泊",
            "性別",
            "バリアフリー室",
            "申込経路",
            "部屋（公開中の部屋割り）",
            "実習先（公開中の計画）",
        ],
        [
            [
                r["enrollment_id"],
                STATUS_JA.get(r["status"], r["status"]),
                r["waitlist_seq"] or "",
                r["name"],
                r["name_kana"],
                r["email"],
                r["company"],
                r["department"],
                r["position"],
                INDUSTRIES.get(r["industry"], r["industry"]),
                PREFECTURES.get(r["prefecture"], r["prefecture"]),
                r["phone"],
                "希望" if r["lodging"] else "",
                GENDER_JA.get(r["gender"], ""),
                "要" if r["needs_accessible_room"] else "",
                {"self": "本人", "staff": "職員", "bulk": "団体一括"}.get(r["source"], r["source"]),
                r["room"] or "",
                r["site"] or "",
            ]
            for r in rows
        ],
    )

"""Administrators manage staff accounts and the campuses each may act on. Accounts are deactivated
(no password, no sessions, no campuses), never deleted: the audit log and enrollments refer to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.service import MIN_PASSWORD, email_taken
from courses.console.forms import FieldSpec, check, ensure_admin, refuse
from courses.core import audit
from courses.core.errors import Conflict, FieldError, InvalidInput, not_found
from courses.models import AuthToken, Campus, Role, StaffCampus, User

F = FieldSpec
STAFF_FIELDS = [
    F("email", "メールアドレス", "email", max_len=254, create_only=True),
    F("name", "氏名", max_len=100),
    F("name_kana", "フリガナ", "kana", required=False, max_len=100),
    F("role", "権限", "choice", choices=((Role.STAFF, "職員"), (Role.ADMIN, "管理者"))),
    F(
        "campuses",
        "担当キャンパス",
        required=False,
        max_len=400,
        hint="キャンパスのコードをカンマ区切りで（例: tokyo,sanjo）",
    ),
]


def check_password(password: str) -> None:
    """Checked before the password is hashed (outside the write transaction)."""
    if len(password) < MIN_PASSWORD:
        ja = f"初期パスワードは{MIN_PASSWORD}文字以上にしてください。"
        raise refuse([FieldError("password", ja, f"At least {MIN_PASSWORD} characters.")])


async def _campus_ids(s: AsyncSession, raw: Any) -> list[int]:
    codes = (
        raw if isinstance(raw, list) else [c.strip() for c in str(raw or "").replace("、", ",").split(",")]
    )
    codes = [c for c in codes if c]
    rows = (await s.exec(select(Campus.code, Campus.id).where(col(Campus.code).in_(codes)))).all()
    found = {code: campus_id for code, campus_id in rows if campus_id is not None}
    unknown = [c for c in codes if c not in found]
    if unknown:
        ja = f"キャンパス「{unknown[0]}」はありません。"
        raise refuse([FieldError("campuses", ja, f"Unknown campus {unknown[0]}.")])
    return [found[c] for c in dict.fromkeys(codes)]


async def staff_list(s: AsyncSession) -> list[dict[str, Any]]:
    users = list(
        await s.exec(select(User).where(col(User.role).in_([Role.STAFF, Role.ADMIN])).order_by(col(User.id)))
    )
    codes = dict((await s.exec(select(Campus.id, Campus.code))).all())
    links = list(await s.exec(select(StaffCampus)))
    by_user: dict[int, list[str]] = {}
    for link in links:
        by_user.setdefault(link.user_id, []).append(codes[link.campus_id])
    return [_dict(u, sorted(by_user.get(u.id or 0, []))) for u in users]


def _dict(u: User, campuses: list[str]) -> dict[str, Any]:
    return {
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "name_kana": u.name_kana,
        "role": u.role,
        "campuses": ",".join(campuses),
        "active": u.password_hash is not None,
        "version": 0,
    }


async def get(s: AsyncSession, user_id: int) -> dict[str, Any]:
    for row in await staff_list(s):
        if row["id"] == user_id:
            return row
    raise not_found("職員", "Staff", user_id)


async def create(
    s: AsyncSession, admin: User, data: dict[str, Any], password_hash: str, now: datetime
) -> dict[str, Any]:
    """A new staff account with its campuses; the password was hashed before this transaction."""
    ensure_admin(admin)
    values = check(STAFF_FIELDS, data, now.date())
    if await email_taken(s, values["email"]):
        ja = "このメールアドレスは既に登録されています。"
        raise Conflict(ja, "Email already registered.", errors=[FieldError("email", ja, "Taken.")])
    ids = await _campus_ids(s, data.get("campuses"))
    user = User(
        email=values["email"],
        password_hash=password_hash,
        name=values["name"],
        name_kana=values["name_kana"],
        role=values["role"],
        created_at=now,
    )
    s.add(user)
    await s.flush()
    for cid in ids:
        s.add(StaffCampus(user_id=user.id or 0, campus_id=cid))
    await s.flush()
    after = await get(s, user.id or 0)
    await audit.record(s, admin, "create", "staff", user.id or 0, None, None, after, now)
    return after


async def update(
    s: AsyncSession, admin: User, user_id: int, data: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Change a staff member's name, role and campuses (the list replaces the old one)."""
    ensure_admin(admin)
    before = await get(s, user_id)
    values = check(STAFF_FIELDS, data, now.date(), partial=True, creating=False)
    user = await s.get(User, user_id)
    assert user is not None
    if user.id == admin.id and values.get("role", user.role) != Role.ADMIN:
        raise InvalidInput("自分自身の管理者権限は外せません。", "You cannot remove your own admin role.")
    for key in ("name", "name_kana", "role"):
        if key in values:
            setattr(user, key, values[key])
    s.add(user)
    if "campuses" in data:
        ids = await _campus_ids(s, data.get("campuses"))
        await s.exec(delete(StaffCampus).where(col(StaffCampus.user_id) == user_id))
        for cid in ids:
            s.add(StaffCampus(user_id=user_id, campus_id=cid))
    await s.flush()
    after = await get(s, user_id)
    await audit.record(s, admin, "update", "staff", user_id, None, before, after, now)
    return after


async def deactivate(s: AsyncSession, admin: User, user_id: int, now: datetime) -> dict[str, Any]:
    """Sign a member of staff out everywhere and take away their password and campuses."""
    ensure_admin(admin)
    before = await get(s, user_id)
    if user_id == admin.id:
        raise InvalidInput("自分自身は無効にできません。", "You cannot deactivate yourself.")
    user = await s.get(User, user_id)
    assert user is not None
    user.password_hash = None
    s.add(user)
    await s.exec(delete(AuthToken).where(col(AuthToken.user_id) == user_id))
    await s.exec(delete(StaffCampus).where(col(StaffCampus.user_id) == user_id))
    await s.flush()
    after = await get(s, user_id)
    await audit.record(s, admin, "deactivate", "staff", user_id, None, before, after, now)
    return after

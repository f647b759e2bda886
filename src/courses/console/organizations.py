"""Administrators create the organisations that register people in bulk, and their coordinators.

A coordinator gets an account without a password and an email with a link to set one, as people
registered by an organisation do; until then nobody can sign in as them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts import service as accounts
from courses.console.forms import FieldSpec, check, ensure_admin
from courses.core import audit, notifications
from courses.core.errors import Conflict, FieldError, not_found
from courses.models import Organization, Role, User

F = FieldSpec
ORG_KINDS = (
    ("chamber", "商工会議所"),
    ("society_of_commerce", "商工会"),
    ("prefectural_center", "都道府県の支援センター"),
    ("other", "その他"),
)
ORG_FIELDS = [
    F("name", "団体名", max_len=200),
    F("kind", "種別", "choice", choices=ORG_KINDS),
    F("prefecture", "都道府県", "prefecture"),
]
COORDINATOR_FIELDS = [
    F("email", "メールアドレス", "email", max_len=254),
    F("name", "氏名", max_len=100),
    F("name_kana", "フリガナ", "kana", required=False, max_len=100),
]


def _org(o: Organization, coordinators: list[User]) -> dict[str, Any]:
    return {
        "id": o.id,
        "name": o.name,
        "kind": o.kind,
        "prefecture": o.prefecture,
        "coordinators": [{"id": u.id, "email": u.email, "name": u.name} for u in coordinators],
    }


async def org_list(s: AsyncSession) -> list[dict[str, Any]]:
    orgs = (await s.exec(select(Organization).order_by(col(Organization.id)))).all()
    people = (await s.exec(select(User).where(User.role == Role.COORDINATOR).order_by(col(User.id)))).all()
    by_org: dict[int, list[User]] = {}
    for u in people:
        by_org.setdefault(u.organization_id or 0, []).append(u)
    return [_org(o, by_org.get(o.id or 0, [])) for o in orgs]


async def create_org(s: AsyncSession, admin: User, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    ensure_admin(admin)
    values = check(ORG_FIELDS, data, now.date())
    org = Organization(name=values["name"], kind=values["kind"], prefecture=values["prefecture"])
    s.add(org)
    await s.flush()
    after = _org(org, [])
    await audit.record(s, admin, "create", "organization", org.id or 0, None, None, after, now)
    return after


async def get_org(s: AsyncSession, org_id: int) -> Organization:
    org = await s.get(Organization, org_id)
    if org is None:
        raise not_found("団体", "Organization", org_id)
    return org


async def create_coordinator(
    s: AsyncSession, admin: User, org_id: int, data: dict[str, Any], now: datetime, base_url: str
) -> dict[str, Any]:
    """A coordinator of the organisation, told by email how to set their password."""
    ensure_admin(admin)
    org = await s.get(Organization, org_id)
    if org is None:
        raise not_found("団体", "Organization", org_id)
    values = check(COORDINATOR_FIELDS, data, now.date())
    if await accounts.email_taken(s, values["email"]):
        ja = "このメールアドレスは既に登録されています。"
        raise Conflict(ja, "Email already registered.", errors=[FieldError("email", ja, "Taken.")])
    user = User(
        email=values["email"],
        password_hash=None,
        name=values["name"],
        name_kana=values["name_kana"] or "",
        role=Role.COORDINATOR,
        organization_id=org.id,
        created_at=now,
    )
    s.add(user)
    await s.flush()
    secret = await accounts.issue_token(s, user, "reset", now)
    notifications.queue(
        s,
        user,
        f"【中小企業大学校】{org.name} の団体申込担当者として登録されました",
        f"{user.name} 様\n\n{org.name} の団体一括申込の担当者として登録されました。\n"
        "次のリンクからパスワードを設定してください（7日間有効）。\n"
        + notifications.secret_link(base_url, "/password/set", secret),
        now,
    )
    after = {"id": user.id, "email": user.email, "name": user.name, "organization_id": org.id}
    await audit.record(s, admin, "create", "coordinator", user.id or 0, None, None, after, now)
    return after

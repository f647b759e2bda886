"""Checking a registration file's rows: what the rows refer to, looked up in a few queries for the
whole file, and the checks of one row (email, kana, lodging, session, profile, eligibility).

``courses.bulk.service`` plans and registers the rows with them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts import service as accounts
from courses.bulk.files import Table
from courses.core.errors import FieldError, NotEligible
from courses.core.reference import INDUSTRIES, prefecture_code
from courses.enrollment import seats
from courses.models import (
    Audience,
    Campus,
    Course,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    LearnerProfile,
    Organization,
    OrganizationKind,
    Role,
    SessionStatus,
    User,
)
from courses.models.bulk import OrganizationMember

YES = {"有", "あり", "はい", "要", "希望", "希望する", "○", "〇", "◯", "yes", "y", "true", "1", "on"}
NO = {"", "無", "なし", "いいえ", "不要", "希望しない", "×", "-", "no", "n", "false", "0", "off"}


def _fold(text: str) -> str:
    """A name as the reader compares it: NFKC (as every cell is read), without spaces."""
    return "".join(unicodedata.normalize("NFKC", text).split())


INDUSTRY_BY_NAME = {_fold(name): code for code, name in INDUSTRIES.items()}


def industry_code(raw: str) -> str | None:
    """A JSIC major division from its letter (E), its name (製造業, 農業，林業) or both, as the template's
    drop-down list writes them (E 製造業); None when it is none of these."""
    text = _fold(raw)
    if text.upper() in INDUSTRIES:
        return text.upper()
    if text in INDUSTRY_BY_NAME:
        return INDUSTRY_BY_NAME[text]
    head, rest = text[:1].upper(), text[1:].lstrip(":.、")
    if head in INDUSTRIES and rest and INDUSTRY_BY_NAME.get(rest) == head:
        return head
    return None


CHUNK = 500  # values per IN (...) list, well under every driver's parameter limit


# --- looking up what the rows refer to, a few queries for the whole file ---------------------------


@dataclass
class Lookups:
    sessions: dict[str, seats.SessionContext]  # by session code
    users: dict[str, User]  # by email
    profiles: dict[int, LearnerProfile]  # by user id
    active: set[tuple[int, int]]  # (session id, user id) of active enrollments
    seats_left: dict[int, int]  # by session id
    waiting: dict[int, int]  # people on each session's waiting list
    members: set[int]  # ids of the users linked to the organisation


def member_of(lookups: Lookups, email: str) -> User | None:
    """The learner with this email if they are linked to the organisation; nobody else is looked at."""
    user = lookups.users.get(email) if email else None
    if user is None or user.id not in lookups.members or user.role != Role.LEARNER:
        return None
    return user


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


async def load_lookups(s: AsyncSession, org: Organization, table: Table) -> Lookups:
    raw_codes = {cells.get("session_code", "") for _, cells in table.rows}
    codes = sorted((raw_codes | {c.upper() for c in raw_codes}) - {""})
    emails = sorted({accounts.normalize_email(cells.get("email", "")) for _, cells in table.rows} - {""})
    sessions: dict[str, seats.SessionContext] = {}
    for part in _chunks(codes):
        rows = await s.exec(
            select(CourseSession, Course, Campus)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .join(Campus, col(Campus.id) == CourseSession.campus_id)
            .where(col(CourseSession.code).in_(part), CourseSession.status != SessionStatus.DRAFT)
        )
        sessions.update({r[0].code: seats.SessionContext(*r) for r in rows})
    users: dict[str, User] = {}
    for part in _chunks(emails):
        users.update({u.email: u for u in await s.exec(select(User).where(col(User.email).in_(part)))})
    members: set[int] = set()
    for part in _chunks([u.id for u in users.values()]):
        members.update(
            await s.exec(
                select(OrganizationMember.user_id).where(
                    OrganizationMember.organization_id == org.id, col(OrganizationMember.user_id).in_(part)
                )
            )
        )
    # only members' accounts are read further: a stranger's account must not shape any answer
    users = {e: u for e, u in users.items() if u.id in members}
    user_ids = [u.id for u in users.values()]
    session_ids = [c.session.id for c in sessions.values()]
    profiles: dict[int, LearnerProfile] = {}
    active: set[tuple[int, int]] = set()
    for part in _chunks(user_ids):
        profiles.update(
            {
                p.user_id: p
                for p in await s.exec(select(LearnerProfile).where(col(LearnerProfile.user_id).in_(part)))
            }
        )
        if session_ids:
            found = await s.exec(
                select(Enrollment.session_id, Enrollment.user_id).where(
                    col(Enrollment.user_id).in_(part),
                    col(Enrollment.session_id).in_(session_ids),
                    col(Enrollment.status).in_(seats.ACTIVE),
                )
            )
            active.update((a, b) for a, b in found)
    waiting: dict[int, int] = {}
    if session_ids:
        counted = await s.exec(
            select(Enrollment.session_id, func.count())
            .where(
                col(Enrollment.session_id).in_(session_ids), Enrollment.status == EnrollmentStatus.WAITLISTED
            )
            .group_by(col(Enrollment.session_id))
        )
        waiting = {a: int(n) for a, n in counted}
    seats_left = {
        c.session.id or 0: c.session.capacity - c.session.confirmed_count for c in sessions.values()
    }
    return Lookups(sessions, users, profiles, active, seats_left, waiting, members)


# --- checking one row ---------------------------------------------------------------------------------


class RowChecker:
    """Collects every problem of one row, each with the row number and the column header as written."""

    def __init__(self, table: Table, row: int, cells: dict[str, str]) -> None:
        self.table, self.row, self.cells = table, row, cells
        self.errors: list[FieldError] = []

    def fail(self, key: str, ja: str, en: str) -> None:
        self.errors.append(FieldError(self.table.header(key), ja, en, row=self.row))

    def text(self, key: str, *, required: bool, max_len: int) -> str:
        value = self.cells.get(key, "")
        header = self.table.header(key)
        if not value and required:
            self.fail(key, f"{header}が入力されていません。", f"{header} is missing.")
        elif len(value) > max_len:
            self.fail(
                key, f"{header}は{max_len}文字以内にしてください。", f"{header} is longer than {max_len}."
            )
        return value

    def number(self, key: str, *, required: bool) -> int | None:
        raw = self.cells.get(key, "").replace(",", "").replace("円", "").replace("人", "").strip()
        header = self.table.header(key)
        if not raw:
            if required:
                self.fail(key, f"{header}が入力されていません。", f"{header} is missing.")
            return None
        if not raw.isdigit() or len(raw) > 15:
            self.fail(
                key,
                f"{header}は0以上の数字で入力してください（「{raw[:20]}」）。",
                f"{header} must be a whole number ({raw[:20]!r}).",
            )
            return None
        return int(raw)


def check_email(c: RowChecker) -> str:
    """Each row names a person by a well-formed email address: it is how the same person is recognised."""
    email = accounts.normalize_email(c.text("email", required=True, max_len=254))
    if email and not accounts.EMAIL_RE.match(email):
        c.fail(
            "email",
            f"メールアドレスの形式が正しくありません（「{email[:60]}」）。",
            f"Not a valid email address ({email[:60]!r}).",
        )
        return ""
    return email


def check_kana(c: RowChecker) -> str:
    """フリガナ is katakana (hiragana is converted, anything else refused)."""
    kana = accounts.to_katakana(c.text("name_kana", required=True, max_len=100))
    if kana and not accounts.KATAKANA_RE.match(kana):
        c.fail(
            "name_kana",
            f"フリガナはカタカナで入力してください（「{kana[:30]}」）。",
            f"{c.table.header('name_kana')} must be written in katakana.",
        )
    return kana


def check_lodging(c: RowChecker) -> bool:
    """宿泊希望 is yes or no; a blank cell means no."""
    raw = c.cells.get("lodging", "").lower()
    if raw in YES:
        return True
    if raw not in NO:
        c.fail(
            "lodging",
            f"宿泊希望は「有」か「無」で入力してください（「{raw[:20]}」）。",
            f"{c.table.header('lodging')} must be yes or no.",
        )
    return False


def check_session(c: RowChecker, lookups: Lookups) -> seats.SessionContext | None:
    """The session code names a session of the catalog."""
    code = c.text("session_code", required=True, max_len=40).upper()
    if not code:
        return None
    ctx = lookups.sessions.get(c.cells.get("session_code", "")) or lookups.sessions.get(code)
    if ctx is None:
        c.fail(
            "session_code",
            f"開催回コード「{code}」の開催回はありません。研修一覧のコードをご確認ください。",
            f"There is no session with the code {code!r}.",
        )
    return ctx


def profile_from_row(c: RowChecker, ctx: seats.SessionContext, org: Organization) -> dict[str, Any]:
    """The learner profile a new account gets. An organisation's own advisers (support-staff courses)
    work for a support agency; staff of member companies (SME courses) work for an SME, whose size
    decides its eligibility, so industry, employees and capital are required for them."""
    for_sme = ctx.course.audience == Audience.SME
    company = c.text("company", required=for_sme, max_len=200) or org.name
    industry_raw = c.cells.get("industry", "")
    industry = industry_code(industry_raw) if industry_raw else ""
    if not industry_raw:
        if for_sme:
            c.fail("industry", f"{c.table.header('industry')}が入力されていません。", "industry is missing.")
        industry = "R"  # chambers of commerce and 商工会 are JSIC R (93: political, business and cultural)
    elif industry is None:
        c.fail(
            "industry",
            "業種は日本標準産業分類の大分類（A〜T）の記号か名称（例: E、製造業）で入力してください。",
            "industry must be a JSIC major division letter A-T or its Japanese name.",
        )
    employees = c.number("employees", required=for_sme)
    capital = c.number("capital_yen", required=for_sme)
    pref_raw = c.cells.get("prefecture", "")
    prefecture = prefecture_code(pref_raw) if pref_raw else org.prefecture
    if prefecture is None:
        c.fail(
            "prefecture",
            f"都道府県を正しく入力してください（「{pref_raw[:10]}」）。",
            "prefecture must be a prefecture name or JIS code 01-47.",
        )
    return {
        "organization_kind": OrganizationKind.SME if for_sme else OrganizationKind.SUPPORT_AGENCY,
        "company": company,
        "department": c.text("department", required=False, max_len=100),
        "position": c.text("position", required=False, max_len=100),
        "industry": industry if industry and industry in INDUSTRIES else "R",
        "employees": employees or 0,
        "capital_yen": capital or 0,
        "prefecture": prefecture or org.prefecture,
        "phone": c.text("phone", required=False, max_len=30),
    }


def _ideal_profile(ctx: seats.SessionContext) -> LearnerProfile:
    """A profile every rule about people accepts for this session, to tell session refusals apart."""
    kind = OrganizationKind.SME if ctx.course.audience == Audience.SME else OrganizationKind.SUPPORT_AGENCY
    return LearnerProfile(
        user_id=0,
        organization_kind=kind,
        company="-",
        industry="E",
        employees=1,
        capital_yen=1,
        prefecture="13",
    )


def check_eligible(
    c: RowChecker,
    ctx: seats.SessionContext,
    profile: LearnerProfile,
    lodging: bool,
    today: date,
    *,
    known: bool,
) -> None:
    """The same eligibility rules as a single enrollment (status, application window, audience, SME
    thresholds, lodging), reported on the column that causes the refusal."""
    try:
        seats.check_eligibility(seats.Offer.of(ctx), profile, lodging, today, check_window=True)
        return
    except NotEligible as refusal:
        error = refusal
    try:
        seats.check_eligibility(seats.Offer.of(ctx), _ideal_profile(ctx), False, today, check_window=True)
        if lodging and not ctx.session.lodging:
            key = "lodging"
        elif known:
            key = "email"  # an existing learner's own profile decides, not this row
        elif profile.organization_kind != _ideal_profile(ctx).organization_kind:
            key = "session_code"  # the person's other rows made them the other kind of learner
        else:
            key = "employees"  # above the SME thresholds (employees and capital)
    except NotEligible:
        key = "session_code"  # the session itself: not open, window closed, cancelled
    c.fail(key, error.detail_ja, error.detail_en)

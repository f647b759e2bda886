"""Accounts: registration, passwords (argon2, off the event loop), tokens and login throttling."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core.errors import Conflict, FieldError, InvalidInput, Unauthorized
from courses.core.reference import INDUSTRIES, prefecture_code
from courses.core.tx import Tx, as_tx, detached
from courses.models import (
    AuthToken,
    Campus,
    LearnerProfile,
    OrganizationKind,
    Role,
    StaffCampus,
    User,
    id_of,
    table_of,
)

_hasher = PasswordHasher()
API_TOKEN_TTL = timedelta(days=30)
WEB_SESSION_TTL = timedelta(days=14)
RESET_TOKEN_TTL = timedelta(days=7)
EMAIL_CHANGE_TTL = timedelta(hours=24)
MAX_LOCK = timedelta(minutes=15)
MIN_PASSWORD = 10
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KATAKANA_RE = re.compile(r"^[\u30a0-\u30ff\u3000 ・ー－]+$")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        # spend the same time as a real check, so response times do not reveal which accounts exist
        await asyncio.to_thread(_dummy_verify, password)
        return False
    try:
        return await asyncio.to_thread(_hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = _hasher.hash("not-a-real-password")


def _dummy_verify(password: str) -> None:
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalize_email(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip().lower()


def to_katakana(raw: str) -> str:
    """Normalise フリガナ: full-width, hiragana turned into katakana."""
    text = unicodedata.normalize("NFKC", raw).strip()
    return "".join(chr(ord(ch) + 0x60) if "\u3041" <= ch <= "\u3096" else ch for ch in text)


@dataclass
class Registration:
    """A validated learner registration."""

    email: str
    password: str
    name: str
    name_kana: str
    profile: dict[str, Any] = field(default_factory=dict)


class _Checker:
    """Collects every field error of a form, so the person can fix them all at once."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.errors: list[FieldError] = []

    def fail(self, name: str, ja: str, en: str) -> None:
        self.errors.append(FieldError(name, ja, en))

    def text(self, name: str, label: str, *, required: bool = True, max_len: int = 200) -> str:
        raw = self.data.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                self.fail(name, f"{label}を入力してください。", f"{name} is required.")
            return ""
        if not isinstance(raw, str):
            self.fail(name, f"{label}は文字列で入力してください。", f"{name} must be a string.")
            return ""
        value = unicodedata.normalize("NFKC", raw).strip()
        if len(value) > max_len:
            self.fail(
                name, f"{label}は{max_len}文字以内で入力してください。", f"{name} is longer than {max_len}."
            )
        return value

    def integer(self, name: str, label: str, *, low: int = 0, high: int = 10**15) -> int:
        raw = self.data.get(name)
        if isinstance(raw, str):
            raw = unicodedata.normalize("NFKC", raw).replace(",", "").strip()
        try:
            value = int(raw) if raw not in (None, "") and not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            value = None
        if value is None:
            self.fail(name, f"{label}を数字で入力してください。", f"{name} must be a whole number.")
            return 0
        if not low <= value <= high:
            self.fail(name, f"{label}は{low:,}以上の数字で入力してください。", f"{name} is out of range.")
        return value


def validate_registration(data: Any) -> Registration:
    """Check a learner registration (JSON or form) and say everything that is wrong with it."""
    if not isinstance(data, dict):
        raise InvalidInput("登録内容はJSONオブジェクトで送ってください。", "The body must be a JSON object.")
    c = _Checker(data)
    email = normalize_email(c.text("email", "メールアドレス", max_len=254))
    if email and not EMAIL_RE.match(email):
        c.fail("email", "メールアドレスの形式が正しくありません。", "email is not a valid address.")
    raw_password = data.get("password")
    password = raw_password if isinstance(raw_password, str) else ""
    if len(password) < MIN_PASSWORD:
        c.fail(
            "password",
            f"パスワードは{MIN_PASSWORD}文字以上にしてください。",
            f"password must have at least {MIN_PASSWORD} characters.",
        )
    name, name_kana = _check_names(c)
    profile = _check_profile(c)
    _raise_if_wrong(c)
    return Registration(email=email, password=password, name=name, name_kana=name_kana, profile=profile)


def _raise_if_wrong(c: _Checker) -> None:
    if c.errors:
        raise InvalidInput(
            "入力内容に誤りがあります。各項目のメッセージをご確認ください。",
            "Some fields are missing or invalid.",
            errors=c.errors,
        )


def _check_names(c: _Checker) -> tuple[str, str]:
    """氏名 and フリガナ (hiragana is turned into katakana), as registration and the profile page ask."""
    name = c.text("name", "氏名", max_len=100)
    name_kana = to_katakana(c.text("name_kana", "フリガナ", max_len=100))
    if name_kana and not KATAKANA_RE.match(name_kana):
        c.fail(
            "name_kana", "フリガナはカタカナで入力してください。", "name_kana must be written in katakana."
        )
    return name, name_kana


def _check_profile(c: _Checker) -> dict[str, Any]:
    """A learner's profile (LearnerProfile's columns), with registration's rules and messages."""
    data = c.data
    kind = c.text("organization_kind", "所属の種別")
    if kind and kind not in {k.value for k in OrganizationKind}:
        c.fail(
            "organization_kind",
            "所属の種別は「中小企業（sme）」か「支援機関（support_agency）」を選んでください。",
            "organization_kind must be sme or support_agency.",
        )
    company = c.text("company", "会社・団体名")
    company_kana = to_katakana(c.text("company_kana", "会社・団体名フリガナ", required=False))
    if company_kana and not KATAKANA_RE.match(company_kana):
        c.fail(
            "company_kana",
            "会社・団体名のフリガナはカタカナで入力してください。",
            "company_kana must be katakana.",
        )
    industry = c.text("industry", "業種").upper()
    if industry and industry not in INDUSTRIES:
        c.fail(
            "industry",
            "業種は日本標準産業分類の大分類（A〜T）で選んでください。",
            "industry must be a JSIC major division letter, A to T.",
        )
    employees = c.integer("employees", "従業員数", high=10_000_000)
    capital = c.integer("capital_yen", "資本金", high=10**14)
    pref_raw = data.get("prefecture")
    prefecture = prefecture_code(pref_raw) if isinstance(pref_raw, str | int) and pref_raw != "" else None
    if prefecture is None:
        c.fail(
            "prefecture",
            "都道府県を正しく指定してください（例: 13 または 東京都）。",
            "prefecture must be a JIS code 01-47 or a prefecture name.",
        )
    gender = data.get("gender") or None
    if gender not in (None, "female", "male"):
        c.fail(
            "gender",
            "性別は female・male のいずれか、または空欄にしてください。",
            "gender must be female, male or empty.",
        )
    needs_accessible = data.get("needs_accessible_room", False)
    if isinstance(needs_accessible, str):
        needs_accessible = needs_accessible.lower() in {"1", "true", "on", "yes"}
    return {
        "organization_kind": kind,
        "company": company,
        "company_kana": company_kana,
        "department": c.text("department", "部署", required=False, max_len=100),
        "position": c.text("position", "役職", required=False, max_len=100),
        "industry": industry,
        "employees": employees,
        "capital_yen": capital,
        "prefecture": prefecture or "",
        "phone": c.text("phone", "電話番号", required=False, max_len=30),
        "gender": gender,
        "accessibility_needs": c.text("accessibility_needs", "配慮が必要な事項", required=False, max_len=500),
        "needs_accessible_room": bool(needs_accessible),
    }


@dataclass
class ProfileChange:
    """What a person may change about themselves: names, and a learner's profile."""

    name: str
    name_kana: str
    profile: dict[str, Any] | None = None  # None: the account has no learner profile (staff and the like)


def validate_profile(data: Any, *, learner: bool) -> ProfileChange:
    """Check the profile page's form with registration's rules; say everything that is wrong."""
    if not isinstance(data, dict):
        raise InvalidInput("入力内容はフォームで送ってください。", "The body must be a form or JSON object.")
    c = _Checker(data)
    name, name_kana = _check_names(c)
    profile = _check_profile(c) if learner else None
    _raise_if_wrong(c)
    return ProfileChange(name=name, name_kana=name_kana, profile=profile)


async def save_profile(db: AsyncSession, user_id: int, change: ProfileChange) -> User:
    """Store a checked change (a simple update: the profile is the person's own, not audited)."""
    user = await db.get(User, user_id)
    if user is None:
        raise Unauthorized("ログインが必要です。", "Sign-in required.")
    user.name, user.name_kana = change.name, change.name_kana
    db.add(user)
    if change.profile is not None:
        row = await db.get(LearnerProfile, user_id)
        if row is None:
            row = LearnerProfile(user_id=user_id, **change.profile)
        else:
            for key, value in change.profile.items():
                setattr(row, key, value)
        db.add(row)
    await db.flush()
    return user


async def register_learner(
    db: AsyncSession, reg: Registration, now: datetime, password_hash: str, language: str = "ja"
) -> User:
    """Create the learner and their profile. The caller hashes the password beforehand (off the lock)
    and mails the link that verifies the address (``accounts.verification.send_link``)."""
    user = User(
        email=reg.email,
        password_hash=password_hash,
        name=reg.name,
        name_kana=reg.name_kana,
        role=Role.LEARNER,
        created_at=now,
        language=language,
    )
    db.add(user)
    try:
        await db.flush()
    except IntegrityError:
        raise Conflict(
            "このメールアドレスは既に登録されています。ログインしてください。",
            "This email address is already registered; please sign in.",
            errors=[FieldError("email", "このメールアドレスは既に登録されています。", "already registered")],
        ) from None
    db.add(LearnerProfile(user_id=id_of(user), **reg.profile))
    return user


async def email_taken(db: AsyncSession, email: str) -> bool:
    return (await db.exec(select(User.id).where(User.email == email))).first() is not None


async def issue_token(
    db: AsyncSession, user: User, kind: str, now: datetime, ttl: timedelta | None = None
) -> str:
    secret = secrets.token_urlsafe(32)
    ttl = ttl or {"api": API_TOKEN_TTL, "web": WEB_SESSION_TTL, "reset": RESET_TOKEN_TTL}[kind]
    db.add(
        AuthToken(
            token_hash=token_hash(secret),
            user_id=id_of(user),
            kind=kind,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return secret


# built once: every API request of a new token runs it, and composing it cost more than running it
_USERS, _TOKENS = table_of(User), table_of(AuthToken)
_USER_FOR_TOKEN = (
    core_select(_USERS, _TOKENS.c.expires_at.label("token_expires_at"))
    .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
    .where(_TOKENS.c.token_hash == bindparam("hash"), _TOKENS.c.kind == bindparam("kind"))
)


def user_for_token(db: Session | Tx, secret: str, kind: str, now: datetime) -> User | None:
    """Whose token this is, if it has not expired (synchronous: ``Database.query`` or ``run_sync``).

    The user comes back detached, as if loaded by a session since closed: adding it to a session
    updates that person, never inserts them.
    """
    row = as_tx(db).first(_USER_FOR_TOKEN, {"hash": token_hash(secret), "kind": kind})
    if row is None:
        return None
    expires = row["token_expires_at"]
    expires = expires if expires.tzinfo else expires.replace(tzinfo=now.tzinfo)
    if expires <= now:
        return None
    return detached(User, row)


async def revoke_token(db: AsyncSession, secret: str, kind: str) -> None:
    """Forget a sign-in: the browser session (`web`) or API token (`api`) this secret opens."""
    token = (
        await db.exec(
            select(AuthToken).where(AuthToken.token_hash == token_hash(secret), AuthToken.kind == kind)
        )
    ).first()
    if token is not None:
        await db.delete(token)


def _aware(value: datetime | None, now: datetime) -> datetime | None:
    if value is None or value.tzinfo:
        return value
    return value.replace(tzinfo=now.tzinfo)


def bad_credentials() -> Unauthorized:
    return Unauthorized(
        "メールアドレスまたはパスワードが正しくありません。",
        "The email address or password is not correct.",
    )


async def staff_campus_ids(db: AsyncSession, user: User) -> set[int]:
    """The campuses a member of staff may act on; administrators act on all."""
    if user.role == Role.ADMIN:
        return set((await db.exec(select(Campus.id))).all())  # type: ignore[arg-type]
    if user.role != Role.STAFF:
        return set()
    rows = await db.exec(select(StaffCampus.campus_id).where(StaffCampus.user_id == user.id))
    return set(rows.all())


async def profile_of(db: AsyncSession, user_id: int) -> LearnerProfile | None:
    return await db.get(LearnerProfile, user_id)


def check_new_password(password: str, confirm: str) -> None:
    """A password has at least MIN_PASSWORD characters and is typed the same twice."""
    errors = []
    if len(password) < MIN_PASSWORD:
        errors.append(
            FieldError(
                "password",
                f"パスワードは{MIN_PASSWORD}文字以上にしてください。",
                f"The password must have at least {MIN_PASSWORD} characters.",
            )
        )
    elif password != confirm:
        errors.append(
            FieldError(
                "password_confirm", "確認用のパスワードが一致しません。", "The passwords do not match."
            )
        )
    if errors:
        raise InvalidInput(errors[0].message_ja, errors[0].message_en, errors=errors)


# --- changing one's email address -----------------------------------------------------------------


def check_new_email(raw: str, current: str) -> str:
    """The normalised new address, or an error on the field ``new_email``."""
    email = normalize_email(raw)
    problem = None
    if not email:
        problem = ("新しいメールアドレスを入力してください。", "Enter the new email address.")
    elif len(email) > 254 or not EMAIL_RE.match(email):
        problem = ("メールアドレスの形式が正しくありません。", "The email address is not valid.")
    elif email == current:
        problem = ("現在と同じメールアドレスです。", "This is already your email address.")
    if problem:
        raise InvalidInput(*problem, errors=[FieldError("new_email", *problem)])
    return email


def address_taken() -> Conflict:
    ja = "このメールアドレスは既に別のアカウントで使われています。"
    return Conflict(
        ja,
        "This email address is already used by another account.",
        errors=[FieldError("new_email", ja, "taken")],
    )


async def request_email_change(db: AsyncSession, user: User, new_email: str, now: datetime) -> str:
    """A single-use secret that confirms ``new_email`` for ``user`` within EMAIL_CHANGE_TTL; an earlier
    request of the same person stops working. Only the secret's SHA-256 is stored."""
    if await email_taken(db, new_email):
        raise address_taken()
    return await replace_link(db, user, "email", new_email, now, EMAIL_CHANGE_TTL)


async def replace_link(
    db: AsyncSession, user: User, kind: str, address: str, now: datetime, ttl: timedelta
) -> str:
    """A single-use secret of ``kind`` (an emailed link) for ``user`` about ``address``, valid for
    ``ttl``; the person's earlier link of that kind stops working. Only its SHA-256 is stored."""
    for old in await db.exec(select(AuthToken).where(AuthToken.user_id == user.id, AuthToken.kind == kind)):
        await db.delete(old)
    secret = secrets.token_urlsafe(32)
    db.add(
        AuthToken(
            token_hash=token_hash(secret),
            user_id=id_of(user),
            kind=kind,
            created_at=now,
            expires_at=now + ttl,
            new_email=address,
        )
    )
    return secret


def invalid_email_link() -> InvalidInput:
    return InvalidInput(
        "このリンクは無効か、有効期限（24時間）が切れています。プロフィールのページからもう一度お申し込みください。",
        "This link is not valid or has expired (24 hours); please ask again from your profile page.",
    )


@dataclass
class EmailChanged:
    user: User
    old_email: str


async def confirm_email_change(db: AsyncSession, secret: str, now: datetime) -> EmailChanged:
    """Use the secret once: the account's address becomes the one it confirms, unless another account
    has taken that address in the meantime."""
    token = (
        await db.exec(
            select(AuthToken).where(AuthToken.token_hash == token_hash(secret), AuthToken.kind == "email")
        )
    ).first()
    expires = _aware(token.expires_at, now) if token is not None else None
    if token is None or not token.new_email or expires is None or expires <= now:
        raise invalid_email_link()
    user = await db.get(User, token.user_id)
    new_email = token.new_email
    if user is None:
        raise invalid_email_link()
    if await email_taken(db, new_email):
        raise address_taken()
    await db.delete(token)
    old_email = user.email
    user.email = new_email
    user.email_verified_at = now  # the link was opened from the new address's mailbox
    db.add(user)
    try:
        await db.flush()
    except IntegrityError:
        raise address_taken() from None
    return EmailChanged(user=user, old_email=old_email)

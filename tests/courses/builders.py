"""Builders for test data: small, explicit records instead of shared fixtures with leftovers."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from courses.models import (
    Campus,
    Category,
    Course,
    CourseSession,
    LearnerProfile,
    Organization,
    SessionBlock,
    SessionStatus,
    StaffCampus,
    User,
)

_seq = itertools.count(1)


async def campus(s: AsyncSession, code: str = "tokyo", *, has_lodging: bool = True) -> Campus:
    row = Campus(
        code=code,
        name_ja=f"中小企業大学校 {code}校",
        name_en=f"{code.title()} Campus",
        prefecture="東京都",
        address="東京都東大和市桜が丘2-137-5",
        has_lodging=has_lodging,
        sort_order=next(_seq),
    )
    s.add(row)
    await s.flush()
    return row


async def category(s: AsyncSession, code: str = "finance") -> Category:
    row = Category(code=code, name_ja="財務・会計", name_en="Finance")
    s.add(row)
    await s.flush()
    return row


async def course(
    s: AsyncSession,
    code: str | None = None,
    *,
    audience: str = "sme",
    category: str = "finance",
    title_ja: str = "財務諸表の読み方",
    title_en: str = "Reading Financial Statements",
    days: int = 2,
    fee_yen: int = 30000,
    has_practicum: bool = False,
) -> Course:
    row = Course(
        code=code or f"C{next(_seq):03d}",
        title_ja=title_ja,
        title_en=title_en,
        audience=audience,
        category=category,
        description="テスト用の研修です。",
        days=days,
        fee_yen=fee_yen,
        default_capacity=30,
        has_practicum=has_practicum,
    )
    s.add(row)
    await s.flush()
    return row


async def session(
    s: AsyncSession,
    course: Course,
    campus: Campus,
    *,
    start: date,
    blocks: list[tuple[int, int]] | None = None,
    capacity: int = 30,
    status: str = SessionStatus.PUBLISHED,
    opens: date | None = None,
    closes: date | None = None,
    lodging: bool | None = None,
) -> CourseSession:
    """A session whose blocks are (offset days from ``start``, length in days); one block by default."""
    spans = [
        (start + timedelta(days=o), start + timedelta(days=o + n - 1))
        for o, n in (blocks or [(0, course.days)])
    ]
    row = CourseSession(
        code=f"T-{next(_seq):05d}",
        course_id=course.id,  # type: ignore[arg-type]
        campus_id=campus.id,  # type: ignore[arg-type]
        capacity=capacity,
        lodging=campus.has_lodging if lodging is None else lodging,
        start_date=spans[0][0],
        end_date=spans[-1][1],
        application_opens=opens or start - timedelta(days=120),
        application_closes=closes or start - timedelta(days=7),
        status=status,
        created_at=datetime.now(UTC),
    )
    s.add(row)
    await s.flush()
    for i, (a, b) in enumerate(spans, start=1):
        s.add(SessionBlock(session_id=row.id, seq=i, start_date=a, end_date=b))  # type: ignore[arg-type]
    await s.flush()
    return row


# --- accounts --------------------------------------------------------------------------------------

_PASSWORD_HASH: str | None = None
PASSWORD = "correct horse battery"


def password_hash() -> str:
    """One real argon2 hash, computed once: hashing per test user would cost 0.15 s each."""
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        from argon2 import PasswordHasher

        _PASSWORD_HASH = PasswordHasher().hash(PASSWORD)
    return _PASSWORD_HASH


async def user(
    s: AsyncSession,
    email: str | None = None,
    *,
    role: str = "learner",
    kind: str = "sme",
    industry: str = "E",
    employees: int = 50,
    capital_yen: int = 10_000_000,
    gender: str | None = None,
    campuses: list[Campus] | None = None,
    organization_id: int | None = None,
) -> User:
    import secrets

    n = next(_seq)
    row = User(
        email=email or f"user{n}@example.jp",
        password_hash=password_hash(),
        name=f"受講 太郎{n}",
        name_kana="ジュコウ タロウ",
        role=role,
        organization_id=organization_id,
        feed_token=secrets.token_urlsafe(16),
        created_at=datetime.now(UTC),
        email_verified_at=datetime.now(UTC),
    )
    s.add(row)
    await s.flush()
    if role == "learner":
        s.add(
            LearnerProfile(
                user_id=row.id,  # type: ignore[arg-type]
                organization_kind=kind,
                company=f"株式会社テスト{n}",
                industry=industry,
                employees=employees,
                capital_yen=capital_yen,
                prefecture="13",
                gender=gender,
            )
        )
    for campus in campuses or []:
        s.add(StaffCampus(user_id=row.id, campus_id=campus.id))  # type: ignore[arg-type]
    await s.flush()
    return row


async def member(s: AsyncSession, organization_id: int, email: str, **profile: Any) -> User:
    """A learner linked to the organisation (as if they had accepted one of its invitations)."""
    from courses.models.bulk import OrganizationMember

    row = await user(s, email, **profile)
    s.add(OrganizationMember(organization_id=organization_id, user_id=row.id, created_at=datetime.now(UTC)))
    await s.flush()
    return row


async def token(s: AsyncSession, user: User) -> str:
    """A bearer token for ``user`` without going through the (slow, throttled) login."""
    from courses.accounts.service import issue_token

    return await issue_token(s, user, "api", datetime.now(UTC))


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


# --- organisations (bulk registration) --------------------------------------------------------------


async def organization(
    s: AsyncSession, name: str = "東京商工会議所", *, kind: str = "chamber", prefecture: str = "13"
) -> Organization:
    row = Organization(name=name, kind=kind, prefecture=prefecture)
    s.add(row)
    await s.flush()
    return row


# --- staff console resources ------------------------------------------------------------------------


async def classroom(s: AsyncSession, campus: Campus, name: str = "第1研修室", seats: int = 40) -> Any:
    from courses.models import Classroom

    row = Classroom(campus_id=campus.id, name=name, seats=seats)  # type: ignore[arg-type]
    s.add(row)
    await s.flush()
    return row


async def dorm_room(s: AsyncSession, campus: Campus, room_number: str = "201") -> Any:
    from courses.models import DormRoom

    row = DormRoom(campus_id=campus.id, room_number=room_number, floor=2)  # type: ignore[arg-type]
    s.add(row)
    await s.flush()
    return row


async def instructor(
    s: AsyncSession, home: Campus | None = None, name: str = "佐藤 健一", kind: str = "staff"
) -> Any:
    from courses.models.resources import Instructor

    row = Instructor(
        name=name,
        name_kana="サトウ ケンイチ",
        kind=kind,
        qualification="中小企業診断士",
        home_prefecture="13",
        home_campus_id=home.id if home else None,
        subjects="strategy,finance",
        max_modules_per_month=4,
        fee_per_module_yen=50000,
        travel_cost_yen=0,
        email=f"instructor{next(_seq)}@example.jp",
    )
    s.add(row)
    await s.flush()
    return row


async def practicum_site(s: AsyncSession, campus: Campus, name: str = "三条精機（本社工場）") -> Any:
    from courses.models.resources import PracticumSite

    row = PracticumSite(
        campus_id=campus.id,  # type: ignore[arg-type]
        name=name,
        company_name="株式会社三条精機",
        industry="E",
        address="新潟県三条市1-2-3",
        travel_minutes=30,
        capacity_per_day=6,
    )
    s.add(row)
    await s.flush()
    return row


# --- timetable ---------------------------------------------------------------------------------


async def course_modules(
    s: AsyncSession, course: Course, specs: list[tuple[str, int]], subject: str = "finance"
) -> list[Any]:
    """Modules of ``course`` in curriculum order: (title, half days) each, all of ``subject``."""
    from courses.models.timetable import CourseModule

    rows = [
        CourseModule(
            course_id=course.id,  # type: ignore[arg-type]
            seq=k,
            title=title,
            kind="lecture" if half_days == 1 else "exercise",
            half_days=half_days,
            subject=subject,
        )
        for k, (title, half_days) in enumerate(specs, start=1)
    ]
    s.add_all(rows)
    await s.flush()
    return rows


async def available(s: AsyncSession, instructor: Any, first: date, last: date) -> None:
    from courses.models.resources import InstructorAvailability

    s.add(InstructorAvailability(instructor_id=instructor.id, start_date=first, end_date=last))
    await s.flush()

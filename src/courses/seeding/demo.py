"""Demo accounts and enrollments for ``make run``.

One account of each role is created with a random password (no secret lives in the repository);
the passwords are written to ``var/demo-accounts.txt`` and printed when the service starts. A few
hundred demo learners (who cannot sign in) fill part of the coming sessions so that seats left,
rosters and the scheduler have something to show.
"""

from __future__ import annotations

import random
import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.service import _hasher
from courses.core.settings import VAR_DIR
from courses.core.tx import run_sync
from courses.enrollment import service as enrollment
from courses.models import (
    Campus,
    Course,
    CourseSession,
    LearnerProfile,
    Organization,
    Role,
    SessionStatus,
    StaffCampus,
    User,
    id_of,
)
from courses.models.bulk import OrganizationMember

DEMO_FILE = VAR_DIR / "demo-accounts.txt"
# (role, email, name): the passwords are generated when the seeds are loaded
DEMO_ACCOUNTS = [
    ("learner", "learner@demo.sme-univ.example", "中小 花子"),
    ("learner", "adviser@demo.sme-univ.example", "支援 一郎"),
    ("coordinator", "coordinator@demo.sme-univ.example", "商工 次郎"),
    ("staff", "staff.tokyo@demo.sme-univ.example", "東京校 職員"),
    ("admin", "admin@demo.sme-univ.example", "システム 管理者"),
]
FAMILY = "佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 清水".split()
FAMILY_KANA = "サトウ スズキ タカハシ タナカ イトウ ワタナベ ヤマモト ナカムラ コバヤシ カトウ ヨシダ ヤマダ ササキ ヤマグチ マツモト イノウエ キムラ ハヤシ サイトウ シミズ".split()
GIVEN = [
    ("健一", "ケンイチ", "male"),
    ("美咲", "ミサキ", "female"),
    ("大輔", "ダイスケ", "male"),
    ("由美", "ユミ", "female"),
    ("誠", "マコト", "male"),
    ("陽子", "ヨウコ", "female"),
    ("翔太", "ショウタ", "male"),
    ("恵", "メグミ", "female"),
]
INDUSTRIES = "EEEEDDIIHGRLMN"


async def load_demo(db: AsyncSession, today: date, *, learners: int = 400, seed: int = 2026) -> str:
    now = datetime.combine(today, datetime.min.time(), tzinfo=ZoneInfo("Asia/Tokyo")) + timedelta(hours=9)
    org = Organization(name="東京商工会議所", kind="chamber", prefecture="13")
    db.add(org)
    await db.flush()
    tokyo = (await db.exec(select(Campus).where(Campus.code == "tokyo"))).one()
    lines = []
    for role, email, name in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        user = User(
            email=email,
            password_hash=_hasher.hash(password),
            name=name,
            name_kana="デモ",
            role=role,
            organization_id=org.id if role == Role.COORDINATOR else None,
            created_at=now,
            email_verified_at=now,
        )
        db.add(user)
        await db.flush()
        if role == Role.LEARNER:
            support = email.startswith("adviser")
            db.add(
                LearnerProfile(
                    user_id=id_of(user),
                    organization_kind="support_agency" if support else "sme",
                    company="東京商工会議所" if support else "株式会社中小製作所",
                    company_kana="トウキョウショウコウカイギショ"
                    if support
                    else "カブシキガイシャチュウショウセイサクショ",
                    position="経営指導員" if support else "製造部長",
                    industry="R" if support else "E",
                    employees=120 if support else 85,
                    capital_yen=0 if support else 30_000_000,
                    prefecture="13",
                    gender=None if support else "female",
                )
            )
        if role == Role.STAFF:
            db.add(StaffCampus(user_id=id_of(user), campus_id=id_of(tokyo)))
        lines.append(f"{role:<12} {email:<40} {password}")
    enrolled = await _demo_enrollments(db, today, now, org.id or 0, learners, seed)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DEMO_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    DEMO_FILE.chmod(0o600)
    return f", {len(DEMO_ACCOUNTS)} demo accounts, {learners} demo learners with {enrolled} enrollments"


async def _demo_enrollments(
    db: AsyncSession, today: date, now: datetime, org_id: int, learners: int, seed: int
) -> int:
    """Fill part of the coming sessions through the same seat path as everyone else."""
    rng = random.Random(seed)
    rows = list(
        await db.exec(
            select(CourseSession, Course)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .where(
                CourseSession.status == SessionStatus.PUBLISHED,
                col(CourseSession.start_date) <= today + timedelta(days=100),
            )
            .order_by(col(CourseSession.start_date))
        )
    )
    sme_sessions = [s for s, c in rows if c.audience == "sme"]
    support_sessions = [s for s, c in rows if c.audience == "support"]
    count = 0
    for i in range(learners):
        support = i % 8 == 0
        family = rng.randrange(len(FAMILY))
        given, given_kana, gender = rng.choice(GIVEN)
        user = User(
            email=f"demo{i:04d}@example.jp",
            password_hash=None,
            name=f"{FAMILY[family]} {given}",
            name_kana=f"{FAMILY_KANA[family]} {given_kana}",
            organization_id=org_id if support else None,
            created_at=now,
            email_verified_at=now,
        )
        db.add(user)
        await db.flush()
        db.add(
            LearnerProfile(
                user_id=id_of(user),
                organization_kind="support_agency" if support else "sme",
                company="東京商工会議所" if support else f"{FAMILY[rng.randrange(len(FAMILY))]}工業株式会社",
                industry="R" if support else rng.choice(INDUSTRIES),
                employees=rng.randint(5, 250),
                capital_yen=rng.choice([3, 10, 20, 50]) * 1_000_000,
                prefecture=f"{rng.randint(1, 47):02d}",
                gender=gender,
                needs_accessible_room=rng.random() < 0.02,
            )
        )
        if support:
            db.add(OrganizationMember(organization_id=org_id, user_id=user.id or 0, created_at=now))
        await db.flush()
        pool = support_sessions if support else sme_sessions
        for session in rng.sample(pool, k=min(len(pool), rng.randint(1, 2))):
            try:
                await run_sync(
                    db,
                    enrollment.enroll,
                    user=user,
                    session_id=session.id or 0,
                    lodging=session.lodging and rng.random() < 0.85,
                    now=now,
                    check_window=False,
                    notify=False,
                    # the chamber's own advisers are its members, registered through it
                    source="bulk" if support else "self",
                    organization_id=org_id if support else None,
                    registered_name=user.name if support else None,
                )
                count += 1
            except Exception:  # a refusal (e.g. SME thresholds) just means this demo learner skips it
                continue
    return count

"""Who goes where: a practicum plan as groups per host company and session, for the practicum
coordinator and for the host companies themselves (each gets its own list)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core.errors import InvalidInput
from courses.core.reference import INDUSTRIES
from courses.models import Course, CourseSession, Enrollment, LearnerProfile, User
from courses.models.plans import PlanKind, PlannedSite, PlanVersion
from courses.models.resources import PracticumSite
from courses.planning.loading import _blocks
from courses.planning.plans import practicum_days


@dataclass
class Member:
    enrollment_id: int
    name: str
    company: str
    industry: str


@dataclass
class Group:
    session: CourseSession
    course: Course
    days: tuple[date, ...]
    members: list[Member] = field(default_factory=list)


@dataclass
class HostSite:
    site: PracticumSite
    groups: list[Group]

    def per_day(self) -> list[tuple[date, int]]:
        """Learners the site receives on each day, against its ``capacity_per_day``."""
        used: dict[date, int] = defaultdict(int)
        for g in self.groups:
            for d in g.days:
                used[d] += len(g.members)
        return sorted(used.items())


async def practicum_view(s: AsyncSession, plan: PlanVersion) -> list[HostSite]:
    if plan.kind != PlanKind.PRACTICUM:
        raise InvalidInput("企業実習の計画ではありません。", "Not a practicum plan.")
    rows = list(
        await s.exec(
            # sqlmodel's select is typed for at most four entities
            select(PlannedSite, Enrollment, User, LearnerProfile, CourseSession, Course)  # type: ignore[call-overload]
            .join(Enrollment, col(Enrollment.id) == PlannedSite.enrollment_id)
            .join(User, col(User.id) == Enrollment.user_id)
            .join(LearnerProfile, col(LearnerProfile.user_id) == User.id, isouter=True)
            .join(CourseSession, col(CourseSession.id) == PlannedSite.session_id)
            .join(Course, col(Course.id) == CourseSession.course_id)
            .where(PlannedSite.plan_id == plan.id)
            .order_by(col(CourseSession.start_date), col(User.name_kana), col(User.name))
        )
    )
    sites = {
        x.id: x
        for x in await s.exec(
            select(PracticumSite).where(col(PracticumSite.id).in_({r[0].site_id for r in rows}))
        )
    }
    blocks = await _blocks(s, sorted({r[4].id or 0 for r in rows}))
    groups: dict[tuple[int, int], Group] = {}
    for placed, e, u, profile, sess, course in rows:
        key = (placed.site_id, sess.id or 0)
        if key not in groups:
            mine = blocks.get(sess.id or 0, [])
            days = practicum_days(mine, course.practicum_days) if mine else ()
            groups[key] = Group(sess, course, days)
        groups[key].members.append(
            Member(e.id or 0, u.name, profile.company if profile else "", profile.industry if profile else "")
        )
    by_site: dict[int, list[Group]] = defaultdict(list)
    for (site_id, _), g in groups.items():
        by_site[site_id].append(g)
    return [
        HostSite(sites[site_id], sorted(gs, key=lambda g: (g.days, g.session.code)))
        for site_id, gs in sorted(by_site.items(), key=lambda kv: sites[kv[0]].name)
    ]


CSV_HEADER = [
    "実習先",
    "受入企業",
    "所在地",
    "実習日",
    "開催回コード",
    "研修名",
    "受講者",
    "受講者の会社",
    "業種",
]


def practicum_csv(view: list[HostSite]) -> list[list[object]]:
    """One line per learner: what a host company needs to receive the group."""
    return [
        [
            h.site.name,
            h.site.company_name,
            h.site.address,
            "・".join(d.isoformat() for d in g.days),
            g.session.code,
            g.course.title_ja,
            m.name,
            m.company,
            INDUSTRIES.get(m.industry, m.industry),
        ]
        for h in view
        for g in h.groups
        for m in g.members
    ]

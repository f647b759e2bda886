"""The sessions a coordinator chooses from: those open for applications today, soonest first, with the
codes the registration file names them by; and the chosen codes for a pre-filled template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.bulk.files import MAX_TEMPLATE_SESSIONS
from courses.core.errors import FieldError, InvalidInput
from courses.models import Campus, Course, CourseSession, SessionStatus


@dataclass
class OpenSession:
    session: CourseSession
    course: Course
    campus: Campus

    @property
    def seats_left(self) -> int:
        return max(0, self.session.capacity - self.session.confirmed_count)


async def campuses(s: AsyncSession) -> list[Campus]:
    return list(await s.exec(select(Campus).order_by(col(Campus.sort_order), col(Campus.id))))


async def open_sessions(s: AsyncSession, today: date, campus: str | None = None) -> list[OpenSession]:
    """Published sessions whose application window holds ``today``, soonest first (at one campus when
    ``campus`` names one by its code; an unknown code is refused)."""
    stmt = (
        select(CourseSession, Course, Campus)
        .join(Course, col(Course.id) == CourseSession.course_id)
        .join(Campus, col(Campus.id) == CourseSession.campus_id)
        .where(
            CourseSession.status == SessionStatus.PUBLISHED,
            col(CourseSession.application_opens) <= today,
            col(CourseSession.application_closes) >= today,
        )
        .order_by(col(CourseSession.start_date), col(CourseSession.code))
    )
    if campus:
        if (await s.exec(select(Campus.id).where(Campus.code == campus))).first() is None:
            ja = f"キャンパス「{campus[:40]}」はありません。"
            raise InvalidInput(
                ja, f"Unknown campus {campus[:40]!r}.", errors=[FieldError("campus", ja, "Unknown campus.")]
            )
        stmt = stmt.where(Campus.code == campus)
    return [OpenSession(*row) for row in await s.exec(stmt)]


async def chosen_codes(s: AsyncSession, raw: list[str] | None) -> list[str]:
    """The session codes a pre-filled template is asked for, in the order given, each once; every one
    must name a session of the catalog (drafts are not in it)."""
    codes: list[str] = []
    for value in raw or []:
        code = value.strip()[:40]
        if code and code not in codes:
            codes.append(code)
    if len(codes) > MAX_TEMPLATE_SESSIONS:
        ja = f"開催回は{MAX_TEMPLATE_SESSIONS}件までにしてください。"
        raise InvalidInput(
            ja,
            f"Choose at most {MAX_TEMPLATE_SESSIONS} sessions.",
            errors=[FieldError("session", ja, "Too many sessions.")],
        )
    if not codes:
        return []
    found = set(
        await s.exec(
            select(CourseSession.code).where(
                col(CourseSession.code).in_(sorted(set(codes) | {c.upper() for c in codes})),
                CourseSession.status != SessionStatus.DRAFT,
            )
        )
    )
    chosen: list[str] = []
    for code in codes:
        stored = code if code in found else code.upper()  # codes are matched as the upload matches them
        if stored not in found:
            ja = f"開催回コード「{code}」の開催回はありません。"
            raise InvalidInput(
                ja,
                f"There is no session with the code {code!r}.",
                errors=[FieldError("session", ja, "Unknown session code.")],
            )
        if stored not in chosen:
            chosen.append(stored)
    return chosen

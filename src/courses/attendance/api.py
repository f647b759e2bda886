"""Attendance, check-in, the completion rule and certificates through the JSON API (bearer tokens)."""

from __future__ import annotations

from typing import Any, cast

import msgspec
import segno
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.guards import CurrentUser
from courses.attendance import certificates, service
from courses.attendance.schemas import (
    AttendanceSession,
    AttendanceSummary,
    AttendanceWrite,
    CheckedIn,
    CheckInCode,
    CheckInWrite,
    CompletionRule,
    CompletionRuleWrite,
    Half,
    HalfDaySheet,
    HalfDaySheetWithCheckIn,
    IssuedCertificate,
    LearnerProgress,
    MarkSource,
    MyAttendance,
    SheetLearner,
)
from courses.core.deps import Reading, Writing
from courses.core.errors import InvalidInput
from courses.core.security import link_base
from courses.core.tx import run_sync
from courses.enrollment import seats
from courses.enrollment import service as enrollment
from courses.models import User

STAFF = {"access": "staff"}
LEARNER = {"access": "learner"}


async def session_of_my_campus(s: AsyncSession, staff: User, session_id: int) -> seats.SessionContext:
    ctx = await run_sync(s, seats.load_session, session_id)
    await enrollment.ensure_staff_campus(s, staff, ctx.campus.id or 0)
    return ctx


def progress_fields(p: service.Progress) -> dict[str, Any]:
    """A learner's attendance and completion as the staff summary and the learner's own list give it."""
    return {
        "enrollment_id": p.enrollment_id,
        "attended_half_days": p.attended,
        "half_days": p.total,
        "percent": p.percent,
        "completion_min_percent": p.min_percent,
        "practicum_missed": p.practicum_missed,
        "completed": p.completed,
    }


def check_in_of(request: Request[Any, Any, Any], session_id: int, day: Any, half: str) -> dict[str, str]:
    """The QR code's URL and the code to type, for one half-day (valid only during it)."""
    secret = request.app.state.settings.secret_key
    token = service.checkin_token(secret, session_id, day, half)
    url = f"{link_base(request)}/me/check-in?t={token}"
    return {
        "url": url,
        "code": service.checkin_code(secret, session_id, day, half),
        "valid_until": service.half_ends(day, half).isoformat(),
    }


def qr_svg(url: str) -> str:
    """The check-in URL as a QR code, an inline SVG a phone's camera reads off the staff's screen."""
    svg: str = segno.make(url, error="m").svg_inline(scale=5, dark="#111", light="#fff", border=2)
    return svg


def sheet_out(sheet: service.Sheet) -> HalfDaySheet:
    return HalfDaySheet(
        session_id=sheet.session_id,
        day=sheet.day,
        half=cast("Half", sheet.half),  # service.parse_half admits only am and pm
        saved=sheet.saved_at is not None,
        saved_by=sheet.saved_by,
        saved_at=sheet.saved_at.isoformat() if sheet.saved_at else None,
        learners=[
            SheetLearner(r.enrollment_id, r.name, r.present, cast("MarkSource | None", r.source or None))
            for r in sheet.rows
        ],
    )


class AttendanceApi(Controller):
    path = "/api"
    tags = ("attendance",)

    @get("/staff/sessions/{session_id:int}/attendance", opt=STAFF, summary="Attendance rates and completion")
    async def summary(
        self, user: CurrentUser, reading: Reading, session_id: FromPath[int]
    ) -> AttendanceSummary:
        ctx = await session_of_my_campus(reading, user, session_id)
        days = service.meeting_days(await service.blocks_of(reading, session_id))
        progress = await service.progress(reading, session_id)
        names = {e.id: u.name for e, u in await service.confirmed(reading, session_id)}
        return AttendanceSummary(
            session=AttendanceSession(session_id, ctx.session.code),
            days=days,
            half_days=2 * len(days),
            completion_min_percent=ctx.course.completion_min_percent,
            learners=[
                LearnerProgress(name=names.get(k, ""), **progress_fields(p)) for k, p in progress.items()
            ],
        )

    @get(
        "/staff/sessions/{session_id:int}/attendance/{day:str}/{half:str}",
        opt=STAFF,
        summary="One half-day's attendance (am/pm), with its check-in code",
    )
    async def half_day(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        session_id: FromPath[int],
        day: FromPath[str],
        half: FromPath[str],
    ) -> HalfDaySheetWithCheckIn:
        today = request.app.state.clock().date()
        await session_of_my_campus(reading, user, session_id)
        the_day = service.parse_day(
            day, service.meeting_days(await service.blocks_of(reading, session_id)), today
        )
        sheet = await service.sheet(reading, session_id, the_day, service.parse_half(half))
        check_in = CheckInCode(**check_in_of(request, session_id, the_day, sheet.half))
        return HalfDaySheetWithCheckIn(**msgspec.structs.asdict(sheet_out(sheet)), check_in=check_in)

    @put(
        "/staff/sessions/{session_id:int}/attendance/{day:str}/{half:str}",
        opt=STAFF,
        summary="Save one half-day's attendance: everyone present except `absent` (replaces it)",
    )
    async def save(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        session_id: FromPath[int],
        day: FromPath[str],
        half: FromPath[str],
        data: JSONBody[AttendanceWrite],
    ) -> HalfDaySheet:
        now = request.app.state.clock()
        await session_of_my_campus(writing, user, session_id)
        the_day = service.parse_day(
            day, service.meeting_days(await service.blocks_of(writing, session_id)), now.date()
        )
        sheet = await service.save_sheet(
            writing, user, session_id, the_day, service.parse_half(half), set(data.absent), now
        )
        return sheet_out(sheet)

    @post(
        "/staff/sessions/{session_id:int}/certificates",
        opt=STAFF,
        summary="Issue the certificates of everyone who completed the session (idempotent)",
        status_code=200,
    )
    async def issue_all(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, session_id: FromPath[int]
    ) -> list[IssuedCertificate]:
        now = request.app.state.clock()
        rows = await certificates.issue_for_session(writing, user, session_id, now)
        return [IssuedCertificate(c.enrollment_id, c.serial, c.issued_on) for c in rows]

    @put(
        "/attendance/courses/{course_id:int}/completion-rule",
        opt={"access": "admin"},
        summary="Set the attendance (%) a course requires for completion",
    )
    async def set_rule(
        self, writing: Writing, course_id: FromPath[int], data: JSONBody[CompletionRuleWrite]
    ) -> CompletionRule:
        course = await service.set_completion_rule(writing, course_id, data.completion_min_percent)
        return CompletionRule(course_id, course.completion_min_percent)

    @post(
        "/me/check-in",
        opt=LEARNER,
        summary="Check in to the current half-day (code or QR token)",
        status_code=200,
    )
    async def check_in(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        data: JSONBody[CheckInWrite],
    ) -> CheckedIn:
        now = request.app.state.clock()
        secret = request.app.state.settings.secret_key
        if not data.code.strip() and not data.token.strip():
            raise InvalidInput("出席コードを入力してください。", "Give the check-in code.")
        if data.token.strip():
            session_id, day, half = service.read_token(secret, data.token.strip(), now)
            await service.check_in(writing, user, session_id, day, half, now)
        else:
            session_id = await service.check_in_by_code(writing, user, data.code, now, secret)
            day, half = service.half_of(now)
        return CheckedIn(session_id, day, cast("Half", half), True)

    @get("/me/attendance", opt=LEARNER, summary="My attendance, completion and certificates")
    async def mine(self, user: CurrentUser, reading: Reading) -> list[MyAttendance]:
        rows = [
            r
            for r in await enrollment.my_enrollments(reading, user.id or 0)
            if r.enrollment.status == "confirmed"
        ]
        certs = await certificates.of_enrollments(reading, [r.enrollment.id or 0 for r in rows])
        out = []
        for r in rows:
            p = await service.progress_of(reading, r.enrollment)
            cert = certs.get(r.enrollment.id or 0)
            out.append(
                MyAttendance(
                    session_id=r.session.id or 0,
                    **progress_fields(p),
                    certificate=cert.serial if cert else None,
                )
            )
        return out

"""Pages: staff take attendance per half-day (phone-friendly) and print certificates; learners check
in and download their certificate; anyone verifies a certificate by its serial."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.guards import CurrentUser
from courses.attendance import certificates, pdf, service
from courses.attendance.api import check_in_of, qr_svg, session_of_my_campus
from courses.core import i18n
from courses.core.bodies import Form
from courses.core.deps import DB, Reading, Writing, undone_on_error
from courses.core.downloads import attachment
from courses.core.errors import DomainError
from courses.core.security import link_base
from courses.models import Enrollment, EnrollmentStatus, User

STAFF = {"access": "staff"}
LEARNER = {"access": "learner"}
SAVED = {"saved": "出席を保存しました。"}


def pdf_response(content: bytes, filename: str) -> Response[bytes]:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": attachment(filename), "Cache-Control": "no-store"},
    )


async def _render(request: Request[Any, Any, Any], rows: list[Any], filename: str) -> Response[bytes]:
    settings = request.app.state.settings
    content = await asyncio.to_thread(pdf.render, rows, settings.school_name, link_base(request))
    return pdf_response(content, filename)


async def _confirmed_own(s: AsyncSession, user: User, enrollment_id: int) -> Enrollment | None:
    """The caller's enrollment (404 when it is someone else's) while it holds a place, the only kind
    a certificate is given for."""
    row = await certificates.own_enrollment(s, user, enrollment_id)
    return row if row.status == EnrollmentStatus.CONFIRMED else None


class StaffAttendancePages(Controller):
    path = "/staff/sessions"
    include_in_schema = False
    opt = STAFF

    @get("/{session_id:int}/attendance")
    async def attendance(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        reading: Reading,
        session_id: FromPath[int],
        day: FromQuery[str | None] = None,
        msg: FromQuery[str | None] = None,
        error: FromQuery[str | None] = None,
    ) -> Template:
        now = request.app.state.clock()
        ctx = await session_of_my_campus(reading, user, session_id)
        days = service.meeting_days(await service.blocks_of(reading, session_id))
        the_day = service.parse_day(day, days, now.date())
        sheets = [await service.sheet(reading, session_id, the_day, h) for h in service.HALVES]
        progress = await service.progress(reading, session_id)
        names = {e.id or 0: u.name for e, u in await service.confirmed(reading, session_id)}
        issued = await certificates.of_enrollments(reading, list(names))
        current = service.half_of(now)
        checkins = {
            h: check_in_of(request, session_id, the_day, h) for h in service.HALVES if current[0] == the_day
        }
        for c in checkins.values():
            c["qr"] = qr_svg(c["url"])
        flash = {"kind": "ok", "text": SAVED[msg]} if msg in SAVED else None
        if error:
            flash = {"kind": "error", "text": error[:300]}
        return Template(
            "attendance/staff.html",
            context={
                "ctx": ctx,
                "days": days,
                "day": the_day,
                "sheets": sheets,
                "half_ja": service.HALF_JA,
                "current": current,
                "checkins": checkins,
                "progress": progress,
                "names": names,
                "issued": issued,
                "printable": now.date() >= ctx.session.end_date,
                "flash": flash,
            },
        )

    @post("/{session_id:int}/attendance")
    async def save(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        session_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        now = request.app.state.clock()
        raw_day = data.get("day", "")
        try:
            async with undone_on_error(writing) as s:
                await session_of_my_campus(s, user, session_id)
                days = service.meeting_days(await service.blocks_of(s, session_id))
                the_day = service.parse_day(raw_day or None, days, now.date())
                half = service.parse_half(data.get("half", ""))
                roster = {e.id or 0 for e, _ in await service.confirmed(s, session_id)}
                absent = {eid for eid in roster if data.get(f"p_{eid}") != "on"}
                await service.save_sheet(s, user, session_id, the_day, half, absent, now)
        except DomainError as exc:
            if exc.status in (401, 403, 404):
                raise
            return Redirect(
                f"/staff/sessions/{session_id}/attendance?error={quote(exc.detail(i18n.current()))}"
            )
        return Redirect(f"/staff/sessions/{session_id}/attendance?day={the_day.isoformat()}&msg=saved#{half}")

    @get("/{session_id:int}/certificates.pdf")
    async def certificates_pdf(
        self, request: Request[Any, Any, Any], user: CurrentUser, db: DB, session_id: FromPath[int]
    ) -> Response[Any]:
        now = request.app.state.clock()
        back = f"/staff/sessions/{session_id}/attendance"
        async with db.write() as s:  # issued and committed; the PDF is drawn after, with no lock held
            ctx = await session_of_my_campus(s, user, session_id)
            if now.date() < ctx.session.end_date:
                return Redirect(f"{back}?error={quote('修了証書は研修の最終日から印刷できます。')}")
            rows = await certificates.issue_for_session(s, user, session_id, now)
        if not rows:
            return Redirect(f"{back}?error={quote('修了要件を満たした受講者がいません。')}")
        return await _render(request, rows, f"certificates-{ctx.session.code}.pdf")


class LearnerAttendancePages(Controller):
    include_in_schema = False

    @get("/me/check-in", opt=LEARNER)
    async def check_in_form(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        t: FromQuery[str | None] = None,
    ) -> Template:
        """The QR code opens this page with its token: the learner is marked present at once."""
        if not t:
            return Template("attendance/check_in.html", context={"done": None, "error": None})
        now = request.app.state.clock()
        try:
            session_id, day, half = service.read_token(request.app.state.settings.secret_key, t, now)
            async with undone_on_error(writing) as s:
                await service.check_in(s, user, session_id, day, half, now)
        except DomainError as exc:
            if exc.status in (401, 404):
                raise
            return Template(
                "attendance/check_in.html",
                context={"done": None, "error": exc.detail(i18n.current())},
                status_code=exc.status,
            )
        return Template(
            "attendance/check_in.html", context={"done": (day, service.HALF_JA[half]), "error": None}
        )

    @post("/me/check-in", opt=LEARNER)
    async def check_in(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, data: Form
    ) -> Template:
        now = request.app.state.clock()
        try:
            async with undone_on_error(writing) as s:
                await service.check_in_by_code(
                    s, user, data.get("code", "")[:20], now, request.app.state.settings.secret_key
                )
        except DomainError as exc:
            return Template(
                "attendance/check_in.html",
                context={"done": None, "error": exc.detail(i18n.current())},
                status_code=exc.status,
            )
        day, half = service.half_of(now)
        return Template(
            "attendance/check_in.html", context={"done": (day, service.HALF_JA[half]), "error": None}
        )

    @get("/me/enrollments/{enrollment_id:int}/certificate.pdf", opt=LEARNER)
    async def certificate(
        self, request: Request[Any, Any, Any], user: CurrentUser, db: DB, enrollment_id: FromPath[int]
    ) -> Response[Any]:
        now = request.app.state.clock()
        try:
            async with db.read() as s:  # a certificate already issued is only read
                row = await _confirmed_own(s, user, enrollment_id)
                cert = None if row is None else await certificates.find(s, enrollment_id)
            if row is not None and cert is None:
                async with db.write() as s:  # issued and committed; the PDF is drawn after, with no lock held
                    row = await _confirmed_own(s, user, enrollment_id)
                    cert = None if row is None else await certificates.issue(s, row, now)
        except DomainError as exc:
            if exc.status == 404:
                raise
            cert = None
        if cert is None:
            return Redirect("/me?msg=certificate_unavailable")
        return await _render(request, [cert], f"certificate-{cert.serial}.pdf")

    @get("/certificates/{serial:str}", opt={"access": "public"})
    async def verify(self, reading: Reading, serial: FromPath[str]) -> Template:
        """Whether a certificate with this serial was issued, and to whom for what; nothing more."""
        cert = await certificates.lookup(reading, serial[:40])
        return Template(
            "attendance/verify.html",
            context={"cert": cert, "serial": serial[:40]},
            status_code=200 if cert else 404,
        )

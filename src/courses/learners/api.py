"""A learner's enrollments through the JSON API: enroll, cancel, list, calendar (bearer tokens)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from courses.accounts.guards import CurrentUser
from courses.billing import service as billing
from courses.catalog import service as catalog
from courses.core.deps import DB, Reading, Writing
from courses.core.errors import Conflict
from courses.core.tx import run_sync
from courses.enrollment import service as enrollment
from courses.learners import ical
from courses.learners.schemas import (
    AcceptedOut,
    CancellationOut,
    EnrollmentOut,
    EnrollmentState,
    EnrollRequest,
    MyEnrollment,
    MySession,
    SessionState,
)
from courses.models import IdempotencyRecord, User, id_of
from courses.planning import plans

LEARNER = {"access": "learner"}


def _now(request: Request[Any, Any, Any]) -> datetime:
    now: datetime = request.app.state.clock()
    return now


class EnrollmentApi(Controller):
    path = "/api"
    tags = ("enrollment",)

    @post(
        "/sessions/{session_id:int}/enrollments",
        opt=LEARNER,
        summary="Enroll in a session (a seat, or the waiting list when full)",
        status_code=201,
    )
    async def enroll(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        db: DB,
        session_id: FromPath[int],
        data: JSONBody[EnrollRequest],
        idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
    ) -> Response[EnrollmentOut]:
        lodging = data.lodging
        key = (idempotency_key or "").strip()[:200] or None
        if key:
            replay = await _replay(db, user, key)
            if replay is not None:
                return replay
        try:
            body = await db.transact(
                enrollment.enroll_with_key, user, session_id, lodging, _now(request), key
            )
        except (Conflict, IntegrityError):
            # a concurrent retry with the same key got there first: answer what it answered
            replay = await _replay(db, user, key) if key else None
            if replay is not None:
                return replay
            raise
        return Response(msgspec.convert(body, EnrollmentOut), status_code=201)

    @delete("/enrollments/{enrollment_id:int}", opt=LEARNER, summary="Cancel my enrollment", status_code=200)
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        enrollment_id: FromPath[int],
    ) -> CancellationOut:
        row = await enrollment.get_own(writing, enrollment_id, user)
        _, owed = await billing.cancel_with_fee(
            writing, row, _now(request), request.app.state.settings, cancelled_by="learner"
        )
        return CancellationOut(enrollment_id, "cancelled", owed.fee_yen, owed.text_ja)

    @post(
        "/enrollments/{enrollment_id:int}/accept",
        opt=LEARNER,
        summary="Take a place given from the waiting list (asked when cancelling already costs a fee)",
        status_code=200,
    )
    async def accept(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        enrollment_id: FromPath[int],
    ) -> AcceptedOut:
        row = await run_sync(writing, enrollment.accept_place, enrollment_id, user, _now(request))
        return AcceptedOut(id_of(row), cast("EnrollmentState", row.status), None)

    @get("/me/enrollments", opt=LEARNER, summary="My enrollments")
    async def mine(self, user: CurrentUser, reading: Reading) -> list[MyEnrollment]:
        rows = await enrollment.my_enrollments(reading, user.id or 0)
        placed = await plans.placements_for(reading, [r.enrollment.id or 0 for r in rows])
        return [my_enrollment(r, placed.get(r.enrollment.id or 0, {})) for r in rows]

    @get(
        "/me/calendar.ics",
        opt=LEARNER,
        summary="My confirmed sessions as iCalendar",
        media_type="text/calendar",
    )
    async def calendar(self, user: CurrentUser, reading: Reading) -> Response[bytes]:
        rows = await enrollment.my_enrollments(reading, user.id or 0)
        blocks = await catalog.blocks_for(reading, [r.session.id or 0 for r in rows])
        return ical.response(rows, {k: [(b.start_date, b.end_date) for b in v] for k, v in blocks.items()})


def my_enrollment(r: enrollment.MyEnrollment, placed: dict[str, str]) -> MyEnrollment:
    e, s = r.enrollment, r.session
    return MyEnrollment(
        id=id_of(e),
        status=cast("EnrollmentState", e.status),
        waitlist_position=r.waitlist_position,
        # a place given from the waiting list in the charge period: accept it by then, or it passes on
        accept_by=enrollment.accept_by(e).isoformat() if e.confirm_by else None,
        lodging=e.lodging,
        room=placed.get("room"),
        practicum_site=placed.get("site"),
        session=MySession(
            id=id_of(s),
            code=s.code,
            course_code=r.course.code,
            course_title=r.course.title_ja,
            campus=r.campus.code,
            campus_name=r.campus.name_ja,
            start_date=s.start_date,
            end_date=s.end_date,
            status=cast("SessionState", s.status),
        ),
    )


async def _replay(db: Any, user: User, key: str) -> Response[EnrollmentOut] | None:
    """What the first request with this key answered (always an enrollment, kept as its JSON)."""
    async with db.read() as s:
        record = (
            await s.exec(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key
                )
            )
        ).first()
    if record is None:
        return None
    return Response(
        msgspec.json.decode(record.response_json, type=EnrollmentOut),
        status_code=record.status_code,
        headers={"Idempotent-Replay": "true"},
    )

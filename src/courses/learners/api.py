"""A learner's enrollments through the JSON API: enroll, cancel, list, calendar (bearer tokens)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from courses.accounts.guards import me
from courses.billing import service as billing
from courses.catalog import service as catalog
from courses.core.deps import DB
from courses.core.errors import Conflict
from courses.core.tx import run_sync
from courses.enrollment import service as enrollment
from courses.learners import ical
from courses.learners.schemas import EnrollRequest
from courses.models import IdempotencyRecord, User
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
        db: DB,
        session_id: FromPath[int],
        data: JSONBody[EnrollRequest],
        idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
    ) -> Response[Any]:
        user = me(request)
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
        return Response(body, status_code=201)

    @delete("/enrollments/{enrollment_id:int}", opt=LEARNER, summary="Cancel my enrollment", status_code=200)
    async def cancel(
        self, request: Request[Any, Any, Any], db: DB, enrollment_id: FromPath[int]
    ) -> dict[str, Any]:
        user = me(request)
        async with db.write() as s:
            row = await enrollment.get_own(s, enrollment_id, user)
            _, owed = await billing.cancel_with_fee(
                s, row, _now(request), request.app.state.settings, cancelled_by="learner"
            )
        return {
            "id": enrollment_id,
            "status": "cancelled",
            "cancellation_fee_yen": owed.fee_yen,
            "message": owed.text_ja,
        }

    @post(
        "/enrollments/{enrollment_id:int}/accept",
        opt=LEARNER,
        summary="Take a place given from the waiting list (asked when cancelling already costs a fee)",
        status_code=200,
    )
    async def accept(
        self, request: Request[Any, Any, Any], db: DB, enrollment_id: FromPath[int]
    ) -> dict[str, Any]:
        async with db.write() as s:
            row = await run_sync(s, enrollment.accept_place, enrollment_id, me(request), _now(request))
        return {"id": row.id, "status": row.status, "accept_by": None}

    @get("/me/enrollments", opt=LEARNER, summary="My enrollments")
    async def mine(self, request: Request[Any, Any, Any], db: DB) -> list[dict[str, Any]]:
        user = me(request)
        async with db.read() as s:
            rows = await enrollment.my_enrollments(s, user.id or 0)
            placed = await plans.placements_for(s, [r.enrollment.id or 0 for r in rows])
        return [my_enrollment_dict(r, placed.get(r.enrollment.id or 0, {})) for r in rows]

    @get(
        "/me/calendar.ics",
        opt=LEARNER,
        summary="My confirmed sessions as iCalendar",
        media_type="text/calendar",
    )
    async def calendar(self, request: Request[Any, Any, Any], db: DB) -> Response[bytes]:
        user = me(request)
        async with db.read() as s:
            rows = await enrollment.my_enrollments(s, user.id or 0)
            blocks = await catalog.blocks_for(s, [r.session.id or 0 for r in rows])
        return ical.response(rows, {k: [(b.start_date, b.end_date) for b in v] for k, v in blocks.items()})


def my_enrollment_dict(r: enrollment.MyEnrollment, placed: dict[str, str]) -> dict[str, Any]:
    return {
        "id": r.enrollment.id,
        "status": r.enrollment.status,
        "waitlist_position": r.waitlist_position,
        # a place given from the waiting list in the charge period: accept it by then, or it passes on
        "accept_by": enrollment.accept_by(r.enrollment).isoformat() if r.enrollment.confirm_by else None,
        "lodging": r.enrollment.lodging,
        "room": placed.get("room"),
        "practicum_site": placed.get("site"),
        "session": {
            "id": r.session.id,
            "code": r.session.code,
            "course_code": r.course.code,
            "course_title": r.course.title_ja,
            "campus": r.campus.code,
            "campus_name": r.campus.name_ja,
            "start_date": r.session.start_date.isoformat(),
            "end_date": r.session.end_date.isoformat(),
            "status": r.session.status,
        },
    }


async def _replay(db: Any, user: User, key: str) -> Response[Any] | None:
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
        json.loads(record.response_json),
        status_code=record.status_code,
        headers={"Idempotent-Replay": "true"},
    )

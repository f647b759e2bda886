"""Campus staff: rosters, manual enrollment, promotion and cancellation — only on their campuses."""

from __future__ import annotations

from typing import Any, cast

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from courses.accounts.guards import CurrentUser
from courses.accounts.service import normalize_email
from courses.core.deps import Reading, Writing
from courses.core.downloads import csv_response
from courses.core.errors import InvalidInput
from courses.staff import actions, rosters
from courses.staff.schemas import (
    EnrollmentStatus,
    ManualEnrollment,
    ManualEnrollmentResult,
    Placed,
    Promotion,
    Roster,
    RosterEntry,
    RosterSession,
    SessionCancellation,
    StaffCancellation,
)

STAFF = {"access": "staff"}


class StaffApi(Controller):
    path = "/api/staff"
    tags = ("staff",)
    opt = STAFF

    @get("/sessions/{session_id:int}/roster", summary="Roster of a session of my campus")
    async def roster(self, user: CurrentUser, reading: Reading, session_id: FromPath[int]) -> Roster:
        ctx = await actions.session_on_my_campus(reading, user, session_id)
        rows = await rosters.session_roster(reading, session_id)
        session = ctx.session
        # the rows are the CSV's too (rosters.roster_rows); a key they lose or gain fails here, loudly
        return Roster(
            RosterSession(session.id or 0, session.code, session.capacity, session.confirmed_count),
            [RosterEntry(**row) for row in rows],
        )

    @get(
        "/sessions/{session_id:int}/roster.csv",
        summary="Roster as CSV (UTF-8 with BOM)",
        media_type="text/csv",
    )
    async def roster_csv(
        self, user: CurrentUser, reading: Reading, session_id: FromPath[int]
    ) -> Response[bytes]:
        ctx = await actions.session_on_my_campus(reading, user, session_id)
        rows = await rosters.session_roster(reading, session_id)
        return csv_response(rosters.roster_csv(rows), f"roster-{ctx.session.code}.csv")

    @post(
        "/sessions/{session_id:int}/enrollments",
        summary="Enroll a registered learner by hand",
        status_code=201,
    )
    async def manual_enroll(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        session_id: FromPath[int],
        data: JSONBody[ManualEnrollment],
    ) -> ManualEnrollmentResult:
        email = normalize_email(data.email)
        lodging = data.lodging
        if not email:
            raise InvalidInput(
                "受講者のメールアドレスと宿泊の有無（true/false）を指定してください。",
                "Give the learner's email and lodging (true/false).",
            )
        result = await actions.enroll_by_hand(
            writing, user, session_id, email, lodging, request.app.state.clock()
        )
        return ManualEnrollmentResult(
            result.id,
            cast("Placed", result.status),
            result.waitlist_position,
            result.session_id,
        )

    @post(
        "/enrollments/{enrollment_id:int}/promote",
        summary="Promote a waitlisted learner into a free seat",
        status_code=200,
    )
    async def promote(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        enrollment_id: FromPath[int],
    ) -> Promotion:
        promoted = await actions.promote(writing, user, enrollment_id, request.app.state.clock())
        return Promotion(promoted.id or 0, cast("EnrollmentStatus", promoted.status))

    @post(
        "/enrollments/{enrollment_id:int}/cancel",
        summary="Cancel an enrollment on behalf of the learner",
        status_code=200,
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        writing: Writing,
        enrollment_id: FromPath[int],
    ) -> StaffCancellation:
        promoted, owed = await actions.cancel(
            writing, user, enrollment_id, request.app.state.clock(), request.app.state.settings
        )
        return StaffCancellation(
            enrollment_id, "cancelled", [p.id or 0 for p in promoted], owed.fee_yen, owed.text_ja
        )

    @post(
        "/sessions/{session_id:int}/cancel",
        summary="Cancel a whole session; everyone enrolled is told",
        status_code=200,
    )
    async def cancel_session(
        self, request: Request[Any, Any, Any], user: CurrentUser, writing: Writing, session_id: FromPath[int]
    ) -> SessionCancellation:
        count = await actions.cancel_session(writing, user, session_id, request.app.state.clock())
        return SessionCancellation(session_id, "cancelled", count)

"""Accounts and enrollment through the JSON API (bearer tokens)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from courses.accounts import ical
from courses.accounts import service as accounts
from courses.accounts.guards import bearer_secret, cache_key, current_user
from courses.billing import service as billing
from courses.catalog import service as catalog
from courses.core.deps import DB
from courses.core.errors import Conflict, InvalidInput, Unauthorized
from courses.core.security import client_address
from courses.enrollment import service as enrollment
from courses.models import IdempotencyRecord, User
from courses.planning import plans

LEARNER = {"access": "learner"}


def _now(request: Request[Any, Any, Any]):  # type: ignore[no-untyped-def]
    return request.app.state.clock()


def me(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    if user is None:  # the guard has already refused anonymous callers; this keeps types honest
        raise Unauthorized("ログインが必要です。", "Sign-in required.")
    return user


class AuthApi(Controller):
    path = "/api/auth"
    tags = ("accounts",)

    @post("/register", opt={"access": "public"}, summary="Register a learner", status_code=201)
    async def register(
        self, request: Request[Any, Any, Any], db: DB, data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        reg = accounts.validate_registration(data)
        async with db.read() as s:
            if await accounts.email_taken(s, reg.email):
                raise Conflict(
                    "このメールアドレスは既に登録されています。ログインしてください。",
                    "This email address is already registered; please sign in.",
                )
        password_hash = await accounts.hash_password(reg.password)  # off the event loop, outside the lock
        async with db.write() as s:
            user = await accounts.register_learner(s, reg, _now(request), password_hash)
        return {"id": user.id, "email": user.email, "name": user.name, "role": user.role}

    @post(
        "/token",
        opt={"access": "public"},
        summary="Exchange email and password for a bearer token",
        status_code=200,
    )
    async def token(
        self, request: Request[Any, Any, Any], db: DB, data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        email = accounts.normalize_email(str(data.get("email") or ""))
        password = str(data.get("password") or "")
        if not email or not password:
            raise InvalidInput(
                "メールアドレスとパスワードを入力してください。", "email and password are required."
            )
        now = _now(request)
        user = await accounts.authenticate(db, email, password, client_address(request), now)
        async with db.write() as s:
            secret = await accounts.issue_token(s, user, "api", now)
        return {
            "access_token": secret,
            "token_type": "bearer",
            "expires_in": int(accounts.API_TOKEN_TTL.total_seconds()),
        }

    @delete(
        "/token",
        opt={"access": "user"},
        summary="Revoke the bearer token of this request (sign out of the API)",
        status_code=204,
    )
    async def revoke(self, request: Request[Any, Any, Any], db: DB) -> None:
        secret = bearer_secret(request)
        if secret:
            request.app.state.token_cache.evict(cache_key("api", secret))
            async with db.write() as s:
                await accounts.revoke_token(s, secret, "api")

    @get("/me", opt={"access": "user"}, summary="Who am I")
    async def whoami(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        user = me(request)
        return {"id": user.id, "email": user.email, "name": user.name, "role": user.role}


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
        data: JSONBody[dict[str, Any]],
        idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
    ) -> Response[Any]:
        user = me(request)
        lodging = data.get("lodging", False)
        if not isinstance(lodging, bool):
            raise InvalidInput(
                "lodging は true か false で指定してください。", "lodging must be true or false."
            )
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

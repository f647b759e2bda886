"""The staff session page's actions (enroll by hand, promote, cancel): each redirects back to the
session page, with a message on success and the reason on a refusal, which changes nothing."""

from __future__ import annotations

from urllib.parse import unquote

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.core.db import Database
from courses.models import Enrollment
from tests.courses import builders as b
from tests.courses.enrollment.test_enrollment_api import enroll, world


async def _csrf(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    await client.get("/")
    return {"x-csrftoken": client.cookies.get("csrftoken", "")}


async def _statuses(db: Database, session_id: int) -> list[str]:
    async with db.read() as s:
        rows = await s.exec(
            select(Enrollment).where(Enrollment.session_id == session_id).order_by(Enrollment.id)  # type: ignore[arg-type]
        )
        return [str(r.status) for r in rows]


async def test_promote_and_cancel_from_the_session_page(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await world(db, capacity=1, learners=2)
    first = (await enroll(client, w.tokens[0], w.session_id)).json()
    waiting = (await enroll(client, w.tokens[1], w.session_id)).json()
    staff = {**b.bearer(w.staff_token), **await _csrf(client)}
    page = f"/staff/sessions/{w.session_id}"

    # the session is full: the promotion is refused with the reason, and nothing changes
    r = await client.post(
        f"/staff/enrollments/{waiting['id']}/promote", headers=staff, follow_redirects=False
    )
    assert r.status_code in (302, 303) and r.headers["location"].startswith(f"{page}?error=")
    assert await _statuses(db, w.session_id) == ["confirmed", "waitlisted"]
    followed = await client.get(r.headers["location"], headers=staff)
    assert unquote(r.headers["location"].split("error=", 1)[1]) in followed.text

    # a cancellation frees the seat, which goes to the first on the waiting list
    r = await client.post(f"/staff/enrollments/{first['id']}/cancel", headers=staff, follow_redirects=False)
    assert r.headers["location"] == f"{page}?msg=cancelled"
    assert await _statuses(db, w.session_id) == ["cancelled", "confirmed"]

    # an enrollment that does not exist is a 404; another campus's staff are refused outright
    assert (await client.post("/staff/enrollments/999999/promote", headers=staff)).status_code == 404
    other = {**staff, **b.bearer(w.other_staff_token)}
    assert (await client.post(f"{page}/cancel", headers=other)).status_code == 403
    assert (await client.post(f"/staff/enrollments/{waiting['id']}/cancel", headers=other)).status_code == 403


async def test_enroll_by_hand_refusal_and_session_cancel(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await world(db, capacity=2, learners=1)
    staff = {**b.bearer(w.staff_token), **await _csrf(client)}
    page = f"/staff/sessions/{w.session_id}"
    r = await client.post(
        f"{page}/enroll", data={"email": "nobody@example.com"}, headers=staff, follow_redirects=False
    )
    assert r.status_code in (302, 303) and r.headers["location"].startswith(f"{page}?error=")
    assert await _statuses(db, w.session_id) == []

    await enroll(client, w.tokens[0], w.session_id)
    r = await client.post(f"{page}/cancel", headers=staff, follow_redirects=False)
    assert r.headers["location"] == f"{page}?msg=session_cancelled"
    assert await _statuses(db, w.session_id) == ["cancelled"]

"""Every GET route of the app, pages and API, as every role, on the seeded catalog with real ids.

The routes come from the Litestar router, so a new route is crawled without editing this file. The
crawl fails on any 5xx; a role the route does not admit must be turned away (401, 403, 404 or the
sign-in page), and no role may get a page holding data that is not theirs: the records of the Tokyo
campus carry markers that only Tokyo's staff, administrators and (for their own record) the learner
may ever see in a response.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from courses.accounts.guards import ACCESS, SESSION_COOKIE
from courses.accounts.service import issue_token
from courses.core.db import Database
from courses.enrollment import service as enrollment
from courses.models import Campus, CourseSession, SessionStatus
from courses.models.timetable import InstructorLink
from courses.planning.runner import Runner
from tests.courses import builders as b

ROLES = ["anonymous", "learner", "coordinator", "staff", "other_staff", "admin"]
# who each declared access admits, in the crawl's roles
ADMITS = {
    "public": set(ROLES),
    "user": set(ROLES) - {"anonymous"},
    "learner": {"learner"},
    "coordinator": {"coordinator", "admin"},
    "staff": {"staff", "other_staff", "admin"},
    "admin": {"admin"},
    "self_service": {"learner", "coordinator"},
}
# markers on the Tokyo records, and who may see each in a response
LEARNER_EMAIL = "crawl.learner@example.jp"
TOKYO_CLASSROOM = "クロール確認研修室"
TOKYO_DORM = "CRAWL-901"
TOKYO_INSTRUCTOR = "東京 クロール講師"
MAY_SEE = {
    LEARNER_EMAIL: {"learner", "staff", "admin"},
    TOKYO_CLASSROOM: {"staff", "admin"},
    TOKYO_DORM: {"staff", "admin"},
    TOKYO_INSTRUCTOR: {"staff", "admin"},
}
# path parameters that name a record of the Tokyo campus (courses are shared by every campus)
CAMPUS_PARAMS = {"session_id", "plan_id", "run_id", "room_id", "instructor_id", "row_id", "campus_id"}
# records of one person: who may open them (the learner's invoice: the learner, Tokyo's staff, admin)
OWNED = {"invoice_id": {"learner", "staff", "admin"}}
SHARED_PREFIXES = ("/api/console/courses/", "/console/courses/")
# routes that cannot answer from the path alone, with the reason; every other route must answer an
# admitted role with 2xx or 3xx when the crawl gives it real ids
NEEDS_MORE = {
    "/password/set": "the invitation's one-time token comes in the query",
    "/certificates/{serial:str}": "a certificate exists only after a session is completed (404 otherwise)",
    "/surveys/{session_id:int}": "a survey opens the day after the session's last day (422 before)",
    "/api/surveys/{session_id:int}": "the same survey through the API (422 before it opens)",
}


@dataclass
class World:
    tokens: dict[str, str]  # bearer tokens, for the API
    cookies: dict[str, str]  # browser sign-ins, for the pages
    ids: dict[str, int | str] = field(default_factory=dict)


def get_routes(app: Litestar) -> list[tuple[str, str | None]]:
    """(path, declared access) of every GET route; the OpenAPI pages are Litestar's own."""
    out = []
    for route in app.routes:
        for handler in route.route_handlers:
            if "GET" in getattr(handler, "http_methods", set()) and not route.path.startswith("/schema"):
                out.append((route.path, handler.opt.get("access")))
    return sorted(set(out))


async def _world(db: Database, app: Litestar, client: AsyncTestClient[Litestar]) -> World:
    now = datetime(2026, 5, 15, 1, 0, tzinfo=UTC)
    async with db.write() as s:
        tokyo = (await s.exec(select(Campus).where(Campus.code == "tokyo"))).one()
        sendai = (await s.exec(select(Campus).where(Campus.code == "sendai"))).one()
        sess = (
            await s.exec(
                select(CourseSession)
                .where(
                    CourseSession.campus_id == tokyo.id,
                    CourseSession.status == SessionStatus.PUBLISHED,
                    col(CourseSession.lodging).is_(True),
                    col(CourseSession.start_date) > now.date() + timedelta(days=14),
                )
                .order_by(col(CourseSession.start_date))
            )
        ).first()
        assert sess is not None
        org = await b.organization(s, "クロール商工会議所")
        users = {
            "learner": await b.user(s, LEARNER_EMAIL),
            "coordinator": await b.user(s, role="coordinator", organization_id=org.id),
            "staff": await b.user(s, role="staff", campuses=[tokyo]),
            "other_staff": await b.user(s, role="staff", campuses=[sendai]),
            "admin": await b.user(s, role="admin"),
        }
        tokens = {role: await b.token(s, u) for role, u in users.items()}
        cookies = {role: await issue_token(s, u, "web", datetime.now(UTC)) for role, u in users.items()}
        result = await s.run_sync(
            enrollment.enroll,
            user=users["learner"],
            session_id=sess.id or 0,
            lodging=True,
            now=now,
            check_window=False,
            notify=False,
        )
        classroom = await b.classroom(s, tokyo, TOKYO_CLASSROOM)
        dorm = await b.dorm_room(s, tokyo, TOKYO_DORM)
        instructor = await b.instructor(s, tokyo, TOKYO_INSTRUCTOR)
        site = await b.practicum_site(s, tokyo, "クロール実習先")
        course = await b.course(s, "CRAWL1")
        s.add(InstructorLink(instructor_id=instructor.id, token="crawl-instructor-token", created_at=now))
        ids: dict[str, int | str] = {
            "session_id": sess.id or 0,
            "enrollment_id": result.id,
            "organization_id": org.id or 0,
            "user_id": users["staff"].id or 0,
            "instructor_id": instructor.id,
            "/classrooms/": classroom.id,
            "/dorm-rooms/": dorm.id,
            "/instructors/": instructor.id,
            "/sites/": site.id,
            "/courses/": course.id or 0,
            "feed_token": users["learner"].feed_token,
            "campus_id": tokyo.id or 0,
            "course_id": course.id or 0,
            "month": f"{sess.start_date:%Y-%m}",
            "day": sess.start_date.isoformat(),  # a half-day's attendance: /attendance/{day}/{half}
            "half": "am",
            "serial": "FY2026-TOK-000000",
        }
    # a solver run and its plan, through the API and the runner as staff would make them
    start = sess.start_date
    body = {"campus": "tokyo", "from": str(start), "to": str(start + timedelta(days=6))}
    r = await client.post(
        "/api/staff/solver-runs",
        json={**body, "kinds": ["rooms", "practicum"], "time_limit_s": 2},
        headers=b.bearer(tokens["staff"]),
    )
    assert r.status_code == 202, r.text
    runner = Runner(db, app.state.clock, executor=ThreadPoolExecutor(max_workers=1))
    assert await runner.run_once()
    runner.close()
    run = (
        await client.get(f"/api/staff/solver-runs/{r.json()['id']}", headers=b.bearer(tokens["staff"]))
    ).json()
    assert run["status"] == "done", run
    of_kind = dict(zip(run["progress"]["plan_kinds"], run["progress"]["plans"], strict=True))
    ids |= {"run_id": run["id"], "plan_id": of_kind["rooms"], "practicum_plan_id": of_kind["practicum"]}
    # the learner's invoice, as the learner issues it from my page
    r = await client.post(
        f"/api/billing/enrollments/{result.id}/invoice", headers=b.bearer(tokens["learner"])
    )
    assert r.status_code in (200, 201), r.text
    ids["invoice_id"] = r.json()["id"]
    return World(tokens, cookies, ids)


def _concrete(path: str, ids: dict[str, int | str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ("row_id", "room_id"):  # the entity is named by the path: /console/dorm-rooms/{row_id}
            entity = next(k for k in ids if k.startswith("/") and k in path)
            return str(ids[entity])
        if name == "token":
            return "crawl-instructor-token" if "instructor" in path else str(ids["feed_token"])
        if name == "feed_name":  # /calendar/<secret>.ics
            return f"{ids['feed_token']}.ics"
        if name == "file_path":
            return "site.css"
        if name == "code":  # a campus's month calendar, or the header's language switch: /lang/en
            return "tokyo" if path.startswith("/campuses/") else "en"
        if name == "plan_id" and "/sites" in path:  # the practicum view of a practicum plan
            return str(ids["practicum_plan_id"])
        return str(ids[name])

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


def _turned_away(status: int, location: str) -> bool:
    return status in (401, 403, 404) or (status in (302, 303) and location.startswith("/login"))


def _campus_record(path: str) -> bool:
    names = set(re.findall(r"\{(\w+)", path))
    return bool(names & CAMPUS_PARAMS) and not path.startswith(SHARED_PREFIXES)


def test_every_get_route_declares_who_may_use_it(app: Litestar) -> None:
    """The introspection half: a route without ``opt={"access": ...}`` (or one the guard does not
    know) would be closed by the guard, and is a mistake either way."""
    undeclared = [(path, access) for path, access in get_routes(app) if access not in ACCESS]
    assert undeclared == []
    assert len(get_routes(app)) > 80  # the crawl sees the whole app, not a part of it


async def test_crawl_every_get_route_as_every_role(
    app: Litestar, client: AsyncTestClient[Litestar], seeded: Database
) -> None:
    world = await _world(seeded, app, client)
    found: dict[str, list[str]] = {"server errors": [], "let in": [], "leaks": [], "refused": []}
    crawled = 0
    for path, access in get_routes(app):
        url = _concrete(path, world.ids)
        for role in ROLES:
            # staff routes are asked for the role's own campus, and Sendai's staff also for Tokyo's
            campuses = ["sendai", "tokyo"] if role == "other_staff" else ["tokyo"]
            for campus in campuses if access == "staff" else [None]:
                client.cookies.clear()
                headers = b.bearer(world.tokens[role]) if role != "anonymous" else {}
                if role != "anonymous" and not path.startswith("/api/"):
                    client.cookies.set(SESSION_COOKIE, world.cookies[role])  # pages read the cookie
                query = {"campus": campus} if campus else {}
                r = await client.get(url, params=query, headers=headers, follow_redirects=False)
                crawled += 1
                # a Tokyo record in the path must be refused to Sendai's staff; pages that ignore the
                # campus asked for show their own campus, and the markers tell if they show Tokyo's
                foreign = role == "other_staff" and _campus_record(path)
                elsewhere = role == "other_staff" and campus == "tokyo"
                for kind, problem in _judge(r, path, access or "public", role, foreign, elsewhere):
                    found[kind].append(f"{role} GET {url} {query or ''} -> {r.status_code}{problem}")
    report = "\n".join(f"{kind}: {line}" for kind, lines in found.items() for line in lines)
    assert not report, report
    assert crawled >= 80 * len(ROLES)


def _owners(path: str) -> set[str] | None:
    names = set(re.findall(r"\{(\w+)", path)) & OWNED.keys()
    return set.intersection(*(OWNED[n] for n in names)) if names else None


def _judge(
    r: Any, path: str, access: str, role: str, foreign: bool, elsewhere: bool
) -> list[tuple[str, str]]:
    """What is wrong with one answer: a 5xx; a role let in where it is not admitted, or into another
    campus's record (``foreign``); a marker shown to a role that may not see it; an admitted role
    refused on its own campus (not ``elsewhere``)."""
    if r.status_code >= 500:
        return [("server errors", f": {r.text[:200]}")]
    out = []
    away = _turned_away(r.status_code, r.headers.get("location", ""))
    if role not in ADMITS[access]:
        if not away:
            out.append(("let in", ""))
    elif access == "staff" and foreign:
        if not away:
            out.append(("let in", " (a Tokyo record)"))
    elif (owners := _owners(path)) is not None and role not in owners:
        if not away:
            out.append(("let in", " (someone else's record)"))
    elif r.status_code >= 400 and path not in NEEDS_MORE and not elsewhere:
        out.append(("refused", f": {r.text[:200]}"))
    if r.status_code == 200 and "{token" not in path:  # a secret in the address is the credential
        body = r.content.decode("utf-8", "replace")
        out += [("leaks", f": shows {m}") for m, who in MAY_SEE.items() if m in body and role not in who]
    return out

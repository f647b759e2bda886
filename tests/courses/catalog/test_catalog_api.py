"""The public catalog API: shapes, filters, paging and errors."""

from __future__ import annotations

from datetime import date

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.core.db import Database
from courses.models import Campus
from tests.courses import builders as b


async def _small_catalog(db: Database) -> dict[str, int]:
    async with db.write() as s:
        await b.category(s, "finance")
        await b.category(s, "strategy")
        tokyo = await b.campus(s, "tokyo")
        kyushu = await b.campus(s, "kyushu", has_lodging=False)
        fin = await b.course(s, "ZAI01", category="finance")
        strat = await b.course(
            s,
            "KEI03",
            category="strategy",
            title_ja="経営戦略策定の実践",
            title_en="Practical Business Strategy",
        )
        support = await b.course(
            s, "SHI01", audience="support", title_ja="経営指導員向け研修", title_en="Advisers"
        )
        ids = {
            "fin_june_tokyo": (await b.session(s, fin, tokyo, start=date(2026, 6, 10), capacity=30)).id,
            "strat_july_kyushu": (await b.session(s, strat, kyushu, start=date(2026, 7, 6))).id,
            "support_june_tokyo": (
                await b.session(s, support, tokyo, start=date(2026, 6, 29), blocks=[(0, 3), (28, 2)])
            ).id,
            "draft": (await b.session(s, fin, tokyo, start=date(2026, 8, 3), status="draft")).id,
            "cancelled": (await b.session(s, fin, kyushu, start=date(2026, 9, 7), status="cancelled")).id,
        }
    return {k: int(v or 0) for k, v in ids.items()}


async def test_lists_every_status_but_drafts_without_filters(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    ids = await _small_catalog(db)
    r = await client.get("/api/sessions")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"items", "total", "page", "per_page"}
    assert body["total"] == 4 and body["page"] == 1 and body["per_page"] == 20
    got = {i["id"] for i in body["items"]}
    assert ids["cancelled"] in got and ids["draft"] not in got


async def test_session_shape(client: AsyncTestClient[Litestar], db: Database) -> None:
    ids = await _small_catalog(db)
    r = await client.get(f"/api/sessions/{ids['support_june_tokyo']}")
    assert r.status_code == 200
    item = r.json()
    assert item["course_code"] == "SHI01"
    assert item["course_title"] == "経営指導員向け研修"
    assert item["campus"] == "tokyo"
    assert item["blocks"] == [
        {"start": "2026-06-29", "end": "2026-07-01"},
        {"start": "2026-07-27", "end": "2026-07-28"},
    ]
    assert item["capacity"] == 30 and item["seats_left"] == 30
    assert item["status"] == "published"


async def test_filters(client: AsyncTestClient[Litestar], db: Database) -> None:
    ids = await _small_catalog(db)

    async def ids_for(**params: str) -> set[int]:
        r = await client.get("/api/sessions", params=params)
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    assert await ids_for(campus="kyushu") == {ids["strat_july_kyushu"], ids["cancelled"]}
    assert await ids_for(audience="support") == {ids["support_june_tokyo"]}
    assert await ids_for(category="strategy") == {ids["strat_july_kyushu"]}
    assert await ids_for(month="2026-06") == {ids["fin_june_tokyo"], ids["support_june_tokyo"]}
    # a session meeting in July through its second block counts for July
    assert await ids_for(month="2026-07") == {ids["support_june_tokyo"], ids["strat_july_kyushu"]}
    assert await ids_for(**{"from": "2026-07-02", "to": "2026-07-20"}) == {
        ids["support_june_tokyo"],
        ids["strat_july_kyushu"],
    }
    assert await ids_for(q="戦略") == {ids["strat_july_kyushu"]}
    assert await ids_for(q="business strategy") == {ids["strat_july_kyushu"]}
    assert await ids_for(status="cancelled") == {ids["cancelled"]}
    assert await ids_for(status="draft") == set()  # drafts are for the campus's staff only
    assert await ids_for(campus="tokyo", audience="sme") == {ids["fin_june_tokyo"]}


async def test_drafts_only_for_staff_of_their_campus(client: AsyncTestClient[Litestar], db: Database) -> None:
    ids = await _small_catalog(db)
    async with db.write() as s:
        tokyo = (await s.exec(select(Campus).where(Campus.code == "tokyo"))).one()
        kyushu = (await s.exec(select(Campus).where(Campus.code == "kyushu"))).one()
        tokens = {
            "learner": await b.token(s, await b.user(s)),
            "coordinator": await b.token(s, await b.user(s, role="coordinator")),
            "tokyo staff": await b.token(s, await b.user(s, role="staff", campuses=[tokyo])),
            "kyushu staff": await b.token(s, await b.user(s, role="staff", campuses=[kyushu])),
            "admin": await b.token(s, await b.user(s, role="admin")),
        }

    async def sees_draft(token: str | None, **params: str) -> bool:
        r = await client.get("/api/sessions", params=params, headers=b.bearer(token) if token else {})
        assert r.status_code == 200, r.text
        return ids["draft"] in {i["id"] for i in r.json()["items"]}

    for params in ({"status": "draft"}, {"status": "draft,published"}, {}):
        seen = {who: await sees_draft(t, **params) for who, t in [("anonymous", None), *tokens.items()]}
        assert seen == {
            "anonymous": False,
            "learner": False,
            "coordinator": False,
            "tokyo staff": True,
            "kyushu staff": False,
            "admin": True,
        }, params


async def test_keyword_wildcards_match_literally(client: AsyncTestClient[Litestar], db: Database) -> None:
    await _small_catalog(db)
    async with db.write() as s:
        tokyo = (await s.exec(select(Campus).where(Campus.code == "tokyo"))).one()
        odd = await b.course(s, "ODD01", title_ja="利益率100%_達成講座", title_en="Margin 100%_ \\ plan")
        odd_id = (await b.session(s, odd, tokyo, start=date(2026, 10, 5))).id

    async def ids_for(q: str) -> set[int]:
        r = await client.get("/api/sessions", params={"q": q})
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    for q in ("%", "_", "100%", "%_", "\\", "0%_"):
        assert await ids_for(q) == {odd_id}, q
    for q in ("%%", "__", "1_0", "率%率", "\\%", "\\_"):
        assert await ids_for(q) == set(), q


async def test_paging(client: AsyncTestClient[Litestar], db: Database) -> None:
    await _small_catalog(db)
    first = (await client.get("/api/sessions", params={"per_page": 3})).json()
    second = (await client.get("/api/sessions", params={"per_page": 3, "page": 2})).json()
    assert first["total"] == second["total"] == 4
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    dates = [i["start_date"] for i in first["items"] + second["items"]]
    assert dates == sorted(dates)


async def test_bad_filters_get_problem_responses(client: AsyncTestClient[Litestar], db: Database) -> None:
    await _small_catalog(db)
    cases = {
        "campus=atlantis": "campus",
        "month=2026-13": "month",
        "from=2026-02-30": "from",
        "to=yesterday": "to",
        "page=0": "page",
        "page=abc": "page",
        "per_page=1000": "per_page",
        "audience=kids": "audience",
        "category=cooking": "category",
        "status=archived": "status",
        "from=2026-08-01&to=2026-07-01": "to",
    }
    for query, field in cases.items():
        r = await client.get(f"/api/sessions?{query}")
        assert r.status_code == 400, query
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert {"type", "title", "detail", "status"} <= set(body), query
        assert body["errors"][0]["field"] == field, query


async def test_errors_speak_the_callers_language(client: AsyncTestClient[Litestar], db: Database) -> None:
    await _small_catalog(db)
    ja = (await client.get("/api/sessions?campus=atlantis")).json()
    en = (
        await client.get("/api/sessions?campus=atlantis", headers={"Accept-Language": "en-US,en;q=0.9"})
    ).json()
    assert "キャンパス" in ja["detail"]
    assert en["detail"] == "Unknown campus 'atlantis'."


async def test_unknown_ids_are_404(client: AsyncTestClient[Litestar], db: Database) -> None:
    ids = await _small_catalog(db)
    for path in ("/api/sessions/999999", f"/api/sessions/{ids['draft']}", "/api/nothing-here"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert r.json()["status"] == 404


async def test_campuses_courses_health_and_schema(client: AsyncTestClient[Litestar], db: Database) -> None:
    await _small_catalog(db)
    campuses = (await client.get("/api/campuses")).json()
    assert [c["code"] for c in campuses] == ["tokyo", "kyushu"]
    assert campuses[1]["has_lodging"] is False
    courses = (await client.get("/api/courses")).json()
    assert {c["code"] for c in courses} == {"ZAI01", "KEI03", "SHI01"}
    assert (await client.get("/health")).json() == {"status": "ok"}
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/sessions" in schema["paths"]

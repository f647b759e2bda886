"""Bad bodies get a clear problem response in the caller's language and change nothing."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.core.db import Database
from courses.models import User
from courses.models.plans import SolverRun
from tests.courses import builders as b

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "ja", "en"),
    [
        (b'{"email": ', "正しいJSONではありません", "not valid JSON"),
        (b"not json at all", "正しいJSONではありません", "not valid JSON"),
        ('{"email": "山田"}'.encode("shift_jis"), "UTF-8", "UTF-8"),
        (b"[1, 2]", "JSONオブジェクト", "Expected `object`"),
    ],
)
async def test_malformed_bodies(
    body: bytes, ja: str, en: str, client: AsyncTestClient[Litestar], db: Database
) -> None:
    r = await client.post("/api/auth/register", content=body, headers=JSON)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert ja in r.text
    r = await client.post("/api/auth/register", content=body, headers={**JSON, "Accept-Language": "en"})
    assert r.status_code == 400 and en in r.text
    async with db.read() as s:
        assert (await s.exec(select(User))).first() is None


async def test_impossible_values_are_reported_per_field(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    body = {
        "email": "a@example.jp",
        "password": "long enough pw",
        "name": "山田",
        "name_kana": "ヤマダ",
        "organization_kind": "sme",
        "company": "山田商店",
        "industry": "E",
        "employees": -5,
        "capital_yen": "三百万",
        "prefecture": "48",
    }
    r = await client.post("/api/auth/register", json=body)
    assert r.status_code == 400
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"employees", "capital_yen", "prefecture"}


async def test_what_the_schema_forbids_is_reported_in_the_registrations_own_words(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    """The patterns ``/schema`` states for an address, a フリガナ and an industry, and the password's
    length, refuse a body before the service sees it; the messages are still the service's."""
    body = {
        "email": "a@b",
        "password": "short",
        "name": " ",
        "name_kana": "yamada",
        "organization_kind": "sme",
        "company": "山田商店",
        "company_kana": "",
        "industry": "Z",
        "employees": 5,
        "capital_yen": 3_000_000,
        "prefecture": "15",
    }
    r = await client.post("/api/auth/register", json=body)
    assert r.status_code == 400
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert errors == {
        "email": "メールアドレスの形式が正しくありません。",
        "password": "パスワードは10文字以上にしてください。",
        "name": "氏名を入力してください。",
        "name_kana": "フリガナはカタカナで入力してください。",
        "industry": "業種は日本標準産業分類の大分類（A〜T）で選んでください。",
    }
    # what the patterns admit, the service normalises: full-width address, hiragana, lower case
    ok = {
        **body,
        "email": "ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｊｐ",
        "password": "long enough pw",
        "name": "山田 太郎",
        "name_kana": "やまだ たろう",
        "industry": "e",
    }
    r = await client.post("/api/auth/register", json=ok)
    assert r.status_code == 201, r.text
    async with db.read() as s:
        user = (await s.exec(select(User))).one()
    assert (user.email, user.name_kana) == ("yamada@example.jp", "ヤマダ タロウ")


async def test_a_malformed_address_at_sign_in_is_a_400_that_says_so(
    client: AsyncTestClient[Litestar],
) -> None:
    r = await client.post("/api/auth/token", json={"email": "yamada", "password": "x"})
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"field": "email", "message": "メールアドレスの形式が正しくありません（例: yamada@example.jp）。"}
    ]
    r = await client.post(
        "/api/auth/token", json={"email": "yamada", "password": "x"}, headers={"Accept-Language": "en"}
    )
    assert r.json()["errors"] == [
        {"field": "email", "message": "email: not in the expected form (e.g. yamada@example.jp)."}
    ]
    r = await client.post("/api/auth/token", json={"email": "yamada@example.jp", "password": ""})
    assert r.status_code == 400
    assert r.json()["errors"] == [{"field": "password", "message": "パスワードを入力してください。"}]


@pytest.mark.parametrize(
    "path",
    [
        "/api/sessions/99999999999999999999",
        "/sessions/99999999999999999999",
        "/api/sessions?page=99999999999999999999",
        "/?page=999999999999999999999",
    ],
)
async def test_numbers_too_large_are_a_clear_400(
    path: str, client: AsyncTestClient[Litestar], db: Database
) -> None:
    r = await client.get(path)
    assert r.status_code == 400, r.text[:200]


@pytest.mark.parametrize(
    "body", [b"[" * 100_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000], ids=["brackets", "objects"]
)
@pytest.mark.parametrize("path", ["/api/auth/register", "/api/staff/solver-runs"])
async def test_deeply_nested_json_is_a_clear_400(
    body: bytes, path: str, client: AsyncTestClient[Litestar], db: Database
) -> None:
    async with db.write() as s:
        campus = await b.campus(s, "tokyo")
        token = await b.token(s, await b.user(s, role="staff", campuses=[campus]))
    for lang, text in [("ja", "入れ子が深すぎます"), ("en", "nested too deeply")]:
        r = await client.post(
            path, content=body, headers={**JSON, **b.bearer(token), "Accept-Language": lang}
        )
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("application/problem+json")
        assert text in r.json()["detail"]


@pytest.mark.parametrize("kinds", [-1, True, [{"a": 1}], [1], 3.5, [None]])
async def test_solver_run_kinds_of_the_wrong_type_are_a_400(
    kinds: object, client: AsyncTestClient[Litestar], db: Database
) -> None:
    async with db.write() as s:
        campus = await b.campus(s, "tokyo")
        token = await b.token(s, await b.user(s, role="staff", campuses=[campus]))
    body = {"campus": "tokyo", "from": "2026-06-01", "to": "2026-06-30", "kinds": kinds}
    r = await client.post("/api/staff/solver-runs", json=body, headers=b.bearer(token))
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["kinds"]
    async with db.read() as s:
        assert (await s.exec(select(SolverRun))).first() is None


@pytest.mark.parametrize(
    ("change", "field", "ja", "en"),
    [
        ({"time_limit_s": 9999}, "time_limit_s", "制限時間（秒）は1以上600以下で", "between 1 and 600"),
        ({"from": "2026-02-30"}, "from", "開始日の日付が正しくありません", "YYYY-MM-DD"),
        ({"pin_published": "maybe"}, "pin_published", "固定は true か false で指定", "true or false"),
        ({"campus": 7}, "campus", "キャンパスは文字列で指定", "campus: str"),
        ({"colour": "red"}, "colour", "「colour」という項目はありません", "unknown field"),
        (
            {"kinds": ["rooms", "gym"]},
            "kinds",
            "計画の種類は次から選んでください: practicum、rooms、timetable",
            "one of",
        ),
    ],
)
async def test_a_typed_body_names_the_refused_field_in_the_callers_language(
    change: dict[str, object], field: str, ja: str, en: str, client: AsyncTestClient[Litestar], db: Database
) -> None:
    async with db.write() as s:
        campus = await b.campus(s, "tokyo")
        token = await b.token(s, await b.user(s, role="staff", campuses=[campus]))
    body = {"campus": "tokyo", "from": "2026-06-01", "to": "2026-06-30"} | change
    for lang, text in [("ja", ja), ("en", en)]:
        r = await client.post(
            "/api/staff/solver-runs", json=body, headers={**b.bearer(token), "Accept-Language": lang}
        )
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        errors = r.json()["errors"]
        assert [e["field"] for e in errors] == [field]
        assert text in errors[0]["message"], errors
    async with db.read() as s:
        assert (await s.exec(select(SolverRun))).first() is None


async def test_a_missing_required_field_is_named(client: AsyncTestClient[Litestar], db: Database) -> None:
    async with db.write() as s:
        campus = await b.campus(s, "tokyo")
        token = await b.token(s, await b.user(s, role="staff", campuses=[campus]))
    r = await client.post("/api/staff/solver-runs", json={"campus": "tokyo"}, headers=b.bearer(token))
    assert r.status_code == 400
    assert r.json()["errors"][0] == {"field": "from", "message": "開始日を入力してください。"}

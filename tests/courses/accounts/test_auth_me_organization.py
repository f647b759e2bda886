"""GET /api/auth/me tells a coordinator which organisation they act for; everyone else gets null."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core.db import Database
from tests.courses import builders as b
from tests.courses.bulk.test_bulk_api import org_world


async def test_me_names_a_coordinators_organisation_and_null_for_others(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db, members=0)
    r = await client.get("/api/auth/me", headers=b.bearer(w.token))
    assert r.status_code == 200
    assert r.json()["role"] == "coordinator"
    assert r.json()["organization"] == {
        "id": w.id,
        "name": "東京商工会議所",
        "kind": "chamber",
        "prefecture": "13",
    }
    other = (await client.get("/api/auth/me", headers=b.bearer(w.other_token))).json()["organization"]
    assert other["name"] == "大阪商工会議所" and other["id"] != w.id and other["prefecture"] == "27"
    for token in (w.admin_token, w.learner_token):
        body = (await client.get("/api/auth/me", headers=b.bearer(token))).json()
        assert "organization" in body and body["organization"] is None

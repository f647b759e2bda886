"""After an upload: the organisation's batches, registrants with status, cancellation and billing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient

from courses.core.db import Database
from courses.models import Enrollment
from tests.courses import builders as b
from tests.courses.bulk.test_bulk_api import Org, csv_file, org_world, sme_row, upload


async def _registered(client: AsyncTestClient[Litestar], db: Database) -> tuple[Org, dict[str, int]]:
    """Two seats, three people: two confirmed (one with lodging), one waiting; plus one support adviser."""
    w = await org_world(db, capacity=2)
    async with db.write() as s:
        await b.member(s, w.id, "adviser@example.jp", kind="support_agency", industry="R")
    rows = [
        sme_row(w.sme, 0, lodging="有"),
        sme_row(w.sme, 1, lodging="無"),
        sme_row(w.sme, 2, lodging="有"),
        f"{w.support},支援 一郎,シエン イチロウ,adviser@example.jp,,,,,有",
    ]
    r = await upload(client, w, csv_file(*rows), dry_run=False)
    assert r.status_code == 201, r.text
    return w, {x["email"]: x["enrollment_id"] for x in r.json()["rows"]}


async def test_registrants_batches_and_cancellation(client: AsyncTestClient[Litestar], db: Database) -> None:
    w, ids = await _registered(client, db)
    auth = b.bearer(w.token)
    listed = (await client.get(f"/api/organizations/{w.id}/registrations", headers=auth)).json()
    assert {(x["email"], x["status"], x["waitlist_position"]) for x in listed} == {
        ("p0@example.jp", "confirmed", None),
        ("p1@example.jp", "confirmed", None),
        ("p2@example.jp", "waitlisted", 1),
        ("adviser@example.jp", "confirmed", None),
    }
    batches = (await client.get(f"/api/organizations/{w.id}/bulk-registrations", headers=auth)).json()
    assert len(batches) == 1 and batches[0]["confirmed"] == 3 and batches[0]["consent_confirmed"] is True
    # cancelling a confirmed registrant gives the seat to the first on the waiting list
    r = await client.delete(f"/api/organizations/{w.id}/registrations/{ids['p0@example.jp']}", headers=auth)
    assert r.status_code == 200
    listed = (await client.get(f"/api/organizations/{w.id}/registrations", headers=auth)).json()
    status = {x["email"]: x["status"] for x in listed}
    assert status["p0@example.jp"] == "cancelled" and status["p2@example.jp"] == "confirmed"
    again = await client.delete(
        f"/api/organizations/{w.id}/registrations/{ids['p0@example.jp']}", headers=auth
    )
    assert again.status_code == 409
    # another organisation sees none of it, and cannot cancel
    other = b.bearer(w.other_token)
    r = await client.delete(f"/api/organizations/{w.id}/registrations/{ids['p1@example.jp']}", headers=other)
    assert r.status_code == 404
    async with db.write() as s:
        theirs = await b.organization(s, "名古屋商工会議所", prefecture="23")
        learner = await b.user(s)
        single = Enrollment(
            session_id=w.sme_id,
            user_id=learner.id or 0,
            status="waitlisted",
            waitlist_seq=99,
            created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
            organization_id=theirs.id,
        )
        s.add(single)
    r = await client.delete(f"/api/organizations/{w.id}/registrations/{single.id}", headers=auth)
    assert r.status_code == 404  # not one of ours, though it exists


async def test_billing_summary_and_csv(client: AsyncTestClient[Litestar], db: Database) -> None:
    w, _ = await _registered(client, db)
    auth = b.bearer(w.token)
    bill = (await client.get(f"/api/organizations/{w.id}/billing", headers=auth)).json()
    by_code = {x["session_code"]: x for x in bill["sessions"]}
    # SME course: 3 days in one block = 2 nights, 30,000 yen; the waiting person is not billed
    assert (by_code[w.sme]["confirmed"], by_code[w.sme]["fees_yen"]) == (2, 60000)
    assert (by_code[w.sme]["lodging_people"], by_code[w.sme]["nights_per_person"]) == (1, 2)
    assert (by_code[w.support]["fees_yen"], by_code[w.support]["lodging_nights"]) == (20000, 1)
    assert bill["total"] == {"confirmed": 3, "fees_yen": 80000, "lodging_nights": 3}
    r = await client.get(f"/api/organizations/{w.id}/billing.csv", headers=auth)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("開催回コード,研修名") and lines[-1] == "合計,,,,3,80000,,,3"


async def test_multi_block_sessions_count_nights_per_block(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db)
    async with db.write() as s:
        course = await b.course(s, "KEI01", days=6, fee_yen=100000)
        campus = await b.campus(s, "osaka")
        long = await b.session(s, course, campus, start=date(2026, 7, 1), blocks=[(0, 3), (14, 3)])
    r = await upload(client, w, csv_file(sme_row(long.code, 0)), dry_run=False)
    assert r.status_code == 201, r.text
    bill = (await client.get(f"/api/organizations/{w.id}/billing", headers=b.bearer(w.token))).json()
    assert bill["sessions"][0]["nights_per_person"] == 4 and bill["total"]["lodging_nights"] == 4


async def test_templates_to_download(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await org_world(db)
    r = await client.get(
        f"/api/organizations/{w.id}/bulk-registrations/template.csv", headers=b.bearer(w.token)
    )
    assert r.status_code == 200 and r.content.decode("utf-8-sig").startswith(
        "開催回コード,氏名,フリガナ,メールアドレス"
    )
    r = await client.get(
        f"/api/organizations/{w.id}/bulk-registrations/template.xlsx", headers=b.bearer(w.token)
    )
    assert r.status_code == 200 and r.content.startswith(b"PK")

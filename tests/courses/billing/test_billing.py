"""Billing: fees, tax per invoice and per rate, idempotent issuing and payments, PDFs, access."""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, text
from sqlmodel import func, select

from courses.billing import invoicing, pdf, service
from courses.billing.schemas import Line
from courses.core.db import Database
from courses.core.settings import Settings
from courses.models import Enrollment, EnrollmentStatus, SessionBlock, id_of
from courses.models.billing import CampusFee, Invoice, Payment
from tests.conftest import JST, TODAY
from tests.courses import builders as b

NOW = datetime.combine(TODAY, time(10, 0), tzinfo=JST)


def pdf_text(content: bytes) -> str:
    """The text drawn by the PDF's (uncompressed) Tj operators, decoded from the CID fonts' UTF-16."""
    out = []
    for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", content, flags=re.S):
        raw = re.sub(
            rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m[1], 8)]) if m[1][:1].isdigit() else m[1], literal
        )
        out.append(raw.decode("utf-16-be", errors="replace") if len(raw) % 2 == 0 else raw.decode("latin-1"))
    return "\n".join(out)


# --- rules without a database ------------------------------------------------------------------------


def test_tax_is_rounded_down_once_per_invoice_not_per_line() -> None:
    lines = [Line("a", 1, 105), Line("b", 1, 105)]
    # tax-inclusive prices; per line: floor(105 × 10/110) = 9, twice 18; once on 210: floor(19.09) = 19
    assert invoicing.totals(lines) == (191, 19, 210)


def test_tax_is_computed_per_rate() -> None:
    lines = [Line("fee", 1, 1999), Line("meal", 3, 333), Line("cancellation", 1, 1234, tax_rate_percent=0)]
    rows = invoicing.taxes(lines)
    # 2,998 × 10/110 = 272.5 -> 272; the not-taxed line adds nothing
    assert [(r.rate_percent, r.base_yen, r.tax_yen) for r in rows] == [(10, 2998, 272), (0, 1234, 0)]
    assert invoicing.totals(lines) == (3960, 272, 4232)


def test_credit_note_tax_mirrors_its_invoice() -> None:
    lines = [Line("fee", 1, 105), Line("fee", 1, 105)]
    credit = [Line(x.description, -x.quantity, x.unit_yen) for x in lines]
    assert invoicing.totals(credit) == tuple(-v for v in invoicing.totals(lines))


def test_enrollment_owes_fee_lodging_per_night_and_meals_per_day() -> None:
    e = Enrollment(
        id=7, session_id=1, user_id=1, status="confirmed", lodging=True, created_at=NOW, updated_at=NOW
    )
    course = type("C", (), {"title_ja": "財務", "fee_yen": 30000})()
    blocks = [
        SessionBlock(session_id=1, seq=1, start_date=date(2026, 6, 1), end_date=date(2026, 6, 3)),
        SessionBlock(session_id=1, seq=2, start_date=date(2026, 6, 10), end_date=date(2026, 6, 11)),
    ]
    fee = CampusFee(campus_id=1, lodging_per_night_yen=3000, meals_per_day_yen=1500, updated_at=NOW)
    lines = invoicing.enrollment_lines(e, course, blocks, fee)  # type: ignore[arg-type]
    assert [(x.quantity, x.unit_yen) for x in lines] == [(1, 30000), (3, 3000), (5, 1500)]
    e.lodging = False
    assert [(x.quantity, x.unit_yen) for x in invoicing.enrollment_lines(e, course, blocks, fee)] == [
        (1, 30000),
        (5, 1500),
    ]  # type: ignore[arg-type]
    assert len(invoicing.enrollment_lines(e, course, blocks, None)) == 1  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad", ["1234567890123", "T123456789012", "T12345678901234", "t1234567890123", "TABCDEFGHIJKLM"]
)
def test_registration_number_setting_is_validated(bad: str) -> None:
    with pytest.raises(ValueError, match="T followed by 13 digits"):
        Settings(database_url="sqlite://", secret_key="k" * 40, invoice_registration_number=bad)


# --- against the database ---------------------------------------------------------------------------


async def _world(db: Database) -> dict[str, Any]:
    async with db.write() as s:
        campus = await b.campus(s)
        other_campus = await b.campus(s, "osaka")
        await b.category(s)
        course = await b.course(s, days=3, fee_yen=33333)
        sess = await b.session(s, course, campus, start=TODAY + timedelta(days=30))
        learner = await b.user(s)
        stranger = await b.user(s)
        staff = await b.user(s, role="staff", campuses=[campus])
        other_staff = await b.user(s, role="staff", campuses=[other_campus])
        org = await b.organization(s)
        coord = await b.user(s, role="coordinator", organization_id=org.id)
        s.add(
            CampusFee(campus_id=campus.id, lodging_per_night_yen=2500, meals_per_day_yen=1200, updated_at=NOW)
        )  # type: ignore[arg-type]
        e = Enrollment(
            session_id=sess.id,
            user_id=learner.id,
            status=EnrollmentStatus.CONFIRMED,
            lodging=True,  # type: ignore[arg-type]
            created_at=NOW,
            updated_at=NOW,
        )
        s.add(e)
        org_rows = []
        for _ in range(3):
            member = await b.user(s, organization_id=org.id)
            row = Enrollment(
                session_id=sess.id,
                user_id=member.id,
                status=EnrollmentStatus.CONFIRMED,
                lodging=False,  # type: ignore[arg-type]
                source="bulk",
                organization_id=org.id,
                created_at=NOW,
                updated_at=NOW,
            )
            s.add(row)
            org_rows.append(row)
        await s.flush()
        tokens = {
            name: await b.token(s, u)
            for name, u in {
                "learner": learner,
                "stranger": stranger,
                "staff": staff,
                "other_staff": other_staff,
                "coord": coord,
            }.items()
        }
    return {
        "campus": campus,
        "session": sess,
        "enrollment": e,
        "org": org,
        "tokens": tokens,
        "staff": staff,
        "other_staff": other_staff,
        "learner": learner,
    }


async def test_invoice_of_an_enrollment_carries_every_qualified_invoice_field(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    t = w["tokens"]
    r = await client.post(
        f"/api/billing/enrollments/{w['enrollment'].id}/invoice", headers=b.bearer(t["staff"])
    )
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["registration_number"] == "T1234567890123"
    assert data["recipient_name"].endswith("様")
    # 33,333 + 2 nights × 2,500 + 3 days × 1,200 = 41,933 with tax; tax in it floor(3,812.09) = 3,812
    assert [(x["quantity"], x["unit_yen"]) for x in data["lines"]] == [(1, 33333), (2, 2500), (3, 1200)]
    assert (data["subtotal_yen"], data["tax_yen"], data["total_yen"]) == (38121, 3812, 41933)
    assert data["taxes"] == [{"rate_percent": 10, "base_yen": 41933, "tax_yen": 3812}]
    assert data["due_date"] == (TODAY + timedelta(days=30)).isoformat() and data["bank_account"]

    pdf_r = await client.get(f"/api/billing/invoices/{data['id']}/pdf", headers=b.bearer(t["learner"]))
    assert pdf_r.status_code == 200 and pdf_r.content.startswith(b"%PDF")


async def test_pdf_contains_registration_number_and_japanese_text(db: Database) -> None:
    w = await _world(db)
    settings = Settings(database_url=db.url, secret_key="k" * 40)
    async with db.write() as s:
        invoice = await invoicing.issue_for_enrollment(s, w["staff"], w["enrollment"].id, settings, NOW)
    async with db.read() as s:
        data = await invoicing.invoice_data(s, invoice, settings)
    original = pdf.render.__globals__["canvas"].Canvas

    class Plain(original):  # type: ignore[misc,valid-type]
        def __init__(self, *a: Any, **k: Any) -> None:
            k["pageCompression"] = 0  # readable streams, for the text check only
            super().__init__(*a, **k)

    pdf.render.__globals__["canvas"].Canvas = Plain
    try:
        text = pdf_text(pdf.render(data))
    finally:
        pdf.render.__globals__["canvas"].Canvas = original
    assert "登録番号 T1234567890123" in text
    assert "請求書（適格請求書）" in text and "受講料 財務諸表の読み方" in text
    assert "10%対象 41,933円（うち消費税 3,812円）" in text


async def _issue(db: Database, who: Any, enrollment_id: int, now: datetime = NOW) -> Invoice:
    """An enrollment's invoice, issued in a write transaction of its own."""
    settings = Settings(database_url=db.url, secret_key="k" * 40)
    async with db.write() as s:
        return await invoicing.issue_for_enrollment(s, who, enrollment_id, settings, now)


async def test_two_concurrent_issues_give_one_invoice(db: Database) -> None:
    w = await _world(db)
    first, second = await asyncio.gather(
        _issue(db, w["staff"], w["enrollment"].id), _issue(db, w["learner"], w["enrollment"].id)
    )
    assert first.id == second.id
    async with db.read() as s:
        assert (await s.exec(select(func.count()).select_from(Invoice))).one() == 1


async def test_organisation_gets_one_consolidated_invoice_per_month(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    t = w["tokens"]
    month = f"{w['session'].start_date:%Y-%m}"
    url = f"/api/billing/organizations/{w['org'].id}/campuses/{w['campus'].id}/months/{month}/invoice"
    first, again = [await client.post(url, headers=b.bearer(t["staff"])) for _ in range(2)]
    assert first.status_code == 201 and first.json()["id"] == again.json()["id"]
    data = first.json()
    assert data["recipient_name"].endswith("御中")
    assert len(data["lines"]) == 6  # three people: fee and meals each, nobody lodges
    total = sum(x["quantity"] * x["unit_yen"] for x in data["lines"])
    assert data["total_yen"] == total == 3 * (33333 + 3600)
    assert data["tax_yen"] == total * 10 // 110 and data["subtotal_yen"] == total - data["tax_yen"]
    # the learner who pays themself is not on the organisation's invoice; the org-paid can't self-issue
    async with db.read() as s:
        org_enrollment = (
            await s.exec(select(Enrollment).where(Enrollment.organization_id == w["org"].id))
        ).first()
    assert org_enrollment is not None
    r = await client.post(
        f"/api/billing/enrollments/{org_enrollment.id}/invoice", headers=b.bearer(t["staff"])
    )
    assert r.status_code == 400
    # access: the coordinator sees it, staff of another campus and a learner do not
    assert (
        await client.get(f"/api/billing/invoices/{data['id']}", headers=b.bearer(t["coord"]))
    ).status_code == 200
    listed = await client.get("/api/billing/invoices", headers=b.bearer(t["coord"]))
    assert [x["id"] for x in listed.json()] == [data["id"]]
    for who in ("other_staff", "learner"):
        assert (
            await client.get(f"/api/billing/invoices/{data['id']}/pdf", headers=b.bearer(t[who]))
        ).status_code == 404
    assert (await client.post(url, headers=b.bearer(t["other_staff"]))).status_code == 403


async def test_only_the_learner_and_campus_staff_see_a_learners_invoice(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    t = w["tokens"]
    eid = w["enrollment"].id
    assert (
        await client.post(f"/api/billing/enrollments/{eid}/invoice", headers=b.bearer(t["stranger"]))
    ).status_code == 404
    assert (
        await client.post(f"/api/billing/enrollments/{eid}/invoice", headers=b.bearer(t["other_staff"]))
    ).status_code == 403
    r = await client.post(f"/api/billing/enrollments/{eid}/invoice", headers=b.bearer(t["learner"]))
    assert r.status_code == 201
    iid = r.json()["id"]
    assert (await client.get(f"/api/billing/invoices/{iid}", headers=b.bearer(t["staff"]))).status_code == 200
    for who in ("stranger", "other_staff", "coord"):
        assert (await client.get(f"/api/billing/invoices/{iid}", headers=b.bearer(t[who]))).status_code == 404
    page = f"/billing/invoices/{iid}/pdf"
    assert (await client.get(page, follow_redirects=False)).status_code in (401, 302, 303)
    await client.get("/login")
    signed_in = await client.post(
        "/login",
        data={
            "email": w["learner"].email,
            "password": b.PASSWORD,
            "_csrf_token": client.cookies.get("csrftoken", ""),
        },
        follow_redirects=False,
    )
    assert signed_in.status_code in (302, 303)
    got = await client.get(page)
    assert got.status_code == 200 and got.content.startswith(b"%PDF")


async def test_concurrent_recording_of_one_transfer_gives_one_payment_and_unpaid_list(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    t = w["tokens"]
    invoice = await _issue(db, w["staff"], w["enrollment"].id, NOW - timedelta(days=40))
    unpaid = await client.get(f"/api/billing/campuses/{w['campus'].id}/unpaid", headers=b.bearer(t["staff"]))
    assert [x["invoice_id"] for x in unpaid.json()] == [invoice.id]
    assert (
        await client.get(f"/api/billing/campuses/{w['campus'].id}/unpaid", headers=b.bearer(t["other_staff"]))
    ).status_code == 403

    body = {"amount_yen": invoice.total_yen, "paid_on": TODAY.isoformat(), "reference": "20260515-0001"}
    url = f"/api/billing/invoices/{invoice.id}/payments"
    first, second = await asyncio.gather(
        client.post(url, json=body, headers=b.bearer(t["staff"])),
        client.post(url, json=body, headers=b.bearer(t["staff"])),
    )
    assert first.status_code == second.status_code == 201 and first.json()["id"] == second.json()["id"]
    async with db.read() as s:
        assert (await s.exec(select(func.count()).select_from(Payment))).one() == 1
    unpaid = await client.get(f"/api/billing/campuses/{w['campus'].id}/unpaid", headers=b.bearer(t["staff"]))
    assert unpaid.json() == []
    bad = await client.post(
        url, json={**body, "amount_yen": 0, "reference": "x"}, headers=b.bearer(t["staff"])
    )
    assert bad.status_code == 400


async def test_a_transfer_recorded_while_another_records_it_is_the_first_ones_payment(db: Database) -> None:
    """The second recording waits for the first's transaction; on PostgreSQL its insert then fails on
    the unique reference, only its SAVEPOINT is undone and it reads the first's payment in the same
    transaction; on SQLite it waits for the write lock and finds the payment."""
    w = await _world(db)
    invoice = await _issue(db, w["staff"], w["enrollment"].id)
    savepoints_undone = []
    event.listen(db.engine.sync_engine, "rollback_savepoint", lambda *a: savepoints_undone.append(a))

    async def record(amount_yen: int) -> Payment:
        async with db.write() as s:
            return await invoicing.record_payment(
                s, w["staff"], id_of(invoice), amount_yen, TODAY, "20260515-0002", NOW
            )

    async with db.write() as s:
        first = await invoicing.record_payment(
            s, w["staff"], id_of(invoice), invoice.total_yen, TODAY, " 20260515-0002 ", NOW
        )
        second = asyncio.create_task(record(1))
        for _ in range(200):  # until the second waits: for the first's row, or for the write lock
            await asyncio.sleep(0.01)
            if db.sqlite:
                break
            async with db.read() as r:
                waiting = select(func.count()).select_from(text("pg_locks")).where(text("NOT granted"))
                if (await r.exec(waiting)).one():
                    break
        assert not second.done()
    assert (await second).id == first.id
    assert len(savepoints_undone) == (0 if db.sqlite else 1)
    async with db.read() as s:
        payments = list(await s.exec(select(Payment)))
    assert [(p.amount_yen, p.reference) for p in payments] == [(invoice.total_yen, "20260515-0002")]


async def test_fee_table_is_set_per_campus_in_integer_yen(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    t = w["tokens"]
    url = f"/api/billing/campuses/{w['campus'].id}/fees"
    ok = await client.put(
        url, json={"lodging_per_night_yen": 3100, "meals_per_day_yen": 1000}, headers=b.bearer(t["staff"])
    )
    assert ok.status_code == 200 and ok.json()["lodging_per_night_yen"] == 3100
    for bad in (
        {"lodging_per_night_yen": 3100.5, "meals_per_day_yen": 1},
        {"lodging_per_night_yen": -1, "meals_per_day_yen": 1},
    ):
        assert (await client.put(url, json=bad, headers=b.bearer(t["staff"]))).status_code == 400
    assert (await client.get(url, headers=b.bearer(t["staff"]))).json()["lodging_per_night_yen"] == 3100
    assert (
        await client.put(
            url, json={"lodging_per_night_yen": 1, "meals_per_day_yen": 1}, headers=b.bearer(t["other_staff"])
        )
    ).status_code == 403


# --- cancellation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_before", "percent"),
    [(30, 0), (8, 0), (7, 30), (1, 30), (0, 100), (-1, 100)],
    ids=["month-before", "last-free-day", "first-charged-day", "day-before", "first-day", "after-start"],
)
def test_cancellation_fee_boundaries(days_before: int, percent: int) -> None:
    first_day = date(2026, 6, 10)
    on = first_day - timedelta(days=days_before)
    assert service.cancellation_percent(8, 30, first_day, on) == (days_before, percent)


def test_terms_are_stated_plainly() -> None:
    assert service.terms_text(8, 30) == (
        "キャンセル料: 開講日の8日前までは無料、7日前から前日までは受講料の30%、開講日以降は受講料の100%です。"
    )


async def _cancel_world(db: Database, start_in_days: int) -> dict[str, Any]:
    w = await _world(db)
    async with db.write() as s:
        sess = await s.get(type(w["session"]), w["session"].id)
        assert sess is not None
        sess.start_date = TODAY + timedelta(days=start_in_days)
        s.add(sess)
    return w


async def test_learner_cancelling_the_day_before_owes_the_late_percent_and_gets_a_credit_note(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _cancel_world(db, 1)
    t = w["tokens"]
    eid = w["enrollment"].id
    issued = await client.post(f"/api/billing/enrollments/{eid}/invoice", headers=b.bearer(t["learner"]))
    assert issued.status_code == 201
    r = await client.delete(f"/api/enrollments/{eid}", headers=b.bearer(t["learner"]))
    assert r.status_code == 200, r.text
    assert r.json()["cancellation_fee_yen"] == 33333 * 30 // 100 == 9999
    assert "9,999円" in r.json()["message"]
    listed = (await client.get("/api/billing/invoices", headers=b.bearer(t["learner"]))).json()
    kinds = sorted((x["kind"], x["total_yen"]) for x in listed)
    assert kinds == [
        ("credit", -issued.json()["total_yen"]),
        ("invoice", 9999),
        ("invoice", issued.json()["total_yen"]),
    ]
    fee_invoice = next(x for x in listed if x["total_yen"] == 9999)
    data = (
        await client.get(f"/api/billing/invoices/{fee_invoice['id']}", headers=b.bearer(t["learner"]))
    ).json()
    assert data["tax_yen"] == 0 and data["taxes"] == [{"rate_percent": 0, "base_yen": 9999, "tax_yen": 0}]
    async with db.read() as s:
        from courses.models.billing import CancellationRecord

        record = await s.get(CancellationRecord, eid)
    assert record is not None and (record.days_before, record.percent, record.fee_yen) == (1, 30, 9999)
    assert record.cancelled_by == "learner"


async def test_staff_cancelling_on_the_first_day_charges_the_whole_fee(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _cancel_world(db, 0)
    t = w["tokens"]
    eid = w["enrollment"].id
    # the learner may no longer cancel online once the session has started; staff can
    assert (await client.delete(f"/api/enrollments/{eid}", headers=b.bearer(t["learner"]))).status_code == 409
    r = await client.post(f"/api/staff/enrollments/{eid}/cancel", headers=b.bearer(t["staff"]))
    assert r.status_code == 200, r.text
    assert r.json()["cancellation_fee_yen"] == 33333
    listed = (await client.get("/api/billing/invoices", headers=b.bearer(t["learner"]))).json()
    assert [(x["kind"], x["total_yen"]) for x in listed] == [
        ("invoice", 33333)
    ]  # nothing was invoiced before


async def test_organisation_cancelling_early_owes_nothing_and_its_invoice_is_credited(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _cancel_world(db, 20)
    t = w["tokens"]
    month = f"{TODAY + timedelta(days=20):%Y-%m}"
    url = f"/api/billing/organizations/{w['org'].id}/campuses/{w['campus'].id}/months/{month}/invoice"
    monthly = (await client.post(url, headers=b.bearer(t["staff"]))).json()
    async with db.read() as s:
        member = (await s.exec(select(Enrollment).where(Enrollment.organization_id == w["org"].id))).first()
    assert member is not None
    r = await client.delete(
        f"/api/organizations/{w['org'].id}/registrations/{member.id}", headers=b.bearer(t["coord"])
    )
    assert r.status_code == 200, r.text
    assert r.json()["cancellation_fee_yen"] == 0
    listed = (await client.get("/api/billing/invoices", headers=b.bearer(t["coord"]))).json()
    credit = next(x for x in listed if x["kind"] == "credit")
    assert credit["total_yen"] == -(33333 + 3600) and monthly["total_yen"] == 3 * (33333 + 3600)


async def test_terms_are_set_per_course_and_shown_before_applying(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    course_id = w["session"].course_id
    async with db.write() as s:
        admin = await b.user(s, role="admin")
        admin_token = await b.token(s, admin)
    url = f"/api/billing/courses/{course_id}/cancellation-terms"
    assert (
        await client.put(
            url, json={"free_days_before": 15, "late_percent": 50}, headers=b.bearer(w["tokens"]["staff"])
        )
    ).status_code == 403
    bad = await client.put(
        url, json={"free_days_before": 15, "late_percent": 150}, headers=b.bearer(admin_token)
    )
    assert bad.status_code == 400
    ok = await client.put(
        url, json={"free_days_before": 15, "late_percent": 50}, headers=b.bearer(admin_token)
    )
    assert ok.status_code == 200 and "14日前から前日までは受講料の50%" in ok.json()["text_ja"]
    page = await client.get(f"/sessions/{w['session'].id}")
    assert "開講日の15日前までは無料" in page.text


# --- pages --------------------------------------------------------------------------------------------


async def _sign_in(client: AsyncTestClient[Litestar], email: str) -> None:
    await client.get("/login")
    r = await client.post(
        "/login",
        data={"email": email, "password": b.PASSWORD, "_csrf_token": client.cookies.get("csrftoken", "")},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303)


async def test_learner_gets_the_invoice_pdf_from_my_page(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    await _sign_in(client, w["learner"].email)
    page = await client.get("/me")
    action = f"/billing/enrollments/{w['enrollment'].id}/invoice"
    assert action in page.text and "onclick" not in page.text.split('id="invoices"')[1]
    r = await client.post(action, data={"_csrf_token": client.cookies.get("csrftoken", "")})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert "INV-" in (await client.get("/me")).text


async def test_staff_billing_page_sets_fees_and_records_a_payment(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    invoice = await _issue(db, w["staff"], w["enrollment"].id, NOW - timedelta(days=60))
    await _sign_in(client, w["staff"].email)
    assert f"/billing/campuses/{w['campus'].id}" in (await client.get("/console/")).text
    page = await client.get(f"/billing/campuses/{w['campus'].id}")
    assert page.status_code == 200 and invoice.number in page.text and "期限を過ぎた未入金" in page.text
    csrf = client.cookies.get("csrftoken", "")
    r = await client.post(
        f"/billing/campuses/{w['campus'].id}/fees",
        data={"lodging_per_night_yen": "3,000", "meals_per_day_yen": "900", "_csrf_token": csrf},
    )
    assert r.status_code == 200 and "保存しました" in r.text
    async with db.read() as s:
        fee = await s.get(CampusFee, w["campus"].id)
    assert fee is not None and (fee.lodging_per_night_yen, fee.meals_per_day_yen) == (3000, 900)
    form = {
        "amount_yen": str(invoice.total_yen),
        "paid_on": TODAY.isoformat(),
        "reference": "T-1",
        "_csrf_token": csrf,
    }
    for _ in range(2):
        r = await client.post(f"/billing/invoices/{invoice.id}/payments", data=form)
        assert r.status_code == 200 and "期限を過ぎた未入金はありません" in r.text
    async with db.read() as s:
        assert (await s.exec(select(func.count()).select_from(Payment))).one() == 1
    assert (await client.get(f"/billing/campuses/{w['campus'].id + 1}")).status_code == 403


async def test_school_cancelling_the_session_credits_what_was_invoiced_and_charges_nothing(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _cancel_world(db, 3)
    t = w["tokens"]
    issued = await client.post(
        f"/api/billing/enrollments/{w['enrollment'].id}/invoice", headers=b.bearer(t["learner"])
    )
    r = await client.post(f"/api/staff/sessions/{w['session'].id}/cancel", headers=b.bearer(t["staff"]))
    assert r.status_code == 200, r.text
    listed = (await client.get("/api/billing/invoices", headers=b.bearer(t["learner"]))).json()
    assert sorted((x["kind"], x["total_yen"]) for x in listed) == [
        ("credit", -issued.json()["total_yen"]),
        ("invoice", issued.json()["total_yen"]),
    ]
    async with db.read() as s:
        from courses.models.billing import CancellationRecord

        records = (await s.exec(select(CancellationRecord))).all()
    assert len(records) == 4 and {(r.fee_yen, r.cancelled_by) for r in records} == {(0, "school")}


async def test_staff_page_cancelling_the_session_credits_the_invoice(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _cancel_world(db, 3)
    invoice = await _issue(db, w["staff"], w["enrollment"].id)
    await _sign_in(client, w["staff"].email)
    r = await client.post(
        f"/staff/sessions/{w['session'].id}/cancel", data={"_csrf_token": client.cookies.get("csrftoken", "")}
    )
    assert r.status_code == 200
    async with db.read() as s:
        credit = (await s.exec(select(Invoice).where(Invoice.kind == "credit"))).one()
    assert credit.total_yen == -invoice.total_yen and credit.user_id == w["learner"].id


async def test_administrators_set_each_courses_fee_and_terms_on_one_page(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    async with db.write() as s:
        admin = await b.user(s, role="admin")
        course_id = w["session"].course_id
    await _sign_in(client, w["staff"].email)
    page = await client.get("/billing/courses")
    assert page.status_code == 200 and "開講日の8日前までは無料" in page.text and "（標準）" in page.text
    assert f'action="/billing/courses/{course_id}"' not in page.text  # staff read, administrators change
    csrf = client.cookies.get("csrftoken", "")
    denied = await client.post(
        f"/billing/courses/{course_id}",
        data={"fee_yen": "1", "free_days_before": "1", "late_percent": "1", "_csrf_token": csrf},
    )
    assert denied.status_code == 403
    await client.post("/logout", data={"_csrf_token": csrf})
    await _sign_in(client, admin.email)
    csrf = client.cookies.get("csrftoken", "")
    r = await client.post(
        f"/billing/courses/{course_id}",
        data={"fee_yen": "44,000", "free_days_before": "15", "late_percent": "50", "_csrf_token": csrf},
    )
    assert r.status_code == 200 and "保存しました" in r.text
    assert "開講日の15日前までは無料、14日前から前日までは受講料の50%" in r.text
    terms = (await client.get(f"/api/billing/courses/{course_id}/cancellation-terms")).json()
    assert (terms["free_days_before"], terms["late_percent"]) == (15, 50)
    bad = await client.post(
        f"/billing/courses/{course_id}",
        data={"fee_yen": "44000", "free_days_before": "15", "late_percent": "150", "_csrf_token": csrf},
    )
    assert bad.status_code == 400 and "0〜100" in bad.text
    terms = (await client.get(f"/api/billing/courses/{course_id}/cancellation-terms")).json()
    assert terms["late_percent"] == 50  # nothing half-done: the fee was not saved either

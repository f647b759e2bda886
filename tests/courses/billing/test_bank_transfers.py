"""Bank transfers imported from a statement: matched by amount and the payer's kana name (or the
invoice number), previewed without writing, recorded once however often the file comes."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import func, select

from courses.billing import invoicing
from courses.billing.transfers import bank_kana
from courses.core.db import Database
from courses.core.settings import Settings
from courses.models.billing import Payment
from tests.conftest import TODAY
from tests.courses import builders as b
from tests.courses.billing.test_billing import NOW, _sign_in, _world


@pytest.mark.parametrize(
    ("bank", "ours"),
    [
        ("ｼﾞﾕｺｳ ﾀﾛｳ", "ジュコウ タロウ"),
        ("ｶ)ﾔﾏﾀﾞｾｲｻｸｼﾖ", "ヤマダセイサクショ"),
        ("ﾔﾏﾀﾞｾｲｻｸｼﾖ(ｶ", "やまだせいさくしょ"),
        ("カブシキガイシヤ ヤマダセイサクシヨ", "ヤマダ セイサクショ"),
    ],
)
def test_a_bank_prints_a_name_as_its_reading(bank: str, ours: str) -> None:
    assert bank_kana(bank) == bank_kana(ours) != ""


def _statement(rows: list[tuple[str, int, str]], encoding: str = "cp932") -> bytes:
    lines = ["入金日,金額,振込依頼人名"] + [f"{d},{a:,},{p}".replace(",", ",", 2) for d, a, p in rows]
    # amounts with a thousands separator are quoted, as banks write them
    text = "\r\n".join([lines[0]] + [f'{d},"{a:,}",{p}' for d, a, p in rows])
    return text.encode(encoding)


async def _invoices(db: Database, w: dict[str, Any]) -> tuple[Any, Any]:
    settings = Settings(database_url=db.url, secret_key="k" * 40)
    month = f"{w['session'].start_date:%Y-%m}"
    async with db.write() as s:
        mine = await invoicing.issue_for_enrollment(s, w["staff"], w["enrollment"].id, settings, NOW)
        org = await invoicing.issue_for_organization(
            s, w["staff"], w["org"].id, w["campus"].id, month, settings, NOW
        )
    return mine, org


async def test_the_preview_says_what_each_transfer_is_and_writes_nothing(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    mine, org = await _invoices(db, w)
    day = TODAY.strftime("%Y/%m/%d")
    content = _statement(
        [
            (day, mine.total_yen, "ｼﾞﾕｺｳ ﾀﾛｳ"),  # the learner, by name
            (day, org.total_yen, f"ｼﾖｳｺｳｶｲｷﾞｼﾖ {org.number.split('-')[-1]}"),  # the organisation, by number
            (day, 12_345, "ﾀﾅｶ ｲﾁﾛｳ"),  # no such amount
            (day, mine.total_yen, "ﾀﾅｶ ｲﾁﾛｳ"),  # the amount, but someone else
            ("2026/02/30", mine.total_yen, "ｼﾞﾕｺｳ ﾀﾛｳ"),  # no such day
        ]
    )
    url = f"/api/billing/campuses/{w['campus'].id}/transfers"
    r = await client.post(
        url, files={"file": ("meisai.csv", content)}, headers=b.bearer(w["tokens"]["staff"])
    )
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [x["status"] for x in rows] == ["matched", "matched", "unmatched", "unmatched", "invalid"]
    assert [x["invoice_id"] for x in rows[:2]] == [mine.id, org.id]
    assert "この金額の未入金の請求書はありません" in rows[2]["reason"]
    assert "振込依頼人名が宛名の読みと一致しません" in rows[3]["reason"]
    async with db.read() as s:
        assert (await s.exec(select(func.count()).select_from(Payment))).one() == 0
    other = await client.post(
        url, files={"file": ("meisai.csv", content)}, headers=b.bearer(w["tokens"]["other_staff"])
    )
    assert other.status_code == 403


async def test_recording_twice_or_at_once_records_each_transfer_once(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    mine, org = await _invoices(db, w)
    day = TODAY.isoformat()
    content = _statement(
        [(day, mine.total_yen, "ｼﾞﾕｺｳ ﾀﾛｳ"), (day, org.total_yen, f"X {org.number}")], "utf-8"
    )
    url = f"/api/billing/campuses/{w['campus'].id}/transfers"
    headers = b.bearer(w["tokens"]["staff"])

    async def post() -> Any:
        return await client.post(
            url, files={"file": ("m.csv", content)}, data={"dry_run": "false"}, headers=headers
        )

    first, second = await asyncio.gather(post(), post())
    assert first.status_code == second.status_code == 200
    async with db.read() as s:
        payments = list(await s.exec(select(Payment)))
    assert sorted((p.invoice_id, p.amount_yen) for p in payments) == sorted(
        [(mine.id, mine.total_yen), (org.id, org.total_yen)]
    )
    again = await post()
    assert [x["status"] for x in again.json()["rows"]] == ["recorded", "recorded"]
    assert again.json()["recorded"] == 0
    async with db.read() as s:
        assert (await s.exec(select(func.count()).select_from(Payment))).one() == 2
    unpaid = await client.get(f"/api/billing/campuses/{w['campus'].id}/unpaid", headers=headers)
    assert unpaid.json() == []


async def test_two_transfers_for_one_invoice_leave_the_second_to_staff(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    mine, _ = await _invoices(db, w)
    day = TODAY.isoformat()
    content = _statement([(day, mine.total_yen, "ｼﾞﾕｺｳ ﾀﾛｳ"), (day, mine.total_yen, "ｼﾞﾕｺｳ ﾀﾛｳ")])
    r = await client.post(
        f"/api/billing/campuses/{w['campus'].id}/transfers",
        files={"file": ("m.csv", content)},
        headers=b.bearer(w["tokens"]["staff"]),
    )
    assert [x["status"] for x in r.json()["rows"]] == ["matched", "ambiguous"]


async def test_staff_preview_then_record_on_the_billing_page(
    db: Database, client: AsyncTestClient[Litestar]
) -> None:
    w = await _world(db)
    mine, _ = await _invoices(db, w)
    await _sign_in(client, w["staff"].email)
    page = await client.get(f"/billing/campuses/{w['campus'].id}")
    assert "振込明細の取込" in page.text
    csrf = client.cookies.get("csrftoken", "")
    content = _statement([((TODAY - timedelta(days=1)).isoformat(), mine.total_yen, "ｼﾞﾕｺｳ ﾀﾛｳ")])
    preview = await client.post(
        f"/billing/campuses/{w['campus'].id}/transfers",
        files={"file": ("meisai.csv", content)},
        data={"_csrf_token": csrf},
    )
    assert preview.status_code == 200 and "照合済みの1件を入金として記録する" in preview.text
    hidden = preview.text.split('name="content" value="')[1].split('"')[0]
    done = await client.post(
        f"/billing/campuses/{w['campus'].id}/transfers",
        files={"x": ("", io.BytesIO(b""))},
        data={"_csrf_token": csrf, "content": hidden, "apply": "1"},
    )
    assert done.status_code == 200 and "振込明細から1件の入金を記録しました" in done.text
    async with db.read() as s:
        assert (await s.exec(select(func.count()).select_from(Payment))).one() == 1

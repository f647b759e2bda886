"""Bulk registration through the API: preview, validation messages, both modes, re-uploads, capacity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from courses.core.db import Database
from courses.models import CourseSession, Enrollment, OutboxMessage
from courses.models.bulk import BulkBatch, RegistrationInvitation
from tests.courses import builders as b

HEADER = "開催回コード,氏名,フリガナ,メールアドレス,会社・団体名,業種,従業員数,資本金（円）,宿泊希望"


@dataclass
class Org:
    id: int
    token: str
    sme: str  # code of an SME session (capacity as asked)
    support: str  # code of a support-staff session
    closed: str  # code of an SME session whose application window has closed
    nolodging: str  # code of an SME session without lodging
    sme_id: int
    other_token: str  # coordinator of another organisation
    admin_token: str
    learner_token: str


MEMBERS = 40  # p0@example.jp ... p39@example.jp are the organisation's members (accepted before)


async def org_world(db: Database, *, capacity: int = 30, members: int = MEMBERS) -> Org:
    async with db.write() as s:
        await b.category(s, "finance")
        tokyo = await b.campus(s, "tokyo")
        kyushu = await b.campus(s, "kyushu", has_lodging=False)
        sme_course = await b.course(s, "ZAI01", fee_yen=30000, days=3)
        support_course = await b.course(s, "SHI01", audience="support", fee_yen=20000)
        sme = await b.session(s, sme_course, tokyo, start=date(2026, 6, 10), capacity=capacity)
        support = await b.session(s, support_course, tokyo, start=date(2026, 6, 20))
        closed = await b.session(s, sme_course, tokyo, start=date(2026, 5, 20), closes=date(2026, 5, 10))
        nolodging = await b.session(s, sme_course, kyushu, start=date(2026, 6, 24))
        org = await b.organization(s)
        other = await b.organization(s, "大阪商工会議所", prefecture="27")
        coordinator = await b.user(s, "coord@example.jp", role="coordinator", organization_id=org.id)
        other_coordinator = await b.user(s, role="coordinator", organization_id=other.id)
        for n in range(members):
            await b.member(s, org.id or 0, f"p{n}@example.jp", employees=40)
        tokens = [
            await b.token(s, u)
            for u in (coordinator, other_coordinator, await b.user(s, role="admin"), await b.user(s))
        ]
    return Org(
        org.id or 0,
        tokens[0],
        sme.code,
        support.code,
        closed.code,
        nolodging.code,
        sme.id or 0,
        tokens[1],
        tokens[2],
        tokens[3],
    )


def sme_row(code: str, n: int, *, lodging: str = "有", **over: str) -> str:
    cells = {
        "code": code,
        "name": f"山田 太郎{n}",
        "kana": "ヤマダ タロウ",
        "email": f"p{n}@example.jp",
        "company": "株式会社山田製作所",
        "industry": "E",
        "employees": "40",
        "capital": "10000000",
        "lodging": lodging,
    } | over
    return ",".join(cells.values())


def csv_file(*rows: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode(encoding)


async def upload(
    client: AsyncTestClient[Litestar],
    w: Org,
    content: bytes,
    *,
    dry_run: bool = True,
    mode: str | None = None,
    consent: bool = True,
    token: str | None = None,
    filename: str = "list.csv",
    lang: str = "ja",
) -> Any:
    data = {"dry_run": str(dry_run).lower(), "consent": str(consent).lower()}
    if mode:
        data["mode"] = mode
    return await client.post(
        f"/api/organizations/{w.id}/bulk-registrations",
        files={"file": (filename, content, "text/csv")},
        data=data,
        headers={**b.bearer(token or w.token), "Accept-Language": lang},
    )


async def enrollments(db: Database) -> list[Enrollment]:
    async with db.read() as s:
        return list(await s.exec(select(Enrollment).order_by(col(Enrollment.id))))


async def test_preview_writes_nothing_and_predicts_the_waiting_list(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db, capacity=2)
    r = await upload(client, w, csv_file(*(sme_row(w.sme, n) for n in range(4))))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True and body["committed"] is False and body["can_commit"] is True
    assert [x["status"] for x in body["rows"]] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [x["waitlist_position"] for x in body["rows"]] == [None, None, 1, 2]
    assert [x["row"] for x in body["rows"]] == [2, 3, 4, 5]
    assert body["summary"] == {
        "confirmed": 2,
        "waitlisted": 2,
        "invited": 0,
        "already_registered": 0,
        "error": 0,
    }
    async with db.read() as s:
        assert list(await s.exec(select(BulkBatch))) == []
        assert list(await s.exec(select(RegistrationInvitation))) == []
    assert await enrollments(db) == []


async def test_commit_registers_in_row_order_seats_then_waiting_list(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db, capacity=2)
    r = await upload(client, w, csv_file(*(sme_row(w.sme, n) for n in range(4))), dry_run=False)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["committed"] is True and body["batch_id"]
    assert [x["status"] for x in body["rows"]] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [x["waitlist_position"] for x in body["rows"]] == [None, None, 1, 2]
    rows = await enrollments(db)
    assert [e.status for e in rows] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert {(e.source, e.organization_id, e.batch_id) for e in rows} == {("bulk", w.id, body["batch_id"])}
    assert [e.waitlist_seq for e in rows[2:]] == [1, 2]
    # each registration keeps the name the file gave (the members' accounts are named otherwise)
    assert [e.registered_name for e in rows] == [f"山田 太郎{n}" for n in range(4)]
    async with db.read() as s:
        session = await s.get(CourseSession, w.sme_id)
        batch = (await s.exec(select(BulkBatch))).one()
        mails = list(await s.exec(select(OutboxMessage).where(OutboxMessage.to_email == "p0@example.jp")))
    assert session is not None and session.confirmed_count == 2
    assert (batch.confirmed, batch.waitlisted, batch.skipped, batch.invited) == (2, 2, 0, 0)
    assert batch.consent_confirmed and batch.uploaded_by and batch.file_sha256
    assert len(mails) == 1 and "受講決定" in mails[0].body  # one message per person


async def test_same_file_twice_registers_nobody_twice(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db, capacity=2)
    content = csv_file(*(sme_row(w.sme, n) for n in range(3)))
    assert (await upload(client, w, content, dry_run=False)).status_code == 201
    again = await upload(client, w, content)
    assert [x["status"] for x in again.json()["rows"]] == ["already_registered"] * 3
    assert again.json()["can_commit"] is True
    # a file repeating two of them with one new person, committed all-or-nothing: the repeats are skipped
    more = csv_file(sme_row(w.sme, 0), sme_row(w.sme, 1), sme_row(w.sme, 9))
    r = await upload(client, w, more, dry_run=False)
    assert r.status_code == 201, r.text
    assert [x["status"] for x in r.json()["rows"]] == [
        "already_registered",
        "already_registered",
        "waitlisted",
    ]
    assert r.json()["rows"][2]["waitlist_position"] == 2
    rows = await enrollments(db)
    assert len(rows) == 4


async def test_each_validation_message_with_row_and_column(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db)
    async with db.write() as s:
        await b.user(s, "staff@example.jp", role="staff")
    # q...@ addresses are not members: their rows are checked on what the file says alone
    rows = [
        sme_row(w.sme, 0, name=""),  # 2: missing name
        sme_row(w.sme, 1, email="not-an-email"),  # 3: bad email
        sme_row("NOPE-1", 2),  # 4: unknown session
        sme_row(w.sme, 3, kana="Yamada"),  # 5: katakana expected
        sme_row(w.sme, 4),  # 6: fine
        sme_row(w.sme, 4),  # 7: the same person twice
        sme_row(
            w.sme, 5, industry="I", employees="400", capital="2000000000", email="q5@example.jp"
        ),  # 8: above SME thresholds
        sme_row(w.closed, 6),  # 9: application window closed
        sme_row(w.nolodging, 7),  # 10: lodging where there is none
        sme_row(w.sme, 8, industry="Z", email="q8@example.jp"),  # 11: bad industry
        sme_row(w.sme, 9, employees="たくさん", email="q9@example.jp"),  # 12: employees not a number
        sme_row(w.sme, 10, lodging="たぶん"),  # 13: lodging neither yes nor no
        sme_row(w.sme, 11, email="staff@example.jp"),  # 14: a staff account's address: invited like anyone
        sme_row(w.sme, 12, company="", email="q12@example.jp"),  # 15: missing company for an SME course
        sme_row(w.support, 13, email="p4@example.jp", name="別人 次郎"),  # 16: same email, other name
    ]
    r = await upload(client, w, csv_file(*rows))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["can_commit"] is False  # all-or-nothing by default
    errors = {(e["row"], e["field"]): e["message"] for e in body["errors"]}
    expected = {
        (2, "氏名"): "氏名が入力されていません",
        (3, "メールアドレス"): "メールアドレスの形式が正しくありません",
        (4, "開催回コード"): "開催回コード「NOPE-1」の開催回はありません",
        (5, "フリガナ"): "フリガナはカタカナで入力してください",
        (7, "メールアドレス"): "6行目と同じ人",
        (8, "従業員数"): "中小企業基本法",
        (9, "開催回コード"): "申込受付は",
        (10, "宿泊希望"): "宿泊施設がありません",
        (11, "業種"): "日本標準産業分類",
        (12, "従業員数"): "数字で入力してください",
        (13, "宿泊希望"): "「有」か「無」",
        (15, "会社・団体名"): "会社・団体名が入力されていません",
        (16, "氏名"): "6行目と同じメールアドレスですが氏名が異なります",
    }
    for key, text in expected.items():
        assert key in errors, (key, errors)
        assert text in errors[key], (key, errors[key])
    assert "終了しました" in errors[(9, "開催回コード")]
    assert not any(row == 14 for row, _ in errors)
    assert [x["status"] for x in body["rows"]][4] == "confirmed"
    assert [x["status"] for x in body["rows"]][12] == "invited"
    # the same in English
    en = (await upload(client, w, csv_file(*rows), lang="en")).json()
    messages = {(e["row"], e["field"]): e["message"] for e in en["errors"]}
    assert messages[(3, "メールアドレス")].startswith("Not a valid email address")
    assert messages[(9, "開催回コード")].startswith("Applications closed on")


async def test_all_or_nothing_refuses_the_batch_and_writes_nothing(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db)
    content = csv_file(sme_row(w.sme, 0), sme_row(w.sme, 1, email="broken"), sme_row(w.sme, 2))
    r = await upload(client, w, content, dry_run=False)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert "1件も登録していません" in problem["detail"]
    assert problem["errors"] == [
        {
            "field": "メールアドレス",
            "message": "メールアドレスの形式が正しくありません（「broken」）。",
            "row": 3,
        }
    ]
    assert await enrollments(db) == []
    async with db.read() as s:
        assert list(await s.exec(select(BulkBatch))) == []


async def test_accept_valid_registers_the_good_rows(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await org_world(db, capacity=1)
    content = csv_file(sme_row(w.sme, 0), sme_row(w.sme, 1, email="broken"), sme_row(w.sme, 2))
    preview = (await upload(client, w, content, mode="accept_valid")).json()
    assert preview["can_commit"] is True
    assert [x["status"] for x in preview["rows"]] == ["confirmed", "error", "waitlisted"]
    r = await upload(client, w, content, dry_run=False, mode="accept_valid")
    assert r.status_code == 201, r.text
    assert [x["status"] for x in r.json()["rows"]] == ["confirmed", "error", "waitlisted"]
    assert [e.status for e in await enrollments(db)] == ["confirmed", "waitlisted"]
    async with db.read() as s:
        batch = (await s.exec(select(BulkBatch))).one()
    assert (batch.confirmed, batch.waitlisted, batch.rejected, batch.mode) == (1, 1, 1, "accept_valid")


async def test_consent_is_required_to_commit(client: AsyncTestClient[Litestar], db: Database) -> None:
    w = await org_world(db)
    r = await upload(client, w, csv_file(sme_row(w.sme, 0)), dry_run=False, consent=False)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "consent"
    assert "同意" in r.json()["detail"]
    assert await enrollments(db) == []


async def test_each_encoding_and_xlsx_through_the_api(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    from tests.courses.bulk.test_bulk_file import xlsx_bytes

    w = await org_world(db)
    for n, encoding in enumerate(["utf-8", "utf-8-sig", "cp932"]):
        r = await upload(client, w, csv_file(sme_row(w.sme, n), encoding=encoding))
        assert r.status_code == 200 and r.json()["rows"][0]["status"] == "confirmed", (encoding, r.text)
    sheet = [HEADER.split(","), sme_row(w.sme, 5).split(",")]
    r = await upload(client, w, xlsx_bytes(sheet), filename="list.xlsx", dry_run=False)
    assert r.status_code == 201 and r.json()["rows"][0]["status"] == "confirmed"


async def test_bad_files_and_fields_are_clear_errors_never_500(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db)
    r = await upload(client, w, b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    assert r.status_code == 400 and r.json()["type"].endswith("not-a-table")
    r = await upload(client, w, csv_file(sme_row(w.sme, 0)), mode="some")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "mode"
    r = await client.post(
        f"/api/organizations/{w.id}/bulk-registrations",
        files={"attachment": ("a.csv", b"x", "text/csv")},
        data={"dry_run": "true"},
        headers=b.bearer(w.token),
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "file"
    r = await client.post(f"/api/organizations/{w.id}/bulk-registrations", json={}, headers=b.bearer(w.token))
    assert r.status_code == 400  # not multipart at all
    r = await upload(client, w, b"x" * (5 * 1024 * 1024 + 1))
    assert r.status_code == 413


async def test_only_the_organisations_own_coordinators_and_admins(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db)
    content = csv_file(sme_row(w.sme, 0))
    assert (await upload(client, w, content, token=w.other_token)).status_code == 404
    assert (await upload(client, w, content, token=w.learner_token)).status_code == 403
    assert (await upload(client, w, content, token=w.admin_token)).status_code == 200
    r = await client.get(f"/api/organizations/{w.id}/registrations", headers=b.bearer(w.other_token))
    assert r.status_code == 404
    r = await client.post(
        f"/api/organizations/{w.id}/bulk-registrations", files={"file": ("a.csv", content, "text/csv")}
    )
    assert r.status_code == 401

"""The organisation's pages: upload, preview (nothing written), confirm with consent, cancel, billing CSV."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.core.db import Database
from courses.models import Enrollment
from courses.models.bulk import BulkBatch
from tests.courses import builders as b
from tests.courses.bulk.test_bulk_api import Org, csv_file, org_world, sme_row


async def sign_in(client: AsyncTestClient[Litestar], email: str) -> str:
    await client.get("/login")
    csrf = client.cookies.get("csrftoken", "")
    r = await client.post(
        "/login",
        data={"email": email, "password": b.PASSWORD, "_csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), r.text[:300]
    return client.cookies.get("csrftoken", "") or csrf


async def _upload_page(
    client: AsyncTestClient[Litestar], w: Org, content: bytes, csrf: str, mode: str = "all_or_nothing"
):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/org/{w.id}/upload",
        files={"file": ("名簿.csv", content, "text/csv")},
        data={"mode": mode, "_csrf_token": csrf},
    )


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


async def test_upload_preview_confirm_and_cancel_in_the_browser(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db, capacity=1)
    csrf = await sign_in(client, "coord@example.jp")
    page = await client.get("/org")
    assert page.status_code == 200 and "東京商工会議所" in page.text and "/org/template.xlsx" in page.text
    content = csv_file(sme_row(w.sme, 0), sme_row(w.sme, 1))
    r = await _upload_page(client, w, content, csrf)
    assert r.status_code == 200, r.text[:500]
    assert "受講決定 1名" in r.text and "キャンセル待ち 1名" in r.text and "行の順にキャンセル待ち" in r.text
    async with db.read() as s:
        assert list(await s.exec(select(Enrollment))) == []  # the preview wrote nothing
    form = {
        "file_b64": _hidden(r.text, "file_b64"),
        "filename": _hidden(r.text, "filename"),
        "mode": _hidden(r.text, "mode"),
        "_csrf_token": csrf,
    }
    # without the consent box: refused, nothing written
    refused = await client.post(f"/org/{w.id}/confirm", files={"none": ("", b"")}, data=form)
    assert refused.status_code == 400 and "同意" in refused.text
    done = await client.post(
        f"/org/{w.id}/confirm",
        files={"none": ("", b"")},
        data={**form, "consent": "true"},
        follow_redirects=False,
    )
    assert done.status_code in (302, 303), done.text[:500]
    page = await client.get(done.headers["location"])
    assert "登録しました" in page.text and "キャンセル待ち（1番目）" in page.text and "名簿.csv" in page.text
    async with db.read() as s:
        rows = list(await s.exec(select(Enrollment).order_by(Enrollment.id)))  # type: ignore[arg-type]
        batch = (await s.exec(select(BulkBatch))).one()
    assert [e.status for e in rows] == ["confirmed", "waitlisted"] and batch.consent_confirmed
    r = await client.post(f"/org/{w.id}/registrations/{rows[0].id}/cancel", data={"_csrf_token": csrf})
    assert r.status_code == 200 and "キャンセルしました" in r.text
    csv = await client.get(f"/org/{w.id}/billing.csv")
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    assert csv.content.decode("utf-8-sig").splitlines()[-1] == "合計,,,,1,30000,,,2"


async def test_preview_lists_bad_rows_and_all_or_nothing_offers_no_confirm(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db)
    csrf = await sign_in(client, "coord@example.jp")
    r = await _upload_page(client, w, csv_file(sme_row(w.sme, 0), sme_row(w.sme, 1, kana="yamada")), csrf)
    assert "3行目「フリガナ」: フリガナはカタカナで入力してください" in r.text
    assert "この内容で登録する" not in r.text and "誤りを直すまで登録できません" in r.text
    r = await _upload_page(client, w, b"\x00\x01garbage", csrf)
    assert r.status_code == 400 and "表として読み込めない" in r.text
    r = await _upload_page(
        client, w, csv_file(sme_row(w.sme, 0), sme_row(w.sme, 1, kana="yamada")), csrf, mode="accept_valid"
    )
    assert "この内容で登録する" in r.text and "正しい行だけを登録します" in r.text


async def test_a_coordinator_sees_only_their_organisation(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db)
    async with db.write() as s:
        other = await b.organization(s, "福岡商工会議所", prefecture="40")
        await b.user(s, "other@example.jp", role="coordinator", organization_id=other.id)
    csrf = await sign_in(client, "other@example.jp")
    page = await client.get(f"/org?org={w.id}")
    assert "福岡商工会議所" in page.text and "東京商工会議所" not in page.text
    r = await _upload_page(client, w, csv_file(sme_row(w.sme, 0)), csrf)
    assert r.status_code == 404
    assert (await client.get(f"/org/{w.id}/billing.csv")).status_code == 404

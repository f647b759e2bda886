"""Bank transfers read from the bank's CSV, matched to a campus's unpaid invoices and recorded.

A transfer matches an invoice when its amount is exactly what the invoice still owes and the payer's
name, in the half-width kana banks print (ﾔﾏﾀﾞ ﾀﾛｳ, ｶ)ﾔﾏﾀﾞｾｲｻｸｼﾖ), is the recipient's reading, or the
payer line carries the invoice number (whole, or its last six digits). Exactly one such invoice: matched. Several: ambiguous, left to
staff. None: unmatched, with the reason. The preview and the recording read the same file the same
way; recording goes through ``invoicing.record_payment``, so the same transfer is recorded once
however often the file is imported and by however many people at once.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

import msgspec
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.service import to_katakana
from courses.billing import invoicing
from courses.bulk import files as bulk_file
from courses.core.errors import FieldError, InvalidInput
from courses.models import User
from courses.models.billing import Invoice, InvoiceKind, Payment

# The headers banks' statement CSVs use, and ours (the first of each).
HEADERS = {
    "paid_on": ("入金日", "取引日", "日付", "勘定日", "お取引日"),
    "amount_yen": ("金額", "入金額", "お預り金額", "預り金額", "お預入金額"),
    "payer": ("振込依頼人名", "振込依頼人", "依頼人名", "お振込人名", "摘要"),
    "reference": ("照会番号", "取引番号", "受付番号"),
}
SMALL = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
# what banks put before or after a company's name for its legal form: カ) (カ ユ) (ユ ド) (ド ...
LEGAL_FORMS = re.compile(r"\(?(カ|ユ|ド|シヤ|ザイ|ガク|イ|ゴ|メ)\)|\((カ|ユ|ド|シヤ|ザイ|ガク|イ|ゴ|メ)\)?")
LEGAL_WORDS = ("カブシキガイシヤ", "ユウゲンガイシヤ", "ゴウドウガイシヤ", "イツパンシヤダンホウジン")


class TransferRow(msgspec.Struct):
    row: int
    paid_on: date | None
    amount_yen: int | None
    payer: str
    reference: str
    status: str  # matched | recorded | ambiguous | unmatched | invalid
    reason: str = ""
    invoice_id: int | None = None
    invoice_number: str = ""
    recipient_name: str = ""


class TransferReport(msgspec.Struct):
    rows: list[TransferRow]
    counts: dict[str, int]
    recorded: int = 0


@dataclass
class _Owed:
    invoice: Invoice
    owed_yen: int
    reading: str  # the recipient's name as a bank prints it ('' for an organisation)
    claimed: bool = False


@dataclass
class _Read:
    rows: list[TransferRow] = field(default_factory=list)


def bank_kana(text: str) -> str:
    """A name as banks compare it: full-width katakana, no spaces or punctuation, no small kana, no
    legal form. 「株式会社」 written out in kana and 「カ)」 both drop."""
    kana = to_katakana(unicodedata.normalize("NFKC", text)).upper().translate(SMALL)
    kana = LEGAL_FORMS.sub("", kana.replace("（", "(").replace("）", ")"))
    kana = re.sub(r"[\s　・.,\-ー()「」]", "", kana)
    for word in LEGAL_WORDS:
        kana = kana.replace(word, "")
    return kana


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    cleaned = [h.strip().lstrip("\ufeff") for h in header]
    return next((cleaned.index(n) for n in names if n in cleaned), None)


def _amount(raw: str) -> int | None:
    text = unicodedata.normalize("NFKC", raw).replace(",", "").replace("円", "").replace("¥", "").strip()
    return int(text) if text.isdecimal() and 0 < int(text) < 100_000_000 else None


def _date(raw: str) -> date | None:
    text = unicodedata.normalize("NFKC", raw).strip().replace("/", "-").replace(".", "-")
    if m := re.fullmatch(r"(\d{4})-?(\d{1,2})-?(\d{1,2})", text):
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return None


def read_transfers(content: bytes) -> list[TransferRow]:
    """The credits of a statement CSV (or .xlsx), each with its reference; a row that cannot be read
    says why. A statement without a reference column gets one made of the row's own content, so the
    same file read twice names the same transfers."""
    grid = bulk_file.read_grid(content)
    header = grid[0] if grid else []
    where = {key: _column(header, names) for key, names in HEADERS.items()}
    missing = [HEADERS[k][0] for k in ("paid_on", "amount_yen", "payer") if where[k] is None]
    if missing:
        ja = "見出し行（1行目）に必要な列がありません: " + "、".join(missing)
        raise InvalidInput(
            ja, "Missing columns: " + ", ".join(missing), errors=[FieldError("file", ja, ja, row=1)]
        )
    seen: Counter[str] = Counter()
    out = []
    for number, values in enumerate(grid[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        cells = {
            key: values[i].strip() if i is not None and i < len(values) else "" for key, i in where.items()
        }
        paid_on, amount, payer = _date(cells["paid_on"]), _amount(cells["amount_yen"]), cells["payer"]
        reference = cells["reference"]
        if not reference:
            own = f"{paid_on} {amount} {bank_kana(payer)}"
            seen[own] += 1
            reference = f"CSV {own} #{seen[own]}"
        row = TransferRow(number, paid_on, amount, payer, reference[:100], "unmatched")
        if paid_on is None:
            row.status, row.reason = "invalid", "入金日が読めません（YYYY-MM-DD または YYYY/MM/DD）。"
        elif amount is None:
            row.status, row.reason = "invalid", "金額が読めません（1円以上の整数）。"
        elif not payer:
            row.status, row.reason = "invalid", "振込依頼人名がありません。"
        out.append(row)
    return out


async def _owed(s: AsyncSession, campus_id: int) -> list[_Owed]:
    paid = (
        select(Payment.invoice_id, func.sum(Payment.amount_yen).label("paid"))
        .group_by(col(Payment.invoice_id))
        .subquery()
    )
    paid_yen = func.coalesce(paid.c.paid, 0)
    rows = await s.exec(
        select(Invoice, paid_yen, User.name_kana)
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .outerjoin(User, col(User.id) == Invoice.user_id)
        .where(
            Invoice.campus_id == campus_id,
            Invoice.kind == InvoiceKind.INVOICE,
            paid_yen < Invoice.total_yen,
        )
        .order_by(col(Invoice.due_date), col(Invoice.id))
    )
    return [_Owed(i, i.total_yen - int(p), bank_kana(kana or "")) for i, p, kana in rows.all()]


def _names(owed: _Owed, payer: str) -> bool:
    """The payer is the recipient: their reading, or the invoice number on the payer line."""
    key = bank_kana(payer)
    if owed.reading and (key == owed.reading or key.startswith(owed.reading)):
        return True
    runs = re.findall(r"\d+", unicodedata.normalize("NFKC", payer))
    number = re.sub(r"\D", "", owed.invoice.number)  # INV-202605-000123: 202605000123
    serial = int(number[-6:]) if len(number) >= 6 else -1
    return (bool(number) and number in "".join(runs)) or any(len(r) >= 4 and int(r) == serial for r in runs)


async def read(content: bytes) -> list[TransferRow]:
    """``read_transfers`` off the event loop: a hostile file costs a worker thread, not every request."""
    return await asyncio.to_thread(read_transfers, content)


async def match(s: AsyncSession, user: User, campus_id: int, rows: list[TransferRow]) -> TransferReport:
    """What importing the statement would record, row by row; nothing is written."""
    await invoicing.ensure_campus(s, user, campus_id)
    owed = await _owed(s, campus_id)
    references = [r.reference for r in rows] or [""]
    known = {
        payment.reference: invoice
        for payment, invoice in await s.exec(
            select(Payment, Invoice)
            .join(Invoice, col(Invoice.id) == Payment.invoice_id)
            .where(Invoice.campus_id == campus_id, col(Payment.reference).in_(references))
        )
    }
    for row in rows:
        if row.status == "invalid":
            continue
        if (done := known.get(row.reference)) is not None:
            row.status, row.reason = "recorded", "この振込は記録済みです。"
            row.invoice_id, row.invoice_number, row.recipient_name = done.id, done.number, done.recipient_name
            continue
        same_amount = [o for o in owed if o.owed_yen == row.amount_yen]
        named = [o for o in same_amount if _names(o, row.payer)]
        if len(named) > 1:
            row.status = "ambiguous"
            row.reason = "金額と名義が一致する請求書が複数あります: " + "、".join(
                o.invoice.number for o in named
            )
            continue
        if not named:
            row.reason = (
                "金額が一致する未入金の請求書はありますが、振込依頼人名が宛名の読みと一致しません。"
                if same_amount
                else "この金額の未入金の請求書はありません。"
            )
            continue
        hit = named[0]
        row.invoice_id, row.invoice_number = hit.invoice.id, hit.invoice.number
        row.recipient_name = hit.invoice.recipient_name
        if hit.claimed:
            row.status, row.invoice_id = "ambiguous", None
            row.reason = f"同じファイルの別の振込が既に {hit.invoice.number} に一致しています。"
        else:
            hit.claimed = True
            row.status = "matched"
    return TransferReport(rows, dict(Counter(r.status for r in rows)))


async def record(
    s: AsyncSession, user: User, campus_id: int, rows: list[TransferRow], now: datetime
) -> TransferReport:
    """Record every matched transfer as a payment in the caller's write transaction ``s`` (each
    once, however often the file comes)."""
    report = await match(s, user, campus_id, rows)
    for row in report.rows:
        if row.status == "matched" and row.invoice_id and row.amount_yen and row.paid_on:
            await invoicing.record_checked_payment(  # match found the invoice on the checked campus
                s, user, row.invoice_id, row.amount_yen, row.paid_on, row.reference, now
            )
            row.status = "recorded"
            report.recorded += 1
    report.counts = dict(Counter(r.status for r in report.rows))
    return report

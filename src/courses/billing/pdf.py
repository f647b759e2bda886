"""Invoice PDFs with Japanese text, in ReportLab's built-in CID fonts (no font files to download)."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from courses.billing.schemas import InvoiceData
from courses.core.pdf import GOTHIC, MINCHO, japanese_fonts
from courses.models.billing import InvoiceKind


def _yen(n: int) -> str:
    return f"{n:,}円"


def render(data: InvoiceData) -> bytes:
    """One invoice (or credit note) as an A4 PDF carrying every field of a qualified invoice."""
    japanese_fonts()
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    width, height = A4
    title = "請求取消書（適格返還請求書）" if data.kind == InvoiceKind.CREDIT_NOTE else "請求書（適格請求書）"
    c.setTitle(f"{title} {data.number}")
    c.setFont(GOTHIC, 18)
    c.drawCentredString(width / 2, height - 60, title)
    c.setFont(MINCHO, 10.5)
    y = height - 100
    c.drawString(50, y, f"{data.recipient_name}")
    c.drawRightString(width - 50, y, f"請求番号 {data.number}")
    c.drawRightString(width - 50, y - 15, f"発行日 {data.issue_date:%Y年%m月%d日}")
    c.drawRightString(width - 50, y - 30, data.issuer)
    c.drawRightString(width - 50, y - 45, f"登録番号 {data.registration_number}")
    y -= 80
    c.setFont(GOTHIC, 13)
    c.drawString(50, y, f"ご請求金額（税込） {_yen(data.total_yen)}")
    y -= 30
    c.setFont(GOTHIC, 9.5)
    for x, label in ((50, "品目"), (330, "数量"), (380, "単価"), (440, "金額(税込)"), (520, "税率")):
        c.drawString(x, y, label)
    c.line(50, y - 4, width - 50, y - 4)
    c.setFont(MINCHO, 9.5)
    for line in data.lines:
        y -= 16
        if y < 160:
            c.showPage()
            c.setFont(MINCHO, 9.5)
            y = height - 60
        c.drawString(50, y, line.description[:40])
        c.drawRightString(360, y, str(line.quantity))
        c.drawRightString(450, y, f"{line.unit_yen:,}")
        c.drawRightString(510, y, f"{line.amount_yen:,}")
        c.drawString(520, y, "不課税" if line.tax_rate_percent == 0 else f"{line.tax_rate_percent}%")
    y -= 24
    c.line(300, y + 12, width - 50, y + 12)
    for row in data.taxes:
        label = "不課税対象" if row.rate_percent == 0 else f"{row.rate_percent}%対象"
        c.drawString(300, y, f"{label} {_yen(row.base_yen)}（うち消費税 {_yen(row.tax_yen)}）")
        y -= 15
    c.drawString(300, y, f"税抜金額 {_yen(data.subtotal_yen)}  消費税額計 {_yen(data.tax_yen)}")
    c.setFont(GOTHIC, 10.5)
    c.drawString(300, y - 16, f"合計 {_yen(data.total_yen)}")
    c.setFont(MINCHO, 10)
    if data.kind == InvoiceKind.INVOICE:
        c.drawString(50, 110, f"お支払期限 {data.due_date:%Y年%m月%d日}")
        c.drawString(50, 94, f"お振込先 {data.bank_account}")
        c.drawString(50, 78, "振込手数料はご負担くださいますようお願いいたします。")
    c.showPage()
    c.save()
    return out.getvalue()

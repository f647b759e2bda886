"""Certificates of completion as A4 portrait PDF pages, in ReportLab's built-in Japanese CID fonts.

The serial and the verification URL are also drawn in a standard font and the pages are left
uncompressed, so that the serial can be found in the file itself (and by a text search of a viewer).
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from courses.core.pdf import GOTHIC, MINCHO, japanese_fonts
from courses.core.web import date_in
from courses.models.attendance import Certificate


def _date(d: object) -> str:
    return date_in("ja", d, with_weekday=False)  # type: ignore[arg-type]  # a Japanese certificate


def render(certificates: list[Certificate], school: str, verify_base: str) -> bytes:
    """One page per certificate. ``verify_base`` is the site's address (``https://…``)."""
    japanese_fonts()
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, pageCompression=0)
    width, height = A4
    c.setTitle("修了証書" if len(certificates) != 1 else f"修了証書 {certificates[0].serial}")
    c.setSubject(" ".join(x.serial for x in certificates))
    for cert in certificates:
        c.setLineWidth(3)
        c.rect(30, 30, width - 60, height - 60)
        c.setLineWidth(0.8)
        c.rect(38, 38, width - 76, height - 76)
        c.setFont(MINCHO, 11)
        c.drawRightString(width - 70, height - 80, f"第 {cert.serial} 号")
        c.setFont(MINCHO, 40)
        c.drawCentredString(width / 2, height - 190, "修 了 証 書")
        c.setFont(MINCHO, 24)
        c.drawCentredString(width / 2, height - 290, f"{cert.learner_name}　殿")
        c.setFont(MINCHO, 14)
        y = height - 380
        for line in (
            "あなたは本校において下記の研修を修了したことを証します。",
            "",
            f"研修名　{cert.course_title[:34]}",
            f"期　間　{_date(cert.start_date)}〜{_date(cert.end_date)}",
            f"会　場　{cert.campus_name}",
        ):
            c.drawString(90, y, line)
            y -= 30
        c.drawString(90, 250, _date(cert.issued_on))
        c.setFont(MINCHO, 16)
        c.drawRightString(width - 80, 200, school)
        url = f"{verify_base.rstrip('/')}/certificates/{cert.serial}"
        c.setFont(GOTHIC, 8.5)
        c.drawString(60, 80, "この証書の真正性は次のアドレスで確認できます（証書番号で照合）:")
        c.setFont("Helvetica", 8.5)
        c.drawString(60, 66, url)
        c.drawRightString(width - 60, 66, cert.serial)
        c.linkURL(url, (60, 62, 60 + c.stringWidth(url, "Helvetica", 8.5), 76))
        c.showPage()
    c.save()
    return out.getvalue()

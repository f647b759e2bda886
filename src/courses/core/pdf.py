"""What every PDF the service prints shares: ReportLab's built-in Japanese CID fonts (no font file
is downloaded or shipped), registered once per process."""

from __future__ import annotations

from functools import cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

GOTHIC = "HeiseiKakuGo-W5"
MINCHO = "HeiseiMin-W3"


@cache
def japanese_fonts() -> None:
    """Register the Gothic and Mincho fonts (the first call only)."""
    pdfmetrics.registerFont(UnicodeCIDFont(GOTHIC))
    pdfmetrics.registerFont(UnicodeCIDFont(MINCHO))

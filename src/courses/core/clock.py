"""The service's clock: Japan time, which every date a person sees is in."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def japan_now() -> datetime:
    return datetime.now(JST)

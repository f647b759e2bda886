"""The learner's confirmed sessions as an iCalendar feed (one all-day event per date block)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from icalendar import Calendar, Event
from litestar import Response

from courses.core.downloads import attachment
from courses.models import EnrollmentStatus, id_of

if TYPE_CHECKING:
    from courses.enrollment.service import MyEnrollment


def build(rows: Sequence[MyEnrollment], blocks: dict[int, list[tuple[date, date]]] | None = None) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//SME University//courses//JA")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "中小企業大学校 受講予定")
    for r in rows:
        if r.enrollment.status != EnrollmentStatus.CONFIRMED:
            continue
        session, course, campus = r.session, r.course, r.campus
        spans = (blocks or {}).get(id_of(session)) or [(session.start_date, session.end_date)]
        for i, (first, last) in enumerate(spans, start=1):
            event = Event()
            event.add("uid", f"session-{session.id}-block-{i}-enrollment-{r.enrollment.id}@sme-univ.example")
            event.add("summary", f"{course.title_ja}" + (f"（第{i}回）" if len(spans) > 1 else ""))
            event.add("dtstart", first)
            event.add("dtend", last + timedelta(days=1))
            event.add("location", f"{campus.name_ja} {campus.address}")
            event.add("description", f"開催回コード: {session.code}")
            cal.add_component(event)
    data: bytes = cal.to_ical()
    return data


def response(
    rows: Sequence[MyEnrollment], blocks: dict[int, list[tuple[date, date]]] | None = None
) -> Response[bytes]:
    return Response(
        build(rows, blocks),
        media_type="text/calendar",
        headers={"Content-Disposition": attachment("sme-univ.ics")},
    )

"""Reminders before a session, and a question to those long on a waiting list (issue #18).

What is due is worked out from the Japan date of ``now``:

- ``7d``: a learner with a confirmed place in a session that starts in 2 to 7 days and has not had
  it. Normally that is the day 7 days before; a learner confirmed later (or a service that was down)
  gets it late, but never on the day before, which has its own reminder, so no one gets both on the
  same day.
- ``1d``: a confirmed learner of a session that starts tomorrow.
- ``waitlist``: a learner on the waiting list for 30 days or more, of a session that starts in more
  than 7 days, is asked once whether they still want the place.

Only sessions that go ahead are reminded of (published, or published with applications closed);
cancelled places and cancelled sessions get nothing.

Exactly once: each message is queued to the outbox in the transaction that inserts its
``reminder_sent`` row, and that insert does nothing when the (enrollment, kind) row is already there
(``ON CONFLICT DO NOTHING``). A second instance running at the same moment waits on the unique key
(PostgreSQL) or on the write lock (SQLite) and then finds the reminder taken, so it sends nothing.
Rows are claimed in (enrollment, kind) order, so two senders never wait on each other crosswise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, true
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core import mail
from courses.core.clock import JST
from courses.core.db import Database
from courses.core.i18n import N_
from courses.core.tx import insert_once
from courses.enrollment.recipients import Recipient, recipients_query
from courses.enrollment.seats import _POSITION
from courses.models import CourseSession, Enrollment, EnrollmentStatus, SessionBlock, SessionStatus
from courses.models.reminders import ReminderKind, ReminderSent

WEEK_DAYS = 7  # the first reminder, this many days before the first day
WAITING_DAYS = 30  # on the waiting list this long: asked whether they still want the place
GOING_AHEAD = (SessionStatus.PUBLISHED, SessionStatus.CLOSED)
BATCH = 200  # reminders queued per write transaction
BRING = (N_("筆記用具"), N_("名刺"), N_("受講票（このメール）"), N_("事前課題がある場合はその資料"))
BRING_LODGING = (N_("着替え・洗面用具"),)


@dataclass
class Due(Recipient):
    kind: str


@dataclass
class Sent:
    """How many of each kind were queued."""

    counts: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in ReminderKind})

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def japan_today(now: datetime) -> date:
    return now.astimezone(JST).date() if now.tzinfo else now.date()


def _aware(moment: datetime, now: datetime) -> datetime:
    # SQLite gives timestamps back without their zone: they were written with the service's clock
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


async def due(s: AsyncSession, now: datetime) -> list[Due]:
    """Every reminder due at ``now`` and not yet sent, in (enrollment, kind) order."""
    today = japan_today(now)
    waiting_since = now - timedelta(days=WAITING_DAYS)
    found: list[Due] = []
    windows = (
        (
            ReminderKind.WEEK,
            EnrollmentStatus.CONFIRMED,
            today + timedelta(days=2),
            today + timedelta(days=WEEK_DAYS),
        ),
        (ReminderKind.DAY, EnrollmentStatus.CONFIRMED, today + timedelta(days=1), today + timedelta(days=1)),
        (ReminderKind.WAITING, EnrollmentStatus.WAITLISTED, today + timedelta(days=WEEK_DAYS + 1), None),
    )
    for kind, status, first, last in windows:
        sent = exists().where(
            col(ReminderSent.enrollment_id) == Enrollment.id, col(ReminderSent.kind) == kind.value
        )
        query = recipients_query(
            Enrollment.status == status,
            col(CourseSession.status).in_(GOING_AHEAD),
            col(CourseSession.start_date) >= first,
            col(CourseSession.start_date) <= last if last is not None else true(),
            ~sent,
        )
        for e, u, sess, c, k in await s.exec(query):
            if kind == ReminderKind.WAITING and _aware(e.created_at, now) > waiting_since:
                continue
            found.append(Due(e, u, sess, c, k, kind.value))
    found.sort(key=lambda d: (d.enrollment.id or 0, d.kind))
    return found


async def send_due(db: Database, now: datetime, base_url: str) -> Sent:
    """Queue every reminder due at ``now``, each once. Safe to run from several instances at once."""
    sent = Sent()
    async with db.read() as s:
        if not await due(s, now):
            return sent  # the usual case: no write transaction at all
    claim = insert_once(ReminderSent, ["enrollment_id", "kind"], db.sqlite)
    for _ in range(10_000):  # each round takes what is due; the rounds end when it is all taken
        async with db.write() as s:
            batch = (await due(s, now))[:BATCH]
            for item in batch:
                params = {"enrollment_id": item.enrollment.id, "kind": item.kind, "sent_at": now}
                if (await s.exec(claim, params=params)).first() is None:
                    continue  # another instance sent it
                template, context = await _message(s, item, now, base_url)
                mail.send(s, item.user, template, now, **context)
                sent.counts[item.kind] += 1
        if len(batch) < BATCH:
            break
    return sent


# --- the messages -----------------------------------------------------------------------------------


async def _message(s: AsyncSession, item: Due, now: datetime, base_url: str) -> tuple[str, dict[str, Any]]:
    """The template of ``item``'s message and what it says."""
    about = {"course": item.course, "campus": item.campus, "session": item.session}
    me = f"{base_url.rstrip('/')}/me"
    if item.kind == ReminderKind.WAITING:
        params = {"sid": item.session.id, "seq": item.enrollment.waitlist_seq or 0}
        position = int((await s.exec(_POSITION, params=params)).scalar_one())  # type: ignore[call-overload]
        return "still_waiting.txt", {**about, "me": me, "position": position, "waiting_days": WAITING_DAYS}
    blocks = list(
        await s.exec(
            select(SessionBlock)
            .where(SessionBlock.session_id == item.session.id)
            .order_by(col(SessionBlock.seq))
        )
    )
    session = item.session
    lodging = item.enrollment.lodging and session.lodging and item.campus.has_lodging
    return "reminder.txt", {
        **about,
        "me": me,
        "days": (session.start_date - japan_today(now)).days,
        "spans": [(b.start_date, b.end_date) for b in blocks] or [(session.start_date, session.end_date)],
        "lodging": lodging,
        "bring": [*BRING, *(BRING_LODGING if lodging else ())],
    }

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

from sqlalchemy import exists, true
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.core import notifications
from courses.core.clock import JST
from courses.core.db import Database
from courses.core.tx import insert_once
from courses.core.web import block_range
from courses.enrollment.recipients import Recipient, recipients_query
from courses.enrollment.seats import _POSITION
from courses.models import CourseSession, Enrollment, EnrollmentStatus, SessionBlock, SessionStatus
from courses.models.reminders import ReminderKind, ReminderSent

WEEK_DAYS = 7  # the first reminder, this many days before the first day
WAITING_DAYS = 30  # on the waiting list this long: asked whether they still want the place
GOING_AHEAD = (SessionStatus.PUBLISHED, SessionStatus.CLOSED)
BATCH = 200  # reminders queued per write transaction
BRING = ("筆記用具", "名刺", "受講票（このメール）", "事前課題がある場合はその資料")
BRING_LODGING = ("着替え・洗面用具",)


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
                subject, body = await _message(s, item, now, base_url)
                notifications.queue(s, item.user, subject, body, now)
                sent.counts[item.kind] += 1
        if len(batch) < BATCH:
            break
    return sent


# --- the messages -----------------------------------------------------------------------------------


async def _message(s: AsyncSession, item: Due, now: datetime, base_url: str) -> tuple[str, str]:
    if item.kind == ReminderKind.WAITING:
        params = {"sid": item.session.id, "seq": item.enrollment.waitlist_seq or 0}
        position = int((await s.exec(_POSITION, params=params)).scalar_one())  # type: ignore[call-overload]
        return waiting_mail(item, position, base_url)
    blocks = list(
        await s.exec(
            select(SessionBlock)
            .where(SessionBlock.session_id == item.session.id)
            .order_by(col(SessionBlock.seq))
        )
    )
    spans = [(b.start_date, b.end_date) for b in blocks] or [(item.session.start_date, item.session.end_date)]
    return session_mail(item, spans, japan_today(now), base_url)


def session_mail(item: Due, spans: list[tuple[date, date]], today: date, base_url: str) -> tuple[str, str]:
    """The reminder a confirmed learner gets before the first day; it doubles as the admission slip."""
    title, campus, session = item.course.title_ja, item.campus, item.session
    days = (session.start_date - today).days
    lodging = item.enrollment.lodging and session.lodging and campus.has_lodging
    if days <= 1:
        subject = f"【明日開講】{title}（{campus.name_ja}）"
        opening = f"「{title}」は明日から始まります。お気をつけてお越しください。"
    else:
        subject = f"【開講{days}日前のご案内】{title}（{campus.name_ja}）"
        opening = f"「{title}」の開講まであと{days}日となりました。受講に必要なことをお知らせします。"
    if len(spans) == 1:
        dates = [block_range(*spans[0])]
    else:
        dates = [f"第{i}日程　{block_range(a, b)}" for i, (a, b) in enumerate(spans, start=1)]
    venue = [campus.name_ja, campus.address]
    if campus.access_ja:
        venue.append(f"アクセス：{campus.access_ja}")
    bring = [*BRING, *(BRING_LODGING if lodging else ())]
    lines = [
        f"{item.user.name} 様",
        "",
        opening,
        "このメールは受講票を兼ねています。当日、受付で画面または印刷してお見せください。",
        "",
        "■ 研修名",
        title,
        "■ 開催回",
        session.code,
        "■ 日程",
        *dates,
        "■ 会場",
        *venue,
        "■ 持ち物",
        *(f"・{thing}" for thing in bring),
    ]
    if lodging:
        lines += ["■ 宿泊（寮）", f"寮のチェックイン：{campus.dorm_checkin_ja}"]
    lines += [
        "",
        "日程・会場はマイページでもご確認いただけます。",
        f"{base_url.rstrip('/')}/me",
        "やむを得ずご欠席の場合は、開講日の前日までにマイページからキャンセルのお手続きをお願いします。",
    ]
    return subject, "\n".join(lines)


def waiting_mail(item: Due, position: int, base_url: str) -> tuple[str, str]:
    """まだご希望ですか: to a learner who has been on the waiting list for 30 days or more."""
    title, campus, session = item.course.title_ja, item.campus, item.session
    me = f"{base_url.rstrip('/')}/me"
    body = "\n".join(
        [
            f"{item.user.name} 様",
            "",
            f"「{title}」（{campus.name_ja}、{block_range(session.start_date, session.end_date)}）に"
            f"キャンセル待ちでお申し込みいただいてから{WAITING_DAYS}日以上が経ちました。"
            f"現在のキャンセル待ちは{position}番目です。",
            "",
            "まだご希望ですか。",
            "・引き続きご希望の場合：お手続きは不要です。空きが出しだい順番に受講決定となり、メールでお知らせします。",
            f"・ご希望でなくなった場合：マイページ（{me}）からキャンセル待ちを取り消してください。"
            "次にお待ちの方に順番が回ります。",
        ]
    )
    return f"【キャンセル待ち】まだご希望ですか：{title}", body

"""Deliverability: what comes back from sent mail, per run and per day, and mail the bounce
inbox could not read."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import distinct
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.orm import defer

from mailer.domain import audit
from mailer.domain import suppressions
from mailer.domain.paging import Page
from mailer.domain.run_stats import Series
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import BounceEvent
from mailer.models import BounceKind
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import HourlySends
from mailer.models import InboundMessage
from mailer.models import SendRun
from mailer.models import Suppression
from mailer.models import SuppressionReason

# The longest an unsubscribe is put down to the run its person last got.
UNSUBSCRIBE_WINDOW = timedelta(days=7)
# How much of an unreadable message the staff page shows; the download has all of it.
SHOWN_BYTES = 64 * 1024
MAX_NOTE = 1000
MAX_ID = 2**31 - 1
# Control characters other than tab and line breaks, which PostgreSQL or a page cannot take.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

T = TypeVar("T")


@dataclass(frozen=True)
class RunOutcomes:
    """What came back from one run's mail."""

    bounced: int
    complained: int
    unsubscribed: int

    @property
    def unsubscribe_days(self) -> int:
        return UNSUBSCRIBE_WINDOW.days


@dataclass(frozen=True)
class Overview:
    """Mail sent and what came back, per day, each as a Series of the same days."""

    sent: Series
    bounced: Series
    complained: Series
    unsubscribed: Series

    def total(self, name: str) -> int:
        series: Series = getattr(self, name)
        return sum(count for _, count in series.points)

    def rate(self, name: str) -> float | None:
        """`name`'s total as a share of the mail sent; None when nothing was sent."""
        sent = self.total("sent")
        return self.total(name) / sent if sent else None


@dataclass(frozen=True)
class Excerpt:
    """The start of an unreadable message as text, and the size of all of it in bytes."""

    text: str
    size: int

    @property
    def cut(self) -> bool:
        return self.size > SHOWN_BYTES

    @property
    def shown(self) -> int:
        """Bytes of the message the text comes from."""
        return min(self.size, SHOWN_BYTES)


def run_outcomes(run: SendRun) -> RunOutcomes:
    """The run's bounced emails and complaints, as counted on it when they came back (those
    whose records retention has summarised included), and its recipients who then
    unsubscribed (see `_unsubscribed_after`), counted from the unsubscribes of its days."""
    unsubscribed = db.session.scalar(_unsubscribed_after(run))
    return RunOutcomes(run.bounced, run.complained, int(unsubscribed or 0))


def _unsubscribed_after(run: SendRun) -> Any:
    """SELECT of how many people the run was sent to unsubscribed after it was made, before
    the next run of the same frequency that was also for them, and within UNSUBSCRIBE_WINDOW.

    It starts from the unsubscribes of those days (an index on action and time) and looks up
    each person's email of the run by its unique key, never reading all the run's emails."""
    later_run, later = aliased(SendRun), aliased(Delivery)
    superseded = exists().where(
        later.subscriber_id == ConsentEvent.subscriber_id,
        later.run_id == later_run.id,
        later_run.frequency == run.frequency,
        or_(
            later_run.created_at > run.created_at,
            and_(later_run.created_at == run.created_at, later_run.id > run.id),
        ),
        later_run.created_at <= ConsentEvent.at,
    )
    sent = exists().where(
        Delivery.run_id == run.id,
        Delivery.subscriber_id == ConsentEvent.subscriber_id,
        Delivery.status == DeliveryStatus.SENT,
    )
    return select(func.count(distinct(ConsentEvent.subscriber_id))).where(
        ConsentEvent.action == ConsentAction.UNSUBSCRIBED,
        ConsentEvent.at >= run.created_at,
        ConsentEvent.at < run.created_at + UNSUBSCRIBE_WINDOW,
        sent,
        ~superseded,
    )


def daily_overview(*, now: datetime, zone: ZoneInfo, days: int = 30) -> Overview:
    """Count, per day in `zone` up to today, the mail sent and the bounces, complaints and
    unsubscribes received. A message reported twice (a DSN and its repeat, two feedback
    reports) counts once a day. Mail sent is read from the hourly tallies kept as it is
    recorded, which retention leaves alone."""
    today = now.astimezone(zone).date()
    # Local midnights from the first day to the end of today: one more edge than days.
    edges = [datetime.combine(today - timedelta(days=n), time(), zone) for n in range(-1, days)]
    edges.reverse()
    returned = case(
        (BounceEvent.delivery_id.is_not(None), BounceEvent.delivery_id), else_=-BounceEvent.id
    )
    bounces = (BounceKind.HARD, BounceKind.SOFT)
    return Overview(
        sent=_sent_per_day(edges),
        bounced=_per_day(edges, BounceEvent.received_at, returned, BounceEvent.kind.in_(bounces)),
        complained=_per_day(
            edges, BounceEvent.received_at, returned, BounceEvent.kind == BounceKind.COMPLAINT
        ),
        unsubscribed=_per_day(
            edges,
            ConsentEvent.at,
            ConsentEvent.subscriber_id,
            ConsentEvent.action == ConsentAction.UNSUBSCRIBED,
        ),
    )


def _per_day(edges: list[datetime], at: Any, key: Any, condition: Any) -> Series:
    """Distinct `key`s per day whose `at` falls between consecutive `edges`, in one GROUP BY.

    The day is worked out in a subquery, as PostgreSQL does not match a GROUP BY expression
    with bound values to the same expression in the SELECT list.
    """
    day = case(*[(at < edge, number) for number, edge in enumerate(edges[1:])])
    rows = (
        select(day.label("day"), key.label("key"))
        .where(condition, at >= edges[0], at < edges[-1])
        .subquery()
    )
    counted = db.session.execute(
        select(rows.c.day, func.count(distinct(rows.c.key))).group_by(rows.c.day)
    )
    counts = {int(number): int(count) for number, count in counted}
    points = [(start, counts.get(number, 0)) for number, start in enumerate(edges[:-1])]
    return Series(width=timedelta(days=1), points=points)


def _sent_per_day(edges: list[datetime]) -> Series:
    """Messages sent per day between consecutive `edges`, summed from the hourly tallies in
    one GROUP BY (a local midnight is the start of an hour in UTC)."""
    hour = HourlySends.hour
    seconds = [int(edge.timestamp()) for edge in edges]
    day = case(*[(hour < edge, number) for number, edge in enumerate(seconds[1:])])
    rows = select(day.label("day"), HourlySends.count).where(hour >= seconds[0], hour < seconds[-1])
    summed = rows.subquery()
    counted = db.session.execute(
        select(summed.c.day, func.sum(summed.c.count)).group_by(summed.c.day)
    )
    counts = {int(number): int(count) for number, count in counted}
    points = [(start, counts.get(number, 0)) for number, start in enumerate(edges[:-1])]
    return Series(width=timedelta(days=1), points=points)


def clean_text(raw: str, *, field: str, limit: int = MAX_NOTE) -> str:
    """One line of free text from a form: control characters and runs of spaces made single.

    :raises InvalidInput: it is longer than `limit`.
    """
    text = " ".join(CONTROL.sub(" ", raw).split())
    if len(text) > limit:
        raise InvalidInput(field, f"Must be {limit:,} characters or fewer")
    return text


def suppression_page(*, page: int, per_page: int) -> Page[Suppression]:
    """A page of the suppression list, newest first."""
    total = db.session.scalar(select(func.count()).select_from(Suppression)) or 0
    page = max(1, min(page, math.ceil(total / per_page) or 1))
    items = suppressions.recent(limit=per_page, offset=(page - 1) * per_page)
    return Page(items, total, page, per_page)


def suppression_by_id(suppression_id: int) -> Suppression | None:
    if not 0 < suppression_id <= MAX_ID:
        return None
    return db.session.get(Suppression, suppression_id)


def suppress_by_hand(email: str, *, note: str, actor: str, now: datetime) -> bool:
    """Add a normalised address to the list as staff's own choice; False, changing nothing,
    when it is there already (also when another request added it a moment before)."""
    if suppressions.find(email) is not None:
        return False
    try:
        with db.session.begin_nested():
            return suppressions.suppress(
                email, SuppressionReason.MANUAL, detail=note, actor=actor, now=now
            )
    except IntegrityError:
        return False


def inbound_page(*, page: int, per_page: int) -> Page[tuple[InboundMessage, int]]:
    """A page of unreadable messages with their sizes in bytes, newest first; the content
    itself is not loaded."""
    total = db.session.scalar(select(func.count()).select_from(InboundMessage)) or 0
    page = max(1, min(page, math.ceil(total / per_page) or 1))
    rows = db.session.execute(
        select(InboundMessage, func.length(InboundMessage.content))
        .options(defer(InboundMessage.content))
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page([(message, int(size or 0)) for message, size in rows], total, page, per_page)


def inbound_by_id(message_id: int, *, lock: bool = False) -> InboundMessage | None:
    """An unreadable message, its content left to load when asked for."""
    if not 0 < message_id <= MAX_ID:
        return None
    statement = select(InboundMessage).where(InboundMessage.id == message_id)
    statement = statement.options(defer(InboundMessage.content))
    if lock:
        statement = statement.with_for_update()
    return db.session.scalars(statement).one_or_none()


def inbound_excerpt(message: InboundMessage) -> Excerpt:
    """The first SHOWN_BYTES of a message as text (bytes that are not UTF-8 and control
    characters shown as U+FFFD), read without loading the rest."""
    head, size = db.session.execute(
        select(
            func.substr(InboundMessage.content, 1, SHOWN_BYTES),
            func.length(InboundMessage.content),
        ).where(InboundMessage.id == message.id)
    ).one()
    text = bytes(head or b"").decode("utf-8", errors="replace")
    return Excerpt(text=CONTROL.sub("\ufffd", text), size=int(size or 0))


def mark_handled(message: InboundMessage, *, actor: str, now: datetime) -> bool:
    """Record that staff have dealt with a message; False if it was already."""
    if message.handled_at is not None:
        return False
    message.handled_at = now
    audit.record(actor, "inbound.handled", message, now=now, detail={"problem": message.problem})
    return True

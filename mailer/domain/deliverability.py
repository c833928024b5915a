"""Deliverability: what comes back from sent mail, per run and per day, and mail the bounce
inbox could not read."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
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
from mailer.models import DeliverySummary
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
SENT = (DeliveryStatus.SENT, DeliveryStatus.BOUNCED)

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
    """Count the run's bounced deliveries, complaints about them, and its recipients who then
    unsubscribed (see `_unsubscribed_after`), in one statement.

    Bounced includes deliveries that retention has summarised; complaints and unsubscribes
    are found through delivery records, so they are not counted once those are deleted.
    """
    bounced = select(func.count()).where(
        Delivery.run_id == run.id, Delivery.status == DeliveryStatus.BOUNCED
    )
    bounced_summarised = select(func.coalesce(func.sum(DeliverySummary.count), 0)).where(
        DeliverySummary.run_id == run.id, DeliverySummary.status == DeliveryStatus.BOUNCED
    )
    complained = (
        select(func.count(distinct(BounceEvent.delivery_id)))
        .join(Delivery, Delivery.id == BounceEvent.delivery_id)
        .where(Delivery.run_id == run.id, BounceEvent.kind == BounceKind.COMPLAINT)
    )
    row = db.session.execute(
        select(
            bounced.scalar_subquery() + bounced_summarised.scalar_subquery(),
            complained.scalar_subquery(),
            _unsubscribed_after(run).scalar_subquery(),
        )
    ).one()
    return RunOutcomes(*(int(count or 0) for count in row))


def _unsubscribed_after(run: SendRun) -> Any:
    """SELECT of how many people the run was sent to unsubscribed after it was made, before
    the next run of the same frequency that was also for them, and within UNSUBSCRIBE_WINDOW."""
    later_run, later = aliased(SendRun), aliased(Delivery)
    superseded = exists().where(
        later.subscriber_id == Delivery.subscriber_id,
        later.run_id == later_run.id,
        later_run.frequency == run.frequency,
        or_(
            later_run.created_at > run.created_at,
            and_(later_run.created_at == run.created_at, later_run.id > run.id),
        ),
        later_run.created_at <= ConsentEvent.at,
    )
    return (
        select(func.count(distinct(Delivery.subscriber_id)))
        .join(ConsentEvent, ConsentEvent.subscriber_id == Delivery.subscriber_id)
        .where(
            Delivery.run_id == run.id,
            Delivery.status == DeliveryStatus.SENT,
            ConsentEvent.action == ConsentAction.UNSUBSCRIBED,
            ConsentEvent.at >= run.created_at,
            ConsentEvent.at < run.created_at + UNSUBSCRIBE_WINDOW,
            ~superseded,
        )
    )


def daily_overview(*, now: datetime, zone: ZoneInfo, days: int = 30) -> Overview:
    """Count, per day in `zone` up to today, the mail sent and the bounces, complaints and
    unsubscribes received. A message reported twice (a DSN and its repeat, two feedback
    reports) counts once a day. Mail whose records retention has summarised counts on the
    day it was queued (in UTC), which is the summaries' finest grain."""
    today = now.astimezone(zone).date()
    # Local midnights from the first day to the end of today: one more edge than days.
    edges = [datetime.combine(today - timedelta(days=n), time(), zone) for n in range(-1, days)]
    edges.reverse()
    returned = case(
        (BounceEvent.delivery_id.is_not(None), BounceEvent.delivery_id), else_=-BounceEvent.id
    )
    bounces = (BounceKind.HARD, BounceKind.SOFT)
    return Overview(
        sent=_with_summaries(
            _per_day(edges, Delivery.sent_at, Delivery.id, Delivery.status.in_(SENT)), SENT
        ),
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


def _with_summaries(series: Series, statuses: Sequence[DeliveryStatus]) -> Series:
    """`series` of days plus the summarised deliveries in `statuses` of each of its days."""
    days = [start.date() for start, _ in series.points]
    if not days:
        return series
    rows = db.session.execute(
        select(DeliverySummary.day, func.sum(DeliverySummary.count))
        .where(
            DeliverySummary.status.in_(statuses),
            DeliverySummary.day >= days[0],
            DeliverySummary.day <= days[-1],
        )
        .group_by(DeliverySummary.day)
    )
    extra = {day: int(count) for day, count in rows}
    points = [(start, count + extra.get(start.date(), 0)) for start, count in series.points]
    return Series(width=series.width, points=points)


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

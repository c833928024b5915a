"""Who a send run reaches: one condition on subscribers, used both by the enqueue, which writes
a delivery for each of them, and by the counts staff see before they publish or send, so that
the two cannot disagree.

- The alert of an item reaches the active subscribers who take one of its topics at once; an
  urgent item reaches every active subscriber of its topics, whatever their frequency.
- A digest reaches those who take one of its items' topics at its frequency.
- A bulletin reaches everyone active, or those who take one of its topics at any frequency.
- A bulletin, or an urgent item's alert, with a segment (`mailer.domain.segments`) reaches
  only those of that audience who are in the segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import true

from mailer.domain.periods import DIGESTS
from mailer.domain.periods import Schedule
from mailer.domain.segments import EVERYWHERE
from mailer.domain.segments import Segment
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Subscription


@dataclass(frozen=True)
class Audience:
    """The active subscribers who take one of `topic_ids` at `frequency` (at any frequency when
    it is None), or, with `everyone`, every active subscriber; only those in `segment`."""

    topic_ids: tuple[int, ...] = ()
    frequency: Frequency | None = None
    everyone: bool = False
    segment: Segment = EVERYWHERE

    @property
    def empty(self) -> bool:
        """True when no one can be in it: no topics, and not everyone."""
        return not self.everyone and not self.topic_ids

    def condition(self) -> ColumnElement[bool]:
        """The WHERE clause on `Subscriber` that picks the audience."""
        active = Subscriber.status == SubscriberStatus.ACTIVE
        if not self.segment.empty:
            active = active & self.segment.condition()
        if self.everyone:
            return active & true()
        wants = exists().where(
            Subscription.subscriber_id == Subscriber.id,
            Subscription.topic_id.in_(self.topic_ids),
        )
        if self.frequency is not None:
            wants = wants.where(Subscription.frequency == self.frequency)
        return active & wants

    def count(self) -> int:
        """How many subscribers are in the audience now."""
        if self.empty:
            return 0
        statement = select(func.count()).select_from(Subscriber).where(self.condition())
        return int(db.session.scalar(statement) or 0)


def of_topics(
    topic_ids: Sequence[int],
    frequency: Frequency | None,
    *,
    everyone: bool = False,
    segment: Segment = EVERYWHERE,
) -> Audience:
    """The audience of these topics (sorted, without repeats) at `frequency`, in `segment`."""
    return Audience(tuple(sorted(set(topic_ids))), frequency, everyone, segment)


@dataclass(frozen=True)
class Reach:
    """Who a news item will reach once published: by email at once, and in the next daily and
    weekly digests after it is published (none for an urgent item: it reaches them at once)."""

    at_once: int
    daily: int
    daily_at: datetime
    weekly: int
    weekly_at: datetime
    urgent: bool

    @property
    def total(self) -> int:
        return self.at_once + self.daily + self.weekly


def item_reach(
    topic_ids: Sequence[int],
    *,
    urgent: bool,
    published_at: datetime,
    schedule: Schedule,
    segment: Segment = EVERYWHERE,
) -> Reach:
    """The audiences the alert and the digest runs of an item with these topics will have,
    counted by the very conditions their enqueues use (each counts a person once, whatever
    number of the item's topics they follow); an urgent item's alert only in its segment."""
    if urgent:
        alert = of_topics(topic_ids, None, segment=segment)
    else:
        alert = of_topics(topic_ids, Frequency.IMMEDIATE)
    daily, weekly = (of_topics(topic_ids, frequency) for frequency in DIGESTS)
    return Reach(
        at_once=alert.count(),
        daily=0 if urgent else daily.count(),
        daily_at=schedule.next_end(Frequency.DAILY, published_at),
        weekly=0 if urgent else weekly.count(),
        weekly_at=schedule.next_end(Frequency.WEEKLY, published_at),
        urgent=urgent,
    )

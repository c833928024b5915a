"""What each recipient of a send run reads: the run's items now, grouped under their topics.

Read once per batch by the worker; recipients whose topics pick the same items share one
rendered message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from functools import cached_property

from sqlalchemy import select

from mailer.clock import Period
from mailer.database import among
from mailer.extensions import db
from mailer.models import Bulletin
from mailer.models import Frequency
from mailer.models import NewsItem
from mailer.models import RunState
from mailer.models import SendRun
from mailer.models import Subscription
from mailer.models import Topic


@dataclass
class RunContent:
    """The items a run carries as it is being sent, and their topics."""

    run_id: int
    frequency: Frequency
    period: Period | None
    state: RunState
    items: list[NewsItem]
    topics: dict[int, Topic] = field(default_factory=dict)
    # Topic ids of each item, in topic order.
    item_topics: dict[int, list[int]] = field(default_factory=dict)
    # The bulletin a bulletin run sends (its items are the featured ones, in its order).
    bulletin: Bulletin | None = None

    @cached_property
    def signature(self) -> tuple[int, ...]:
        """What makes this content different from another's: its items, in order."""
        return tuple(item.id for item in self.items)


@dataclass(frozen=True)
class Digest:
    """One recipient's view of a run: their items grouped under their topics."""

    groups: list[tuple[Topic, list[NewsItem]]]
    count: int
    # Items beyond the cap, left to a link to the site.
    more: int
    # The recipient's topics at this frequency, named in the footer.
    topics: list[Topic]


def run_content(run_id: int) -> RunContent | None:
    """Load what a run carries now: withdrawn items are gone from it."""
    run = db.session.get(SendRun, run_id)
    if run is None:
        return None
    items = list(
        db.session.scalars(
            run.items_statement().order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
        )
    )
    period = None
    if run.period_start is not None and run.period_end is not None:
        period = Period(run.period_start, run.period_end)
    if run.bulletin is not None:
        order = {row.news_item_id: row.position for row in run.bulletin.items}
        items.sort(key=lambda item: order.get(item.id, 0))
    content = RunContent(run.id, run.frequency, period, run.state, items, bulletin=run.bulletin)
    for item in items:
        content.item_topics[item.id] = [topic.id for topic in item.topics]
        for topic in item.topics:
            content.topics[topic.id] = topic
    return content


def digest_for(content: RunContent, topic_ids: frozenset[int], *, cap: int) -> Digest | None:
    """Group the items a recipient with these topics reads, each once, under the first of its
    topics they follow; None when nothing is left for them (every item was withdrawn)."""
    positions = {topic_id: topic.position for topic_id, topic in content.topics.items()}
    by_topic: dict[int, list[NewsItem]] = {}
    count = 0
    for item in content.items:
        theirs = [topic_id for topic_id in content.item_topics[item.id] if topic_id in topic_ids]
        if not theirs:
            continue
        count += 1
        if count <= cap:
            first = min(theirs, key=lambda topic_id: (positions[topic_id], topic_id))
            by_topic.setdefault(first, []).append(item)
    if not count:
        return None
    order = sorted(by_topic, key=lambda topic_id: (positions[topic_id], topic_id))
    groups = [(content.topics[topic_id], by_topic[topic_id]) for topic_id in order]
    followed = db_topics(topic_ids)
    return Digest(groups=groups, count=count, more=max(count - cap, 0), topics=followed)


def db_topics(topic_ids: frozenset[int]) -> list[Topic]:
    """The topics with these ids, in their display order."""
    rows = db.session.scalars(select(Topic).where(Topic.id.in_(topic_ids))).all()
    return sorted(rows, key=lambda topic: (topic.position, topic.id))


def subscriber_topics(
    subscriber_ids: Sequence[int], frequency: Frequency
) -> dict[int, frozenset[int]]:
    """Each subscriber's topic ids at `frequency`, in one query."""
    rows = db.session.execute(
        select(Subscription.subscriber_id, Subscription.topic_id).where(
            among(Subscription.subscriber_id, subscriber_ids), Subscription.frequency == frequency
        )
    )
    found: dict[int, set[int]] = {}
    for subscriber_id, topic_id in rows:
        found.setdefault(subscriber_id, set()).add(topic_id)
    return {subscriber_id: frozenset(ids) for subscriber_id, ids in found.items()}

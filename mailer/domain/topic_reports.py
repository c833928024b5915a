"""What staff see about each topic: its active subscribers by frequency and its latest news."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select

from mailer.domain.topics import list_topics
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from mailer.models import Topic
from mailer.models import news_item_topics


@dataclass
class TopicSummary:
    """One topic with its counts."""

    topic: Topic
    by_frequency: dict[Frequency, int] = field(default_factory=dict)
    last_item_at: datetime | None = None
    successor: Topic | None = None

    @property
    def subscribers(self) -> int:
        """Active subscribers, whatever their frequency."""
        return sum(self.by_frequency.values())


def summarise(topics: Sequence[Topic]) -> list[TopicSummary]:
    """Count each topic's active subscribers by frequency and find its latest published item."""
    summaries = {topic.id: TopicSummary(topic, dict.fromkeys(Frequency, 0)) for topic in topics}
    counts = db.session.execute(
        select(Subscription.topic_id, Subscription.frequency, func.count())
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(Subscriber.status == SubscriberStatus.ACTIVE)
        .where(Subscription.topic_id.in_(summaries))
        .group_by(Subscription.topic_id, Subscription.frequency)
    )
    for topic_id, frequency, count in counts:
        summaries[topic_id].by_frequency[frequency] = count
    latest = db.session.execute(
        select(news_item_topics.c.topic_id, func.max(NewsItem.published_at))
        .join(NewsItem, NewsItem.id == news_item_topics.c.news_item_id)
        .where(NewsItem.state == NewsState.PUBLISHED)
        .where(news_item_topics.c.topic_id.in_(summaries))
        .group_by(news_item_topics.c.topic_id)
    )
    for topic_id, published_at in latest:
        summaries[topic_id].last_item_at = published_at
    by_id = {topic.id: topic for topic in list_topics(include_retired=True)}
    for summary in summaries.values():
        summary.successor = by_id.get(summary.topic.successor_id or 0)
    return list(summaries.values())


def all_summaries(*, include_retired: bool = True) -> list[TopicSummary]:
    """The summary of every topic in display order (current ones first)."""
    return summarise(list_topics(include_retired=include_retired))

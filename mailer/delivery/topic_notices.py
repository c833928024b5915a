"""Which retired topic a "topic ended" email is about.

The email is queued in the transaction that retires the topic, so the delivery's `created_at`
is the topic's `retired_at`; the subscriber either still holds the (inert) subscription, or
has the consent event of the move staff made at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Subscription
from mailer.models import Topic
from mailer.models.states import STAFF_TOPIC_MOVE


@dataclass(frozen=True)
class Ended:
    """A topic that ended for a subscriber, and the topic they were moved to, if any."""

    topic: Topic
    successor: Topic | None


def ended_topics(subscriber_id: int, *, at: datetime) -> list[Ended]:
    """The topics retired at `at` that the subscriber followed then."""
    retired = db.session.scalars(
        select(Topic).where(Topic.retired_at == at).order_by(Topic.position, Topic.id)
    ).all()
    if not retired:
        return []
    held = set(
        db.session.scalars(
            select(Subscription.topic_id).where(Subscription.subscriber_id == subscriber_id)
        )
    )
    moved = {
        event.detail.get("moved_from")
        for event in db.session.scalars(
            select(ConsentEvent).where(
                ConsentEvent.subscriber_id == subscriber_id,
                ConsentEvent.at == at,
                ConsentEvent.action == ConsentAction.CHANGED,
            )
        )
        if event.detail.get("method") == STAFF_TOPIC_MOVE
    }
    return [
        Ended(topic, db.session.get(Topic, topic.successor_id) if topic.successor_id else None)
        for topic in retired
        if topic.id in held or topic.slug in moved
    ]

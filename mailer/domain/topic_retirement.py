"""Retiring a topic: moving its subscribers to another topic, and telling them it has ended.

The "topic ended" email is a lifecycle delivery queued in the same transaction as the
retirement, so its `created_at` is the topic's `retired_at`: that is how the email finds which
topic it is about (mailer/delivery/topic_notices.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from mailer.database import row_count
from mailer.domain import audit
from mailer.errors import Conflict
from mailer.errors import FieldErrors
from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from mailer.models import Topic
from mailer.models import news_item_topics
from mailer.models.states import STAFF_TOPIC_MOVE

# How many subscribers one DELETE names.
CHUNK = 1000


@dataclass(frozen=True)
class Retirement:
    """What retiring a topic did."""

    moved: int
    already_followed: int
    told: int


def retire_topic(
    topic: Topic, *, move_to: Topic | None, tell: bool, actor: str, now: datetime
) -> Retirement:
    """Retire a topic: it leaves the forms and lists, its page stays with a notice.

    With `move_to`, each subscription moves there at its frequency, unless the person already
    follows `move_to` (their subscription to it stays as it is). Without, subscriptions stay,
    inert. With `tell`, each active subscriber is queued one "topic ended" email.
    :raises FieldErrors: `move_to` is the topic itself or retired.
    :raises Conflict: the topic is already retired, or draft or scheduled news is filed under
        it (published, it would reach the inert subscriptions).
    """
    _check_successor(topic, move_to)
    _check_no_news_waiting(topic)
    # Claim the topic first: a second retirement waits for this one and then finds it done.
    claimed = db.session.execute(
        update(Topic)
        .where(Topic.id == topic.id, Topic.retired_at.is_(None))
        .values(retired_at=now, successor_id=move_to.id if move_to else None)
    )
    if row_count(claimed) == 0:
        raise Conflict(f"{topic.name} has already been retired")
    db.session.refresh(topic)
    followers = _followers(topic)
    told = _queue_notices(topic, followers, now=now) if tell else 0
    already = _move(topic, move_to, followers, now=now) if move_to else set()
    audit.record(
        actor,
        "retired",
        topic,
        now=now,
        detail={
            "move_to": move_to.slug if move_to else None,
            "tell": tell,
            "subscribers": len(followers),
        },
    )
    db.session.expire_all()
    moved = len(followers) if move_to else 0
    return Retirement(moved=moved, already_followed=len(already), told=told)


def _check_successor(topic: Topic, move_to: Topic | None) -> None:
    if move_to is None:
        return
    if move_to.id == topic.id:
        raise FieldErrors({"move_to": "Choose a different topic to move the subscribers to"})
    if move_to.retired_at is not None:
        raise FieldErrors(
            {"move_to": f"{move_to.name} has been retired too: choose a current topic"}
        )


class NewsWaiting(Conflict):
    """Draft or scheduled items are filed under the topic being retired."""

    hint = "Edit them to choose another topic, or withdraw them, then retire it."


def news_waiting(topic: Topic) -> int:
    """How many draft or scheduled items are filed under the topic."""
    waiting = db.session.scalar(
        select(func.count())
        .select_from(news_item_topics)
        .join(NewsItem, NewsItem.id == news_item_topics.c.news_item_id)
        .where(news_item_topics.c.topic_id == topic.id)
        .where(NewsItem.state.in_((NewsState.DRAFT, NewsState.SCHEDULED)))
    )
    return waiting or 0


def _check_no_news_waiting(topic: Topic) -> None:
    waiting = news_waiting(topic)
    if waiting:
        items = "item is" if waiting == 1 else "items are"
        raise NewsWaiting(f"{waiting} draft or scheduled news {items} filed under {topic.name}")


def _followers(topic: Topic) -> dict[int, Frequency]:
    """Each subscriber of the topic and the frequency they chose."""
    db.session.flush()
    rows = db.session.execute(
        select(Subscription.subscriber_id, Subscription.frequency).where(
            Subscription.topic_id == topic.id
        )
    )
    return {row.subscriber_id: row.frequency for row in rows}


def _move(
    topic: Topic, move_to: Topic, followers: dict[int, Frequency], *, now: datetime
) -> set[int]:
    """Move every subscription of `topic` to `move_to`, never making a second one; return the
    subscribers who already followed `move_to`."""
    already = set(
        db.session.scalars(
            select(Subscription.subscriber_id).where(
                Subscription.topic_id == move_to.id,
                Subscription.subscriber_id.in_(
                    select(Subscription.subscriber_id).where(Subscription.topic_id == topic.id)
                ),
            )
        )
    )
    rows = [
        {"subscriber_id": sid, "topic_id": move_to.id, "frequency": freq, "created_at": now}
        for sid, freq in followers.items()
        if sid not in already
    ]
    if rows:
        db.session.execute(insert(Subscription), rows)
    # Only the subscriptions read above: one made by a sign-up meanwhile stays, inert, rather
    # than going without being moved. In chunks, as a statement takes only so many values.
    ids = list(followers)
    for start in range(0, len(ids), CHUNK):
        db.session.execute(
            delete(Subscription).where(
                Subscription.topic_id == topic.id,
                Subscription.subscriber_id.in_(ids[start : start + CHUNK]),
            )
        )
    _record_moves(topic, move_to, followers, already, now=now)
    return already


def _record_moves(
    topic: Topic,
    move_to: Topic,
    followers: dict[int, Frequency],
    already: set[int],
    *,
    now: datetime,
) -> None:
    """One consent event per subscriber moved: what staff changed, and why."""
    config = current_app.config
    events = [
        {
            "subscriber_id": sid,
            "action": ConsentAction.CHANGED,
            "at": now,
            "wording_version": config["CONSENT_WORDING_VERSION"],
            "notice_version": config["PRIVACY_NOTICE_VERSION"],
            "detail": {
                "method": STAFF_TOPIC_MOVE,
                "moved_from": topic.slug,
                "moved_to": move_to.slug,
                "frequency": frequency.value,
                "kept_existing": sid in already,
                "note": f"Moved by staff from topic {topic.name} to {move_to.name}, "
                f"because {topic.name} was retired",
            },
        }
        for sid, frequency in followers.items()
    ]
    if events:
        db.session.execute(insert(ConsentEvent), events)


def _queue_notices(topic: Topic, followers: dict[int, Frequency], *, now: datetime) -> int:
    """Queue one "topic ended" email to each active follower, unless one queued at this very
    moment (another topic retired with them) already tells them; return how many."""
    told = set(
        db.session.scalars(
            select(Delivery.subscriber_id).where(
                Delivery.kind == MessageKind.TOPIC_ENDED, Delivery.created_at == now
            )
        )
    )
    active = db.session.scalars(
        select(Subscriber.id)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.topic_id == topic.id, Subscriber.status == SubscriberStatus.ACTIVE)
    )
    rows = [
        {
            "kind": MessageKind.TOPIC_ENDED,
            "subscriber_id": sid,
            "status": DeliveryStatus.QUEUED,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for sid in active
        if sid in followers and sid not in told
    ]
    if rows:
        db.session.execute(insert(Delivery), rows)
    return len(rows)

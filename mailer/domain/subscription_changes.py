"""Changes a subscriber makes beyond the manage form: fewer emails instead of leaving, more
topics when they sign up again, and a new email address. Adding topics and moving address are
asked for, recorded as a consent event, and only done from the link emailed to confirm them
(to the new address, for a move); the link names that event, so it works once.

Functions flush; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from mailer.domain import suppressions
from mailer.domain.subscriptions import Choice
from mailer.domain.subscriptions import Origin
from mailer.domain.subscriptions import find_subscriber
from mailer.domain.subscriptions import queue_email
from mailer.domain.subscriptions import record_consent
from mailer.domain.subscriptions import request_subscription
from mailer.errors import InvalidInput
from mailer.errors import InvalidToken
from mailer.extensions import db
from mailer.i18n import N_
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from mailer.models import Topic
from mailer.tokens import created_second
from mailer.tokens import read_change_token

# The keys of a consent event's detail that make it a request this module carries out.
ADD_TOPICS = "add_topics"
NEW_EMAIL = "new_email"


@dataclass(frozen=True)
class Request:
    """A request waiting for its emailed link: the consent event that records it."""

    event_id: int
    topics: tuple[Topic, ...] = ()
    frequency: Frequency | None = None
    new_email: str | None = None


def sign_up(email: str, choice: Choice, *, origin: Origin, now: datetime) -> None:
    """The sign-up form: a new or former subscriber is asked to confirm; an active one is
    asked to confirm adding the topics they do not have yet (the page says the same)."""
    subscriber = find_subscriber(email, lock=True)
    if subscriber is not None and subscriber.status is SubscriberStatus.ACTIVE:
        ask_to_add_topics(subscriber, choice, origin=origin, now=now)
        return
    request_subscription(email, choice, origin=origin, now=now)


def subscriber_for_change(token: str) -> tuple[Subscriber, int]:
    """The subscriber (locked) and the request id a change link names.

    :raises InvalidToken: tampered, expired, revoked, or the subscriber is gone.
    """
    ref, event_id = read_change_token(token)
    subscriber = db.session.get(Subscriber, ref.subscriber_id, with_for_update=True)
    if (
        subscriber is None
        or subscriber.token_version != ref.token_version
        or ref.created != created_second(subscriber)
    ):
        raise InvalidToken("link revoked or subscriber gone")
    return subscriber, event_id


def fewer_emails(subscriber: Subscriber, *, origin: Origin, now: datetime) -> None:
    """Move every topic of an active subscriber to the weekly digest (offered instead of
    unsubscribing).

    :raises InvalidToken: the subscriber is not active.
    """
    _active(subscriber)
    for subscription in subscriber.subscriptions:
        subscription.frequency = Frequency.WEEKLY
    subscriber.updated_at = now
    detail = {"frequency": Frequency.WEEKLY.value, "instead_of": "unsubscribing"}
    record_consent(subscriber, ConsentAction.CHANGED, origin=origin, now=now, detail=detail)


def ask_to_add_topics(
    subscriber: Subscriber, choice: Choice, *, origin: Origin, now: datetime
) -> None:
    """An active subscriber signed up again: email them a link to confirm adding the topics
    they do not have yet, or, when there are none, a link to manage their subscription."""
    held = {subscription.topic_id for subscription in subscriber.subscriptions}
    new = [topic for topic in choice.topics if topic.id not in held]
    if not new:
        queue_email(subscriber, MessageKind.MANAGE, now=now)
        return
    detail = {ADD_TOPICS: [topic.slug for topic in new], "frequency": choice.frequency.value}
    record_consent(subscriber, ConsentAction.REQUESTED, origin=origin, now=now, detail=detail)
    queue_email(subscriber, MessageKind.ADD_TOPICS, now=now)


def add_topics(subscriber: Subscriber, event_id: int, *, origin: Origin, now: datetime) -> Request:
    """Add the topics of the request `event_id` (the link names it), each at its frequency.

    :raises InvalidToken: not the subscriber's latest request to add topics, or done already.
    """
    _active(subscriber)
    request = pending(subscriber, ADD_TOPICS)
    if request is None or request.event_id != event_id or request.frequency is None:
        raise InvalidToken("not the latest request to add topics")
    held = {subscription.topic_id for subscription in subscriber.subscriptions}
    for topic in request.topics:
        if topic.id not in held and topic.retired_at is None:
            subscriber.subscriptions.append(
                Subscription(topic=topic, frequency=request.frequency, created_at=now)
            )
    subscriber.updated_at = now
    detail = {"added": [t.slug for t in request.topics], "request": event_id}
    record_consent(subscriber, ConsentAction.CONFIRMED, origin=origin, now=now, detail=detail)
    return request


def ask_to_change_email(
    subscriber: Subscriber, new_email: str, *, origin: Origin, now: datetime
) -> None:
    """Email the new address a link to confirm that it is the subscriber's. An address that
    is suppressed, or has a subscription of its own, gets nothing (the answer is the same).

    :raises InvalidInput: the new address is the current one.
    """
    _active(subscriber)
    if new_email.casefold() == subscriber.email_key:
        raise InvalidInput("email", N_("That is already the address of your subscription"))
    if _taken(new_email):
        return
    detail = {NEW_EMAIL: new_email}
    record_consent(subscriber, ConsentAction.REQUESTED, origin=origin, now=now, detail=detail)
    queue_email(subscriber, MessageKind.EMAIL_CHANGE, now=now)


def change_email(subscriber: Subscriber, event_id: int, *, origin: Origin, now: datetime) -> str:
    """Move the subscription to the address of the request `event_id`, confirmed from a link
    sent there; every earlier link stops working. Return the new address.

    :raises InvalidToken: not the latest request to change address, done already, or the
        address has been taken since.
    """
    _active(subscriber)
    request = pending(subscriber, NEW_EMAIL)
    if request is None or request.event_id != event_id or request.new_email is None:
        raise InvalidToken("not the latest request to change address")
    if _taken(request.new_email):
        raise InvalidToken("the new address has a subscription of its own")
    old = subscriber.email
    subscriber.email, subscriber.email_key = request.new_email, request.new_email.casefold()
    subscriber.token_version += 1
    subscriber.updated_at = now
    detail = {"email_changed_from": old, "request": event_id}
    record_consent(subscriber, ConsentAction.CONFIRMED, origin=origin, now=now, detail=detail)
    return request.new_email


def named_request(subscriber: Subscriber, event_id: int) -> Request:
    """The request a change link names, while it is the latest of its kind and not done.

    :raises InvalidToken: otherwise.
    """
    for kind in (ADD_TOPICS, NEW_EMAIL):
        request = pending(subscriber, kind)
        if request is not None and request.event_id == event_id:
            return request
    raise InvalidToken("the request was carried out or replaced by a newer one")


def pending(subscriber: Subscriber, kind: str) -> Request | None:
    """The subscriber's latest request of `kind` (ADD_TOPICS or NEW_EMAIL), unless a later
    consent event carried it out."""
    events = db.session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.subscriber_id == subscriber.id)
        .order_by(ConsentEvent.id.desc())
        .limit(50)
    ).all()
    done = {event.detail.get("request") for event in events}
    for event in events:
        if event.action is ConsentAction.REQUESTED and kind in event.detail:
            return None if event.id in done else _request(event)
    return None


def _request(event: ConsentEvent) -> Request:
    if NEW_EMAIL in event.detail:
        return Request(event.id, new_email=str(event.detail[NEW_EMAIL]))
    slugs = [str(slug) for slug in event.detail.get(ADD_TOPICS, [])]
    topics = db.session.scalars(select(Topic).where(Topic.slug.in_(slugs))).all()
    ordered = tuple(sorted(topics, key=lambda topic: (topic.position, topic.id)))
    return Request(event.id, topics=ordered, frequency=Frequency(event.detail["frequency"]))


def _taken(address: str) -> bool:
    """Whether an address may not become a subscription's: suppressed, or held by someone."""
    entry = suppressions.find(address)
    if entry is not None:
        return True
    other = find_subscriber(address)
    return other is not None and other.status is not SubscriberStatus.ERASED


def _active(subscriber: Subscriber) -> None:
    if subscriber.status is not SubscriberStatus.ACTIVE:
        raise InvalidToken("only an active subscription can be changed")

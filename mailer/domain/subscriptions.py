"""The subscription lifecycle: request, confirm, change, unsubscribe, purge.

Functions flush; the caller (a request, a job, a CLI command) owns the transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from mailer.domain import practitioners
from mailer.domain import suppressions
from mailer.domain.addresses import MAX_ADDRESS_LENGTH as MAX_ADDRESS_LENGTH
from mailer.domain.addresses import normalise_address as normalise_address
from mailer.domain.email_language import set_language
from mailer.domain.mailboxes import same_mailbox
from mailer.domain.practitioners import Profile
from mailer.domain.topics import refuse_retired
from mailer.errors import InvalidInput
from mailer.errors import InvalidToken
from mailer.extensions import db
from mailer.i18n import N_
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from mailer.models import SuppressionReason
from mailer.models import Topic
from mailer.models import counting
from mailer.tokens import Purpose
from mailer.tokens import created_second
from mailer.tokens import read_subscriber_token

logger = logging.getLogger(__name__)

SLUG = re.compile(r"[a-z0-9-]{1,60}")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Origin:
    """Where a request came from, kept with consent events as proof."""

    ip: str | None = None
    user_agent: str | None = None
    # How the action was taken: form, link, one-click, cli, ...
    method: str = "form"
    # The privacy notice version the person was shown; None means the current one.
    notice_version: str | None = None


@dataclass(frozen=True)
class Choice:
    """The topics a person chose and how often they want news of them."""

    topics: tuple[Topic, ...]
    frequency: Frequency
    # Who they work for and where, if asked (None: leave what they said as it is).
    profile: Profile | None = None
    # The language of their emails, "en" or "cy" (None: leave it as it is).
    language: str | None = None


# The emails anyone can have sent to an address by typing it into the site, and so the ones
# the per-address limit counts.
ASKED_FOR = (MessageKind.CONFIRM, MessageKind.MANAGE, MessageKind.DATA_COPY)


def parse_topics(topic_slugs: Iterable[str], *, allow_retired: bool = False) -> tuple[Topic, ...]:
    """Return the (current, unless `allow_retired`) topics named by slugs, or raise InvalidInput."""
    slugs = set(topic_slugs)
    if not slugs:
        raise InvalidInput("topics", N_("Select at least one topic"))
    if not all(SLUG.fullmatch(slug) for slug in slugs):
        raise InvalidInput("topics", N_("Select topics from the list"))
    topics = db.session.scalars(
        select(Topic).where(Topic.slug.in_(slugs)).order_by(Topic.position, Topic.id)
    ).all()
    if len(topics) != len(slugs):
        raise InvalidInput("topics", N_("Select topics from the list"))
    if not allow_retired:
        refuse_retired(topics)
    return tuple(topics)


def parse_frequency(value: str | None) -> Frequency:
    """Return the submitted frequency, or raise InvalidInput."""
    try:
        return Frequency(value or "")
    except ValueError:
        raise InvalidInput("frequency", N_("Select how often you want to get emails")) from None


def find_subscriber(email: str, *, lock: bool = False) -> Subscriber | None:
    """Return the subscriber with this (normalised) address, whatever its case; with `lock`,
    locked until the transaction ends, so two requests for one address go one by one."""
    statement = select(Subscriber).where(Subscriber.email_key == email.casefold())
    return db.session.scalar(statement.with_for_update() if lock else statement)


def _find_or_create(email: str, *, now: datetime) -> Subscriber:
    """Return the locked subscriber for `email`, creating a pending one if there is none.

    Two first sign-ups at the same moment both try to insert; the loser's savepoint rolls
    back on the unique address and it reads the winner's row instead.
    """
    subscriber = find_subscriber(email, lock=True)
    if subscriber is not None:
        return subscriber
    subscriber = Subscriber(
        email=email,
        email_key=email.casefold(),
        status=SubscriberStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(subscriber)
    except IntegrityError:
        existing = find_subscriber(email, lock=True)
        if existing is None:
            raise
        return existing
    return subscriber


def request_subscription(email: str, choice: Choice, *, origin: Origin, now: datetime) -> None:
    """Record a sign-up and queue the email that answers it.

    A new, pending or unsubscribed address becomes pending with this choice and is sent a
    confirmation link. An active address keeps its subscription and is sent a manage link,
    so nobody can change someone else's subscription from the form. Suppressed addresses get
    nothing, except those suppressed only because they were erased: they may come back, and
    their confirmation takes the address off the list. The caller shows the same page in
    every case.
    """
    entry = suppressions.find(email)
    if entry is not None and entry.reason is not SuppressionReason.ERASED:
        logger.info("sign-up for a suppressed address ignored")
        return
    subscriber = _find_or_create(email, now=now)
    if subscriber.status is SubscriberStatus.SUPPRESSED:
        logger.info("sign-up for suppressed subscriber %s ignored", subscriber.id)
        return
    if subscriber.status is SubscriberStatus.ACTIVE:
        queue_email(subscriber, MessageKind.MANAGE, now=now)
        return
    subscriber.status = SubscriberStatus.PENDING
    subscriber.updated_at = now
    replace_subscriptions(subscriber, choice, now=now)
    set_language(subscriber, choice.language)
    record_consent(
        subscriber, ConsentAction.REQUESTED, origin=origin, now=now, detail=describe_choice(choice)
    )
    queue_email(subscriber, MessageKind.CONFIRM, now=now)


def request_manage_link(email: str, *, now: datetime) -> None:
    """Email a fresh manage link to an active address, or the confirmation again to a pending one.

    Unknown, unsubscribed and suppressed addresses get nothing; the caller answers the same.
    """
    subscriber = find_subscriber(email, lock=True)
    if subscriber is None:
        return
    if subscriber.status is SubscriberStatus.ACTIVE:
        queue_email(subscriber, MessageKind.MANAGE, now=now)
    elif subscriber.status is SubscriberStatus.PENDING:
        queue_email(subscriber, MessageKind.CONFIRM, now=now)


def subscriber_for_token(purpose: Purpose, token: str, *, lock: bool = False) -> Subscriber:
    """Return the subscriber a link token names, or raise InvalidToken.

    Tokens name the subscriber by id and link version, so a revoked version (staff bumped it)
    or an erased subscriber makes every older link invalid. A confirmation link also names
    the second its subscriber was created, so it never confirms a later sign-up that was
    given the id of a purged one. With `lock`, changes through one subscriber's links queue.
    """
    ref = read_subscriber_token(purpose, token)
    subscriber = db.session.get(Subscriber, ref.subscriber_id, with_for_update=lock)
    if (
        subscriber is None
        or subscriber.token_version != ref.token_version
        or (ref.created is not None and ref.created != created_second(subscriber))
    ):
        raise InvalidToken("link revoked or subscriber gone")
    if purpose is Purpose.CONFIRM and ref.generation != subscriber.generation:
        raise InvalidToken("confirmation link from before an unsubscribe")
    return subscriber


def confirm_subscription(subscriber: Subscriber, *, origin: Origin, now: datetime) -> bool:
    """Activate a pending subscriber and queue the welcome email.

    Returns False when the subscriber was already active (a second click changes nothing).
    :raises InvalidToken: the subscriber has left or been suppressed since the link was sent.
    """
    if subscriber.status is SubscriberStatus.ACTIVE:
        return False
    if subscriber.status is not SubscriberStatus.PENDING:
        raise InvalidToken("subscriber is no longer waiting for confirmation")
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.confirmed_at = now
    subscriber.unsubscribed_at = None
    subscriber.updated_at = now
    record_consent(subscriber, ConsentAction.CONFIRMED, origin=origin, now=now)
    entry = suppressions.find(subscriber.email)
    if entry is not None and entry.reason is SuppressionReason.ERASED:
        why = "signed up again and confirmed"
        suppressions.unsuppress(
            subscriber.email, reason=why, actor=f"subscriber:{subscriber.id}", now=now
        )
    queue_email(subscriber, MessageKind.WELCOME, now=now, limited=False)
    return True


def change_subscription(
    subscriber: Subscriber, choice: Choice, *, origin: Origin, now: datetime
) -> None:
    """Replace an active subscriber's topics and frequency.

    :raises InvalidToken: the subscriber is not active (left, or never confirmed).
    """
    if subscriber.status is not SubscriberStatus.ACTIVE:
        raise InvalidToken("only an active subscription can be changed")
    replace_subscriptions(subscriber, choice, now=now)
    set_language(subscriber, choice.language)
    subscriber.updated_at = now
    record_consent(
        subscriber, ConsentAction.CHANGED, origin=origin, now=now, detail=describe_choice(choice)
    )


def unsubscribe(subscriber: Subscriber, *, origin: Origin, now: datetime) -> bool:
    """Stop all mail to a subscriber at once; queued emails to them are cancelled, except a
    copy of their data they asked for.

    Returns False when they had already left (unsubscribing twice is harmless).
    """
    if subscriber.status not in (SubscriberStatus.PENDING, SubscriberStatus.ACTIVE):
        return False
    had = {
        "topics": [s.topic.slug for s in subscriber.subscriptions],
        "was": subscriber.status.value,
    }
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    subscriber.unsubscribed_at = now
    subscriber.updated_at = now
    subscriber.generation += 1
    subscriber.subscriptions.clear()
    record_consent(subscriber, ConsentAction.UNSUBSCRIBED, origin=origin, now=now, detail=had)
    # A copy of their data they asked for still goes: leaving does not withdraw that.
    queued = (
        (Delivery.subscriber_id == subscriber.id)
        & (Delivery.status == DeliveryStatus.QUEUED)
        & (Delivery.kind != MessageKind.DATA_COPY)
    )
    counting.moving(queued, DeliveryStatus.CANCELLED, now=now)
    db.session.execute(
        update(Delivery)
        .where(queued)
        .values(status=DeliveryStatus.CANCELLED, updated_at=now, last_error="unsubscribed")
    )
    return True


def revoke_links(subscriber: Subscriber, *, now: datetime) -> None:
    """Invalidate every link sent to this subscriber so far."""
    subscriber.token_version += 1
    subscriber.updated_at = now


def replace_subscriptions(subscriber: Subscriber, choice: Choice, *, now: datetime) -> None:
    """Make the subscriber's topics exactly those of `choice`, at its frequency."""
    wanted = {topic.id: topic for topic in choice.topics}
    for subscription in list(subscriber.subscriptions):
        if subscription.topic_id in wanted:
            subscription.frequency = choice.frequency
            del wanted[subscription.topic_id]
        else:
            subscriber.subscriptions.remove(subscription)
    for topic in wanted.values():
        subscriber.subscriptions.append(
            Subscription(topic=topic, frequency=choice.frequency, created_at=now)
        )
    if choice.profile is not None:
        practitioners.apply_profile(subscriber, choice.profile)


def describe_choice(choice: Choice) -> dict[str, Any]:
    """Summarise a choice for the consent record, with who they work for and where, and the
    language of their emails, if given."""
    detail = {"topics": [t.slug for t in choice.topics], "frequency": choice.frequency.value}
    if choice.language is not None:
        detail["language"] = choice.language
    return {**detail, **practitioners.describe_profile(choice.profile)}


def record_consent(
    subscriber: Subscriber,
    action: ConsentAction,
    *,
    origin: Origin,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append a consent event for the subscriber."""
    db.session.add(
        ConsentEvent(
            subscriber=subscriber,
            action=action,
            at=now,
            ip=_clean(origin.ip, 45),
            user_agent=_clean(origin.user_agent, 512),
            wording_version=current_app.config["CONSENT_WORDING_VERSION"],
            notice_version=origin.notice_version or current_app.config["PRIVACY_NOTICE_VERSION"],
            detail={"method": origin.method, **(detail or {})},
        )
    )


def _clean(value: str | None, limit: int) -> str | None:
    """Drop control characters (PostgreSQL refuses NUL) and cut to the column's length."""
    return CONTROL_CHARACTERS.sub("", value)[:limit] if value else None


def queue_email(
    subscriber: Subscriber, kind: MessageKind, *, now: datetime, limited: bool = True
) -> bool:
    """Queue a transactional email in the caller's transaction, within the per-address limit;
    False if the limit held it back."""
    if limited and _emails_sent_recently(subscriber, now=now) >= _per_hour_limit():
        logger.info("per-address email limit reached for subscriber %s", subscriber.id)
        return False
    db.session.add(
        Delivery(
            kind=kind,
            subscriber=subscriber,
            status=DeliveryStatus.QUEUED,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    db.session.flush()
    return True


def _emails_sent_recently(subscriber: Subscriber, *, now: datetime) -> int:
    """Count the emails asked for through the site (confirmation, manage link, data copy)
    queued in the last hour for this address and every other way of writing its mailbox."""
    if subscriber.id is None:
        return 0
    mailbox = select(Subscriber.id).where(same_mailbox(subscriber.email_key))
    return (
        db.session.scalar(
            select(func.count(Delivery.id))
            .where(Delivery.subscriber_id.in_(mailbox))
            .where(Delivery.kind.in_(ASKED_FOR))
            .where(Delivery.created_at > now - timedelta(hours=1))
        )
        or 0
    )


def _per_hour_limit() -> int:
    """The per-address hourly limit from the settings."""
    return int(current_app.config["ADDRESS_EMAILS_PER_HOUR"])

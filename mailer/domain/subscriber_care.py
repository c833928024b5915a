"""What staff do for a subscriber who asks them: change their topics, or send them a link to
manage their subscription. Changes are consent events made by staff, and in the audit log.

Functions flush; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime

from mailer.domain import audit
from mailer.domain.subscriptions import Choice
from mailer.domain.subscriptions import Origin
from mailer.domain.subscriptions import describe_choice
from mailer.domain.subscriptions import queue_email
from mailer.domain.subscriptions import record_consent
from mailer.domain.subscriptions import replace_subscriptions
from mailer.errors import Conflict
from mailer.models import ConsentAction
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberStatus


class NotActive(Conflict):
    """Only an active subscription can be changed, or have a manage link sent."""

    hint = "A person who left or never confirmed can subscribe again from the sign-up form."


def change_topics(subscriber: Subscriber, choice: Choice, *, actor: str, now: datetime) -> None:
    """Make an active subscriber's topics and frequency `choice`, on their behalf.

    :raises NotActive: the subscriber is not active.
    """
    _active(subscriber)
    replace_subscriptions(subscriber, choice, now=now)
    subscriber.updated_at = now
    detail = {**describe_choice(choice), "by": actor}
    record_consent(
        subscriber, ConsentAction.CHANGED, origin=Origin(method="staff"), now=now, detail=detail
    )
    audit.record(actor, "changed topics", subscriber, now=now, detail=describe_choice(choice))


def send_manage_link(subscriber: Subscriber, *, actor: str, now: datetime) -> None:
    """Email an active subscriber a fresh link to manage their subscription, recorded in their
    consent history as asked for by staff.

    :raises NotActive: the subscriber is not active.
    """
    _active(subscriber)
    queue_email(subscriber, MessageKind.MANAGE, now=now, limited=False)
    detail = {"manage_link": True, "by": actor}
    record_consent(
        subscriber, ConsentAction.REQUESTED, origin=Origin(method="staff"), now=now, detail=detail
    )
    audit.record(actor, "sent a manage link", subscriber, now=now)


def _active(subscriber: Subscriber) -> None:
    if subscriber.status is not SubscriberStatus.ACTIVE:
        raise NotActive(f"the subscriber is {subscriber.status.value}")

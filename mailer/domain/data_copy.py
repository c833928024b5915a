"""A copy of one's own data, without asking staff (UK GDPR Articles 15 and 20).

Anyone may ask for a copy for an address, from the manage page or by typing the address; the
answer is the same whatever the address. If it is held, it is emailed a link that works once,
for an hour (DATA_COPY_TOKEN_MAX_AGE): whoever opens it has shown they read that mailbox now.
The copy is the subject access document staff would download, and the download goes into the
audit log.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from mailer.domain import subscriptions
from mailer.domain.subject_access import subject_access
from mailer.errors import InvalidToken
from mailer.extensions import db
from mailer.models import DATA_COPY_RECIPIENTS
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.tokens import created_second
from mailer.tokens import read_data_copy_token

logger = logging.getLogger(__name__)

# How the subscriber appears in the audit log when they download their copy.
ACTOR = "the subscriber, by emailed link"


def request_by_address(email: str, *, now: datetime) -> None:
    """Email a link to a copy of the data held about a (normalised) address, if it is held
    and may be mailed; otherwise do nothing. The caller answers the same either way."""
    subscriber = subscriptions.find_subscriber(email, lock=True)
    if subscriber is None:
        return
    request_for(subscriber, now=now)


def request_for(subscriber: Subscriber, *, now: datetime) -> bool:
    """Email the subscriber a link to a copy of their data, within the per-address limit;
    False if it is not sent."""
    if subscriber.status not in DATA_COPY_RECIPIENTS:
        logger.info("data copy for %s subscriber %s not sent", subscriber.status, subscriber.id)
        return False
    return subscriptions.queue_email(subscriber, MessageKind.DATA_COPY, now=now)


def subscriber_for(token: str, *, lock: bool = False) -> Subscriber:
    """The subscriber a data-copy link (`mailer.tokens.data_copy_token`) names, while it is
    unused, unrevoked and under an hour old.

    :raises ExpiredToken: older than DATA_COPY_TOKEN_MAX_AGE.
    :raises InvalidToken: tampered, used already, revoked, or the subscriber is gone.
    """
    subscriber_id, version, copies, created = read_data_copy_token(token)
    subscriber = db.session.get(Subscriber, subscriber_id, with_for_update=lock)
    if (
        subscriber is None
        or subscriber.status is SubscriberStatus.ERASED
        or subscriber.token_version != version
        or subscriber.data_copies != copies
        # SQLite gives a deleted row's id (a purged sign-up's) to the next subscriber.
        or created_second(subscriber) != created
    ):
        raise InvalidToken("data copy link used, revoked, or its subscriber gone")
    return subscriber


def take_copy(token: str, *, now: datetime) -> dict[str, Any]:
    """Use a data-copy link: return the document and make the link, and any other sent
    before it, stop working. Run in a transaction; the subscriber row is locked so that two
    clicks at once give one copy."""
    subscriber = subscriber_for(token, lock=True)
    subscriber.data_copies += 1
    return subject_access(subscriber.email, actor=ACTOR, now=now)

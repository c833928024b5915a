"""The suppression list: addresses never to be mailed again, and why.

An address is found by a keyed hash (HMAC-SHA-256) of its case-folded form, so an erased
subscriber's address can stay suppressed without being kept. Suppressing an address also marks its
subscriber suppressed and cancels what is queued for them: enqueue takes only active
subscribers, and the worker re-checks the status just before each send.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy import update

from mailer.database import dialect_insert
from mailer.domain import audit
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Suppression
from mailer.models import SuppressionReason
from mailer.models import counting

MAX_DETAIL = 1000


def address_hash(email: str) -> str:
    """The key an address is suppressed under: the HMAC-SHA-256 of its case-folded form under
    MAILER_SUPPRESSION_KEY, so that a copy of the database alone cannot test addresses."""
    return keyed_hash(current_app.config["SUPPRESSION_KEY"], email)


def keyed_hash(key: str, email: str) -> str:
    """HMAC-SHA-256 of the case-folded address under `key`, in hex."""
    return hmac.new(key.encode(), email.casefold().encode(), hashlib.sha256).hexdigest()


def find(email: str) -> Suppression | None:
    """The suppression of an address, if any."""
    return db.session.scalars(
        select(Suppression).where(Suppression.address_hash == address_hash(email))
    ).one_or_none()


def is_suppressed(email: str) -> bool:
    """Whether an address must not be mailed."""
    return find(email) is not None


def suppress(
    email: str, reason: SuppressionReason, *, detail: str = "", actor: str, now: datetime
) -> bool:
    """Add an address to the list (its subscriber stops getting mail at once); False if it
    was already there, in which case the first reason stands."""
    statement = dialect_insert(Suppression).values(
        address_hash=address_hash(email),
        email=email,
        reason=reason,
        detail=detail[:MAX_DETAIL],
        created_by=actor[:400],
        created_at=now,
    )
    # Two suppressions of one address at once (a bounce and an admin, say): the first wins.
    new_id = db.session.scalar(
        statement.on_conflict_do_nothing(index_elements=["address_hash"]).returning(Suppression.id)
    )
    if new_id is not None:
        entry = db.session.get_one(Suppression, new_id)
        audit.record(actor, "suppression.add", entry, now=now, detail={"reason": reason.value})
    subscriber = _subscriber(email)
    if subscriber is not None and subscriber.status is not SubscriberStatus.SUPPRESSED:
        subscriber.status = SubscriberStatus.SUPPRESSED
        subscriber.updated_at = now
        subscriber.subscriptions.clear()
        queued = (Delivery.subscriber_id == subscriber.id) & (
            Delivery.status == DeliveryStatus.QUEUED
        )
        counting.moving(queued, DeliveryStatus.CANCELLED, now=now)
        db.session.execute(
            update(Delivery)
            .where(queued)
            .values(status=DeliveryStatus.CANCELLED, updated_at=now, last_error="suppressed")
            .execution_options(synchronize_session=False)
        )
    return new_id is not None


def unsuppress(email: str, *, reason: str, actor: str, now: datetime) -> None:
    """Take an address off the list, saying why; its subscriber must subscribe again.

    :raises InvalidInput: no reason given, or the address is not on the list.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("reason", "Say why the address may be mailed again")
    entry = find(email)
    if entry is None:
        raise InvalidInput("email", "That address is not on the suppression list")
    audit.record(
        actor,
        "suppression.remove",
        entry,
        now=now,
        detail={"reason": reason[:MAX_DETAIL], "was": entry.reason.value},
    )
    db.session.delete(entry)
    subscriber = _subscriber(email)
    if subscriber is not None and subscriber.status is SubscriberStatus.SUPPRESSED:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.unsubscribed_at = subscriber.unsubscribed_at or now
        subscriber.updated_at = now


def recent(*, limit: int = 200, offset: int = 0) -> Sequence[Suppression]:
    """The list, newest first."""
    return db.session.scalars(
        select(Suppression)
        .order_by(Suppression.created_at.desc(), Suppression.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()


def _subscriber(email: str) -> Subscriber | None:
    return db.session.scalars(
        select(Subscriber).where(Subscriber.email_key == email.casefold()).with_for_update()
    ).one_or_none()

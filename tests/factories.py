"""Test data: keyword-only factories with sensible defaults."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy import select

from mailer import clock
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberStatus


def make_subscriber(
    *,
    email: str = "sam@example.com",
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    now: datetime | None = None,
) -> Subscriber:
    """Add one subscriber (flushed, not committed)."""
    now = now or clock.now()
    subscriber = Subscriber(
        email=email,
        email_key=email.casefold(),
        status=status,
        created_at=now,
        updated_at=now,
        confirmed_at=now if status is SubscriberStatus.ACTIVE else None,
    )
    db.session.add(subscriber)
    db.session.flush()
    return subscriber


def queue_emails(
    count: int,
    *,
    kind: MessageKind = MessageKind.MANAGE,
    now: datetime | None = None,
    domain: str = "example.com",
) -> list[int]:
    """Add `count` active subscribers with one queued email each, in bulk; return delivery ids."""
    now = now or clock.now()
    db.session.execute(
        insert(Subscriber),
        [
            {
                "email": f"reader{n}@{domain}",
                "email_key": f"reader{n}@{domain}",
                "status": SubscriberStatus.ACTIVE,
                "token_version": 1,
                "generation": 0,
                "created_at": now,
                "updated_at": now,
                "confirmed_at": now,
            }
            for n in range(count)
        ],
    )
    ids = db.session.scalars(select(Subscriber.id).where(Subscriber.email.like(f"%@{domain}")))
    db.session.execute(
        insert(Delivery),
        [
            {
                "kind": kind,
                "subscriber_id": subscriber_id,
                "status": DeliveryStatus.QUEUED,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for subscriber_id in ids
        ],
    )
    db.session.commit()
    return list(db.session.scalars(select(Delivery.id).order_by(Delivery.id)))

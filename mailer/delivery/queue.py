"""The delivery queue: claim due deliveries with a lease, record each outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import Update
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Subscriber
from mailer.models import SubscriberStatus


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a temporarily failing delivery is retried."""

    max_attempts: int = 8
    base_seconds: int = 60
    max_seconds: int = 3600

    def delay(self, attempts: int) -> timedelta:
        """Wait before the next try after `attempts` tries: doubling, capped."""
        seconds = self.base_seconds * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.max_seconds))


def claim_batch(*, owner: str, limit: int, lease: timedelta, now: datetime) -> list[int]:
    """Lease up to `limit` due deliveries to `owner` and return their ids.

    Due means queued with its next attempt in the past, or leased by a worker whose lease
    has run out (it crashed). On PostgreSQL the inner SELECT skips rows other workers have
    locked; on SQLite the single UPDATE is atomic. Each claim counts as an attempt, recorded
    before anything is sent.
    """
    due = (
        select(Delivery.id)
        .where(
            or_(
                (Delivery.status == DeliveryStatus.QUEUED) & (Delivery.next_attempt_at <= now),
                (Delivery.status == DeliveryStatus.SENDING) & (Delivery.lease_expires_at < now),
            )
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = db.session.scalars(
        update(Delivery)
        .where(Delivery.id.in_(due))
        .values(
            status=DeliveryStatus.SENDING,
            lease_owner=owner,
            lease_expires_at=now + lease,
            attempts=Delivery.attempts + 1,
            updated_at=now,
        )
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed)


def renew_lease(
    delivery_id: int,
    *,
    owner: str,
    subscriber_status: SubscriberStatus,
    lease: timedelta,
    now: datetime,
) -> bool:
    """Just before sending: keep the lease if it is still ours and the subscriber still wants
    this email (they may have unsubscribed since the batch was claimed). True means send."""
    wanted = select(Subscriber.id).where(Subscriber.status == subscriber_status)
    renewed = db.session.scalar(
        _ours(delivery_id, owner)
        .where(Delivery.subscriber_id.in_(wanted))
        .values(lease_expires_at=now + lease, updated_at=now)
        .returning(Delivery.id)
    )
    return renewed is not None


def holds_lease(delivery_id: int, *, owner: str) -> bool:
    """Whether `owner` still holds the lease on this delivery."""
    found = db.session.scalar(
        select(Delivery.id).where(
            Delivery.id == delivery_id,
            Delivery.lease_owner == owner,
            Delivery.status == DeliveryStatus.SENDING,
        )
    )
    return found is not None


def record_sent(delivery_id: int, *, message_id: str, now: datetime) -> None:
    """Mark a delivery sent, with the Message-ID it went out with.

    Recorded even if the lease ran out meanwhile: the message did go, and saying so keeps
    another worker from sending it again. A delivery already marked sent keeps its first id.
    """
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status != DeliveryStatus.SENT)
        .values(
            status=DeliveryStatus.SENT,
            message_id=message_id,
            sent_at=now,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def record_failed(delivery_id: int, *, owner: str, error: str, now: datetime) -> None:
    """Mark a delivery failed for good (only while `owner` holds its lease)."""
    _settle(delivery_id, owner, now=now, status=DeliveryStatus.FAILED, last_error=error[:2000])


def record_cancelled(delivery_id: int, *, owner: str, reason: str, now: datetime) -> None:
    """Mark a delivery no longer wanted (the subscriber left before it was sent)."""
    _settle(delivery_id, owner, now=now, status=DeliveryStatus.CANCELLED, last_error=reason)


def record_retry(
    delivery_id: int,
    *,
    owner: str,
    attempts: int,
    error: str,
    policy: RetryPolicy,
    now: datetime,
) -> bool:
    """Queue a delivery again after a temporary failure, or fail it when out of attempts.

    Returns True when it will be retried.
    """
    if attempts >= policy.max_attempts:
        message = f"gave up after {attempts} attempts: {error}"
        record_failed(delivery_id, owner=owner, error=message, now=now)
        return False
    _settle(
        delivery_id,
        owner,
        now=now,
        status=DeliveryStatus.QUEUED,
        next_attempt_at=now + policy.delay(attempts),
        last_error=error[:2000],
    )
    return True


def give_back(delivery_ids: Sequence[int], *, owner: str, at: datetime, now: datetime) -> None:
    """Return claimed but unattempted deliveries to the queue, due at `at`, uncounted."""
    if not delivery_ids:
        return
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.id.in_(delivery_ids),
            Delivery.lease_owner == owner,
            Delivery.status == DeliveryStatus.SENDING,
        )
        .values(
            status=DeliveryStatus.QUEUED,
            attempts=Delivery.attempts - 1,
            next_attempt_at=at,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def release_stale_leases(*, now: datetime) -> int:
    """Put deliveries whose lease ran out back in the queue; return how many."""
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING)
        .where(Delivery.lease_expires_at < now)
        .values(
            status=DeliveryStatus.QUEUED,
            lease_owner=None,
            lease_expires_at=None,
            next_attempt_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def load_claimed(ids: Sequence[int]) -> list[Delivery]:
    """Load claimed deliveries with their subscribers in one query."""
    if not ids:
        return []
    rows = db.session.scalars(
        select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id)
    ).all()
    return list(rows)


def _ours(delivery_id: int, owner: str) -> Update:
    """An UPDATE of one delivery that touches it only while `owner` holds its lease."""
    return (
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.lease_owner == owner,
            Delivery.status == DeliveryStatus.SENDING,
        )
        .execution_options(synchronize_session=False)
    )


def _settle(delivery_id: int, owner: str, *, now: datetime, **values: object) -> None:
    """Record an outcome and release the lease, unless another worker has taken it over."""
    db.session.execute(
        _ours(delivery_id, owner).values(
            lease_owner=None, lease_expires_at=None, updated_at=now, **values
        )
    )

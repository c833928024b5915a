"""Retention: old delivery records become daily counts, old mail kept from the bounce inbox
and contact-form messages dealt with long ago go, and what each retention step would remove
now (for a dry run)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import Date
from sqlalchemy import cast
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import type_coerce

from mailer.database import on_postgresql
from mailer.database import row_count
from mailer.database import transaction
from mailer.domain import audit
from mailer.domain import contact
from mailer.domain.erasure import left_before
from mailer.domain.imports import uploads
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import DeliverySummary
from mailer.models import InboundMessage
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberImport
from mailer.models import SubscriberStatus

# Deliveries that will not change again; queued and sending ones are never summarised.
SETTLED = (
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.CANCELLED,
    DeliveryStatus.BOUNCED,
)
# Delivery records summarised and deleted per transaction: small enough that no lock is
# held for long, large enough that a year's backlog takes few round trips.
BATCH = 2000

# What one summary row counts: (UTC day created, run id, kind, status).
Key = tuple[date, int | None, MessageKind, DeliveryStatus]


@dataclass(frozen=True)
class Periods:
    """How long each kind of record is kept, from the settings."""

    unconfirmed: timedelta
    unsubscribed: timedelta
    deliveries: timedelta
    inbound: timedelta
    # Contact-form messages, counted from when staff answered or closed them.
    contact: timedelta = timedelta(days=365)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Periods:
        return cls(
            unconfirmed=timedelta(days=int(config["UNCONFIRMED_RETENTION_DAYS"])),
            unsubscribed=timedelta(days=int(config["UNSUBSCRIBED_RETENTION_DAYS"])),
            deliveries=timedelta(days=int(config["DELIVERY_RETENTION_DAYS"])),
            inbound=timedelta(days=int(config["INBOUND_RETENTION_DAYS"])),
            contact=timedelta(days=int(config["CONTACT_RETENTION_DAYS"])),
        )


@dataclass(frozen=True)
class Due:
    """How many records each retention step would remove now."""

    unconfirmed: int
    unsubscribed: int
    deliveries: int
    inbound: int
    contact: int = 0


def due(periods: Periods, *, now: datetime) -> Due:
    """Count what each step would remove at `now`, changing nothing."""
    unconfirmed = select(func.count()).where(
        Subscriber.status == SubscriberStatus.PENDING,
        Subscriber.confirmed_at.is_(None),
        Subscriber.updated_at < now - periods.unconfirmed,
    )
    unsubscribed = select(func.count()).where(left_before(now - periods.unsubscribed))
    deliveries = select(func.count()).where(*_settled_before(now - periods.deliveries))
    inbound = select(func.count()).where(_kept_before(now - periods.inbound))
    handled = select(func.count()).where(contact.handled_before(now - periods.contact))
    row = db.session.execute(
        select(
            unconfirmed.scalar_subquery(),
            unsubscribed.scalar_subquery(),
            deliveries.scalar_subquery(),
            inbound.scalar_subquery(),
            handled.scalar_subquery(),
        )
    ).one()
    return Due(*(int(count or 0) for count in row))


def summarise_deliveries(
    *,
    now: datetime,
    older_than: timedelta,
    batch: int = BATCH,
    actor: str = "retention",
    on_batch: Callable[[int], object] | None = None,
) -> int:
    """Count settled deliveries created before `now - older_than` into DeliverySummary rows
    and delete them; return how many went.

    Commits each batch on its own: a batch's counts and its deletion go together or not at
    all, so an interrupted run loses no count and a rerun counts nothing twice. Bounce
    events of the deleted deliveries keep their rows (their delivery_id becomes NULL).
    `on_batch` is told how many records each batch deleted.
    """
    cutoff = now - older_than
    total = 0
    after: int | None = 0
    while after is not None:
        with transaction():
            done, after = _summarise_batch(cutoff, after=after, now=now, limit=batch)
        total += done
        if on_batch is not None:
            on_batch(done)
    if total:
        with transaction():
            detail = {"deleted": total, "created_before": cutoff.isoformat()}
            audit.record(actor, "deliveries.summarise", "Delivery", now=now, detail=detail)
    return total


def _summarise_batch(
    cutoff: datetime, *, after: int, now: datetime, limit: int
) -> tuple[int, int | None]:
    """Summarise and delete the settled deliveries made before `cutoff` among the next
    `limit` deliveries by id after `after` (flushes); return how many went and the id to go
    on after, or None when nothing made before `cutoff` is left.

    The window is read in id order through the primary key alone: filtering by status in
    the same query would have the planner sort every settled delivery for each batch. Ids
    are handed out in the order deliveries are made, so a window that holds nothing made
    before `cutoff` means nothing after it does either.
    """
    window = (
        select(Delivery.id, Delivery.created_at)
        .where(Delivery.id > after)
        .order_by(Delivery.id)
        .limit(limit)
        .subquery()
    )
    last, oldest = db.session.execute(
        select(func.max(window.c.id), func.min(window.c.created_at))
    ).one()
    if last is None or oldest >= cutoff:
        return 0, None
    # The rows counted are the rows the DELETE reports, so the counts match the deletion
    # exactly, whatever another process did in between.
    gone = db.session.execute(
        delete(Delivery)
        .where(Delivery.id > after, Delivery.id <= last, *_settled_before(cutoff))
        .returning(_utc_day(Delivery.created_at), Delivery.run_id, Delivery.kind, Delivery.status)
        .execution_options(synchronize_session=False)
    ).all()
    counts: Counter[Key] = Counter(
        (day, run_id, kind, status) for day, run_id, kind, status in gone
    )
    for key, count in counts.items():
        _add_to_summary(key, count, now=now)
    return len(gone), last


def _add_to_summary(key: Key, count: int, *, now: datetime) -> None:
    """Add `count` to the summary row of `key`, or start one."""
    day, run_id, kind, status = key
    existing = db.session.scalars(
        select(DeliverySummary)
        .where(
            DeliverySummary.day == day,
            DeliverySummary.run_id.is_not_distinct_from(run_id),
            DeliverySummary.kind == kind,
            DeliverySummary.status == status,
        )
        .order_by(DeliverySummary.id)
        .limit(1)
        .with_for_update()
    ).first()
    if existing is None:
        db.session.add(
            DeliverySummary(
                day=day, run_id=run_id, kind=kind, status=status, count=count, summarised_at=now
            )
        )
    else:
        existing.count += count
        existing.summarised_at = now
    db.session.flush()


def _settled_before(cutoff: datetime) -> tuple[Any, ...]:
    """Conditions picking the deliveries that are settled and were created before `cutoff`."""
    return (Delivery.status.in_(SETTLED), Delivery.created_at < cutoff)


def _utc_day(column: Any) -> Any:
    """The UTC calendar day of a timestamp column, in the dialect at hand.

    SQLite keeps timestamps as naive UTC text; PostgreSQL's timestamptz is turned to UTC
    first, so the session's time zone cannot move a delivery to another day.
    """
    if on_postgresql():
        return cast(func.timezone("UTC", column), Date)
    return type_coerce(func.date(column), Date)


def delete_old_inbound(*, now: datetime, older_than: timedelta) -> int:
    """Delete the messages the bounce inbox kept for staff before `now - older_than`, handled
    or not (whoever sent them decides how many come, so none may stay for good); return how
    many went. Flushes."""
    result = db.session.execute(
        delete(InboundMessage)
        .where(_kept_before(now - older_than))
        .execution_options(synchronize_session=False)
    )
    return row_count(result)


def _kept_before(cutoff: datetime) -> Any:
    """The condition picking the inbound messages kept before `cutoff`."""
    return InboundMessage.received_at < cutoff


def discard_stale_uploads(*, now: datetime, older_than: timedelta) -> int:
    """Drop the files of uploaded lists neither imported nor discarded within `older_than`
    (they hold addresses of people who have not joined); return how many. Flushes."""
    stale = db.session.scalars(
        select(SubscriberImport).where(
            uploads.open_at(now),
            SubscriberImport.created_at < now - older_than,
        )
    ).all()
    for upload in stale:
        upload.content = b""
        upload.discarded_at = now
        audit.record("retention", "subscribers.import_discard", upload, now=now)
    return len(stale)


def purge_unconfirmed(*, now: datetime, older_than: timedelta) -> int:
    """Delete sign-ups never confirmed within `older_than`; return how many went."""
    result = db.session.execute(
        delete(Subscriber)
        .where(Subscriber.status == SubscriberStatus.PENDING)
        .where(Subscriber.confirmed_at.is_(None))
        # Not created_at: someone who asks again today must keep today's link working.
        .where(Subscriber.updated_at < now - older_than)
    )
    return row_count(result)


def delete_old_contact_messages(*, now: datetime, older_than: timedelta) -> int:
    """Delete the contact-form messages (and replies) answered or closed before
    `now - older_than`; return how many went. Flushes, and records the count in the audit
    log when there were any."""
    count = contact.delete_handled(now=now, older_than=older_than)
    if count:
        audit.record(
            "retention",
            "contact.delete_handled",
            "ContactMessage",
            now=now,
            detail={"deleted": count},
        )
    return count

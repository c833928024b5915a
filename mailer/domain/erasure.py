"""Erasure (UK GDPR Article 17): a subscriber's address and personal data go, for good.

What stays is a tombstone row, so that delivery records keep their counts, and an entry on
the suppression list keyed by the address's hash, so that no imported list can mail the
person again. Signing up again through the form and confirming takes that entry off.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import String
from sqlalchemy import and_
from sqlalchemy import cast
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from mailer.database import escape_like
from mailer.database import transaction
from mailer.domain import audit
from mailer.domain import contact
from mailer.domain import suppressions
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import BounceEvent
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import InboundMessage
from mailer.models import Subscriber
from mailer.models import SubscriberImport
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from mailer.models import SuppressionReason
from mailer.models import counting

# What an erased address is replaced with wherever it appeared inside a longer text.
ERASED = "[erased]"
MAX_WHY = 400
BATCH = 200
# The statuses of people who have left; their addresses are erased after a while.
LEFT = (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.SUPPRESSED)


def subscriber_by_id(subscriber_id: int, *, lock: bool = False) -> Subscriber | None:
    """The subscriber with this id, if any (with `lock`, locked until the transaction ends)."""
    return db.session.get(Subscriber, subscriber_id, with_for_update=lock)


def erase(subscriber: Subscriber, *, why: str, actor: str, now: datetime) -> None:
    """Remove the subscriber's address and personal data, keeping a hashed suppression.

    :raises InvalidInput: no reason given, or the subscriber is erased already.
    """
    if subscriber.status is SubscriberStatus.ERASED:
        raise InvalidInput("reason", "This subscriber has already been erased")
    erase_all([subscriber], why=why, actor=actor, now=now)


def erase_all(subscribers: Sequence[Subscriber], *, why: str, actor: str, now: datetime) -> None:
    """Erase several subscribers at once (texts that may quote them are searched once).

    :raises InvalidInput: no reason given.
    """
    why = " ".join(why.split())[:MAX_WHY]
    if not why:
        raise InvalidInput("reason", "Say why this subscriber is being erased")
    emails = [s.email for s in subscribers if s.status is not SubscriberStatus.ERASED]
    subscribers = [s for s in subscribers if s.status is not SubscriberStatus.ERASED]
    if not subscribers:
        return
    pattern = _pattern(emails)
    for subscriber in subscribers:
        _keep_suppressed(subscriber.email, pattern, actor=actor, now=now)
    db.session.flush()
    ids = [s.id for s in subscribers]
    _forget_records(ids, pattern, now=now)
    _scrub_elsewhere(emails, pattern, now=now)
    for subscriber in subscribers:
        _tombstone(subscriber, now=now)
        detail = {"why": pattern.sub(ERASED, why)}
        audit.record(actor, "subscriber.erase", subscriber, now=now, detail=detail)


def erase_unsubscribed(
    *, now: datetime, older_than: timedelta, actor: str = "retention", batch: int = BATCH
) -> int:
    """Erase everyone unsubscribed for longer than `older_than`, a batch per transaction;
    return how many were erased."""
    erased = 0
    why = f"left more than {older_than.days} days ago"
    cutoff = now - older_than
    while ids := unsubscribed_before(cutoff, limit=batch):
        with transaction():
            # Checked again under the lock: someone may have signed up again meanwhile.
            subscribers = db.session.scalars(
                select(Subscriber)
                .where(Subscriber.id.in_(ids), left_before(cutoff))
                .with_for_update()
                .execution_options(populate_existing=True)
            ).all()
            erase_all(subscribers, why=why, actor=actor, now=now)
        erased += len(subscribers)
        if len(ids) < batch:
            break
    return erased


def unsubscribed_before(cutoff: datetime, *, limit: int) -> list[int]:
    """Ids of subscribers who left before `cutoff` (unsubscribed, or suppressed after a
    complaint or a bounce), longest gone first."""
    return list(
        db.session.scalars(
            select(Subscriber.id)
            .where(left_before(cutoff))
            .order_by(_left_at, Subscriber.id)
            .limit(limit)
        )
    )


# When a subscriber left: when they unsubscribed or, if suppressed without unsubscribing
# (a hard bounce), when that happened.
_left_at = func.coalesce(Subscriber.unsubscribed_at, Subscriber.updated_at)


def left_before(cutoff: datetime) -> Any:
    """The condition of a subscriber who left before `cutoff`."""
    return and_(Subscriber.status.in_(LEFT), _left_at < cutoff)


def _keep_suppressed(email: str, pattern: re.Pattern[str], *, actor: str, now: datetime) -> None:
    """Leave only the hash of the address on the suppression list (an entry there already
    keeps its reason, and loses the address)."""
    suppressions.suppress(email, SuppressionReason.ERASED, actor=actor, now=now)
    entry = suppressions.find(email)
    if entry is not None:
        entry.email = None
        entry.detail = pattern.sub(ERASED, entry.detail)


def _forget_records(ids: list[int], pattern: re.Pattern[str], *, now: datetime) -> None:
    """Delete consent history and subscriptions, cancel what is still queued, and take the
    address out of the errors and bounce reports recorded for them."""
    db.session.execute(delete(ConsentEvent).where(ConsentEvent.subscriber_id.in_(ids)))
    db.session.execute(delete(Subscription).where(Subscription.subscriber_id.in_(ids)))
    # Those a worker holds now are cancelled too: it finds its lease gone and records no
    # failure (whose SMTP reply would quote the address); a send that did go is still
    # recorded as sent.
    unsent = Delivery.subscriber_id.in_(ids) & Delivery.status.in_(
        [DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
    )
    counting.moving(unsent, DeliveryStatus.CANCELLED, now=now)
    db.session.execute(
        update(Delivery)
        .where(unsent)
        .values(
            status=DeliveryStatus.CANCELLED,
            last_error="erased",
            lease_owner=None,
            lease_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    _scrub(Delivery.last_error, pattern, Delivery.subscriber_id.in_(ids))
    _scrub(BounceEvent.diagnostic, pattern, BounceEvent.subscriber_id.in_(ids))


def _scrub_elsewhere(emails: list[str], pattern: re.Pattern[str], *, now: datetime) -> None:
    """Take the addresses out of texts not tied to the subscriber: bounce reports that
    matched nobody, the audit log, unreadable inbound mail, lists not yet imported and
    messages sent through the contact form."""
    contact.forget_addresses(emails)
    mentions = [func.lower(BounceEvent.diagnostic).like(_needle(e), escape="\\") for e in emails]
    _scrub(BounceEvent.diagnostic, pattern, BounceEvent.subscriber_id.is_(None), or_(*mentions))
    detail = func.lower(cast(AuditEvent.detail, String))
    found = or_(*(detail.like(_needle(e), escape="\\") for e in emails))
    for event in db.session.scalars(select(AuditEvent).where(found)):
        event.detail = _replace_in(event.detail, pattern)
    for message_id in _ids_mentioning(InboundMessage, pattern):
        db.session.execute(delete(InboundMessage).where(InboundMessage.id == message_id))
    for import_id in _ids_mentioning(SubscriberImport, pattern):
        entry = db.session.get_one(SubscriberImport, import_id)
        entry.content = b""
        entry.discarded_at = entry.discarded_at or now
    # A file's name is only a label: any mention goes, even inside a longer name.
    loose = re.compile("|".join(re.escape(email) for email in emails), re.IGNORECASE)
    named = or_(
        *(func.lower(SubscriberImport.filename).like(_needle(e), escape="\\") for e in emails)
    )
    for entry in db.session.scalars(select(SubscriberImport).where(named)):
        entry.filename = loose.sub(ERASED, entry.filename)


def _scrub(column: Any, pattern: re.Pattern[str], *where: Any) -> None:
    """Replace the addresses inside one text column, in the rows `where` picks."""
    table = column.class_
    for row_id, value in db.session.execute(select(table.id, column).where(*where)).all():
        cleaned = pattern.sub(ERASED, value) if value else value
        if cleaned != value:
            statement = update(table).where(table.id == row_id).values({column.key: cleaned})
            db.session.execute(statement.execution_options(synchronize_session=False))


def _tombstone(subscriber: Subscriber, *, now: datetime) -> None:
    """Blank the row that stays behind, and revoke every link ever sent to it."""
    subscriber.email = ""
    subscriber.email_key = f"erased-{subscriber.id}"
    subscriber.status = SubscriberStatus.ERASED
    subscriber.token_version += 1
    subscriber.generation += 1
    subscriber.confirmed_at = None
    subscriber.unsubscribed_at = None
    # What they said about their work goes with the address.
    subscriber.organisation_type = None
    subscriber.areas = []
    subscriber.updated_at = now


def _replace_in(value: Any, pattern: re.Pattern[str]) -> Any:
    """A copy of a JSON value with the addresses replaced in every string, keys included."""
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, dict):
        return {_replace_in(k, pattern): _replace_in(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_in(item, pattern) for item in value]
    return value


def _ids_mentioning(model: Any, pattern: re.Pattern[str]) -> list[int]:
    """Ids of the stored messages or files that hold one of the addresses, in any of their
    columns, read a few rows at a time."""
    binary = re.compile(pattern.pattern.encode(), re.IGNORECASE)
    columns = [c for c in model.__table__.columns if c.key != "id"]
    rows = db.session.execute(select(model.id, *columns).execution_options(yield_per=50))
    return [
        row[0]
        for row in rows
        if any(binary.search(v if isinstance(v, bytes) else str(v).encode()) for v in row[1:])
    ]


def _pattern(emails: Sequence[str]) -> re.Pattern[str]:
    """The addresses as whole addresses, in any case: not a part of a longer one
    (ann@example.org is not in joann@example.org or ann@example.org.uk)."""
    either = "|".join(re.escape(email) for email in emails)
    return re.compile(
        rf"(?<![\w.!#$%&'*+/=?^`{{|}}~-])(?:{either})(?![\w-]|\.[\w-])", re.IGNORECASE
    )


def _needle(email: str) -> str:
    """A LIKE pattern that finds the address inside a lower-cased text."""
    return f"%{escape_like(email.casefold())}%"

"""The delivery queue: claim due deliveries with a lease, record each outcome."""

from __future__ import annotations

import json
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import cast

from sqlalchemy import ColumnElement
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Update
from sqlalchemy import column
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import ARRAY

from mailer.database import among
from mailer.database import on_postgresql
from mailer.database import row_count
from mailer.delivery.enquiries import enquiry_still_wanted
from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import ContactMessage
from mailer.models import Csp
from mailer.models import CspStatus
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import MessageKind
from mailer.models import RunState
from mailer.models import SendRun
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import counting


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
    has run out (it crashed). The emails of the subscription lifecycle (confirm, manage,
    welcome) go first, so a sign-up never waits behind a digest; then list mail of runs that
    are sending (not paused or cancelled). On PostgreSQL the inner SELECT skips rows other
    workers have locked; on SQLite each UPDATE is atomic. Each claim counts as an attempt,
    recorded before anything is sent.
    """
    queued = Delivery.status == DeliveryStatus.QUEUED
    sending = select(SendRun.id).where(SendRun.state == RunState.SENDING)
    of_runs = Delivery.run_id.in_(sending)
    expired = (Delivery.status == DeliveryStatus.SENDING) & (Delivery.lease_expires_at < now)
    ready = queued & (Delivery.next_attempt_at <= now)
    # Each statement reads one index in order: the lifecycle emails (a partial index), the
    # list mail of each sending run (ix_deliveries_run_status, so a paused run's queued rows
    # are never walked), then leases that ran out (few: what crashed workers held).
    runs = db.session.scalars(sending.order_by(SendRun.id)).all()
    claimed: list[int] = []
    for condition, due in (
        (Delivery.run_id.is_(None), ready),
        *((Delivery.run_id == run_id, ready) for run_id in runs),
        (or_(Delivery.run_id.is_(None), of_runs), expired),
    ):
        if len(claimed) >= limit:
            break
        left = limit - len(claimed)
        claimed += _claim(condition & due, owner=owner, limit=left, lease=lease, now=now)
    return sorted(claimed)


def _claim(
    condition: ColumnElement[bool], *, owner: str, limit: int, lease: timedelta, now: datetime
) -> list[int]:
    """Lease up to `limit` deliveries that meet `condition`, oldest due first."""
    due = (
        select(Delivery.id)
        .where(condition)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return list(
        db.session.scalars(
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
    )


def renew_leases(
    delivery_ids: Sequence[int],
    *,
    owner: str,
    sendable: Mapping[MessageKind, frozenset[SubscriberStatus]],
    lease: timedelta,
    now: datetime,
) -> set[int]:
    """Just before sending a chunk: keep the leases that are still ours, whose subscriber
    still wants the email (`sendable` maps each kind to the statuses it needs) and whose run is
    still sending. Returns the ids to send; the rest go to `settle_unwanted`.

    A lease with at least half of it left is only read, not written: rewriting it would make a
    new version of each row, with an entry in each of its indexes, for nothing. Only the
    leases that run out sooner are renewed."""
    if not delivery_ids:
        return set()
    wanted = _wanted(sendable)
    sending = exists().where(SendRun.id == Delivery.run_id, SendRun.state == RunState.SENDING)
    still = (wanted, or_(Delivery.run_id.is_(None), sending))
    fresh = Delivery.lease_expires_at >= now + lease / 2
    kept = set(
        db.session.scalars(
            select(Delivery.id).where(
                among(Delivery.id, delivery_ids), _held_by(owner), fresh, *still
            )
        )
    )
    rest = [delivery_id for delivery_id in delivery_ids if delivery_id not in kept]
    if not rest:
        return kept
    renewed = db.session.scalars(
        _ours(rest, owner)
        .where(*still)
        .values(lease_expires_at=now + lease, updated_at=now)
        .returning(Delivery.id)
    )
    return kept | set(renewed)


def extend_leases(
    delivery_ids: Sequence[int], *, owner: str, lease: timedelta, now: datetime
) -> None:
    """Keep the leases `owner` still holds on deliveries it sends later in the same batch;
    only those with less than half a lease left are written."""
    if not delivery_ids:
        return
    db.session.execute(
        _ours(delivery_ids, owner)
        .where(Delivery.lease_expires_at < now + lease / 2)
        .values(lease_expires_at=now + lease)
    )


def settle_unwanted(
    delivery_ids: Sequence[int],
    *,
    owner: str,
    sendable: Mapping[MessageKind, frozenset[SubscriberStatus]],
    now: datetime,
) -> tuple[int, int]:
    """Settle claimed deliveries that must not be sent now: those whose run was cancelled or
    whose subscriber no longer wants them are cancelled; the rest (a paused run, or one
    paused and resumed since the renewal) go back to the queue uncounted. Deliveries another
    worker has taken over are left alone. Returns (cancelled, given back)."""
    if not delivery_ids:
        return 0, 0
    rows = db.session.execute(
        select(Delivery.id, Delivery.kind, SendRun.state, Subscriber.status)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .outerjoin(SendRun, SendRun.id == Delivery.run_id)
        .where(among(Delivery.id, delivery_ids), _held_by(owner))
    ).all()
    back = [
        delivery_id
        for delivery_id, kind, state, status in rows
        if state is not RunState.CANCELLED and status in sendable[kind]
    ]
    give_back(back, owner=owner, at=now, now=now)
    cancelled = 0
    for delivery_id, _, state, _ in rows:
        if delivery_id in back:
            continue
        reason = "run cancelled" if state is RunState.CANCELLED else "subscriber changed"
        record_cancelled(delivery_id, owner=owner, reason=f"{reason} before it was sent", now=now)
        cancelled += 1
    return cancelled, len(back)


def record_sent(sent: Sequence[tuple[int, str]], *, now: datetime) -> None:
    """Mark deliveries sent, each with the Message-ID it went out with, in one statement.

    Recorded even if a lease ran out meanwhile: the message did go, and saying so keeps
    another worker from sending it again. A delivery already marked sent keeps its first id.
    """
    if not sent:
        return
    table = cast(Table, Delivery.__table__)
    # A bounce that came back before the send was recorded stays recorded.
    unsettled = table.c.status.not_in((DeliveryStatus.SENT, DeliveryStatus.BOUNCED))
    counting.moving(
        among(table.c.id, [d for d, _ in sent]) & unsettled, DeliveryStatus.SENT, now=now
    )
    delivery_id, message_id = _sent_rows(sent)
    db.session.execute(
        update(table)
        .where(table.c.id == delivery_id, unsettled)
        .values(
            message_id=message_id,
            status=DeliveryStatus.SENT,
            sent_at=now,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
    )


def _sent_rows(sent: Sequence[tuple[int, str]]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The (delivery id, Message-ID) pairs of a chunk as a table to UPDATE … FROM, bound as
    one value or two: one round trip, and the same statement text whatever the chunk's size,
    so it is compiled once (a VALUES list, or executemany's parameters one by one, cost more
    than the update itself). PostgreSQL: unnest of two arrays; SQLite: json_each of pairs."""
    if on_postgresql():
        ids, message_ids = zip(*sent, strict=True)
        rows = (
            func.unnest(
                literal(list(ids), ARRAY(Integer)), literal(list(message_ids), ARRAY(String))
            )
            .table_valued(column("delivery_id", Integer), column("sent_message_id", String))
            .render_derived(name="sent")
        )
        return rows.c.delivery_id, rows.c.sent_message_id
    pairs = func.json_each(literal(json.dumps(sent), String)).table_valued("value").alias("sent")
    return (
        func.json_extract(pairs.c.value, "$[0]"),
        func.json_extract(pairs.c.value, "$[1]", type_=String),
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
        _ours(delivery_ids, owner).values(
            status=DeliveryStatus.QUEUED,
            attempts=Delivery.attempts - 1,
            next_attempt_at=at,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
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
    return row_count(result)


def finish_runs(*, now: datetime) -> int:
    """Mark sending runs with nothing left to send as done, when their last delivery settled;
    return how many."""
    outstanding = exists().where(
        Delivery.run_id == SendRun.id,
        Delivery.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.SENDING)),
    )
    last = (
        select(func.max(Delivery.updated_at)).where(Delivery.run_id == SendRun.id).scalar_subquery()
    )
    result = db.session.execute(
        update(SendRun)
        .where(SendRun.state == RunState.SENDING, ~outstanding)
        .values(state=RunState.DONE, completed_at=func.coalesce(last, now), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return row_count(result)


def _wanted(sendable: Mapping[MessageKind, frozenset[SubscriberStatus]]) -> ColumnElement[bool]:
    """The delivery's subscriber still wants it (`sendable` maps each kind to the statuses it
    needs), its partnership is current and has a mailbox, or the message it answers is held."""
    return or_(
        *(
            Delivery.kind.in_([kind for kind, needs in sendable.items() if needs == statuses])
            & exists().where(
                Subscriber.id == Delivery.subscriber_id, Subscriber.status.in_(statuses)
            )
            for statuses in set(sendable.values())
        ),
        exists().where(Csp.id == Delivery.csp_id, Csp.status == CspStatus.ACTIVE, Csp.email != ""),
        # A reply to a contact message: while the message is held.
        exists().where(ContactMessage.id == Delivery.contact_message_id),
        enquiry_still_wanted(),
        # An email to a case study's submitter (whether it still applies is checked when made).
        exists().where(CaseStudy.id == Delivery.case_study_id),
    )


def _held_by(owner: str) -> ColumnElement[bool]:
    """The lease is still `owner`'s: no other worker has taken the delivery over since."""
    return (Delivery.lease_owner == owner) & (Delivery.status == DeliveryStatus.SENDING)


def _ours(delivery_ids: Sequence[int], owner: str) -> Update:
    """An UPDATE of deliveries that touches only those whose lease `owner` still holds."""
    return (
        update(Delivery)
        .where(among(Delivery.id, delivery_ids), _held_by(owner))
        .execution_options(synchronize_session=False)
    )


def _settle(delivery_id: int, owner: str, *, now: datetime, **values: object) -> None:
    """Record an outcome and release the lease, unless another worker has taken it over."""
    status = values["status"]
    if isinstance(status, DeliveryStatus):
        counting.moving(Delivery.id.in_([delivery_id]) & _held_by(owner), status, now=now)
    db.session.execute(
        _ours([delivery_id], owner).values(
            lease_owner=None, lease_expires_at=None, updated_at=now, **values
        )
    )

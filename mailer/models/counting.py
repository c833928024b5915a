"""Keeping the counts of send runs and the tallies of messages sent, in the transaction that
records each outcome, so that staff pages read a few rows instead of counting deliveries.

A move is counted just before the UPDATE that makes it, from the rows that UPDATE will touch,
read and locked (FOR UPDATE on PostgreSQL; SQLite has one writer at a time) and grouped in
the database: a chunk costs one statement to read, one UPDATE per run and one upsert per
bucket, whatever its size. Runs are updated in id order, so two transactions never wait on
each other's runs in a circle.
"""

from __future__ import annotations

from collections import Counter
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from typing import cast

from sqlalchemy import ColumnElement
from sqlalchemy import Table
from sqlalchemy import case
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from mailer.database import dialect_insert
from mailer.extensions import db
from mailer.models.sending import BounceEvent
from mailer.models.sending import Delivery
from mailer.models.sending import SendRun
from mailer.models.states import BounceKind
from mailer.models.states import DeliveryStatus
from mailer.models.states import MessageKind
from mailer.models.tallies import HOUR
from mailer.models.tallies import RUN_BUCKET
from mailer.models.tallies import HourlySends
from mailer.models.tallies import RunSends

# The column of a run that counts its deliveries in each settled status.
COLUMNS = {
    DeliveryStatus.SENT: "sent",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.CANCELLED: "cancelled",
    DeliveryStatus.BOUNCED: "bounced",
}
# Statuses of a delivery that went out: recording it as sent again changes nothing.
GONE = (DeliveryStatus.SENT, DeliveryStatus.BOUNCED)


def moving(where: ColumnElement[bool], to: DeliveryStatus, *, now: datetime) -> None:
    """Count the deliveries that meet `where` as moving to status `to` at `now`: call it just
    before the UPDATE with the same condition. Their runs gain `to` and lose the settled
    status each had; those that go out (to sent, from neither sent nor bounced) count in
    their run's ten-second bucket and the hour's tally of their kind. A move to queued or
    sending (a retry, a lease given back) changes no count and reads nothing."""
    if to not in COLUMNS:
        return
    locked = (
        select(Delivery.run_id, Delivery.kind, Delivery.status)
        .where(where)
        .with_for_update()
        .subquery()
    )
    rows = db.session.execute(
        select(locked.c.run_id, locked.c.kind, locked.c.status, func.count()).group_by(
            locked.c.run_id, locked.c.kind, locked.c.status
        )
    ).all()
    runs: dict[int, Counter[str]] = defaultdict(Counter)
    went: Counter[MessageKind] = Counter()
    went_in_runs: Counter[int | None] = Counter()
    for run_id, kind, status, count in rows:
        if status == to:
            continue
        if to is DeliveryStatus.SENT and status not in GONE:
            went[kind] += count
            went_in_runs[run_id] += count
        if run_id is None:
            continue
        runs[run_id][COLUMNS[to]] += count
        if status in COLUMNS:
            runs[run_id][COLUMNS[status]] -= count
    add_to_runs(runs, sent_at=now if went else None)
    if went:
        _went_out(went_in_runs, went, now=now)


def add_to_runs(changes: Mapping[int, Counter[str]], *, sent_at: datetime | None = None) -> None:
    """Add to the counts of runs ({run id: {"sent": 3, "queued"…}}), one UPDATE per run in id
    order; `sent_at` is when messages of theirs went out, if any did."""
    table = cast(Table, SendRun.__table__)
    for run_id in sorted(changes):
        values: dict[Any, Any] = {
            table.c[name]: table.c[name] + count for name, count in changes[run_id].items() if count
        }
        if not values:
            continue
        if sent_at is not None and changes[run_id]["sent"] > 0:
            values[table.c.first_sent_at] = func.coalesce(table.c.first_sent_at, sent_at)
            later = table.c.last_sent_at.is_(None) | (table.c.last_sent_at < sent_at)
            values[table.c.last_sent_at] = case((later, sent_at), else_=table.c.last_sent_at)
        db.session.execute(update(table).where(table.c.id == run_id).values(values))


def complained(delivery_id: int) -> None:
    """Count a complaint about a delivery of a run, unless one about it was counted before:
    call it before the complaint's event is added. Locks the delivery, so that two reports
    about one email read at once count once."""
    run_id = db.session.scalar(
        select(Delivery.run_id).where(Delivery.id == delivery_id).with_for_update()
    )
    earlier = exists().where(
        BounceEvent.delivery_id == delivery_id, BounceEvent.kind == BounceKind.COMPLAINT
    )
    if run_id is not None and not db.session.scalar(select(earlier)):
        add_to_runs({run_id: Counter(complained=1)})


def _went_out(runs: Counter[int | None], went: Counter[MessageKind], *, now: datetime) -> None:
    """Add the messages sent at `now` to their runs' buckets and to the hour's tallies."""
    second = int(now.timestamp())
    bucket = second - second % RUN_BUCKET
    for run_id in sorted(run_id for run_id in runs if run_id is not None):
        _upsert(RunSends, {"run_id": run_id, "bucket": bucket}, runs[run_id])
    for kind in sorted(went):
        _upsert(HourlySends, {"hour": second - second % HOUR, "kind": kind}, went[kind])


def _upsert(model: Any, key: dict[str, Any], count: int) -> None:
    """Add `count` to the row of `model` with `key`, making it if it is not there."""
    table = cast(Table, model.__table__)
    statement = dialect_insert(table).values(**key, count=count)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=list(key), set_={"count": table.c.count + statement.excluded.count}
        )
    )

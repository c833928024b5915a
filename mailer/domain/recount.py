"""The check of the counts kept as deliveries settle: count the deliveries again, say where
the kept counts drifted from them, and put them right if asked.

Deliveries retention has deleted live on in its summaries, per run and status: the counts of
runs are checked with them. What summaries cannot give again (complaints, the time of each
send) is checked only where nothing was summarised: a run's complaints, first and last send
and ten-second tallies when none of its deliveries were, the hourly tallies from two days
after the last day summarised.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy import Integer
from sqlalchemy import cast
from sqlalchemy import delete
from sqlalchemy import distinct
from sqlalchemy import extract
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

from mailer.database import on_postgresql
from mailer.extensions import db
from mailer.models import BounceEvent
from mailer.models import BounceKind
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import DeliverySummary
from mailer.models import HourlySends
from mailer.models import MessageKind
from mailer.models import RunSends
from mailer.models import SendRun
from mailer.models.counting import COLUMNS
from mailer.models.tallies import HOUR
from mailer.models.tallies import RUN_BUCKET

WENT = (DeliveryStatus.SENT, DeliveryStatus.BOUNCED)


@dataclass(frozen=True)
class Drift:
    """A kept count that differs from the deliveries: `what` of run `run_id` (None for the
    hourly tallies), kept and counted."""

    run_id: int | None
    what: str
    kept: Any
    counted: Any


def recount(*, fix: bool, run_ids: Sequence[int] | None = None) -> list[Drift]:
    """Count again the runs `run_ids` (all when None) and, for all runs, the hourly tallies;
    return what drifted, after writing the counted figures when `fix`."""
    runs = db.session.scalars(
        select(SendRun).where(SendRun.id.in_(run_ids)) if run_ids is not None else select(SendRun)
    ).all()
    drifts = [drift for run in runs for drift in _run(run, fix=fix)]
    if run_ids is None:
        drifts += _hours(fix=fix)
    return drifts


def _run(run: SendRun, *, fix: bool) -> list[Drift]:
    """The drift of one run's counts, put right when `fix`."""
    counted = _settled(run.id)
    whole = not db.session.scalar(
        select(DeliverySummary.id).where(DeliverySummary.run_id == run.id).limit(1)
    )
    if whole:
        counted.update(_whole(run.id))
    drifts = [
        Drift(run.id, name, getattr(run, name), value)
        for name, value in counted.items()
        if getattr(run, name) != value
    ]
    buckets = _run_buckets(run.id) if whole else None
    kept_buckets = dict(
        db.session.execute(
            select(RunSends.bucket, RunSends.count).where(RunSends.run_id == run.id)
        ).all()
    )
    if buckets is not None and buckets != kept_buckets:
        drifts.append(Drift(run.id, "sends per ten seconds", kept_buckets, buckets))
    if fix and drifts:
        for name, value in counted.items():
            setattr(run, name, value)
        if buckets is not None:
            db.session.execute(delete(RunSends).where(RunSends.run_id == run.id))
            rows = [{"run_id": run.id, "bucket": b, "count": n} for b, n in buckets.items()]
            if rows:
                db.session.execute(insert(RunSends), rows)
    return drifts


def _settled(run_id: int) -> dict[str, Any]:
    """The run's deliveries in each settled status, with those summarised."""
    counted = dict.fromkeys(COLUMNS.values(), 0)
    for model, number in (
        (Delivery, func.count()),
        (DeliverySummary, func.sum(DeliverySummary.count)),
    ):
        rows = db.session.execute(
            select(model.status, number).where(model.run_id == run_id).group_by(model.status)
        )
        for status, count in rows:
            if status in COLUMNS:
                counted[COLUMNS[status]] += int(count or 0)
    return counted


def _whole(run_id: int) -> dict[str, Any]:
    """What only the deliveries themselves can tell: complaints, first and last send."""
    complained = db.session.scalar(
        select(func.count(distinct(BounceEvent.delivery_id)))
        .join(Delivery, Delivery.id == BounceEvent.delivery_id)
        .where(Delivery.run_id == run_id, BounceEvent.kind == BounceKind.COMPLAINT)
    )
    first, last = db.session.execute(
        select(func.min(Delivery.sent_at), func.max(Delivery.sent_at)).where(
            Delivery.run_id == run_id, Delivery.sent_at.is_not(None)
        )
    ).one()
    return {"complained": int(complained or 0), "first_sent_at": first, "last_sent_at": last}


def _run_buckets(run_id: int) -> dict[int, int]:
    bucket = epoch_seconds(Delivery.sent_at) // RUN_BUCKET * RUN_BUCKET
    rows = db.session.execute(
        select(bucket, func.count())
        .where(Delivery.run_id == run_id, Delivery.sent_at.is_not(None))
        .group_by(bucket)
    )
    return {int(b): int(n) for b, n in rows}


def _hours(*, fix: bool) -> list[Drift]:
    """The drift of the hourly tallies since two days after the last day summarised."""
    last_day = db.session.scalar(select(func.max(DeliverySummary.day)))
    since = 0
    if last_day is not None:
        start = datetime.combine(last_day + timedelta(days=2), datetime.min.time(), UTC)
        since = int(start.timestamp())
    hour = epoch_seconds(Delivery.sent_at) // HOUR * HOUR
    counted: dict[tuple[int, Any], int] = defaultdict(int)
    rows = db.session.execute(
        select(hour, Delivery.kind, func.count())
        .where(Delivery.status.in_(WENT), Delivery.sent_at.is_not(None), hour >= since)
        .group_by(hour, Delivery.kind)
    )
    for at, kind, count in rows:
        counted[int(at), kind] = int(count)
    kept = {
        (int(at), kind): int(count)
        for at, kind, count in db.session.execute(
            select(HourlySends.hour, HourlySends.kind, HourlySends.count).where(
                HourlySends.hour >= since
            )
        )
    }
    drifts = [
        Drift(None, _hour_name(at, kind), kept.get((at, kind), 0), counted.get((at, kind), 0))
        for at, kind in sorted(set(counted) | set(kept), key=lambda key: (key[0], key[1].value))
        if kept.get((at, kind), 0) != counted.get((at, kind), 0)
    ]
    if fix and drifts:
        db.session.execute(delete(HourlySends).where(HourlySends.hour >= since))
        rows_in = [{"hour": at, "kind": kind, "count": n} for (at, kind), n in counted.items()]
        if rows_in:
            db.session.execute(insert(HourlySends), rows_in)
    return drifts


def _hour_name(at: int, kind: MessageKind) -> str:
    return f"{kind.value} sent from {datetime.fromtimestamp(at, UTC):%Y-%m-%d %H:%M} UTC"


def epoch_seconds(column: Any) -> Any:
    """Whole seconds since 1970 of a UTC timestamp column, in the dialect at hand.

    SQLite keeps timestamps as naive UTC text, which strftime('%s') reads as UTC; PostgreSQL
    gives the epoch of a timestamptz with a fraction, which is rounded down, not to nearest.
    """
    if on_postgresql():
        return cast(func.floor(extract("epoch", column)), BigInteger)
    return cast(func.strftime("%s", column), Integer)

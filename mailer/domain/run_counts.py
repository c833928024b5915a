"""How many emails are in each status, for runs and for the dashboard, from the counts kept
as deliveries settle (mailer/models/counting.py) rather than by counting deliveries.

Only what is in flight is counted live: the deliveries being sent (as many as workers hold
leases on, read from an index), and the emails of the subscription lifecycle, which are few
and have their own partial index.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import func
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import DeliverySummary
from mailer.models import SendRun
from mailer.models.counting import COLUMNS

QUEUED = DeliveryStatus.QUEUED.value
SENDING = DeliveryStatus.SENDING.value


def status_counts(run_ids: Sequence[int]) -> dict[int, Counter[str]]:
    """How many deliveries of each run are in each status, counting those that retention
    has summarised and deleted too."""
    counts: dict[int, Counter[str]] = {run_id: Counter() for run_id in run_ids}
    if not run_ids:
        return counts
    sending = dict(
        db.session.execute(
            select(Delivery.run_id, func.count())
            .where(Delivery.run_id.in_(run_ids), Delivery.status == DeliveryStatus.SENDING)
            .group_by(Delivery.run_id)
        ).all()
    )
    columns = [getattr(SendRun, name) for name in COLUMNS.values()]
    rows = db.session.execute(
        select(SendRun.id, SendRun.recipients, *columns).where(SendRun.id.in_(run_ids))
    )
    for run_id, recipients, *settled in rows:
        count: Counter[str] = Counter()
        for status, number in zip(COLUMNS, settled, strict=True):
            count[status.value] = int(number)
        count[SENDING] = int(sending.get(run_id, 0))
        count[QUEUED] = int(recipients) - sum(count.values())
        # Only the statuses some are in, as a count of the deliveries gives.
        counts[run_id] = +count
    return counts


def email_counts() -> dict[str, int]:
    """Every email held, by status: list mail from its runs' counts (less what retention has
    summarised and deleted), the lifecycle emails counted on their partial index."""
    columns = [func.coalesce(func.sum(getattr(SendRun, name)), 0) for name in COLUMNS.values()]
    recipients, *settled = db.session.execute(
        select(func.coalesce(func.sum(SendRun.recipients), 0), *columns)
    ).one()
    counts: Counter[str] = Counter(
        {status.value: int(number) for status, number in zip(COLUMNS, settled, strict=True)}
    )
    queued = int(recipients) - sum(counts.values())
    summarised = db.session.execute(
        select(DeliverySummary.status, func.sum(DeliverySummary.count))
        .where(DeliverySummary.run_id.is_not(None))
        .group_by(DeliverySummary.status)
    )
    for status, number in summarised:
        counts[status.value] -= int(number)
    in_flight = db.session.execute(
        select(Delivery.run_id.is_(None), func.count())
        .where(Delivery.status == DeliveryStatus.SENDING)
        .group_by(Delivery.run_id.is_(None))
    )
    for of_lifecycle, number in in_flight:
        counts[SENDING] += int(number)
        queued -= 0 if of_lifecycle else int(number)
    counts[QUEUED] = max(0, queued)
    lifecycle_mail = db.session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.run_id.is_(None), Delivery.status != DeliveryStatus.SENDING)
        .group_by(Delivery.status)
    )
    for status, number in lifecycle_mail:
        counts[status.value] += int(number)
    return {status.value: counts[status.value] for status in DeliveryStatus}

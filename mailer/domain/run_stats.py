"""How a send run is going: counts, progress, send rate and messages sent over time."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from mailer.domain.run_counts import status_counts
from mailer.extensions import db
from mailer.models import DeliveryStatus
from mailer.models import RunSends
from mailer.models import SendRun

# The window the current send rate is measured over.
RATE_WINDOW = timedelta(seconds=60)
# Bucket widths, in seconds, from fine to coarse; a run that took under five minutes gets
# the finest, and the rest the finest that keeps the chart under MAX_BUCKETS bars.
SHORT_RUN = 300
WIDTHS = (10, 60, 300, 900, 3600, 6 * 3600, 86400)
MAX_BUCKETS = 180
OUTSTANDING = (DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value)


@dataclass(frozen=True)
class Progress:
    """Deliveries of one run by status, and the rate they are being sent at now."""

    counts: Counter[str]
    # Messages per second over the last RATE_WINDOW.
    rate: float

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def outstanding(self) -> int:
        return sum(self.counts[status] for status in OUTSTANDING)

    @property
    def percent(self) -> int:
        """Share of deliveries settled (sent, failed, cancelled or bounced), rounded down."""
        if not self.total:
            return 100
        return (self.total - self.outstanding) * 100 // self.total

    @property
    def eta(self) -> timedelta | None:
        """Time left at the current rate; None when done or when nothing is being sent."""
        if not self.outstanding or not self.rate:
            return None
        return timedelta(seconds=self.outstanding / self.rate)


@dataclass(frozen=True)
class Series:
    """Messages sent per bucket of `width`, oldest first, empty buckets included."""

    width: timedelta
    points: list[tuple[datetime, int]]

    @property
    def peak(self) -> int:
        return max((count for _, count in self.points), default=0)


def run_progress(run_id: int, *, now: datetime) -> Progress:
    """Count the run's deliveries by status and measure its send rate at `now`."""
    return Progress(counts=status_counts([run_id])[run_id], rate=send_rate(run_id, now=now))


def send_rate(run_id: int, *, now: datetime, window: timedelta = RATE_WINDOW) -> float:
    """Messages of the run sent in the `window` up to `now`, per second, to the nearest
    ten-second bucket: those of the buckets that start within it."""
    second = int(now.timestamp())
    sent = db.session.scalar(
        select(func.coalesce(func.sum(RunSends.count), 0)).where(
            RunSends.run_id == run_id,
            RunSends.bucket > second - window.total_seconds(),
            RunSends.bucket <= second,
        )
    )
    return int(sent or 0) / window.total_seconds()


def sent_over_time(run_id: int, *, now: datetime, live: bool = False) -> Series:
    """Messages of the run sent up to `now`, per bucket, from its ten-second tallies summed
    in one GROUP BY.

    The buckets run from the first message sent to the last, or to `now` when the run is
    `live`, so that a stall shows as empty bars.
    """
    run = db.session.get(SendRun, run_id)
    first, last = (run.first_sent_at, run.last_sent_at) if run else (None, None)
    if first is None or last is None or first > now:
        return Series(width=timedelta(seconds=WIDTHS[1]), points=[])
    end = now if live else min(last, now)
    width = bucket_width((end - first).total_seconds())
    bucket = RunSends.bucket // width
    rows = db.session.execute(
        select(bucket, func.sum(RunSends.count))
        .where(RunSends.run_id == run_id, RunSends.bucket <= int(now.timestamp()))
        .group_by(bucket)
    )
    counts = {int(number): int(count) for number, count in rows}
    start, stop = int(first.timestamp()) // width, int(end.timestamp()) // width
    points = [
        (datetime.fromtimestamp(number * width, UTC), counts.get(number, 0))
        for number in range(start, stop + 1)
    ]
    return Series(width=timedelta(seconds=width), points=points)


def bucket_width(span_seconds: float) -> int:
    """Seconds per bucket for a run that has been sending for `span_seconds`."""
    if span_seconds < SHORT_RUN:
        return WIDTHS[0]
    for width in WIDTHS[1:]:
        if span_seconds // width < MAX_BUCKETS:
            return width
    return WIDTHS[-1] * math.ceil(span_seconds / WIDTHS[-1] / MAX_BUCKETS)

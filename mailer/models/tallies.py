"""Messages sent, counted as they are recorded: per run in ten-second buckets (a run's
chart and send rate) and per hour and kind (deliverability), so that staff pages never
count deliveries. Written only by mailer/models/counting.py; kept when retention deletes the
deliveries, like the counts on a run."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from mailer.extensions import Base
from mailer.models.columns import stored_enum
from mailer.models.states import MessageKind

# The width, in seconds, of a run's buckets: the finest its chart shows.
RUN_BUCKET = 10
HOUR = 3600


class RunSends(Base):
    """Messages of one run recorded as sent in one ten-second bucket."""

    __tablename__ = "run_sends"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("send_runs.id", ondelete="CASCADE"), primary_key=True
    )
    # Seconds since 1970 (UTC) at the start of the bucket, a multiple of RUN_BUCKET.
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(default=0)


class HourlySends(Base):
    """Messages of one kind recorded as sent in one hour (UTC): whole hours add up to the
    days of any time zone that differs from UTC by whole hours."""

    __tablename__ = "hourly_sends"

    # Seconds since 1970 (UTC) at the start of the hour.
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[MessageKind] = mapped_column(stored_enum(MessageKind), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)

"""Send runs, one delivery per email, what came back, and the summaries of old deliveries."""

from __future__ import annotations

from datetime import date
from datetime import datetime

from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import LargeBinary
from sqlalchemy import Select
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from mailer.extensions import Base
from mailer.models.columns import RandomKey
from mailer.models.columns import UTCDateTime
from mailer.models.columns import stored_enum
from mailer.models.directory import Csp
from mailer.models.news import Bulletin
from mailer.models.news import BulletinItem
from mailer.models.news import NewsItem
from mailer.models.states import BounceKind
from mailer.models.states import DeliveryStatus
from mailer.models.states import Frequency
from mailer.models.states import MessageKind
from mailer.models.states import NewsState
from mailer.models.states import RunState
from mailer.models.subscribers import Subscriber


class SendRun(Base):
    """One sending of list mail: a digest of a period, or the alert of one news item.

    Its key is unique, so a retried job or a second scheduler can never make it twice.
    """

    __tablename__ = "send_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "daily:2026-11-25T07:00:00+00:00", "weekly:...", "immediate:item-42".
    key: Mapped[str] = mapped_column(String(80), unique=True)
    frequency: Mapped[Frequency] = mapped_column(stored_enum(Frequency))
    # The half-open period [start, end) of a digest; an alert has none.
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    news_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("news_items.id", ondelete="SET NULL"), index=True
    )
    # The id of the bulletin a run sends (its frequency is then immediate: everyone gets it at
    # once). Sent bulletins are never deleted.
    bulletin_id: Mapped[int | None] = mapped_column(index=True)
    state: Mapped[RunState] = mapped_column(stored_enum(RunState))
    # How many deliveries the enqueue wrote.
    recipients: Mapped[int] = mapped_column(default=0)
    # How many of them have settled so far, kept as they settle (mailer/models/counting.py)
    # and counting those retention has summarised; queued is recipients less these and those
    # being sent. Complained counts emails reported as spam, once each.
    sent: Mapped[int] = mapped_column(default=0, server_default="0")
    failed: Mapped[int] = mapped_column(default=0, server_default="0")
    cancelled: Mapped[int] = mapped_column(default=0, server_default="0")
    bounced: Mapped[int] = mapped_column(default=0, server_default="0")
    complained: Mapped[int] = mapped_column(default=0, server_default="0")
    # When its first and latest messages were recorded as sent.
    first_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    news_item: Mapped[NewsItem | None] = relationship()
    bulletin: Mapped[Bulletin | None] = relationship(
        primaryjoin="foreign(SendRun.bulletin_id) == Bulletin.id"
    )

    def items_statement(self) -> Select[NewsItem]:
        """SELECT of the items the run carries now: its own item, the items its bulletin
        features, or those of its period, as long as they are published (an item withdrawn
        meanwhile is left out). Urgent items went to digest readers at once: digests leave
        them out."""
        statement = select(NewsItem).where(NewsItem.state == NewsState.PUBLISHED)
        if self.bulletin_id is not None:
            featured = select(BulletinItem.news_item_id).where(
                BulletinItem.bulletin_id == self.bulletin_id
            )
            return statement.where(NewsItem.id.in_(featured))
        if self.frequency is Frequency.IMMEDIATE:
            return statement.where(NewsItem.id == self.news_item_id)
        return statement.where(
            NewsItem.published_at >= self.period_start,
            NewsItem.published_at < self.period_end,
            NewsItem.urgent.is_(False),
        )


def _where_set(column: str) -> Index:
    """An index of the deliveries of `column` that have one (most have none)."""
    where = text(f"{column} IS NOT NULL")
    return Index(f"ix_deliveries_{column}", column, sqlite_where=where, postgresql_where=where)


class Delivery(Base):
    """One email to one subscriber: written before it is sent and updated after."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # Only what the queue reads is indexed: each index costs every enqueued row an
        # insertion (see bench/README.md). Leases that ran out are found among those being
        # sent; Message-IDs and partnerships only where a delivery has one.
        Index(
            "ix_deliveries_leased",
            "lease_expires_at",
            sqlite_where=text("status = 'sending'"),
            postgresql_where=text("status = 'sending'"),
        ),
        *(
            _where_set(column)
            for column in (
                "message_id",
                "csp_id",
                "case_study_id",
                "enquiry_id",
                "contact_message_id",
            )
        ),
        # The emails of the subscription lifecycle, claimed before any list mail.
        Index(
            "ix_deliveries_lifecycle_due",
            "status",
            "next_attempt_at",
            "id",
            sqlite_where=text("run_id IS NULL"),
            postgresql_where=text("run_id IS NULL"),
        ),
        Index("ix_deliveries_run_status", "run_id", "status", "next_attempt_at", "id"),
        UniqueConstraint("run_id", "subscriber_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MessageKind] = mapped_column(stored_enum(MessageKind))
    # The send run of list mail; none for the emails of the subscription lifecycle.
    run_id: Mapped[int | None] = mapped_column(ForeignKey("send_runs.id", ondelete="CASCADE"))
    # The subscriber it goes to; none for an email to a partnership's mailbox.
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    # The partnership (CSP directory) whose role mailbox it goes to, for the CSP_* kinds. No
    # foreign key: SQLite adds one only by rebuilding the table (see migration 0012).
    csp_id: Mapped[int | None] = mapped_column()
    # The case study whose submitter it goes to, the enquiry it relays to a case study's
    # contact, or the contact-form message it answers (no foreign keys, as csp_id).
    case_study_id: Mapped[int | None] = mapped_column()
    enquiry_id: Mapped[int | None] = mapped_column()
    contact_message_id: Mapped[int | None] = mapped_column()
    status: Mapped[DeliveryStatus] = mapped_column(stored_enum(DeliveryStatus))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(255))
    # Drawn for each delivery and signed into its return path, so that a bounce binds to this
    # very email and never to a later one given the same id. None on deliveries made before
    # keys were drawn, whose return paths name the id alone.
    return_key: Mapped[str | None] = mapped_column(String(20), default=RandomKey())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    subscriber: Mapped[Subscriber | None] = relationship()
    csp: Mapped[Csp | None] = relationship(primaryjoin="foreign(Delivery.csp_id) == Csp.id")


class BounceEvent(Base):
    """What came back: a bounce, a complaint or an unsubscribe by email, and what it was about."""

    __tablename__ = "bounce_events"
    __table_args__ = (Index("ix_bounce_events_kind_at", "kind", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BounceKind] = mapped_column(stored_enum(BounceKind))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), index=True
    )
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), index=True
    )
    # The enhanced status code (5.1.1) and the remote server's words, when a DSN gives them.
    status: Mapped[str] = mapped_column(String(20), default="")
    diagnostic: Mapped[str] = mapped_column(String(1000), default="")


class InboundMessage(Base):
    """A message the bounce inbox could not act on, kept for staff: cut to a size, so many an
    hour from one connecting address, and deleted by retention."""

    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_messages_peer_received_at", "peer", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_to: Mapped[str] = mapped_column(String(1000))
    problem: Mapped[str] = mapped_column(String(400))
    # The start of the message as received: its headers, and its body up to a size.
    content: Mapped[bytes] = mapped_column(LargeBinary)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The IP address of the client that delivered it ("" for messages kept before this).
    peer: Mapped[str] = mapped_column(String(45), default="", server_default="")


class DeliverySummary(Base):
    """What remains of delivery records deleted by retention: counts per day, run, kind and
    outcome, so that run pages and charts keep their numbers."""

    __tablename__ = "delivery_summaries"
    __table_args__ = (Index("ix_delivery_summaries_day", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The day (UTC) the deliveries were created.
    day: Mapped[date] = mapped_column(Date)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("send_runs.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[MessageKind] = mapped_column(stored_enum(MessageKind))
    status: Mapped[DeliveryStatus] = mapped_column(stored_enum(DeliveryStatus))
    count: Mapped[int] = mapped_column()
    summarised_at: Mapped[datetime] = mapped_column(UTCDateTime())

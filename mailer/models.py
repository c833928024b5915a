"""Storage: typed SQLAlchemy models and the enums of their states."""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Column
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Dialect
from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import LargeBinary
from sqlalchemy import Select
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import TypeDecorator
from sqlalchemy import UniqueConstraint
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from mailer.clock import as_utc
from mailer.extensions import Base


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store aware UTC; SQLite keeps it as text without the offset."""
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC whatever the database gave back."""
        return None if value is None else as_utc(value)


def _enum(cls: type[enum.Enum]) -> Enum:
    """Store an enum by value as a plain string column (no database enum type)."""
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    SUPPRESSED = "suppressed"
    # Personal data removed on request or by retention; the row stays so that delivery
    # records keep their counts, and the address lives on only as a suppression hash.
    ERASED = "erased"


# Who may be emailed a link to a copy of their data: everyone held who may still be mailed.
# Suppressed addresses bounced or complained, so nothing more goes to them; staff answer them.
DATA_COPY_RECIPIENTS = frozenset(
    {SubscriberStatus.PENDING, SubscriberStatus.ACTIVE, SubscriberStatus.UNSUBSCRIBED}
)


class Frequency(enum.StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


class ConsentAction(enum.StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    CHANGED = "changed"
    UNSUBSCRIBED = "unsubscribed"
    # Added by staff from a list import, with the consent source the list gave.
    IMPORTED = "imported"


class MessageKind(enum.StrEnum):
    CONFIRM = "confirm"
    # The confirmation asked of someone imported from a list without a consent record.
    INVITE = "invite"
    MANAGE = "manage"
    # A single-use link to download a copy of everything held about the address.
    DATA_COPY = "data_copy"
    WELCOME = "welcome"
    # List mail of a send run: one news item at once, or a digest of a period.
    ALERT = "alert"
    DIGEST = "digest"


class StaffRole(enum.StrEnum):
    EDITOR = "editor"
    ADMIN = "admin"


class NewsState(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Accepted by the relay, then returned by the receiving server.
    BOUNCED = "bounced"


class SuppressionReason(enum.StrEnum):
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCES = "soft_bounces"
    COMPLAINT = "complaint"
    MANUAL = "manual"
    # The subscriber was erased: only this entry remembers the address, so that no import
    # mails it again. A fresh sign-up and confirmation takes it off.
    ERASED = "erased"


class BounceKind(enum.StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"
    # A message to the unsubscribe address of List-Unsubscribe.
    UNSUBSCRIBE = "unsubscribe"


class RunState(enum.StrEnum):
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class Topic(Base):
    """A subject people can subscribe to, such as funding or events."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(default=0)


class Subscriber(Base):
    """One email address and where it stands in the subscription lifecycle."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The address as normalised by email-validator; shown to people and used to send.
    email: Mapped[str] = mapped_column(String(320))
    # The case-folded address: uniqueness is case-insensitive.
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    status: Mapped[SubscriberStatus] = mapped_column(_enum(SubscriberStatus), index=True)
    # Bumped by staff to revoke every link sent so far.
    token_version: Mapped[int] = mapped_column(default=1)
    # Bumped on unsubscribe, so that confirmation links sent before it stop working.
    generation: Mapped[int] = mapped_column(default=0)
    # Copies of their data downloaded through emailed links. A link names the count it was
    # sent at and works only while that is still the count: once.
    data_copies: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", order_by="Subscription.id"
    )


class Subscription(Base):
    """A subscriber's choice of one topic, and how often they want its news."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("subscriber_id", "topic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    frequency: Mapped[Frequency] = mapped_column(_enum(Frequency))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    topic: Mapped[Topic] = relationship(lazy="joined")


class ConsentEvent(Base):
    """Proof of consent: who asked for, confirmed, changed or withdrew it, when and from where."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[ConsentAction] = mapped_column(_enum(ConsentAction))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    wording_version: Mapped[str] = mapped_column(String(60))
    # The version of the privacy notice the person was shown (linked from the form).
    notice_version: Mapped[str | None] = mapped_column(String(60))
    # How it happened (form, link, one-click, ...) and what was chosen.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    subscriber: Mapped[Subscriber] = relationship()


class SendRun(Base):
    """One sending of list mail: a digest of a period, or the alert of one news item.

    Its key is unique, so a retried job or a second scheduler can never make it twice.
    """

    __tablename__ = "send_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "daily:2026-11-25T07:00:00+00:00", "weekly:...", "immediate:item-42".
    key: Mapped[str] = mapped_column(String(80), unique=True)
    frequency: Mapped[Frequency] = mapped_column(_enum(Frequency))
    # The half-open period [start, end) of a digest; an alert has none.
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    news_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("news_items.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[RunState] = mapped_column(_enum(RunState))
    # How many deliveries the enqueue wrote.
    recipients: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    news_item: Mapped[NewsItem | None] = relationship()

    def items_statement(self) -> Select[NewsItem]:
        """SELECT of the items the run carries now: its own item or those of its period,
        as long as they are published (an item withdrawn meanwhile is left out)."""
        statement = select(NewsItem).where(NewsItem.state == NewsState.PUBLISHED)
        if self.frequency is Frequency.IMMEDIATE:
            return statement.where(NewsItem.id == self.news_item_id)
        return statement.where(
            NewsItem.published_at >= self.period_start, NewsItem.published_at < self.period_end
        )


class Delivery(Base):
    """One email to one subscriber: written before it is sent and updated after."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at", "id"),
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
    kind: Mapped[MessageKind] = mapped_column(_enum(MessageKind))
    # The send run of list mail; none for the emails of the subscription lifecycle.
    run_id: Mapped[int | None] = mapped_column(ForeignKey("send_runs.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    subscriber: Mapped[Subscriber] = relationship()


class Suppression(Base):
    """An address that must never be mailed again, found by the keyed hash of its case-folded
    form; the address itself is kept for staff until it is erased."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    reason: Mapped[SuppressionReason] = mapped_column(_enum(SuppressionReason))
    detail: Mapped[str] = mapped_column(String(1000), default="")
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class BounceEvent(Base):
    """What came back: a bounce, a complaint or an unsubscribe by email, and what it was about."""

    __tablename__ = "bounce_events"
    __table_args__ = (Index("ix_bounce_events_kind_at", "kind", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BounceKind] = mapped_column(_enum(BounceKind))
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
    """A message the bounce inbox could not read: kept for staff, never dropped."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_to: Mapped[str] = mapped_column(String(1000))
    problem: Mapped[str] = mapped_column(String(400))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffUser(Base):
    """A member of staff who publishes news (editor) or also runs the service (admin)."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped on password change or deactivation: every open session ends.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiKey(Base):
    """A bearer key for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the key, shown to staff so they can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


news_item_topics = Table(
    "news_item_topics",
    Base.metadata,
    Column("news_item_id", ForeignKey("news_items.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
)


class NewsItem(Base):
    """A piece of news: what the site shows and the digests carry."""

    __tablename__ = "news_items"
    __table_args__ = (Index("ix_news_items_state_published_at", "state", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(600))
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    # The Markdown rendered to HTML and sanitised with nh3; safe to show as it is.
    body_html: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[NewsState] = mapped_column(_enum(NewsState))
    # When a scheduled item is to be published.
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    topics: Mapped[list[Topic]] = relationship(
        secondary=news_item_topics, order_by="Topic.position", lazy="selectin"
    )


class AuditEvent(Base):
    """Who did what to which record, and when."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # "staff:3 ann@example.gov.uk", "api:7 website-cms", "cli", "scheduler".
    actor: Mapped[str] = mapped_column(String(400))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int | None] = mapped_column()
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


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
    kind: Mapped[MessageKind] = mapped_column(_enum(MessageKind))
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus))
    count: Mapped[int] = mapped_column()
    summarised_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SubscriberImport(Base):
    """An uploaded list of subscribers: checked first (a dry run), applied once when staff
    confirm. The file is kept only until it is applied or discarded."""

    __tablename__ = "subscriber_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

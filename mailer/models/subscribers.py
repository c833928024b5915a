"""Subscribers, what they follow, their consent history, the suppression list and list imports."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from mailer.extensions import Base
from mailer.models.columns import UTCDateTime
from mailer.models.columns import stored_enum
from mailer.models.states import ConsentAction
from mailer.models.states import Frequency
from mailer.models.states import SubscriberStatus
from mailer.models.states import SuppressionReason

if TYPE_CHECKING:
    from mailer.models.directory import Csp


class Topic(Base):
    """A subject people can subscribe to, such as funding or events."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Shown as hint text under the topic on the sign-up form.
    description: Mapped[str] = mapped_column(String(300), default="")
    # The Welsh (Cymraeg) name and description; "" where there is none.
    name_cy: Mapped[str] = mapped_column(String(120), default="", server_default="")
    description_cy: Mapped[str] = mapped_column(String(300), default="", server_default="")
    position: Mapped[int] = mapped_column(default=0)
    # The heading the sign-up form and the site list the topic under ("" for none).
    heading: Mapped[str] = mapped_column(String(80), default="", server_default="")
    # A retired topic leaves the sign-up form and the site's lists; its items keep it and
    # its page still answers.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The id of the topic its subscribers were moved to when it was retired, if any.
    successor_id: Mapped[int | None] = mapped_column()


class Subscriber(Base):
    """One email address and where it stands in the subscription lifecycle."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The address as normalised by email-validator; shown to people and used to send.
    email: Mapped[str] = mapped_column(String(320))
    # The case-folded address: uniqueness is case-insensitive.
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    status: Mapped[SubscriberStatus] = mapped_column(stored_enum(SubscriberStatus), index=True)
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
    # Who they work for, if they said (an OrganisationType value); their CSP areas are in
    # `subscriber_areas`.
    organisation_type: Mapped[str | None] = mapped_column(String(30))
    # The language of their emails: "en" or "cy", the one of the form they signed up on
    # until they change it on the manage page.
    language: Mapped[str] = mapped_column(String(2), default="en", server_default="en")

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", order_by="Subscription.id"
    )
    areas: Mapped[list[Csp]] = relationship(secondary="subscriber_areas", order_by="Csp.name")


class Subscription(Base):
    """A subscriber's choice of one topic, and how often they want its news."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("subscriber_id", "topic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    frequency: Mapped[Frequency] = mapped_column(stored_enum(Frequency))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    topic: Mapped[Topic] = relationship(lazy="joined")


class ConsentEvent(Base):
    """Proof of consent: who asked for, confirmed, changed or withdrew it, when and from where."""

    __tablename__ = "consent_events"
    # Unsubscribes over a few days, without reading every event (deliverability).
    __table_args__ = (Index("ix_consent_events_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[ConsentAction] = mapped_column(stored_enum(ConsentAction))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    wording_version: Mapped[str] = mapped_column(String(60))
    # The version of the privacy notice the person was shown (linked from the form).
    notice_version: Mapped[str | None] = mapped_column(String(60))
    # How it happened (form, link, one-click, ...) and what was chosen.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    subscriber: Mapped[Subscriber] = relationship()


class Suppression(Base):
    """An address that must never be mailed again, found by the keyed hash of its case-folded
    form; the address itself is kept for staff until it is erased."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    reason: Mapped[SuppressionReason] = mapped_column(stored_enum(SuppressionReason))
    detail: Mapped[str] = mapped_column(String(1000), default="")
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


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


class LeavingReason(Base):
    """Why someone left, if they chose to say: kept apart from the subscriber, so that the
    answers can be counted without being tied to anyone."""

    __tablename__ = "leaving_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One of the fixed choices of the form (too many emails, not relevant, ...).
    reason: Mapped[str] = mapped_column(String(40))
    comment: Mapped[str] = mapped_column(String(1000), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

"""Messages sent to the unit through the contact form, and the replies staff send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from mailer.extensions import Base
from mailer.models.columns import UTCDateTime
from mailer.models.columns import stored_enum
from mailer.models.states import ContactStatus

# The subject areas a writer picks from, in the order the form shows them, with the words
# staff and the reply's subject line use. Only these codes are ever stored.
SUBJECT_AREAS = {
    "news": "The news service and subscriptions",
    "directory": "The CSP directory",
    "practice": "Effective practice",
    "feedback": "Feedback about this website",
    "other": "Something else",
}


class ContactMessage(Base):
    """What someone wrote through the contact form: personal data, deleted by retention a
    while after staff have dealt with it."""

    __tablename__ = "contact_messages"
    __table_args__ = (Index("ix_contact_messages_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Where a reply goes: the only address outside the unit the service ever mails about it.
    email: Mapped[str] = mapped_column(String(320), index=True)
    # A code of SUBJECT_AREAS, never free text.
    subject_area: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[ContactStatus] = mapped_column(stored_enum(ContactStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When staff answered or closed it; retention counts from here.
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by: Mapped[str | None] = mapped_column(String(400))

    replies: Mapped[list[ContactReply]] = relationship(
        cascade="all, delete-orphan", order_by="ContactReply.id", back_populates="contact"
    )


class ContactReply(Base):
    """A reply staff sent by email to the writer of a contact message."""

    __tablename__ = "contact_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_message_id: Mapped[int] = mapped_column(
        ForeignKey("contact_messages.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(400))
    # The delivery that carries it (no foreign key: retention deletes old deliveries).
    delivery_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    contact: Mapped[ContactMessage] = relationship(back_populates="replies")

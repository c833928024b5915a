"""The emails about a contact-form message: staff's reply to the writer, to the address they
gave and no other, and the note to the unit's own mailbox that a message came in. Neither
carries the writer's words in a header: the subject names their subject area."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from mailer.delivery.compose import Rendered
from mailer.delivery.compose import render_email
from mailer.extensions import db
from mailer.formatting import govuk_date
from mailer.models import ContactMessage
from mailer.models import ContactReply
from mailer.models import Delivery
from mailer.models import MessageKind
from mailer.models.contact import SUBJECT_AREAS

CONTACT_KINDS = frozenset({MessageKind.CONTACT_REPLY, MessageKind.CONTACT_NOTICE})


def _reply_of(delivery: Delivery) -> ContactReply | None:
    """The reply a delivery carries, while its message is still held."""
    if delivery.kind is not MessageKind.CONTACT_REPLY or delivery.contact_message_id is None:
        return None
    return db.session.scalar(
        select(ContactReply).where(
            ContactReply.delivery_id == delivery.id,
            ContactReply.contact_message_id == delivery.contact_message_id,
        )
    )


def _message_of(delivery: Delivery) -> ContactMessage | None:
    if delivery.contact_message_id is None:
        return None
    return db.session.get(ContactMessage, delivery.contact_message_id)


def why_not_send_contact(delivery: Delivery) -> str | None:
    """Why an email about a contact message no longer applies (the message was deleted), or
    None to send it."""
    if delivery.kind is MessageKind.CONTACT_NOTICE:
        found = _message_of(delivery) is not None
    else:
        found = _reply_of(delivery) is not None
    return None if found else "contact message no longer held"


@dataclass(frozen=True)
class ContactMail:
    """What these emails need of the mail settings."""

    base_url: str
    zone: str
    postal_address: str
    unit_email: str | None


def contact_email(delivery: Delivery, settings: ContactMail) -> tuple[Rendered, str]:
    """The rendered email and the one address it goes to: the writer's for a reply, the
    unit's configured mailbox for a notice.

    :raises ValueError: the message is gone, or no unit mailbox is configured.
    """
    if delivery.kind is MessageKind.CONTACT_NOTICE:
        return _notice(delivery, settings)
    answer = _reply_of(delivery)
    if answer is None:
        raise ValueError("the delivery names no contact message still held")
    message = answer.contact
    context = {
        "area": _area(message),
        "name": message.name,
        "reply": answer.body,
        "written_on": govuk_date(message.created_at, settings.zone),
        "postal_address": settings.postal_address,
    }
    return render_email("contact_reply", context), message.email


def _notice(delivery: Delivery, settings: ContactMail) -> tuple[Rendered, str]:
    """The note to the unit: a link to the message in the staff area, nothing it says."""
    message = _message_of(delivery)
    if message is None:
        raise ValueError("the delivery names no contact message still held")
    if not settings.unit_email:
        raise ValueError("no unit mailbox is configured (MAILER_CONTACT_UNIT_EMAIL)")
    context = {
        "area": _area(message),
        "received": govuk_date(message.created_at, settings.zone),
        "message_url": f"{settings.base_url}/staff/contact/{message.id}",
        "postal_address": settings.postal_address,
    }
    return render_email("contact_notice", context), settings.unit_email


def _area(message: ContactMessage) -> str:
    return SUBJECT_AREAS.get(message.subject_area, SUBJECT_AREAS["other"])

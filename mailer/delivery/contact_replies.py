"""The reply staff send to someone who wrote through the contact form: to the address they
gave and no other, with their subject area (never their own words) in the subject line."""

from __future__ import annotations

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

CONTACT_KINDS = frozenset({MessageKind.CONTACT_REPLY})


def _reply_of(delivery: Delivery) -> ContactReply | None:
    """The reply a delivery carries, while its message is still held."""
    if delivery.kind not in CONTACT_KINDS or delivery.contact_message_id is None:
        return None
    return db.session.scalar(
        select(ContactReply).where(
            ContactReply.delivery_id == delivery.id,
            ContactReply.contact_message_id == delivery.contact_message_id,
        )
    )


def why_not_send_contact(delivery: Delivery) -> str | None:
    """Why a reply to a contact message no longer applies (the message was deleted), or None
    to send it."""
    if _reply_of(delivery) is None:
        return "contact message no longer held"
    return None


def contact_reply(delivery: Delivery, *, zone: str, postal_address: str) -> tuple[Rendered, str]:
    """The rendered reply and the address it goes to: the writer's.

    :raises ValueError: the delivery carries no reply that is still held.
    """
    answer = _reply_of(delivery)
    if answer is None:
        raise ValueError("the delivery names no contact message still held")
    message: ContactMessage = answer.contact
    context = {
        "area": SUBJECT_AREAS.get(message.subject_area, SUBJECT_AREAS["other"]),
        "name": message.name,
        "reply": answer.body,
        "written_on": govuk_date(message.created_at, zone),
        "postal_address": postal_address,
    }
    return render_email("contact_reply", context), message.email

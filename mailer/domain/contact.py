"""Contact the unit: keep what someone wrote through the contact form, list it for staff, and
queue staff's reply by email to the writer (the only address outside the unit ever mailed)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import ColumnElement
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from mailer.database import row_count
from mailer.domain import audit
from mailer.domain.paging import Page
from mailer.domain.paging import page_of
from mailer.errors import Conflict
from mailer.errors import FieldErrors
from mailer.extensions import db
from mailer.models import ContactMessage
from mailer.models import ContactReply
from mailer.models import ContactStatus
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import MessageKind
from mailer.models.contact import SUBJECT_AREAS

MAX_NAME = 100
MAX_MESSAGE = 2000
MAX_REPLY = 5000
# Control characters other than tab and newline (a carriage return goes with them).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Anything that could end a header line or hide in one: a name must be a single line.
LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


@dataclass(frozen=True)
class Contact:
    """A contact form as sent, checked: the writer's name and address, the subject area's
    code and the message."""

    name: str
    email: str
    subject_area: str
    message: str


class AlreadyHandled(Conflict):
    """The message was answered or closed already."""

    hint = "Reload the message to see what was done."


def clean_message(text: str) -> str:
    """A multi-line text with control characters removed and line ends made "\\n"."""
    return CONTROL.sub("", text.replace("\r\n", "\n")).strip()


def receive(contact: Contact, *, now: datetime, tell_unit: bool = False) -> ContactMessage:
    """Keep a message for staff (flushes); with `tell_unit`, queue a note to the unit's own
    mailbox. Nothing is ever emailed to the address the message gives."""
    if contact.subject_area not in SUBJECT_AREAS or LINE_BREAKS.search(contact.name):
        raise ValueError("the contact form was not checked")
    message = ContactMessage(
        name=contact.name[:MAX_NAME],
        email=contact.email,
        subject_area=contact.subject_area,
        message=contact.message[:MAX_MESSAGE],
        status=ContactStatus.NEW,
        created_at=now,
    )
    db.session.add(message)
    audit.record("public", "contact.receive", message, now=now)
    if tell_unit:
        _queue(MessageKind.CONTACT_NOTICE, message, now=now)
    return message


def _queue(kind: MessageKind, message: ContactMessage, *, now: datetime) -> Delivery:
    """A queued email about a message (flushed, so that it has its id)."""
    delivery = Delivery(
        kind=kind,
        contact_message_id=message.id,
        status=DeliveryStatus.QUEUED,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    db.session.add(delivery)
    db.session.flush()
    return delivery


def inbox_page(*, status: ContactStatus | None, page: int, per_page: int) -> Page[ContactMessage]:
    """One page of the messages, newest first, of one status or all."""
    statement = select(ContactMessage)
    if status is not None:
        statement = statement.where(ContactMessage.status == status)
    statement = statement.order_by(ContactMessage.created_at.desc(), ContactMessage.id.desc())
    return page_of(statement, page, per_page)


def status_counts() -> dict[ContactStatus, int]:
    """How many messages there are of each status (every status, zero included)."""
    rows = db.session.execute(
        select(ContactMessage.status, func.count()).group_by(ContactMessage.status)
    ).all()
    counts = dict.fromkeys(ContactStatus, 0)
    counts.update({status: int(count) for status, count in rows})
    return counts


def message_by_id(message_id: int, *, lock: bool = False) -> ContactMessage | None:
    """A message by its id, locked for an update if asked."""
    statement = select(ContactMessage).where(ContactMessage.id == message_id)
    if lock:
        statement = statement.with_for_update()
    return db.session.scalar(statement)


def parse_reply(text: str) -> str:
    """A reply's text, checked.

    :raises FieldErrors: empty or too long.
    """
    body = clean_message(text)
    if not body:
        raise FieldErrors({"reply": "Enter your reply"})
    if len(body) > MAX_REPLY:
        raise FieldErrors({"reply": f"Your reply must be {MAX_REPLY:,} characters or fewer"})
    return body


def reply(message: ContactMessage, body: str, *, actor: str, now: datetime) -> ContactReply:
    """Keep staff's reply and queue it by email to the writer; the message is then answered.
    A second reply to a message is a follow-up; a closed message takes none."""
    if message.status is ContactStatus.CLOSED:
        raise AlreadyHandled("the message was closed without a reply")
    delivery = _queue(MessageKind.CONTACT_REPLY, message, now=now)
    answer = ContactReply(body=body, author=actor[:400], delivery_id=delivery.id, created_at=now)
    message.replies.append(answer)
    message.status = ContactStatus.ANSWERED
    message.handled_at, message.handled_by = now, actor[:400]
    audit.record(actor, "contact.reply", message, now=now)
    return answer


def close(message: ContactMessage, *, actor: str, now: datetime) -> None:
    """Mark a new message as dealt with, without a reply.

    :raises AlreadyHandled: it was answered or closed already.
    """
    if message.status is not ContactStatus.NEW:
        raise AlreadyHandled(f"the message was {message.status.value} already")
    message.status = ContactStatus.CLOSED
    message.handled_at, message.handled_by = now, actor[:400]
    audit.record(actor, "contact.close", message, now=now)


def handled_before(cutoff: datetime) -> ColumnElement[bool]:
    """The condition picking messages answered or closed before `cutoff`."""
    return ContactMessage.handled_at < cutoff


def delete_handled(*, now: datetime, older_than: timedelta) -> int:
    """Delete the messages (and their replies) answered or closed before `now - older_than`;
    return how many went. Flushes."""
    gone = select(ContactMessage.id).where(handled_before(now - older_than))
    db.session.execute(
        delete(ContactReply)
        .where(ContactReply.contact_message_id.in_(gone))
        .execution_options(synchronize_session=False)
    )
    result = db.session.execute(
        delete(ContactMessage)
        .where(handled_before(now - older_than))
        .execution_options(synchronize_session=False)
    )
    return row_count(result)


def forget_addresses(emails: list[str]) -> int:
    """Delete every message written from one of these addresses (an erasure); return how
    many went. Flushes."""
    keys = [email.casefold() for email in emails]
    if not keys:
        return 0
    found = select(ContactMessage.id).where(func.lower(ContactMessage.email).in_(keys))
    ids = list(db.session.scalars(found))
    if not ids:
        return 0
    db.session.execute(delete(ContactReply).where(ContactReply.contact_message_id.in_(ids)))
    result = db.session.execute(delete(ContactMessage).where(ContactMessage.id.in_(ids)))
    return row_count(result)


def messages_from(email: str) -> list[dict[str, object]]:
    """What the contact form holds from an address, for a subject access document: each
    message with the replies sent to it, oldest first."""
    found = db.session.scalars(
        select(ContactMessage)
        .where(func.lower(ContactMessage.email) == email.casefold())
        .order_by(ContactMessage.created_at, ContactMessage.id)
    )
    return [
        {
            "received_at": message.created_at.isoformat(),
            "name": message.name,
            "subject_area": message.subject_area,
            "message": message.message,
            "status": message.status.value,
            "replies": [
                {"sent_at": answer.created_at.isoformat(), "text": answer.body}
                for answer in message.replies
            ],
        }
        for message in found
    ]

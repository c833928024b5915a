"""Partnerships keeping their own entries current: staff send a partnership's role mailbox a
single-use link, a yearly reminder asks those not confirmed for 12 months, and the link's page
updates and confirms the details. The emails are queued deliveries to the partnership."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_
from sqlalchemy import select

from mailer.domain import audit
from mailer.domain.directory.contacts import Contact
from mailer.domain.directory.contacts import update_contact
from mailer.domain.directory.listing import stale_before
from mailer.errors import Conflict
from mailer.errors import InvalidToken
from mailer.extensions import db
from mailer.models import Csp
from mailer.models import CspStatus
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import MessageKind
from mailer.tokens import read_csp_token

# How many partnerships one run of the reminder queues at most; the rest wait for the next.
REMINDER_BATCH = 500


class NoMailbox(Conflict):
    """The partnership has no role mailbox to send a link to, or has ended."""

    hint = "Set its role mailbox first."


def send_link(csp: Csp, *, actor: str, now: datetime) -> None:
    """Queue the partnership an email with a link to review and confirm its details.

    :raises NoMailbox: it has no mailbox, or it has ended.
    """
    if not csp.email or csp.status is not CspStatus.ACTIVE:
        raise NoMailbox("the partnership has no role mailbox, or has ended")
    _queue(csp, MessageKind.CSP_LINK, now=now)
    audit.record(actor, "send_csp_link", csp, now=now, detail={"to": csp.email})


def remind_due(*, now: datetime, actor: str = "scheduler") -> int:
    """Queue the yearly reminder to each active partnership with a mailbox whose details were
    last confirmed 12 or more months ago (or never), unless it was sent a link in the last 12
    months. Returns how many were queued."""
    due = due_for_reminder(now=now)
    for csp in due:
        _queue(csp, MessageKind.CSP_REMINDER, now=now)
        audit.record(actor, "remind_csp", csp, now=now, detail={"to": csp.email})
    return len(due)


def due_for_reminder(*, now: datetime) -> Sequence[Csp]:
    """The partnerships the reminder would ask now."""
    cutoff = stale_before(now.date())
    statement = (
        select(Csp)
        .where(
            Csp.status == CspStatus.ACTIVE,
            Csp.email != "",
            or_(Csp.last_confirmed.is_(None), Csp.last_confirmed <= cutoff),
            or_(Csp.last_reminded.is_(None), Csp.last_reminded <= cutoff),
        )
        .order_by(Csp.id)
        .limit(REMINDER_BATCH)
    )
    return db.session.scalars(statement).all()


def _queue(csp: Csp, kind: MessageKind, *, now: datetime) -> None:
    """A delivery to the partnership's mailbox; the link in it is made when it is sent."""
    csp.last_reminded = now.date()
    db.session.add(
        Delivery(
            kind=kind,
            csp_id=csp.id,
            status=DeliveryStatus.QUEUED,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
    )


def csp_for_link(token: str, *, lock: bool = False) -> Csp:
    """The partnership a link was sent to, while the link is unused.

    :raises InvalidToken: tampered, used already, or the partnership has ended.
    """
    csp_id, used = read_csp_token(token)
    statement = select(Csp).where(Csp.id == csp_id)
    csp = db.session.scalar(statement.with_for_update(of=Csp) if lock else statement)
    if csp is None or csp.links_used != used or csp.status is not CspStatus.ACTIVE:
        raise InvalidToken("the link was used already, or names no current partnership")
    return csp


def confirm_by_partnership(csp: Csp, contact: Contact, *, now: datetime) -> None:
    """Save and confirm the details the partnership gave, and spend its link."""
    update_contact(csp, contact, confirmed=True, actor=f"partnership:{csp.code}", now=now)
    csp.links_used += 1

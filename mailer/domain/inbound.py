"""Messages the bounce inbox could not act on, kept for staff: cut to a size, and only so many
an hour from one client, so that no sender can fill the database.

Functions flush; the caller (the inbox) commits.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import datetime
from datetime import timedelta
from typing import Protocol

from flask import current_app
from sqlalchemy import func
from sqlalchemy import select

from mailer.errors import MailerError
from mailer.extensions import db
from mailer.models import InboundMessage

logger = logging.getLogger(__name__)

# The window of the limit on messages kept from one client.
HOUR = timedelta(hours=1)
# The IPv6 network counted as one client by that limit.
IPV6_CLIENT_PREFIX = 64


class Received(Protocol):
    """The message as the inbox received it (mailer.delivery.returns.Inbound)."""

    @property
    def mail_from(self) -> str: ...
    @property
    def rcpt_tos(self) -> tuple[str, ...]: ...
    @property
    def content(self) -> bytes: ...
    @property
    def peer(self) -> str: ...


class InboxBusy(MailerError):
    """The client that delivered a message has had as many kept as an hour allows."""


def keep(received: Received, problem: str, *, now: datetime) -> InboundMessage:
    """Store a message for staff, with what stopped it being handled: its headers and as much
    of its body as INBOUND_KEEP_BYTES allows.

    :raises InboxBusy: INBOUND_KEPT_PER_HOUR messages from its client were kept in the last
        hour (the inbox asks the client to try again later).
    """
    if received.peer and _kept_from(received.peer, since=now - HOUR) >= _per_hour():
        raise InboxBusy(f"{_per_hour()} messages from {received.peer} kept in the last hour")
    content = _cut(received.content, int(current_app.config["INBOUND_KEEP_BYTES"]))
    if len(content) < len(received.content):
        note = f" (kept the first {len(content)} of {len(received.content)} bytes)"
        problem = problem[: 400 - len(note)] + note
    message = InboundMessage(
        received_at=now,
        mail_from=received.mail_from[:320],
        rcpt_to=", ".join(received.rcpt_tos)[:1000],
        problem=problem[:400],
        content=content,
        peer=received.peer[:45],
    )
    db.session.add(message)
    db.session.flush()
    logger.warning("inbound message %s kept for staff: %s", message.id, problem)
    return message


def _kept_from(peer: str, *, since: datetime) -> int:
    """How many messages from one client (see `client_of`) were kept since a time."""
    client = client_of(peer)
    statement = (
        select(InboundMessage.peer, func.count())
        .where(InboundMessage.received_at > since)
        .group_by(InboundMessage.peer)
    )
    return sum(count for kept, count in db.session.execute(statement) if client_of(kept) == client)


def client_of(peer: str) -> str:
    """Who a connecting address is, for the hourly limit: an IPv4 address (also as a dual-stack
    socket writes it, ::ffff:a.b.c.d), or an IPv6 address's /64, since one host or home is
    given a whole /64 and could use a new address for every message."""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return peer
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


def _per_hour() -> int:
    return int(current_app.config["INBOUND_KEPT_PER_HOUR"])


def _cut(content: bytes, limit: int) -> bytes:
    """The first `limit` bytes of a message, ending at a line end if there is one (the
    headers come first, so they are kept whole unless they alone pass the limit)."""
    if len(content) <= limit:
        return content
    head = content[:limit]
    end = head.rfind(b"\n")
    return head[: end + 1] if end > 0 else head

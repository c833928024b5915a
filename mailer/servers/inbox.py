"""The bounce inbox: an SMTP server for the VERP return paths and the unsubscribe address.

It is never a relay: it takes mail only for our own addresses. A message is answered 250
only once what it means is committed; if recording fails, or its client has had as many
messages kept for staff as an hour allows, the answer is 451, so the sending server tries
again later and nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask

from mailer import clock
from mailer.database import transaction
from mailer.delivery.returns import Inbound
from mailer.delivery.returns import classify
from mailer.delivery.verp import InboxAddresses
from mailer.delivery.verp import Mailbox
from mailer.domain import bounces
from mailer.domain.inbound import InboxBusy

logger = logging.getLogger(__name__)

# Bounces carry the returned message; 10 MB holds any we would have sent.
MAX_MESSAGE_SIZE = 10 * 1024 * 1024
MAX_RECIPIENTS = 20
REPLIES = {
    Mailbox.FOREIGN: "550 5.7.1 relaying denied",
    Mailbox.FORGED: "550 5.1.1 no such bounce address",
}


class InboxHandler:
    """aiosmtpd handler: checks each recipient, records each message through `record`."""

    def __init__(
        self, mailbox: Callable[[str], Mailbox], record: Callable[[Inbound], None]
    ) -> None:
        self.mailbox = mailbox
        self.record = record

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        """Take our own addresses only."""
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 too many recipients"
        box = self.mailbox(address)
        if box in REPLIES:
            logger.info("refused RCPT TO %s from %s: %s", address, session.peer, box.value)
            return REPLIES[box]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Record the message, and say 250 only once that is committed."""
        content = envelope.original_content or envelope.content
        # aiosmtpd gives the null sender of bounces as "<>".
        mail_from = (envelope.mail_from or "").removeprefix("<").removesuffix(">")
        inbound = Inbound(mail_from, tuple(envelope.rcpt_tos), bytes(content), _ip(session.peer))
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self.record, inbound)
        except InboxBusy:
            logger.warning("message from %s not kept: its hourly limit is reached", session.peer)
            return "451 4.7.1 too many messages from your address; try again later"
        # Whatever went wrong, the sender keeps the message and tries again later.
        except Exception:
            logger.exception("could not record a message from %s", session.peer)
            return "451 4.3.0 cannot record the message now; try again later"
        return "250 OK recorded"


def _ip(peer: Any) -> str:
    """The IP address of an aiosmtpd session's peer ((host, port, ...) over TCP)."""
    return str(peer[0]) if isinstance(peer, tuple) and peer else ""


def record_inbound(app: Flask, inbound: Inbound) -> None:
    """Classify a received message and apply what it means, in one transaction."""
    with app.app_context():
        findings = classify(inbound, InboxAddresses.from_config(app.config))
        rule = bounces.SoftBounceRule.from_config(app.config)
        with transaction():
            bounces.record(inbound, findings, rule=rule, now=clock.now())
    for finding in findings:
        logger.info(
            "inbound %s for delivery %s %s",
            finding.verdict.value,
            finding.delivery_id,
            finding.status,
        )


def mailbox_of(app: Flask, address: str) -> Mailbox:
    """Which of our mailboxes an address is, under the app's settings and keys."""
    with app.app_context():
        return InboxAddresses.from_config(app.config).mailbox(address)


class InboxController(Controller):
    """aiosmtpd's threaded controller, which may listen on port 0 (the OS picks the port)."""

    def _trigger_server(self) -> None:
        # The start-up check connects to self.port: make it the port actually bound.
        if isinstance(self.server, asyncio.Server) and self.server.sockets:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


def start_inbox(
    app: Flask,
    *,
    host: str,
    port: int,
    record: Callable[[Inbound], None] | None = None,
) -> InboxController:
    """Start the bounce inbox in a background thread and return its controller (its `port`
    is the one bound, also when `port` is 0).

    :raises OSError: the port is taken.
    """
    handler = InboxHandler(
        lambda address: mailbox_of(app, address),
        record or (lambda inbound: record_inbound(app, inbound)),
    )
    controller = InboxController(
        handler,
        hostname=host,
        port=port,
        server_hostname=app.config["BOUNCE_DOMAIN"],
        data_size_limit=MAX_MESSAGE_SIZE,
    )
    controller.start()
    return controller

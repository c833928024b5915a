"""The development outbox: an SMTP server on loopback that keeps every message in a Maildir."""

from __future__ import annotations

from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from mailer.paths import open_outbox


def start_outbox(directory: str, *, host: str, port: int) -> Controller:
    """Start the outbox SMTP server in a background thread and return its controller.

    :raises OSError: the port is taken (another outbox already runs, say).
    """
    open_outbox(directory)
    controller = Controller(Mailbox(Path(directory)), hostname=host, port=port)
    controller.start()
    return controller

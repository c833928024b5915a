"""What the commands share: logging, the app object, stopping on signals."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from flask import Flask
from flask import current_app

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def app_object() -> Flask:
    """The real app object behind `current_app`, for threads and jobs that outlive the context."""
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    # aiosmtpd logs every SMTP command at INFO.
    logging.getLogger("mail.log").setLevel(logging.WARNING)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """Yield an event that SIGINT or SIGTERM sets, for a clean stop."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)

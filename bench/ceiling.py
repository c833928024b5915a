"""The ceilings of a send: messages already built, sent over K threads with no database and
nothing to compose, by plain smtplib (sendmail: MAIL, RCPT, DATA and the message, four round
trips), or by the worker's own SMTP connection (mailer.delivery.smtp.Connection: MAIL, RCPT
and DATA in one write where the server offers PIPELINING, two round trips; its sessions
reopened as configured)."""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from mailer.delivery.smtp import Connection
from mailer.delivery.smtp import DeliveryError
from mailer.delivery.smtp import SmtpSettings


@dataclass(frozen=True)
class Message:
    """One message as it goes over the wire."""

    envelope_from: str
    recipient: str
    data: bytes


def send_plain(message: Message, *, count: int, connections: int, host: str, port: int) -> float:
    """Send `message` `count` times over `connections` smtplib sessions, one thread each;
    return the seconds it took from the first connect to the last QUIT."""

    def drain(share: int) -> None:
        client = smtplib.SMTP(host, port, timeout=30)
        client.ehlo()
        for _ in range(share):
            client.sendmail(message.envelope_from, [message.recipient], message.data)
        client.quit()

    return _threads(drain, count=count, connections=connections)


def send_own(message: Message, *, count: int, connections: int, settings: SmtpSettings) -> float:
    """Send `message` `count` times over `connections` of the worker's own SMTP connections,
    one thread each; return the seconds it took."""

    def drain(share: int) -> None:
        with Connection(settings) as connection:
            for _ in range(share):
                connection.send(message.envelope_from, message.recipient, message.data)

    return _threads(drain, count=count, connections=connections)


def _threads(drain: Callable[[int], None], *, count: int, connections: int) -> float:
    """Run `drain` on `connections` threads at once, sharing `count` between them."""
    connections = max(1, min(connections, count))
    shares = [count // connections + (n < count % connections) for n in range(connections)]
    failures: list[BaseException] = []
    start = threading.Barrier(connections + 1)

    def run(share: int) -> None:
        start.wait()
        try:
            drain(share)
        except (smtplib.SMTPException, DeliveryError, OSError) as error:
            failures.append(error)

    threads = [threading.Thread(target=run, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"ceiling send failed: {failures[0]}")
    return seconds

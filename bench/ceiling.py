"""The ceiling of a send: messages already built, sent by plain smtplib over K threads."""

from __future__ import annotations

import smtplib
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    """One message as it goes over the wire."""

    envelope_from: str
    recipient: str
    data: bytes


def send_plain(message: Message, *, count: int, connections: int, host: str, port: int) -> float:
    """Send `message` `count` times over `connections` smtplib sessions, one thread each;
    return the seconds it took from the first connect to the last QUIT."""
    connections = max(1, min(connections, count))
    shares = [count // connections + (n < count % connections) for n in range(connections)]
    failures: list[BaseException] = []
    start = threading.Barrier(connections + 1)

    def drain(share: int) -> None:
        start.wait()
        try:
            client = smtplib.SMTP(host, port, timeout=30)
            client.ehlo()
            for _ in range(share):
                client.sendmail(message.envelope_from, [message.recipient], message.data)
            client.quit()
        except (smtplib.SMTPException, OSError) as error:
            failures.append(error)

    threads = [threading.Thread(target=drain, args=(share,)) for share in shares]
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

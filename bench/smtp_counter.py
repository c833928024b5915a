"""An SMTP server on loopback that accepts every message, keeps none and only counts them.

The fallback sink of the benches when smtp-sink is not unpacked. It prints `port N` once it
listens, then answers each line read from standard input with `mesg=N rcpt=R repeats=D`: the
messages accepted so far, the distinct recipients among them, and the messages to a recipient
already seen (each delivery of a run goes to a recipient of its own, so D counts what was sent
twice); it stops when standard input closes.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

from aiosmtpd.smtp import SMTP


class Counter:
    """An aiosmtpd handler that counts the messages it accepts."""

    def __init__(self) -> None:
        self.messages = 0
        self.recipients: set[str] = set()
        self.repeats = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # The count is raised before the 250 goes out, so a client that has its reply is
        # always counted.
        for address in envelope.rcpt_tos:
            if address in self.recipients:
                self.repeats += 1
            self.recipients.add(address)
        self.messages += 1
        return "250 2.0.0 Ok: counted"


def main() -> None:
    """Serve on a port the OS picks until standard input closes."""
    counter = Counter()
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(
            lambda: SMTP(counter, hostname="smtp-counter", loop=loop), "127.0.0.1", 0
        )
    )
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)

    def answer() -> None:
        for _line in sys.stdin:
            print(
                f"mesg={counter.messages} rcpt={len(counter.recipients)} repeats={counter.repeats}",
                flush=True,
            )
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=answer, daemon=True).start()
    loop.run_forever()
    server.close()


if __name__ == "__main__":
    main()

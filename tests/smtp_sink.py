"""A real SMTP server (aiosmtpd) on a loopback port the OS picks, for tests to read mail from."""

from __future__ import annotations

import asyncio
import email
import queue
import ssl
import threading
from collections import defaultdict
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.smtp import SMTP


@dataclass
class Received:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    # The name the client gave in EHLO (or HELO).
    helo: str | None = None

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())


class SinkHandler:
    """Keeps every accepted message on a queue; can be told how to answer RCPT or DATA."""

    def __init__(self) -> None:
        self.received: queue.Queue[Received] = queue.Queue()
        self.scripts: dict[str, deque[str]] = defaultdict(deque)
        self.connections = 0
        # Set `hold_after` to stall every DATA after that many messages until `release` is set;
        # `holding` tells the test the sender is stuck mid-message.
        self.hold_after: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.accepted = 0
        # Connections opened before the last `retire_connections()` belong to a sender that
        # was killed; what they still had in flight is refused, never accepted late.
        self.generation = 0
        # Offered in EHLO, as Postfix does; set to False for a server that does not.
        self.pipelining = True
        # For each MAIL command: whether the client had already written the RCPT after it
        # (commands pipelined in one write), and the parameters it gave.
        self.pipelined: list[bool] = []
        self.mail_options: list[list[str]] = []
        self._lock = threading.Lock()

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def script(self, command: str, *replies: str) -> None:
        """Answer the next len(replies) `command`s (MAIL, RCPT or DATA) with these replies."""
        self.scripts[command].extend(replies)

    def _scripted(self, command: str) -> str | None:
        with self._lock:
            replies = self.scripts[command]
            return replies.popleft() if replies else None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # What the client wrote and the server has not read yet (asyncio's reader buffer).
        self.pipelined.append(b"RCPT TO:" in bytes(server._reader._buffer))
        self.mail_options.append(list(mail_options))
        reply = self._scripted("MAIL")
        if reply and not reply.startswith("2"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return reply or "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self._scripted("RCPT")
        if reply and not reply.startswith("2"):
            return reply
        envelope.rcpt_tos.append(address)
        return reply or "250 OK"

    def retire_connections(self) -> None:
        """Refuse every message still to come on the connections open now (a killed sender's:
        the server may yet read what it wrote before it died)."""
        self.generation += 1

    async def handle_DATA(self, server, session, envelope):
        if getattr(server, "sink_generation", self.generation) < self.generation:
            return "451 4.3.0 try again"
        reply = self._scripted("DATA")
        if reply:
            return reply
        if self.hold_after is not None and self.accepted >= self.hold_after:
            # Stall the sender (it is about to be killed) without blocking the event loop.
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
            return "451 4.3.0 try again"
        self.accepted += 1
        self.received.put(
            Received(
                envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.host_name
            )
        )
        return "250 Message accepted for delivery"

    def get(self, timeout: float = 10) -> Received:
        """Wait for the next message."""
        return self.received.get(timeout=timeout)

    def drain(self) -> list[Received]:
        """Return every message received so far without waiting."""
        items = []
        while True:
            try:
                items.append(self.received.get_nowait())
            except queue.Empty:
                return items


class SmtpServer:
    """Runs aiosmtpd on its own event loop thread, bound to port 0 so the OS picks the port."""

    def __init__(
        self,
        handler: SinkHandler,
        *,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.credentials = credentials
        self.handler = handler
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.tls_context = tls_context
        self.require_starttls = require_starttls
        self.port = 0

    def _factory(self) -> SMTP:
        self.handler.connections += 1
        options = {}
        if self.credentials:
            options = {"authenticator": self._authenticate, "auth_required": True}
        server = SMTP(
            self.handler,
            hostname="sink.test",
            tls_context=self.tls_context,
            require_starttls=self.require_starttls,
            loop=self.loop,
            **options,
        )
        server.sink_generation = self.handler.generation
        return server

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        given = (auth_data.login.decode(), auth_data.password.decode())
        return AuthResult(success=given == self.credentials)

    def start(self) -> SmtpServer:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(
            self.loop.create_server(self._factory, "127.0.0.1", 0), self.loop
        )
        self.server = future.result(timeout=10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

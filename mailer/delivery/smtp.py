"""A reusable SMTP connection whose failures say whether to retry."""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A message could not be handed to the SMTP server."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TemporaryDeliveryError(DeliveryError):
    """Worth trying again later: 4xx replies, lost connections, timeouts."""


class ConnectionFailure(TemporaryDeliveryError):
    """No session could be opened: nothing else will get through for a while either."""


class PermanentDeliveryError(DeliveryError):
    """Never worth repeating for this recipient: 5xx replies, unusable messages."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to connect; built from the app settings by the caller."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    use_ssl: bool = False
    timeout: float = 30.0
    max_messages: int = 500
    # Name sent in EHLO (MAILER_SMTP_EHLO_NAME); None lets smtplib use the host's name.
    local_hostname: str | None = None

    @classmethod
    def from_config(cls, config: Any) -> SmtpSettings:
        """Read the MAILER_SMTP_* settings from a Flask config mapping."""
        return cls(
            host=config["SMTP_HOST"],
            port=int(config["SMTP_PORT"]),
            username=config.get("SMTP_USERNAME"),
            password=config.get("SMTP_PASSWORD"),
            starttls=bool(config.get("SMTP_STARTTLS")),
            use_ssl=bool(config.get("SMTP_SSL")),
            timeout=float(config["SMTP_TIMEOUT"]),
            max_messages=int(config["SMTP_MAX_MESSAGES_PER_CONNECTION"]),
            local_hostname=config.get("SMTP_EHLO_NAME") or None,
        )


def _classify(code: int, text: str) -> DeliveryError:
    """Turn an SMTP reply into a temporary (4xx) or permanent (5xx) error."""
    message = f"{code} {text}"
    if 500 <= code < 600:
        return PermanentDeliveryError(message, code=code)
    return TemporaryDeliveryError(message, code=code)


def _text(raw: bytes | str) -> str:
    """Decode an SMTP reply text."""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


# A dot-atom address (RFC 5322 3.2.3) in ASCII: smtplib's quoteaddr gives it back as it is.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")


def _pipelinable(client: smtplib.SMTP, envelope_from: str, recipient: str) -> bool:
    """The server offers PIPELINING and both addresses are plain ASCII: anything else (an
    internationalised address, say) goes by smtplib's sendmail."""
    return (
        client.has_extn("pipelining")
        and _PLAIN_PATH.fullmatch(envelope_from) is not None
        and _PLAIN_PATH.fullmatch(recipient) is not None
    )


def _reset(client: smtplib.SMTP, code: int) -> None:
    """After a refused transaction, RSET as sendmail does, unless the server is closing."""
    if code == 421:
        return
    try:
        client.rset()
    except smtplib.SMTPServerDisconnected:
        pass


class Connection:
    """One SMTP session, reused for many messages and reopened after `max_messages`.

    Any protocol error closes the session before the classified error is raised, so the
    next send starts from a clean connection.
    """

    def __init__(self, settings: SmtpSettings, *, tls_context: ssl.SSLContext | None = None):
        self.settings = settings
        # Certificates are always verified; tests pass a context that trusts their own CA.
        self.tls_context = tls_context or ssl.create_default_context()
        self._client: smtplib.SMTP | None = None
        self._sent_on_session = 0
        self.sessions_opened = 0

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, envelope_from: str, recipient: str, data: bytes) -> None:
        """Send one message to one recipient.

        :raises TemporaryDeliveryError: try again later.
        :raises PermanentDeliveryError: do not try this recipient again.
        """
        client = self._session()
        try:
            if _pipelinable(client, envelope_from, recipient):
                self._pipelined(client, envelope_from, recipient, data)
                refused = {}
            else:
                refused = client.sendmail(envelope_from, [recipient], data)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = error.recipients[recipient]
            raise self._after_reply(code, _text(text)) from None
        except smtplib.SMTPSenderRefused as error:
            # A refused sender is our configuration or reputation, never the recipient's
            # fault: keep the message and try again later.
            self.close()
            reply = f"sender refused: {error.smtp_code} {_text(error.smtp_error)}"
            raise TemporaryDeliveryError(reply, code=error.smtp_code) from None
        except smtplib.SMTPResponseException as error:
            raise self._after_reply(error.smtp_code, _text(error.smtp_error)) from None
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise TemporaryDeliveryError(f"connection lost: {error}") from None
        except (UnicodeError, ValueError) as error:
            # An address or message smtplib cannot encode will never go through.
            self.close()
            raise PermanentDeliveryError(f"cannot be sent: {error}") from None
        if refused:
            code, text = refused[recipient]
            raise _classify(code, _text(text))
        self._sent_on_session += 1
        if self._sent_on_session >= self.settings.max_messages:
            self.close()

    def _pipelined(
        self, client: smtplib.SMTP, envelope_from: str, recipient: str, data: bytes
    ) -> None:
        """One transaction with RFC 2920 pipelining: MAIL, RCPT and DATA go in one write and
        their replies are read together, then the message; two round trips, not four. The
        replies and errors are smtplib's own (sendmail's, for one recipient).

        :raises smtplib.SMTPException: as sendmail would.
        """
        size = f" SIZE={len(data)}" if client.has_extn("size") else ""
        commands = f"MAIL FROM:<{envelope_from}>{size}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n"
        client.send(commands.encode("ascii"))
        mail, rcpt, start = client.getreply(), client.getreply(), client.getreply()
        if start[0] == 354 and (mail[0] != 250 or rcpt[0] not in (250, 251)):
            # A server that opened the data phase after a refusal: drop the connection (a QUIT
            # now would be read as the message) rather than send a message to nobody; the
            # refusal below stands.
            self._client = None
            client.close()
        if mail[0] != 250:
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], envelope_from)
        if rcpt[0] not in (250, 251):
            _reset(client, rcpt[0])
            raise smtplib.SMTPRecipientsRefused({recipient: rcpt})
        if start[0] != 354:
            _reset(client, start[0])
            raise smtplib.SMTPDataError(*start)
        # Dot-stuffing as smtplib's data() does it: a period that starts a line is doubled.
        body = data.replace(b"\n.", b"\n..")
        if body.startswith(b"."):
            body = b"." + body
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        client.send(body + b".\r\n")
        done = client.getreply()
        if done[0] != 250:
            _reset(client, done[0])
            raise smtplib.SMTPDataError(*done)

    def close(self) -> None:
        """End the session politely if one is open."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

    def _after_reply(self, code: int, text: str) -> DeliveryError:
        """Classify a refusal; 421 means the server is closing, so drop the session."""
        if code == 421 or code < 400:
            self.close()
        if code < 400:
            return TemporaryDeliveryError(f"unexpected reply {code} {text}", code=code)
        return _classify(code, text)

    def _session(self) -> smtplib.SMTP:
        """Return the open session, connecting (and securing, and logging in) if needed."""
        if self._client is not None:
            return self._client
        # Failing to open a session (refused, TLS, login) says nothing about the recipient:
        # it is always worth trying again once the server or the settings are fixed.
        try:
            self._client = self._connect()
        except (smtplib.SMTPException, OSError) as error:
            raise ConnectionFailure(
                f"cannot connect to {self.settings.host}:{self.settings.port}: {error}"
            ) from None
        self._sent_on_session = 0
        self.sessions_opened += 1
        return self._client

    def _connect(self) -> smtplib.SMTP:
        """Open, secure and authenticate a new session; close it again on any failure."""
        s = self.settings
        client: smtplib.SMTP
        if s.use_ssl:
            client = smtplib.SMTP_SSL(
                s.host,
                s.port,
                timeout=s.timeout,
                context=self.tls_context,
                local_hostname=s.local_hostname,
            )
        else:
            client = smtplib.SMTP(
                s.host, s.port, timeout=s.timeout, local_hostname=s.local_hostname
            )
        try:
            client.ehlo()
            if s.starttls:
                # starttls() raises SMTPNotSupportedError when the server does not offer it:
                # there is no silent fallback to plain text.
                client.starttls(context=self.tls_context)
                client.ehlo()
            if s.username:
                client.login(s.username, s.password or "")
        except BaseException:
            client.close()
            raise
        return client

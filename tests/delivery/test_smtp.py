"""The SMTP connection: session reuse, TLS that verifies, classified failures."""

from __future__ import annotations

import ssl
from datetime import UTC
from datetime import datetime

import pytest
import trustme

from mailer.delivery.smtp import Connection
from mailer.delivery.smtp import PermanentDeliveryError
from mailer.delivery.smtp import SmtpSettings
from mailer.delivery.smtp import TemporaryDeliveryError
from tests.factories import queue_emails
from tests.helpers import ALLOWED_SMTP_PORTS
from tests.helpers import send_queued
from tests.smtp_sink import SinkHandler
from tests.smtp_sink import SmtpServer

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
MESSAGE = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nHello\r\n"


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def tls_server(ca):
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    server = SmtpServer(
        SinkHandler(),
        tls_context=server_context,
        require_starttls=True,
        credentials=("mailer", "s3cret"),
    ).start()
    ALLOWED_SMTP_PORTS.add(server.port)
    yield server
    server.stop()


def _settings(port, **options):
    return SmtpSettings(host="127.0.0.1", port=port, timeout=10, **options)


def test_one_session_carries_many_messages_up_to_the_cap(smtp_server, smtpd):
    with Connection(_settings(smtp_server.port, max_messages=2)) as connection:
        for number in range(5):
            connection.send("a@example.com", f"b{number}@example.com", MESSAGE)
    assert len(smtpd.drain()) == 5
    assert connection.sessions_opened == 3
    assert smtpd.connections == 3


def test_starttls_verifies_the_certificate_and_sends(tls_server, ca):
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    settings = _settings(tls_server.port, starttls=True, username="mailer", password="s3cret")
    with Connection(settings, tls_context=client_context) as connection:
        connection.send("a@example.com", "b@example.com", MESSAGE)
    assert tls_server.handler.get().rcpt_tos == ["b@example.com"]


def test_starttls_refuses_a_certificate_it_cannot_verify(tls_server):
    with Connection(_settings(tls_server.port, starttls=True)) as connection:
        with pytest.raises(TemporaryDeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            connection.send("a@example.com", "b@example.com", MESSAGE)
    assert tls_server.handler.drain() == []


def test_starttls_required_but_not_offered_is_an_error_not_plain_text(smtp_server, smtpd):
    with Connection(_settings(smtp_server.port, starttls=True)) as connection:
        with pytest.raises(TemporaryDeliveryError, match="STARTTLS"):
            connection.send("a@example.com", "b@example.com", MESSAGE)
    assert smtpd.drain() == []


def test_a_server_that_requires_tls_is_not_sent_plain_text_and_the_mail_is_kept(tls_server):
    with Connection(_settings(tls_server.port)) as connection:
        with pytest.raises(TemporaryDeliveryError, match="sender refused: 530"):
            connection.send("a@example.com", "b@example.com", MESSAGE)
    assert tls_server.handler.drain() == []


def test_refusals_are_classified_and_the_session_stays_usable(smtp_server, smtpd):
    smtpd.script("RCPT", "550 5.1.1 No such user", "452 4.2.2 Mailbox full")
    with Connection(_settings(smtp_server.port)) as connection:
        with pytest.raises(PermanentDeliveryError) as permanent:
            connection.send("a@example.com", "gone@example.com", MESSAGE)
        with pytest.raises(TemporaryDeliveryError) as temporary:
            connection.send("a@example.com", "full@example.com", MESSAGE)
        connection.send("a@example.com", "fine@example.com", MESSAGE)
    assert (permanent.value.code, temporary.value.code) == (550, 452)
    assert connection.sessions_opened == 1
    assert [m.rcpt_tos for m in smtpd.drain()] == [["fine@example.com"]]


@pytest.fixture
def app_settings(app_settings):
    app_settings["SMTP_EHLO_NAME"] = "mail.csp-news.example"
    return app_settings


def test_the_worker_introduces_itself_by_the_configured_ehlo_name(app, smtpd):
    # Receivers check that the EHLO name resolves to the sending address and back (FCrDNS),
    # which the container's own host name rarely does.
    with app.app_context():
        queue_emails(1, now=NOW)
    assert send_queued(app, now=NOW).sent == 1
    assert smtpd.get().helo == "mail.csp-news.example"

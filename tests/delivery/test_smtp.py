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


@pytest.fixture(params=[True, False], ids=["pipelining", "one-command-at-a-time"])
def relay(request, smtp_server, smtpd):
    """The sink, offering PIPELINING (as Postfix does) or not."""
    smtpd.pipelining = request.param
    return smtpd


def test_refusals_are_classified_and_the_session_stays_usable(smtp_server, relay):
    relay.script("RCPT", "550 5.1.1 No such user", "452 4.2.2 Mailbox full")
    relay.script("DATA", "554 5.7.1 Message refused", "451 4.3.0 Try later")
    with Connection(_settings(smtp_server.port)) as connection:
        with pytest.raises(PermanentDeliveryError) as permanent:
            connection.send("a@example.com", "gone@example.com", MESSAGE)
        with pytest.raises(TemporaryDeliveryError) as temporary:
            connection.send("a@example.com", "full@example.com", MESSAGE)
        with pytest.raises(PermanentDeliveryError) as refused:
            connection.send("a@example.com", "spam@example.com", MESSAGE)
        with pytest.raises(TemporaryDeliveryError) as later:
            connection.send("a@example.com", "busy@example.com", MESSAGE)
        connection.send("a@example.com", "fine@example.com", MESSAGE)
    codes = [error.value.code for error in (permanent, temporary, refused, later)]
    assert codes == [550, 452, 554, 451]
    assert connection.sessions_opened == 1
    assert [m.rcpt_tos for m in relay.drain()] == [["fine@example.com"]]


def test_mail_rcpt_and_data_go_in_one_write_when_the_server_offers_pipelining(smtp_server, relay):
    with Connection(_settings(smtp_server.port)) as connection:
        connection.send("a@example.com", "b@example.com", MESSAGE)
        connection.send("a@example.com", "c@example.com", MESSAGE)
    assert relay.pipelined == [relay.pipelining] * 2
    assert relay.mail_options == [[f"SIZE={len(MESSAGE)}"]] * 2
    assert [m.content for m in relay.drain()] == [MESSAGE] * 2


def test_lines_that_start_with_a_period_arrive_as_they_were_written(smtp_server, relay):
    message = MESSAGE.replace(b"Hello\r\n", b".\r\n..two\r\n.one\r\nend.\r\n.")
    with Connection(_settings(smtp_server.port)) as connection:
        connection.send("a@example.com", "b@example.com", message)
    # The server adds the line end the message lacked, as smtplib does.
    assert relay.get().content == message + b"\r\n"


@pytest.mark.parametrize(
    ("command", "reply", "says"),
    [
        # A refused sender is our configuration or reputation: kept for later.
        ("MAIL", "553 5.7.1 Sender not allowed", "sender refused"),
        ("RCPT", "421 4.3.2 Shutting down", "Shutting down"),
    ],
    ids=["sender refused", "server closing at RCPT"],
)
def test_a_refusal_that_ends_the_session_keeps_the_message_for_a_new_one(
    smtp_server, relay, command, reply, says
):
    relay.script(command, reply)
    with Connection(_settings(smtp_server.port)) as connection:
        with pytest.raises(TemporaryDeliveryError) as refused:
            connection.send("a@example.com", "b@example.com", MESSAGE)
        connection.send("a@example.com", "b@example.com", MESSAGE)
    assert refused.value.code == int(reply[:3])
    assert says in str(refused.value)
    assert connection.sessions_opened == 2
    assert [m.rcpt_tos for m in relay.drain()] == [["b@example.com"]]


def test_an_address_smtplib_must_quote_goes_one_command_at_a_time(smtp_server, smtpd):
    with Connection(_settings(smtp_server.port)) as connection:
        connection.send("a@example.com", '"john smith"@example.com', MESSAGE)
    assert smtpd.pipelined == [False]
    assert smtpd.get().rcpt_tos == ['"john smith"@example.com']


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

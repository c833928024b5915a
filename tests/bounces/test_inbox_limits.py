"""What the bounce inbox keeps for staff is bounded: each message cut to a size (headers
first), so many an hour from one connecting address, and each kept for so many days."""

from __future__ import annotations

import smtplib
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer.database import transaction
from mailer.delivery.returns import Inbound
from mailer.delivery.returns import Outcome
from mailer.delivery.returns import Verdict
from mailer.domain import bounces
from mailer.domain import inbound
from mailer.extensions import db
from mailer.models import InboundMessage
from tests.bounces.conftest import deliver

# Monday 2 November 2026, 9am UTC.
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
POSTMASTER = "postmaster@bounces.csp-news.localhost"
RULE = bounces.SoftBounceRule(limit=3, within=timedelta(days=14))
HEAD = (
    b"From: someone@example.net\r\nTo: " + POSTMASTER.encode() + b"\r\n"
    b"Subject: a very long letter\r\nMessage-ID: <long@example.net>\r\n\r\n"
)


@pytest.fixture
def app_settings(app_settings):
    """Small limits, other than the defaults, so that the inbox must be reading them."""
    return {**app_settings, "INBOUND_KEEP_BYTES": 8192, "INBOUND_KEPT_PER_HOUR": 3}


def _kept(app) -> list[InboundMessage]:
    with app.app_context():
        found = db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        db.session.expunge_all()
        return list(found)


def test_a_huge_message_is_kept_cut_to_the_setting_with_its_headers_whole(app, inbox):
    body = b"".join(b"line %07d of filler to fill the disk\r\n" % n for n in range(60_000))
    assert len(HEAD + body) > 2_000_000
    assert deliver(inbox, HEAD + body, to=[POSTMASTER], mail_from="someone@example.net") == {}

    [kept] = _kept(app)
    assert len(kept.content) <= 8192
    assert kept.content.startswith(HEAD + b"line 0000000 of filler")
    # The cut falls at the end of a line.
    assert kept.content.endswith(b"of filler to fill the disk\r\n")
    assert kept.problem == (
        f"mail to postmaster address (kept the first {len(kept.content)} of "
        f"{len(HEAD + body)} bytes)"
    )


def test_one_client_has_at_most_the_set_number_of_messages_kept_an_hour(app, inbox):
    answers = []
    with smtplib.SMTP("127.0.0.1", inbox.port, timeout=10) as client:
        for n in range(5):
            try:
                client.sendmail("", [POSTMASTER], HEAD + b"garbage %d\r\n" % n)
                answers.append(250)
            except smtplib.SMTPDataError as refused:
                answers.append(refused.smtp_code)
                client.rset()
    # The rest is refused for now, not dropped: the sending server tries again later.
    assert answers == [250, 250, 250, 451, 451]
    kept = _kept(app)
    assert [message.peer for message in kept] == ["127.0.0.1"] * 3


def _keep(peer: str, *, now: datetime) -> None:
    received = Inbound("", (POSTMASTER,), HEAD + b"hello\r\n", peer=peer)
    with transaction():
        bounces.record(received, [Outcome(Verdict.UNREADABLE, problem="x")], rule=RULE, now=now)


def test_the_hourly_limit_counts_each_address_over_the_last_hour(app):
    with app.app_context():
        for minutes in (0, 10, 20):
            _keep("192.0.2.7", now=T0 + timedelta(minutes=minutes))
        with pytest.raises(inbound.InboxBusy):
            _keep("192.0.2.7", now=T0 + timedelta(minutes=59))
        _keep("2001:db8::7", now=T0 + timedelta(minutes=59))
        _keep("192.0.2.7", now=T0 + timedelta(minutes=60, seconds=1))
        assert len(db.session.scalars(select(InboundMessage)).all()) == 5


def test_the_hourly_limit_counts_the_addresses_of_one_ipv6_network_together(app):
    # One host or home is given a /64: 2**64 addresses, each of which would have its own limit.
    with app.app_context():
        for host in (1, 2, 3):
            _keep(f"2001:db8:7:9::{host}", now=T0)
        with pytest.raises(inbound.InboxBusy):
            _keep("2001:db8:7:9:ffff:1234:5678:9abc", now=T0)
        with pytest.raises(inbound.InboxBusy):
            _keep("2001:0db8:0007:0009:0000:0000:0000:0004", now=T0)
        # Another network, and IPv4 clients as a dual-stack socket names them, are apart.
        _keep("2001:db8:7:a::1", now=T0)
        _keep("::ffff:192.0.2.7", now=T0)
        _keep("::ffff:192.0.2.8", now=T0)
        assert len(db.session.scalars(select(InboundMessage)).all()) == 6

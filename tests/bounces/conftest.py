"""Fixtures: the bounce inbox on a free port, and digests really sent that can come back."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import unquote

import pytest
from flask import Flask
from sqlalchemy import select

from mailer.domain import periods
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import BounceEvent
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import InboundMessage
from mailer.models import Subscriber
from mailer.models import Suppression
from mailer.servers.inbox import InboxController
from mailer.servers.inbox import start_inbox
from tests.bounces.samples import Original
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import ALLOWED_SMTP_PORTS
from tests.helpers import send_queued
from tests.smtp_sink import SinkHandler

# Wednesday 25 November 2026, 07:00 in London (GMT): a daily period ends.
END = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Sent:
    """One digest as it left: its delivery, its reader, and what came back to us from it."""

    delivery_id: int
    subscriber_id: int
    original: Original
    unsubscribe_token: str


@pytest.fixture
def inbox(app: Flask) -> Iterator[InboxController]:
    """The bounce inbox, listening on a port the OS picked."""
    controller = start_inbox(app, host="127.0.0.1", port=0)
    ALLOWED_SMTP_PORTS.add(controller.port)
    yield controller
    controller.stop()
    ALLOWED_SMTP_PORTS.discard(controller.port)


@pytest.fixture
def sent(app: Flask, smtpd: SinkHandler) -> list[Sent]:
    """A daily digest sent to six readers over SMTP, as the receiving servers got it."""
    return send_digests(app, smtpd, readers=6, days=1)


def send_digests(app: Flask, smtpd: SinkHandler, *, readers: int, days: int) -> list[Sent]:
    """Send `days` daily digests, each with a news item of its own, to `readers` readers."""
    with app.app_context():
        add_readers(readers, follows={"funding": Frequency.DAILY}, now=END - timedelta(days=30))
        schedule = periods.Schedule.from_config(app.config)
        for day in range(days):
            end = END + timedelta(days=day)
            publish_news(f"Safer Streets Fund update {day}", at=end - timedelta(hours=3))
            period = schedule.period_ending(Frequency.DAILY, end)
            send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=end)
            db.session.commit()
    assert send_queued(app, now=END + timedelta(days=days)).sent == readers * days
    by_id = {message.message["Message-ID"]: message for message in smtpd.drain()}
    with app.app_context():
        rows = db.session.execute(
            select(Delivery.id, Delivery.subscriber_id, Delivery.message_id).order_by(Delivery.id)
        ).all()
        return [_sent(row.id, row.subscriber_id, by_id[row.message_id]) for row in rows]


def _sent(delivery_id: int, subscriber_id: int, received) -> Sent:
    # The return path, as the receiving server saw it in MAIL FROM.
    verp = received.mail_from
    head = received.content.split(b"\r\n\r\n", 1)[0].decode()
    mailto = received.message["List-Unsubscribe"].split("<mailto:", 1)[1].rstrip(">")
    token = unquote(mailto.split("subject=", 1)[1]).removeprefix("unsubscribe ")
    original = Original(
        recipient=received.rcpt_tos[0],
        verp=verp,
        # The receiving server adds the envelope sender as Return-Path.
        headers=f"Return-Path: <{verp}>\n" + head.replace("\r\n", "\n"),
        message_id=received.message["Message-ID"],
    )
    return Sent(delivery_id, subscriber_id, original, token)


def deliver(
    inbox: InboxController, data: bytes, *, to: list[str], mail_from: str = ""
) -> dict[str, tuple[int, bytes]]:
    """Send a message to the inbox over SMTP, as a remote server would (null sender)."""
    with smtplib.SMTP("127.0.0.1", inbox.port, timeout=10) as smtp:
        return smtp.sendmail(mail_from, to, data)


@dataclass(frozen=True)
class Seen:
    """What staff and the reader see after the inbox took a message."""

    delivery: str
    subscriber: str
    suppression: str | None
    events: list[tuple[str, str]]
    kept: list[str]


def seen(app: Flask, item: Sent) -> Seen:
    """Read back the delivery, subscriber, suppression, bounce events and kept messages."""
    with app.app_context():
        delivery = db.session.get(Delivery, item.delivery_id)
        subscriber = db.session.get(Subscriber, item.subscriber_id)
        assert delivery is not None
        assert subscriber is not None
        suppression = db.session.scalar(
            select(Suppression.reason).where(Suppression.email == subscriber.email)
        )
        events = db.session.execute(
            select(BounceEvent.kind, BounceEvent.status)
            .where(BounceEvent.subscriber_id == subscriber.id)
            .order_by(BounceEvent.id)
        ).all()
        kept = db.session.scalars(select(InboundMessage.problem).order_by(InboundMessage.id))
        return Seen(
            delivery=delivery.status.value,
            subscriber=subscriber.status.value,
            suppression=suppression.value if suppression else None,
            events=[(kind.value, status) for kind, status in events],
            kept=list(kept),
        )


def address_of(header: str) -> str:
    return parseaddr(header)[1]

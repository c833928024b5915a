"""A bounce or complaint binds only to the delivery its return path names, while that very
delivery exists: a return path of mail gone, or one whose row id was handed out again, acts
on nobody, and an address written inside a report never does. What cannot be bound is kept."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy import select

from mailer.domain import periods
from mailer.domain import retention
from mailer.domain import send_runs
from mailer.domain import subscriptions
from mailer.domain.imports import apply_import
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import InboundMessage
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Suppression
from tests.bounces import samples
from tests.bounces.conftest import END
from tests.bounces.conftest import deliver
from tests.factories import add_readers
from tests.factories import make_subscriber
from tests.factories import publish_news
from tests.factories import queue_emails
from tests.helpers import send_queued
from tests.imports.conftest import csv_file

# Monday 2 November 2026, 9am UTC.
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
VICTIM = "victim@example.org"
ATTACKER = "attacker@evil.example"
READER = "reader@example.net"
UNSUBSCRIBE = "unsubscribe@csp-news.localhost"


def _sign_up(app, email: str, *, now: datetime) -> None:
    with app.app_context():
        choice = subscriptions.Choice(subscriptions.parse_topics(["funding"]), Frequency.DAILY)
        origin = subscriptions.Origin(method="form")
        subscriptions.request_subscription(email, choice, origin=origin, now=now)
        db.session.commit()


def _return_path_of_mail_to(smtpd, address: str) -> samples.Original:
    """What the attacker reads in their own mailbox: the Return-Path and headers."""
    received = smtpd.get()
    assert received.rcpt_tos == [address]
    head = received.content.split(b"\r\n\r\n", 1)[0].decode().replace("\r\n", "\n")
    return samples.Original(
        recipient=address,
        verp=received.mail_from,
        headers=f"Return-Path: <{received.mail_from}>\n{head}",
        message_id=received.message["Message-ID"],
    )


def _naming(original: samples.Original, address: str) -> samples.Original:
    """The same return path, with another address written into the report."""
    return samples.Original(
        recipient=address,
        verp=original.verp,
        headers=original.headers.replace(f"To: {original.recipient}", f"To: {address}"),
        message_id="<made-up@evil.example>",
    )


def _status(app, email: str) -> tuple[str, str | None, list[str]]:
    with app.app_context():
        subscriber = db.session.scalars(select(Subscriber).where(Subscriber.email == email)).one()
        suppression = db.session.scalar(
            select(Suppression.reason).where(Suppression.email == email)
        )
        kept = db.session.scalars(select(InboundMessage.problem).order_by(InboundMessage.id))
        return (
            subscriber.status.value,
            suppression.value if suppression else None,
            list(kept),
        )


def test_a_bounce_to_the_return_path_of_a_purged_sign_up_suppresses_nobody(app, smtpd, inbox):
    # The attacker signs up their own address and never confirms; the confirmation email
    # shows them its return path.
    _sign_up(app, ATTACKER, now=T0)
    send_queued(app, now=T0)
    original = _return_path_of_mail_to(smtpd, ATTACKER)
    with app.app_context():
        make_subscriber(email=VICTIM, now=T0 - timedelta(days=30))
        assert (
            retention.purge_unconfirmed(now=T0 + timedelta(days=8), older_than=timedelta(days=7))
            == 1
        )
        db.session.commit()
        assert db.session.scalars(select(Delivery)).all() == []

    # A week later the delivery is gone, and the report names someone else.
    report = samples.postfix_user_unknown(_naming(original, VICTIM))
    assert deliver(inbox, report, to=[original.verp]) == {}

    status, suppression, kept = _status(app, VICTIM)
    assert (status, suppression) == ("active", None)
    assert len(kept) == 1


def _reuse_the_id(app, gone_id: int, subscriber_email: str) -> None:
    """Delete delivery `gone_id` and queue another email with the same id, as SQLite does
    when the highest row is deleted (forced here, so that PostgreSQL shows it too)."""
    with app.app_context():
        db.session.execute(delete(Delivery).where(Delivery.id == gone_id))
        subscriber = make_subscriber(email=subscriber_email, now=T0)
        db.session.add(
            Delivery(
                id=gone_id,
                kind=MessageKind.WELCOME,
                subscriber=subscriber,
                status=DeliveryStatus.QUEUED,
                next_attempt_at=T0 + timedelta(days=1),
                created_at=T0 + timedelta(days=1),
                updated_at=T0 + timedelta(days=1),
            )
        )
        db.session.commit()


def _dsn(original: samples.Original) -> tuple[bytes, str]:
    return samples.postfix_user_unknown(original), original.verp


def _complaint(original: samples.Original) -> tuple[bytes, str]:
    # Sent to postmaster: the return path is only inside the report.
    return samples.aol_complaint(original), "postmaster@bounces.csp-news.localhost"


@pytest.mark.parametrize("report", [_dsn, _complaint], ids=["dsn", "arf"])
def test_an_old_return_path_never_names_the_email_that_took_its_row_id(app, smtpd, inbox, report):
    _sign_up(app, ATTACKER, now=T0)
    send_queued(app, now=T0)
    original = _return_path_of_mail_to(smtpd, ATTACKER)
    with app.app_context():
        gone_id = db.session.scalars(select(Delivery.id)).one()
    _reuse_the_id(app, gone_id, VICTIM)
    send_queued(app, now=T0 + timedelta(days=1))
    assert smtpd.get().rcpt_tos == [VICTIM]

    data, to = report(_naming(original, VICTIM))
    assert deliver(inbox, data, to=[to]) == {}

    status, suppression, kept = _status(app, VICTIM)
    assert (status, suppression) == ("active", None)
    assert len(kept) == 1
    with app.app_context():
        assert db.session.get(Delivery, gone_id).status is DeliveryStatus.SENT


def test_a_bounce_to_a_live_return_path_acts_on_its_own_delivery_not_the_address_it_names(
    app, smtpd, inbox
):
    with app.app_context():
        make_subscriber(email=VICTIM, now=T0 - timedelta(days=30))
        db.session.commit()
    _sign_up(app, ATTACKER, now=T0)
    send_queued(app, now=T0)
    original = _return_path_of_mail_to(smtpd, ATTACKER)

    report = samples.postfix_user_unknown(_naming(original, VICTIM))
    assert deliver(inbox, report, to=[original.verp]) == {}

    assert _status(app, VICTIM)[:2] == ("active", None)
    assert _status(app, ATTACKER)[:2] == ("suppressed", "hard_bounce")


def test_unsubscribe_mail_naming_an_address_but_carrying_no_token_unsubscribes_nobody(app, inbox):
    with app.app_context():
        make_subscriber(email=VICTIM, now=T0)
        db.session.commit()
    data = (
        f"From: {VICTIM}\r\nTo: {UNSUBSCRIBE}\r\nSubject: unsubscribe {VICTIM}\r\n\r\n"
        f"unsubscribe {VICTIM}\r\n"
    ).encode()
    assert deliver(inbox, data, to=[UNSUBSCRIBE], mail_from=VICTIM) == {}
    status, suppression, kept = _status(app, VICTIM)
    assert (status, suppression) == ("active", None)
    assert len(kept) == 1
    with app.app_context():
        assert db.session.scalars(select(Subscriber.status)).one() is SubscriberStatus.ACTIVE


def test_every_email_has_a_return_path_of_its_own_however_it_was_queued(app, smtpd):
    with app.app_context():
        # A digest run (INSERT ... SELECT), an import (INSERT ... SELECT from JSON), the
        # factories' executemany, and a sign-up (the ORM).
        add_readers(3, follows={"funding": Frequency.DAILY}, now=END - timedelta(days=30))
        publish_news("Safer Streets Fund", at=END - timedelta(hours=3))
        period = periods.Schedule.from_config(app.config).period_ending(Frequency.DAILY, END)
        send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=END)
        db.session.commit()
        apply_import(
            csv_file("ann@example.org,funding,,,", "raj@example.org,events,,,"),
            actor="test",
            target="Subscriber",
            filename="list.csv",
            now=END,
        )
        queue_emails(2, now=END, domain="example.net")
        db.session.commit()
    _sign_up(app, ATTACKER, now=END)
    assert send_queued(app, now=END).sent == 8

    paths = [received.mail_from for received in smtpd.drain()]
    local = re.compile(r"bounces\+[a-z0-9]+-[0-9a-f]{20}-[a-z0-9]{13}@bounces\.csp-news\.localhost")
    assert all(local.fullmatch(path) for path in paths), paths
    keys = {path.split("-")[1] for path in paths}
    assert len(keys) == 8


def test_an_email_queued_before_keys_keeps_the_old_return_path_and_its_bounces_bind(
    app, smtpd, inbox
):
    # A delivery made before migration 0008 has no key.
    _sign_up(app, READER, now=T0)
    with app.app_context():
        db.session.scalars(select(Delivery)).one().return_key = None
        db.session.commit()
    send_queued(app, now=T0)
    original = _return_path_of_mail_to(smtpd, READER)
    assert re.fullmatch(
        r"bounces\+[a-z0-9]+-[a-z0-9]{13}@bounces\.csp-news\.localhost", original.verp
    )

    assert deliver(inbox, samples.postfix_user_unknown(original), to=[original.verp]) == {}
    assert _status(app, READER) == ("suppressed", "hard_bounce", [])

"""Erasure at its edges: mail that comes back afterwards, sends in flight, retention races,
people who left by complaint, and addresses inside longer ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.database import transaction
from mailer.delivery import queue
from mailer.delivery.returns import Inbound
from mailer.delivery.returns import Outcome
from mailer.delivery.returns import Verdict
from mailer.domain import bounces
from mailer.domain import erasure
from mailer.domain import subscriptions
from mailer.domain import suppressions
from mailer.domain.imports import Report
from mailer.domain.imports import uploads
from mailer.domain.subscriptions import find_subscriber
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Subscriber
from mailer.models import SubscriberImport
from mailer.models import SubscriberStatus
from mailer.models import SuppressionReason
from mailer.tokens import Purpose
from mailer.tokens import subscriber_token
from tests import TODAY
from tests.factories import make_subscriber
from tests.privacy.test_erasure import EMAIL
from tests.privacy.test_erasure import RULE
from tests.privacy.test_erasure import _erase
from tests.privacy.test_erasure import _sign_up_and_confirm
from tests.privacy.test_erasure import _tables_holding


def test_an_unsubscribe_email_from_an_erased_person_is_dropped_not_kept(app, client, smtpd):
    """An old email's mailto unsubscribe, used after erasure: its link was revoked, and keeping
    the message for staff would store the address again."""
    _sign_up_and_confirm(client, smtpd, app)
    with app.app_context():
        token = subscriber_token(Purpose.UNSUBSCRIBE, subscriptions.find_subscriber(EMAIL))
    _erase(app)
    assert _tables_holding(app, EMAIL) == []

    with app.app_context(), transaction():
        received = Inbound(
            EMAIL,
            ("unsubscribe@csp-news.localhost",),
            f"From: {EMAIL}\r\nSubject: unsubscribe {token}\r\n\r\n".encode(),
        )
        outcome = Outcome(Verdict.UNSUBSCRIBE, token=token)
        bounces.record(received, [outcome], rule=RULE, now=clock.now())

    assert _tables_holding(app, EMAIL) == []


def test_a_policy_refusal_of_mail_to_an_erased_subscriber_is_dropped_not_kept(app, client, smtpd):
    """A 5.7.1 refusal of an email sent before the erasure names the address in its report."""
    _sign_up_and_confirm(client, smtpd, app)
    with app.app_context():
        delivery_id, key = db.session.execute(select(Delivery.id, Delivery.return_key)).first()
    _erase(app)

    with app.app_context(), transaction():
        dsn = f"Final-Recipient: rfc822; {EMAIL}\r\nStatus: 5.7.1\r\n".encode()
        outcome = Outcome(
            Verdict.POLICY,
            delivery_id,
            status="5.7.1",
            diagnostic=f"<{EMAIL}> blocked",
            return_key=key,
        )
        bounces.record(Inbound("", ("b@x",), dsn), [outcome], rule=RULE, now=clock.now())

    assert _tables_holding(app, EMAIL) == []


def test_retention_erases_someone_who_left_by_a_spam_complaint(app):
    """A complaint leaves the subscriber suppressed rather than unsubscribed; they left all the
    same, and the privacy notice promises erasure."""
    t0 = TODAY - timedelta(days=200)
    with app.app_context(), transaction():
        subscriber = make_subscriber(email=EMAIL, now=t0)
        subscriptions.unsubscribe(
            subscriber, origin=subscriptions.Origin(method="complaint"), now=t0
        )
        suppressions.suppress(EMAIL, SuppressionReason.COMPLAINT, actor="t", now=t0)
        assert subscriber.unsubscribed_at is not None

    with app.app_context(), transaction():
        erased = erasure.erase_unsubscribed(now=TODAY, older_than=timedelta(days=90))

    assert erased == 1


@pytest.mark.parametrize("connection", ["same", "other"])
def test_retention_spares_someone_who_came_back_between_its_two_reads(app, monkeypatch, connection):
    """Retention reads the ids of those who left, then locks their rows: a sign-up confirmed
    in between (by another connection, on PostgreSQL) must not be erased."""
    t0 = TODAY - timedelta(days=200)
    with app.app_context():
        if connection == "other" and db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's BEGIN IMMEDIATE lets no other connection write in between")
        with transaction():
            subscriber = make_subscriber(email=EMAIL, now=t0)
            subscriptions.unsubscribe(subscriber, origin=subscriptions.Origin(), now=t0)
            subscriber_id = subscriber.id
    back = (
        Subscriber.__table__.update()
        .where(Subscriber.id == subscriber_id)
        .values(status=SubscriberStatus.ACTIVE.value, unsubscribed_at=None)
    )
    original = erasure.unsubscribed_before

    def then_they_come_back(cutoff, *, limit):
        ids = original(cutoff, limit=limit)
        if ids and connection == "other":
            with db.engine.begin() as other:
                other.execute(back)
        elif ids:
            db.session.execute(back)
            db.session.expire_all()
        return ids

    monkeypatch.setattr(erasure, "unsubscribed_before", then_they_come_back)
    with app.app_context(), transaction():
        erasure.erase_unsubscribed(now=TODAY, older_than=timedelta(days=90), batch=10)

    with app.app_context():
        assert db.session.get(Subscriber, subscriber_id).status is SubscriberStatus.ACTIVE


def test_erasure_takes_the_address_out_of_an_upload_file_name(app, client, smtpd):
    _sign_up_and_confirm(client, smtpd, app)
    with app.app_context(), transaction():
        uploads.store_upload(
            f"email,topics\r\n{EMAIL},funding\r\n".encode(),
            f"request-from-{EMAIL}.csv",
            Report(),
            actor="staff:1",
            now=clock.now(),
        )
    _erase(app)

    assert _tables_holding(app, EMAIL) == []


def test_a_send_in_flight_during_erasure_cannot_write_the_address_back(app, client, smtpd):
    """A worker holding a delivery when its subscriber is erased finds its lease gone, so the
    SMTP reply it records (which quotes the address) is not written."""
    _sign_up_and_confirm(client, smtpd, app)
    now = clock.now()
    with app.app_context(), transaction():
        subscriber_id = db.session.scalar(select(Subscriber.id))
        db.session.add(
            Delivery(
                kind="manage",
                subscriber_id=subscriber_id,
                status=DeliveryStatus.SENDING,
                attempts=1,
                lease_owner="worker-1",
                lease_expires_at=now + timedelta(minutes=5),
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    with app.app_context():
        delivery_id = db.session.scalar(
            select(Delivery.id).where(Delivery.status == DeliveryStatus.SENDING)
        )

    _erase(app)  # while the worker is talking to the relay
    with app.app_context(), transaction():
        queue.record_failed(
            delivery_id, owner="worker-1", error=f"550 5.1.1 <{EMAIL}>: no such user", now=now
        )

    assert _tables_holding(app, EMAIL) == []


def test_retention_erases_someone_taken_off_the_suppression_list_long_ago(app):
    """Suppressed after a bounce, then taken off the list: no longer mailed, so they left then."""
    t0 = TODAY - timedelta(days=500)
    with app.app_context(), transaction():
        make_subscriber(email=EMAIL, now=t0)
        suppressions.suppress(EMAIL, SuppressionReason.HARD_BOUNCE, actor="t", now=t0)
        suppressions.unsuppress(EMAIL, reason="mailbox fixed", actor="t", now=t0)
        subscriber = db.session.scalar(select(Subscriber))
        assert subscriber.status is SubscriberStatus.UNSUBSCRIBED

    with app.app_context(), transaction():
        erased = erasure.erase_unsubscribed(now=TODAY, older_than=timedelta(days=90))

    assert erased == 1


def test_erasing_one_address_leaves_alone_a_list_naming_a_longer_one(app):
    with app.app_context(), transaction():
        make_subscriber(email="ann@example.org", now=TODAY)
        uploads.store_upload(
            b"email,topics\r\njoann@example.org,funding\r\n",
            "list.csv",
            Report(),
            actor="staff:1",
            now=TODAY,
        )
    with app.app_context(), transaction():
        erasure.erase(
            find_subscriber("ann@example.org", lock=True),
            why="request",
            actor="t",
            now=TODAY,
        )
    with app.app_context():
        upload = db.session.scalars(select(SubscriberImport)).one()
        assert upload.discarded_at is None
        assert upload.content != b""

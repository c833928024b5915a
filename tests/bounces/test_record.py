"""Recording outcomes in the database, at fixed times: the soft-bounce window and fallbacks."""

from __future__ import annotations

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
from mailer.extensions import db
from mailer.models import BounceEvent
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import InboundMessage
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Suppression
from mailer.tokens import Purpose
from mailer.tokens import subscriber_token
from tests.factories import make_subscriber

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
RULE = bounces.SoftBounceRule(limit=3, within=timedelta(days=14))
# The key of every delivery made here (each return path names its delivery's own).
KEY = "5d0b6c1e9a8f7e2d3c4b"
RECEIVED = Inbound("", ("bounces+x@bounces.csp-news.localhost",), b"Subject: x\r\n\r\nx\r\n")


def _delivery(subscriber: Subscriber, status: DeliveryStatus = DeliveryStatus.SENT) -> int:
    """Add a delivery whose key is known, so that an outcome can name it (flushed)."""
    delivery = Delivery(
        return_key=KEY,
        kind=MessageKind.WELCOME,
        subscriber=subscriber,
        status=status,
        next_attempt_at=T0,
        message_id=f"<{id(subscriber)}.{db.session.scalar(select(db.func.count(Delivery.id)))}@x>",
        created_at=T0,
        updated_at=T0,
    )
    db.session.add(delivery)
    db.session.flush()
    return delivery.id


def _record(*outcomes: Outcome, now: datetime) -> None:
    with transaction():
        bounces.record(RECEIVED, outcomes, rule=RULE, now=now)


def test_soft_bounces_count_only_within_the_window(app):
    with app.app_context():
        subscriber = make_subscriber(email="full@example.org", now=T0)
        ids = [_delivery(subscriber) for _ in range(4)]
        db.session.commit()
        for days, delivery_id in zip((0, 10, 20), ids, strict=False):
            _record(
                Outcome(Verdict.SOFT, delivery_id, status="4.2.2", return_key=KEY),
                now=T0 + timedelta(days=days),
            )
        # Days 0, 10 and 20: never three within fourteen days.
        assert db.session.get(Subscriber, subscriber.id).status is SubscriberStatus.ACTIVE
        _record(
            Outcome(Verdict.SOFT, ids[3], status="4.2.2", return_key=KEY),
            now=T0 + timedelta(days=21),
        )
        assert db.session.get(Subscriber, subscriber.id).status is SubscriberStatus.SUPPRESSED
        reason = db.session.scalars(select(Suppression.reason)).one()
        assert reason.value == "soft_bounces"


def test_soft_bounce_limit_and_window_come_from_the_settings(app):
    app.config.update(SOFT_BOUNCE_LIMIT=5, SOFT_BOUNCE_DAYS=30)
    assert bounces.SoftBounceRule.from_config(app.config) == bounces.SoftBounceRule(
        5, timedelta(days=30)
    )


def test_a_bounce_for_a_delivery_gone_never_falls_back_to_the_address_it_names(app):
    with app.app_context():
        subscriber = make_subscriber(email="Gone.Away@Example.org", now=T0)
        db.session.commit()
        outcome = Outcome(
            Verdict.HARD, 999, addresses=("gone.away@example.org",), status="5.1.1", return_key=KEY
        )
        _record(outcome, now=T0)
        assert db.session.get(Subscriber, subscriber.id).status is SubscriberStatus.ACTIVE
        assert db.session.scalars(select(BounceEvent)).all() == []
        kept = db.session.scalars(select(InboundMessage)).one()
        assert kept.problem == "no email of ours that still exists matches this hard report"


@pytest.mark.parametrize(
    ("stored", "named"),
    [(KEY, "0" * 20), (KEY, None), (None, KEY)],
    ids=["another key", "old form for a keyed delivery", "a key for an old delivery"],
)
def test_a_bounce_binds_only_to_the_delivery_with_the_key_its_return_path_carries(
    app, stored, named
):
    with app.app_context():
        subscriber = make_subscriber(email="x@example.org", now=T0)
        delivery_id = _delivery(subscriber)
        db.session.get(Delivery, delivery_id).return_key = stored
        db.session.commit()
        _record(Outcome(Verdict.HARD, delivery_id, status="5.1.1", return_key=named), now=T0)
        assert db.session.get(Subscriber, subscriber.id).status is SubscriberStatus.ACTIVE
        assert db.session.get(Delivery, delivery_id).status is DeliveryStatus.SENT


def test_a_return_path_of_the_old_form_still_binds_to_a_delivery_made_before_keys(app):
    with app.app_context():
        subscriber = make_subscriber(email="x@example.org", now=T0)
        delivery_id = _delivery(subscriber)
        db.session.get(Delivery, delivery_id).return_key = None
        db.session.commit()
        _record(Outcome(Verdict.HARD, delivery_id, status="5.1.1"), now=T0)
        assert db.session.get(Subscriber, subscriber.id).status is SubscriberStatus.SUPPRESSED
        assert db.session.get(Delivery, delivery_id).status is DeliveryStatus.BOUNCED


def test_a_bounce_that_matches_nobody_is_kept_not_dropped(app):
    with app.app_context():
        _record(Outcome(Verdict.HARD, 999, addresses=("who@example.org",)), now=T0)
        kept = db.session.scalars(select(InboundMessage)).one()
        assert kept.problem == "no email of ours that still exists matches this hard report"
        assert db.session.scalars(select(BounceEvent)).all() == []


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (DeliveryStatus.SENT, DeliveryStatus.BOUNCED),
        # The bounce beat the worker's record of the send.
        (DeliveryStatus.SENDING, DeliveryStatus.BOUNCED),
        (DeliveryStatus.BOUNCED, DeliveryStatus.BOUNCED),
        (DeliveryStatus.CANCELLED, DeliveryStatus.CANCELLED),
        (DeliveryStatus.FAILED, DeliveryStatus.FAILED),
    ],
)
def test_only_a_delivery_that_left_is_marked_bounced(app, before, after):
    with app.app_context():
        subscriber = make_subscriber(email="x@example.org", now=T0)
        delivery_id = _delivery(subscriber, before)
        db.session.commit()
        outcome = Outcome(
            Verdict.SOFT, delivery_id, status="4.2.2", diagnostic="full", return_key=KEY
        )
        _record(outcome, now=T0)
        assert db.session.get(Delivery, delivery_id).status is after


def test_problems_of_one_message_are_kept_once_together(app):
    with app.app_context():
        _record(
            Outcome(Verdict.UNREADABLE, problem="mail to postmaster address"),
            Outcome(Verdict.UNREADABLE, problem="mail to postmaster address"),
            Outcome(Verdict.POLICY, 3, status="5.7.1", diagnostic="spam"),
            Outcome(Verdict.IGNORED, 4, problem="status report: delayed"),
            now=T0,
        )
        kept = db.session.scalars(select(InboundMessage)).one()
    assert kept.problem == (
        "mail to postmaster address; refused for our message, not the address: 5.7.1 spam"
    )


def test_a_report_sent_again_and_again_for_one_email_adds_one_row(app):
    # Whoever holds a return path (every reader holds their own) or an unsubscribe token can
    # send its report as often as they like: the database must not grow with each copy.
    with app.app_context():
        subscriber = make_subscriber(email="loud@example.org", now=T0)
        delivery_id = _delivery(subscriber)
        token = subscriber_token(Purpose.UNSUBSCRIBE, subscriber)
        db.session.commit()
        for n in range(5):
            at = T0 + timedelta(minutes=n)
            _record(Outcome(Verdict.UNSUBSCRIBE, token=token), now=at)
            _record(Outcome(Verdict.HARD, delivery_id, status="5.1.1", return_key=KEY), now=at)
            _record(Outcome(Verdict.COMPLAINT, delivery_id, return_key=KEY), now=at)
        events = db.session.scalars(select(BounceEvent.kind).order_by(BounceEvent.id)).all()
        assert [kind.value for kind in events] == ["unsubscribe", "hard", "complaint"]
        assert db.session.scalars(select(InboundMessage)).all() == []

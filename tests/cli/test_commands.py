"""The job twins and other commands, run as an operator would."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from mailer import clock
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Topic
from tests import TODAY
from tests.factories import make_subscriber
from tests.factories import queue_emails
from tests.helpers import subscribe


def test_seed_topics_adds_the_demo_topics_once(app, runner):
    with app.app_context():
        db.session.execute(Topic.__table__.delete())
        db.session.commit()
    first = runner.invoke(args=["seed-topics"])
    second = runner.invoke(args=["seed-topics"])
    assert (first.exit_code, first.output) == (0, "Added 9 topics.\n")
    assert second.output == "Added 0 topics.\n"


def test_worker_once_sends_what_is_due_and_says_so(app, runner, smtpd):
    with app.app_context():
        queue_emails(3, now=TODAY)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0
    assert "Worker finished: sent 3, retrying 0, failed 0, cancelled 0." in result.output
    assert len(smtpd.drain()) == 3


def test_purge_unconfirmed_deletes_only_old_unconfirmed_sign_ups(app, client, runner):
    subscribe(client, "recent@example.com")
    # The command reads the clock: the ages are counted back from it.
    now = clock.now()
    with app.app_context():
        eight_days_ago = now - timedelta(days=8)
        # Signed up long ago but asked again just now: today's link must keep working.
        again = make_subscriber(
            email="again@example.com", status=SubscriberStatus.PENDING, now=eight_days_ago
        )
        again.updated_at = now
        make_subscriber(
            email="old@example.com", status=SubscriberStatus.PENDING, now=eight_days_ago
        )
        make_subscriber(email="active@example.com", now=eight_days_ago)
        db.session.commit()
    result = runner.invoke(args=["purge-unconfirmed"])
    assert result.output == "Purged 1 unconfirmed sign-ups.\n"
    with app.app_context():
        left = sorted(db.session.scalars(select(Subscriber.email)))
    assert left == ["active@example.com", "again@example.com", "recent@example.com"]


def test_release_leases_requeues_only_expired_claims(app, runner):
    # The command reads the clock: the leases run out relative to it.
    now = clock.now()
    with app.app_context():
        ids = queue_emails(3, now=now)
        db.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids[:2]))
            .values(
                status=DeliveryStatus.SENDING,
                lease_owner="dead-worker",
                lease_expires_at=now - timedelta(seconds=1),
            )
        )
        db.session.execute(
            update(Delivery)
            .where(Delivery.id == ids[2])
            .values(
                status=DeliveryStatus.SENDING,
                lease_owner="live-worker",
                lease_expires_at=now + timedelta(minutes=4),
            )
        )
        db.session.commit()
    result = runner.invoke(args=["release-leases"])
    assert result.output == "Released 2 stale leases.\n"
    with app.app_context():
        queued = db.session.scalar(
            select(func.count()).where(
                Delivery.status == DeliveryStatus.QUEUED, Delivery.lease_owner.is_(None)
            )
        )
    assert queued == 2


def test_a_bad_option_is_a_usage_error(runner):
    result = runner.invoke(args=["worker", "--twice"])
    assert result.exit_code == 2
    assert "No such option '--twice'" in result.output


def test_revoke_links_makes_old_links_fail(app, client, runner):
    from mailer.tokens import Purpose
    from mailer.tokens import subscriber_token

    with app.app_context():
        subscriber = make_subscriber(email="leaked@example.com", now=TODAY)
        db.session.commit()
        old = subscriber_token(Purpose.UNSUBSCRIBE, subscriber)
    assert client.get(f"/unsubscribe/{old}").status_code == 200
    result = runner.invoke(args=["revoke-links", "LEAKED@example.com"])
    assert result.exit_code == 0
    assert "Revoked every link sent to LEAKED@example.com" in result.output
    assert client.get(f"/unsubscribe/{old}").status_code == 400
    unknown = runner.invoke(args=["revoke-links", "nobody@example.com"])
    assert unknown.exit_code == 1
    assert "no subscriber with the address nobody@example.com" in unknown.output
    bad = runner.invoke(args=["revoke-links", "not an address"])
    assert bad.exit_code == 1

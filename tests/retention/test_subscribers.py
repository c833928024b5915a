"""Retention of people's addresses under time travel: unconfirmed sign-ups are deleted after
UNCONFIRMED_RETENTION_DAYS, and people unsubscribed for UNSUBSCRIBED_RETENTION_DAYS erased."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer import jobs
from mailer.domain import suppressions
from mailer.extensions import db
from mailer.models import ConsentEvent
from mailer.models import Subscriber
from mailer.models import SubscriberImport
from mailer.models import SubscriberStatus
from mailer.models import SuppressionReason
from tests.factories import make_subscriber
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import send_queued
from tests.helpers import subscribe

# Monday 2 November 2026, 9am UTC.
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LEAVER = "leaver@example.com"


@pytest.fixture
def app_settings(app_settings):
    """A period other than the default, so that the job must be reading the setting."""
    return {**app_settings, "UNSUBSCRIBED_RETENTION_DAYS": 30}


def _subscribers(app):
    with app.app_context():
        rows = db.session.execute(select(Subscriber.email, Subscriber.status))
        return dict(rows.all())


def _run(app, job, when, at):
    at(when)
    return job(app)


def test_an_unconfirmed_sign_up_goes_after_7_days_and_not_at_6(app, client, smtpd, at):
    at(T0)
    subscribe(client, "waiting@example.com")
    with app.app_context():
        make_subscriber(email="reader@example.com", now=T0 - timedelta(days=30))
        db.session.commit()
    send_queued(app, now=T0)
    smtpd.drain()

    assert _run(app, jobs.purge_unconfirmed, T0 + timedelta(days=6), at) == 0
    assert _run(app, jobs.purge_unconfirmed, T0 + timedelta(days=7, seconds=-1), at) == 0
    assert _subscribers(app) == {
        "waiting@example.com": SubscriberStatus.PENDING,
        "reader@example.com": SubscriberStatus.ACTIVE,
    }
    assert _run(app, jobs.purge_unconfirmed, T0 + timedelta(days=7, seconds=1), at) == 1
    assert _subscribers(app) == {"reader@example.com": SubscriberStatus.ACTIVE}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentEvent)) == 0


def _leave(app, client, smtpd, at, email, when):
    """Sign up, confirm and unsubscribe through the pages and the emails, all at `when`."""
    at(when)
    subscribe(client, email)
    send_queued(app, now=when)
    confirm = link(smtpd.get().text, "/confirm/")
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    send_queued(app, now=when)
    client.post(link(smtpd.get().text, "/unsubscribe/"))
    with app.app_context():
        subscriber = db.session.scalars(select(Subscriber).where(Subscriber.email == email)).one()
        assert subscriber.status is SubscriberStatus.UNSUBSCRIBED
        return subscriber.id


def test_an_unsubscribed_address_is_erased_after_the_setting_and_not_before(app, client, smtpd, at):
    leaver = _leave(app, client, smtpd, at, LEAVER, T0)
    _leave(app, client, smtpd, at, "later@example.com", T0 + timedelta(days=10))
    with app.app_context():
        make_subscriber(email="reader@example.com", now=T0 - timedelta(days=400))
        db.session.commit()

    assert _run(app, jobs.erase_unsubscribed, T0 + timedelta(days=30, seconds=-1), at) == 0
    assert _subscribers(app)[LEAVER] is SubscriberStatus.UNSUBSCRIBED
    assert _run(app, jobs.erase_unsubscribed, T0 + timedelta(days=30, seconds=1), at) == 1

    assert _subscribers(app) == {
        "": SubscriberStatus.ERASED,
        "later@example.com": SubscriberStatus.UNSUBSCRIBED,
        "reader@example.com": SubscriberStatus.ACTIVE,
    }
    with app.app_context():
        erased = db.session.get_one(Subscriber, leaver)
        assert (erased.email, erased.email_key) == ("", f"erased-{leaver}")
        assert erased.subscriptions == []
        consent = select(ConsentEvent).where(ConsentEvent.subscriber_id == leaver)
        assert db.session.scalars(consent).all() == []
        entry = suppressions.find(LEAVER)
        assert (entry.reason, entry.email) == (SuppressionReason.ERASED, None)
        assert suppressions.find("later@example.com") is None
    # A day later the next one's time has come, and nothing is erased twice.
    assert _run(app, jobs.erase_unsubscribed, T0 + timedelta(days=40, seconds=1), at) == 1
    assert set(_subscribers(app)) == {"", "reader@example.com"}


def test_an_uploaded_list_never_imported_loses_its_file_after_7_days(app, at):
    at(T0)
    with app.app_context():
        stored = SubscriberImport(
            filename="list.csv",
            content=b"email,topics\r\nsomeone@example.org,funding\r\n",
            sha256="0" * 64,
            created_by="staff:1",
            created_at=T0,
        )
        db.session.add(stored)
        db.session.commit()

    _run(app, jobs.purge_unconfirmed, T0 + timedelta(days=6), at)
    with app.app_context():
        assert db.session.scalars(select(SubscriberImport.content)).one() != b""
    _run(app, jobs.purge_unconfirmed, T0 + timedelta(days=7, seconds=1), at)

    with app.app_context():
        upload = db.session.scalars(select(SubscriberImport)).one()
        assert upload.content == b""
        assert upload.discarded_at == T0 + timedelta(days=7, seconds=1)

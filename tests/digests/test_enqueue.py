"""Who a run is enqueued for: active readers at its frequency with something to read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from tests.digests.conftest import AFTER
from tests.digests.conftest import END
from tests.digests.conftest import deliveries
from tests.digests.conftest import make_digest
from tests.digests.conftest import run_state
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import send_queued

DAILY_FUNDING = {"funding": Frequency.DAILY}


def test_only_active_readers_at_the_runs_frequency_are_enqueued_and_mailed(app, smtpd):
    with app.app_context():
        add_readers(2, follows=DAILY_FUNDING, domain="active.example", now=END)
        for status in (
            SubscriberStatus.PENDING,
            SubscriberStatus.UNSUBSCRIBED,
            SubscriberStatus.SUPPRESSED,
        ):
            add_readers(
                1, follows=DAILY_FUNDING, domain=f"{status.value}.example", status=status, now=END
            )
        add_readers(1, follows={"funding": Frequency.WEEKLY}, domain="weekly.example", now=END)
        add_readers(
            1, follows={"funding": Frequency.IMMEDIATE}, domain="immediate.example", now=END
        )
        add_readers(1, follows={"events": Frequency.DAILY}, domain="events.example", now=END)
        publish_news("Safer Streets Fund round 6", at=END - timedelta(hours=1))
        db.session.commit()
    run_id, created, recipients = make_digest(app)
    assert (created, recipients) == (True, 2)
    expected = ["reader0@active.example", "reader1@active.example"]
    assert deliveries(app) == [(email, DeliveryStatus.QUEUED) for email in expected]
    assert send_queued(app, now=AFTER).sent == 2
    assert sorted(m.rcpt_tos[0] for m in smtpd.drain()) == expected


def test_a_run_with_items_but_no_reader_for_them_is_done_at_once(app):
    with app.app_context():
        add_readers(1, follows={"events": Frequency.DAILY}, now=END)
        publish_news("Safer Streets Fund round 6", at=END - timedelta(hours=1))
        db.session.commit()
    run_id, created, recipients = make_digest(app)
    assert (created, recipients) == (True, 0)
    assert deliveries(app) == []
    assert run_state(app, run_id) == "done"


def test_a_period_without_news_makes_a_run_with_nobody_in_it(app):
    with app.app_context():
        add_readers(1, follows=DAILY_FUNDING, now=END)
        publish_news("From the day before", at=END - timedelta(days=1, seconds=1))
        db.session.commit()
    run_id, _, recipients = make_digest(app)
    assert recipients == 0
    assert run_state(app, run_id) == "done"


def test_a_reader_gets_only_the_items_of_their_topics_at_that_frequency(app, smtpd):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY, "events": Frequency.WEEKLY}, now=END)
        publish_news("Safer Streets Fund round 6", topics=("funding",), at=END - timedelta(hours=2))
        publish_news("CSP conference", topics=("events",), at=END - timedelta(hours=1))
        db.session.commit()
    make_digest(app)
    send_queued(app, now=AFTER)
    [message] = smtpd.drain()
    assert message.message["Subject"] == "CSP news: 1 update (daily, 25 November 2026)"
    assert "Safer Streets Fund round 6" in message.text
    assert "CSP conference" not in message.text
    assert "CSP conference" not in message.html


def test_an_item_in_two_of_a_readers_topics_is_listed_once(app, smtpd):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY, "events": Frequency.DAILY}, now=END)
        publish_news("CSP conference", topics=("events", "funding"), at=END - timedelta(hours=1))
        db.session.commit()
    assert make_digest(app)[2] == 1
    send_queued(app, now=AFTER)
    [message] = smtpd.drain()
    assert message.message["Subject"] == "CSP news: 1 update (daily, 25 November 2026)"
    assert message.text.count("CSP conference") == 1
    # Listed once; the hidden preheader names it too.
    assert message.html.count(">CSP conference</a>") == 1


def test_a_reader_of_one_topic_at_once_and_another_daily_gets_the_alert_and_the_digest(app, smtpd):
    """The decided policy, as on GOV.UK: an item in both gets both emails."""
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.IMMEDIATE, "events": Frequency.DAILY}, now=END)
        item = publish_news(
            "CSP conference", topics=("events", "funding"), at=END - timedelta(hours=1)
        )
        alert, created = send_runs.make_alert_run(item, actor="test", now=END - timedelta(hours=1))
        db.session.commit()
        assert (created, alert.recipients) == (True, 1)
    assert make_digest(app)[2] == 1
    assert send_queued(app, now=AFTER).sent == 2
    received = smtpd.drain()
    assert {m.rcpt_tos[0] for m in received} == {"reader0@example.org"}
    assert sorted(m.message["Subject"] for m in received) == [
        "CSP news: 1 update (daily, 25 November 2026)",
        "CSP news: CSP conference",
    ]


def test_an_item_a_reader_follows_only_at_once_is_not_in_their_digest(app):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.IMMEDIATE, "events": Frequency.DAILY}, now=END)
        publish_news("Safer Streets Fund round 6", topics=("funding",), at=END - timedelta(hours=1))
        db.session.commit()
    assert make_digest(app)[2] == 0
    assert deliveries(app) == []


@pytest.mark.parametrize("status", [SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.SUPPRESSED])
def test_a_reader_who_leaves_after_the_run_was_made_is_not_mailed(app, smtpd, status):
    with app.app_context():
        [reader] = add_readers(1, follows=DAILY_FUNDING, now=END)
        add_readers(1, follows=DAILY_FUNDING, domain="stays.example", now=END)
        publish_news("Safer Streets Fund round 6", at=END - timedelta(hours=1))
        db.session.commit()
    make_digest(app)
    with app.app_context():
        db.session.get_one(Subscriber, reader).status = status
        db.session.commit()
    send_queued(app, now=AFTER)
    assert [m.rcpt_tos[0] for m in smtpd.drain()] == ["reader1@stays.example"]
    assert deliveries(app) == [
        ("reader0@example.org", DeliveryStatus.CANCELLED),
        ("reader1@stays.example", DeliveryStatus.SENT),
    ]

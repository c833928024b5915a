"""Immediate alerts: one run per newly published item, mailed to those who follow it at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mailer import clock
from mailer import jobs
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import RunState
from mailer.models import SendRun
from tests.digests.conftest import END
from tests.digests.conftest import deliveries
from tests.digests.conftest import make_due
from tests.digests.conftest import run_keys
from tests.digests.conftest import withdraw
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import link
from tests.helpers import send_queued

ALERTS = (Frequency.IMMEDIATE,)
TITLE = "Safer Streets Fund round 6 opens"


def _publish(app, at, *, topics=("funding",)):
    """Add one reader who follows funding at once and one daily, then publish an item."""
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.IMMEDIATE}, now=at)
        add_readers(1, follows={"funding": Frequency.DAILY}, domain="daily.example", now=at)
        item = publish_news(TITLE, topics=topics, at=at)
        db.session.commit()
        return item.id, item.slug


def test_a_new_item_is_alerted_to_its_immediate_readers_with_its_link(app, smtpd, client):
    item_id, slug = _publish(app, END - timedelta(minutes=1))
    assert make_due(app, END, frequencies=ALERTS) == [f"immediate:item-{item_id}"]
    assert make_due(app, END + timedelta(minutes=1), frequencies=ALERTS) == []
    assert send_queued(app, now=END).sent == 1
    [message] = smtpd.drain()
    assert message.rcpt_tos == ["reader0@example.org"]
    assert message.message["Subject"] == f"CSP news: {TITLE}"
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = link(message.text, f"/news/{slug}")
    assert "utm_campaign=immediate" in path
    assert link(message.html, f"/news/{slug}") == path.replace("&", "&amp;")
    assert client.get(path).status_code == 200


def test_a_reader_following_two_of_an_items_topics_at_once_gets_one_alert(app, smtpd):
    with app.app_context():
        add_readers(
            1, follows={"funding": Frequency.IMMEDIATE, "events": Frequency.IMMEDIATE}, now=END
        )
        publish_news(TITLE, topics=("funding", "events"), at=END - timedelta(minutes=1))
        db.session.commit()
    make_due(app, END, frequencies=ALERTS)
    assert send_queued(app, now=END).sent == 1
    assert [m.rcpt_tos for m in smtpd.drain()] == [["reader0@example.org"]]


def test_the_alert_job_alerts_an_item_published_a_moment_ago(app, smtpd):
    item_id, _ = _publish(app, clock.now() - timedelta(minutes=1))
    assert jobs.send_alerts(app) == 1
    assert jobs.send_alerts(app) == 0
    assert send_queued(app).sent == 1
    assert [m.message["Subject"] for m in smtpd.drain()] == [f"CSP news: {TITLE}"]
    assert run_keys(app) == [f"immediate:item-{item_id}"]


def test_an_item_older_than_the_alert_window_gets_no_alert(app):
    assert app.config["ALERT_WITHIN_HOURS"] == 24
    _publish(app, END - timedelta(hours=24, seconds=1))
    assert make_due(app, END, frequencies=ALERTS) == []
    assert run_keys(app) == []


def test_a_withdrawn_item_gets_no_alert(app):
    item_id, _ = _publish(app, END - timedelta(minutes=2))
    withdraw(app, item_id, now=END - timedelta(minutes=1))
    assert make_due(app, END, frequencies=ALERTS) == []


def test_an_item_withdrawn_after_its_alert_was_made_is_not_mailed(app, smtpd):
    item_id, _ = _publish(app, END - timedelta(minutes=2))
    make_due(app, END - timedelta(minutes=1), frequencies=ALERTS)
    withdraw(app, item_id, now=END - timedelta(seconds=30))
    send_queued(app, now=END)
    assert smtpd.drain() == []
    assert deliveries(app) == [("reader0@example.org", DeliveryStatus.CANCELLED)]


def test_an_alert_of_an_item_nobody_follows_at_once_is_done_with_no_recipients(app):
    item_id, _ = _publish(app, END - timedelta(minutes=1), topics=("events",))
    make_due(app, END, frequencies=ALERTS)
    with app.app_context():
        run = db.session.scalars(select(SendRun)).one()
        assert (run.key, run.recipients, run.state) == (
            send_runs.alert_key(item_id),
            0,
            RunState.DONE,
        )

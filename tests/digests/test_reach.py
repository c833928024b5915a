"""Check before publishing: the numbers staff see are the emails the worker then sends, and
urgent news reaches every reader of its topics at once, and no one twice."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.domain import news
from mailer.domain import periods
from mailer.errors import FieldErrors
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import Frequency
from mailer.models import NewsItem
from mailer.models import StaffRole
from mailer.models import SubscriberStatus
from tests import TODAY
from tests.digests.conftest import make_digest
from tests.digests.conftest import make_due
from tests.factories import add_readers
from tests.helpers import EDITOR
from tests.helpers import csrf_token
from tests.helpers import logged_in
from tests.helpers import send_queued

ALERTS = (Frequency.IMMEDIATE,)
TITLE = "Safer Streets Fund round 6 opens"
# Those who take funding news at once (one of them takes events daily too), daily, weekly;
# two more who would but are not active; people of other topics only.
AT_ONCE, DAILY, WEEKLY = 4, 5, 2


def _readers(app, now):
    with app.app_context():
        add_readers(3, follows={"funding": Frequency.IMMEDIATE}, now=now, prefix="now")
        add_readers(
            1,
            follows={"funding": Frequency.IMMEDIATE, "events": Frequency.DAILY},
            now=now,
            prefix="both",
        )
        add_readers(4, follows={"funding": Frequency.DAILY}, now=now, prefix="daily")
        add_readers(
            1,
            follows={"funding": Frequency.DAILY, "events": Frequency.IMMEDIATE},
            now=now,
            prefix="mixed",
        )
        add_readers(2, follows={"funding": Frequency.WEEKLY}, now=now, prefix="weekly")
        for status in (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.SUPPRESSED):
            add_readers(1, follows={"funding": Frequency.IMMEDIATE}, status=status, now=now)
        add_readers(3, follows={"events": Frequency.IMMEDIATE}, now=now, prefix="events")
        db.session.commit()


def _draft(app, now):
    with app.app_context():
        draft = news.validate_draft(
            title=TITLE, summary="Bids open.", body="", topic_slugs=["funding"]
        )
        item = news.create_item(draft, actor="test", now=now)
        db.session.commit()
        return item.id


def _mailed(smtpd):
    """How many emails each address got, and the subjects."""
    messages = smtpd.drain()
    return Counter(m.rcpt_tos[0] for m in messages), [m.message["Subject"] for m in messages]


def test_the_numbers_shown_before_publishing_are_the_emails_then_sent(app, client, smtpd):
    _readers(app, TODAY)
    item_id = _draft(app, TODAY)
    logged_in(app, client, EDITOR, StaffRole.EDITOR, now=TODAY)
    path = f"/staff/news/{item_id}/publish"
    check = client.post(path, data={"csrf_token": csrf_token(client, f"/staff/news/{item_id}")})
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", check.get_data(as_text=True)))
    assert f"{AT_ONCE} people get an email now" in text
    assert f"{DAILY} in the daily digest of" in text
    assert f"{WEEKLY} in the weekly digest of" in text
    token = csrf_token(client, f"/staff/news/{item_id}")
    assert client.post(path, data={"csrf_token": token, "confirm": "yes"}).status_code == 302

    # The staff member published it just now, by the clock: the runs are made from then.
    now = clock.now()
    make_due(app, now, frequencies=ALERTS)
    send_queued(app, now=now)
    at_once, _ = _mailed(smtpd)
    assert sum(at_once.values()) == len(at_once) == AT_ONCE
    schedule = periods.Schedule.from_config(app.config)
    for frequency, expected in ((Frequency.DAILY, DAILY), (Frequency.WEEKLY, WEEKLY)):
        end = schedule.next_end(frequency, now)
        make_digest(app, frequency, end, now=end + timedelta(minutes=1))
        send_queued(app, now=end + timedelta(minutes=1))
        mailed, subjects = _mailed(smtpd)
        assert sum(mailed.values()) == len(mailed) == expected, frequency
        assert not set(mailed) & set(at_once)


def test_urgent_news_reaches_every_reader_of_its_topics_at_once_and_no_digest(app, smtpd):
    _readers(app, TODAY)
    item_id = _draft(app, TODAY)
    published = TODAY + timedelta(hours=1)
    with app.app_context():
        item = news.item_by_id(item_id)
        urgency = news.validate_urgency(True, "The deadline moved to tomorrow")
        news.publish_item(item, actor="editor@example.gov.uk", now=published, urgency=urgency)
        db.session.commit()
        audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "published")).one()
        assert audit.detail == {"urgent": "The deadline moved to tomorrow"}
    make_due(app, published + timedelta(minutes=1), frequencies=ALERTS)
    send_queued(app, now=published + timedelta(minutes=1))
    mailed, subjects = _mailed(smtpd)
    assert sum(mailed.values()) == len(mailed) == AT_ONCE + DAILY + WEEKLY
    assert set(subjects) == {f"CSP news: {TITLE}"}
    schedule = periods.Schedule.from_config(app.config)
    for frequency in (Frequency.DAILY, Frequency.WEEKLY):
        end = schedule.next_end(frequency, published)
        _, _, recipients = make_digest(app, frequency, end, now=end + timedelta(minutes=1))
        assert recipients == 0, frequency
    assert send_queued(app, now=published + timedelta(days=8)).sent == 0


def test_an_urgent_item_must_say_why(app):
    with app.app_context():
        with pytest.raises(FieldErrors) as refused:
            news.validate_urgency(True, "   ")
        assert refused.value.errors == {
            "urgent_reason": "Say why this news cannot wait for the digests"
        }
        assert news.validate_urgency(False, "ignored") == news.NOT_URGENT


def test_a_scheduled_urgent_item_stays_urgent_when_it_is_published(app):
    item_id = _draft(app, TODAY)
    with app.app_context():
        item = news.item_by_id(item_id)
        urgency = news.validate_urgency(True, "Closes at noon")
        news.publish_item(
            item, actor="test", now=TODAY, at=TODAY + timedelta(hours=2), urgency=urgency
        )
        db.session.commit()
        assert news.publish_due(now=TODAY + timedelta(hours=3)) == 1
        db.session.commit()
        item = db.session.get_one(NewsItem, item_id)
        assert (item.urgent, item.urgent_reason) == (True, "Closes at noon")

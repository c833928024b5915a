"""A digest end to end: published news, a run made once, one email per reader in the sink."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from mailer.domain import periods
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import SendRun
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import link
from tests.helpers import send_queued

# Wednesday 25 November 2026, 07:00 in London (GMT): a daily period ends.
END = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def _make_daily(app, now=END + timedelta(minutes=1)):
    with app.app_context():
        schedule = periods.Schedule.from_config(app.config)
        period = schedule.period_ending(Frequency.DAILY, END)
        run, created = send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=now)
        db.session.commit()
        return run.id, created, run.recipients


def test_a_daily_digest_reaches_each_reader_once_with_their_items_and_links(app, smtpd, client):
    with app.app_context():
        add_readers(3, follows={"funding": Frequency.DAILY, "events": Frequency.DAILY}, now=END)
        add_readers(2, follows={"events": Frequency.WEEKLY}, domain="weekly.example", now=END)
        add_readers(
            2, follows={"consultations": Frequency.DAILY}, domain="nothing.example", now=END
        )
        publish_news("Safer Streets Fund round 6", topics=("funding",), at=END - timedelta(hours=3))
        publish_news("CSP conference", topics=("events", "funding"), at=END - timedelta(hours=2))
        publish_news("Too late", topics=("funding",), at=END)
        db.session.commit()
    run_id, created, recipients = _make_daily(app)
    assert (created, recipients) == (True, 3)
    assert _make_daily(app)[:2] == (run_id, False)
    stats = send_queued(app)
    assert stats.sent == 3
    received = smtpd.drain()
    assert sorted(m.rcpt_tos[0] for m in received) == [
        "reader0@example.org",
        "reader1@example.org",
        "reader2@example.org",
    ]
    message = received[0]
    assert message.message["Subject"] == "CSP news: 2 updates (daily, 25 November 2026)"
    text = message.text
    assert text.count("CSP conference") == 1
    assert "Too late" not in text
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.message["Feedback-ID"] == "daily:digest:news:cspnews"
    # The envelope sender names the delivery, so a bounce finds its way back to it.
    bounce_domain = app.config["BOUNCE_DOMAIN"]
    assert {m.mail_from.rpartition("@")[2] for m in received} == {bounce_domain}
    assert len({m.mail_from for m in received}) == 3
    unsubscribe = link(text, "/unsubscribe/")
    assert unsubscribe in message.message["List-Unsubscribe"]
    assert client.get(link(text, "/manage/")).status_code == 200
    assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with app.app_context():
        run = db.session.get(SendRun, run_id)
        count = db.session.scalar(select(func.count()).select_from(Delivery))
        assert count == 3
        assert run is not None
        assert run.state.value == "done"

"""The whole journey: sign up and confirm on the site, news published through the API, the
scheduler's jobs make the alert and the digest, the worker sends them, each arrives once."""

from __future__ import annotations

from datetime import timedelta

from mailer import clock
from mailer.domain import periods
from mailer.domain import send_runs
from mailer.domain import staff
from mailer.extensions import db
from mailer.models import Frequency
from tests.helpers import link
from tests.helpers import send_queued
from tests.helpers import subscribe


def _confirm(client, smtpd, app, email, topics, frequency):
    subscribe(client, email, topics=topics, frequency=frequency)
    send_queued(app)
    [confirmation] = smtpd.drain()
    path = link(confirmation.text, "/confirm/")
    page = client.get(path).get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(path, data={"csrf_token": token}).status_code == 200
    send_queued(app)
    [welcome] = smtpd.drain()
    assert welcome.rcpt_tos == [email]


def test_a_reader_signs_up_news_is_published_and_the_alert_and_the_digest_arrive_once(
    app, client, smtpd
):
    _confirm(client, smtpd, app, "now@example.org", ("funding",), "immediate")
    _confirm(client, smtpd, app, "daily@example.org", ("funding", "events"), "daily")
    with app.app_context():
        made = staff.create_api_key("cms", created_by=None, actor="test", now=clock.now())
        db.session.commit()
    response = client.post(
        "/api/v1/news",
        json={
            "title": "Safer Streets Fund round 6 opens",
            "summary": "Bids close on 30 January.",
            "body": "Apply through the portal.",
            "topics": ["funding", "events"],
            "publish": True,
        },
        headers={"Authorization": f"Bearer {made.plaintext}"},
    )
    assert response.status_code == 201

    with app.app_context():
        schedule = periods.Schedule.from_config(app.config)
        now = clock.now()
        alerts = send_runs.make_due_runs(
            schedule=schedule,
            now=now,
            actor="scheduler",
            alert_within=timedelta(hours=24),
            recovery=timedelta(days=7),
            frequencies=(Frequency.IMMEDIATE,),
        )
        # The digest of the period the item was published in, once that period has ended.
        after = schedule.ends_between(Frequency.DAILY, now, now + timedelta(days=2))[0]
        daily = send_runs.make_due_runs(
            schedule=schedule,
            now=after + periods.SETTLE,
            actor="scheduler",
            alert_within=timedelta(hours=24),
            recovery=timedelta(days=7),
            frequencies=(Frequency.DAILY,),
        )
        # The scheduler firing again, or a second one, makes nothing more.
        again = send_runs.make_due_runs(
            schedule=schedule,
            now=after + periods.SETTLE,
            actor="scheduler",
            alert_within=timedelta(hours=24),
            recovery=timedelta(days=7),
            frequencies=(Frequency.IMMEDIATE, Frequency.DAILY),
        )
        assert ([run.recipients for run in alerts], [run.recipients for run in daily]) == (
            [1],
            [1],
        )
        assert again == []
    assert send_queued(app, now=after + timedelta(minutes=2)).sent == 2
    received = {m.rcpt_tos[0]: m for m in smtpd.drain()}
    assert set(received) == {"now@example.org", "daily@example.org"}
    alert, digest = received["now@example.org"], received["daily@example.org"]
    assert alert.message["Subject"] == "CSP news: Safer Streets Fund round 6 opens"
    assert digest.message["Subject"].startswith("CSP news: 1 update (daily, ")
    assert digest.text.count("Safer Streets Fund round 6 opens") == 1
    for message in (alert, digest):
        assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = link(message.text, "/unsubscribe/")
        assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert send_queued(app, now=after + timedelta(minutes=3)).sent == 0

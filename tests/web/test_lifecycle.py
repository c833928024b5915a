"""The whole subscription lifecycle, through the pages and a real SMTP server."""

from __future__ import annotations

from sqlalchemy import select

from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import send_queued
from tests.helpers import subscribe


def _subscriber(app, email="alex@example.com"):
    with app.app_context():
        return db.session.scalar(select(Subscriber).where(Subscriber.email == email))


def _actions(app, email="alex@example.com"):
    with app.app_context():
        subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == email))
        return [
            (e.action, e.detail.get("method"))
            for e in db.session.scalars(
                select(ConsentEvent)
                .where(ConsentEvent.subscriber_id == subscriber.id)
                .order_by(ConsentEvent.id)
            )
        ]


def test_subscribe_confirm_manage_unsubscribe_and_come_back(app, client, smtpd):
    response = subscribe(client, "Alex@Example.COM")
    assert response.status_code == 302
    assert response.headers["Location"] == "/check-your-email"
    assert "Check your email" in client.get("/check-your-email").get_data(as_text=True)
    assert _subscriber(app, "Alex@example.com").status is SubscriberStatus.PENDING

    assert send_queued(app).sent == 1
    confirmation = smtpd.get()
    assert confirmation.rcpt_tos == ["Alex@example.com"]
    assert confirmation.message["Subject"].startswith("Confirm your subscription")
    assert "List-Unsubscribe" not in confirmation.message
    confirm_path = link(confirmation.text, "/confirm/")
    assert confirm_path in confirmation.html

    page = client.get(confirm_path)
    assert page.status_code == 200
    assert "Confirm subscription" in page.get_data(as_text=True)
    assert _subscriber(app, "Alex@example.com").status is SubscriberStatus.PENDING

    token = csrf_token(client, confirm_path)
    confirmed = client.post(confirm_path, data={"csrf_token": token})
    assert confirmed.status_code == 200
    assert "Subscription confirmed" in confirmed.get_data(as_text=True)
    assert _subscriber(app, "Alex@example.com").status is SubscriberStatus.ACTIVE

    send_queued(app)
    welcome = smtpd.get()
    assert welcome.message["Subject"] == "You are subscribed to Community Safety Partnerships news"
    assert welcome.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    manage_path = link(welcome.text, "/manage/")
    unsubscribe_path = link(welcome.text, "/unsubscribe/")

    manage_page = client.get(manage_path).get_data(as_text=True)
    assert 'value="funding" checked' in manage_page
    assert 'value="daily" checked' in manage_page
    changed = client.post(
        manage_path,
        data={
            "csrf_token": csrf_token(client, manage_path),
            "topics": ["consultations"],
            "frequency": "weekly",
        },
    )
    assert changed.status_code == 302
    after = client.get(manage_path).get_data(as_text=True)
    assert "Your subscription has been updated" in after
    assert 'value="consultations" checked' in after
    assert 'value="funding" checked' not in after
    assert 'value="weekly" checked' in after

    one_click = app.test_client(use_cookies=False).post(
        unsubscribe_path, data={"List-Unsubscribe": "One-Click"}
    )
    assert one_click.status_code == 200
    assert "Location" not in one_click.headers
    assert _subscriber(app, "Alex@example.com").status is SubscriberStatus.UNSUBSCRIBED

    # An old confirmation link must not bring the subscription back.
    stale = client.post(confirm_path, data={"csrf_token": csrf_token(client, "/subscribe")})
    assert stale.status_code == 400
    assert _subscriber(app, "Alex@example.com").status is SubscriberStatus.UNSUBSCRIBED

    subscribe(client, "alex@example.com", topics=("events",), frequency="immediate")
    send_queued(app)
    again = smtpd.get()
    assert again.message["Subject"].startswith("Confirm your subscription")
    second_confirm = link(again.text, "/confirm/")
    client.post(second_confirm, data={"csrf_token": csrf_token(client, second_confirm)})
    assert _subscriber(app, "Alex@example.com").status is SubscriberStatus.ACTIVE
    assert _actions(app, "Alex@example.com") == [
        (ConsentAction.REQUESTED, "form"),
        (ConsentAction.CONFIRMED, "link"),
        (ConsentAction.CHANGED, "form"),
        (ConsentAction.UNSUBSCRIBED, "one-click"),
        (ConsentAction.REQUESTED, "form"),
        (ConsentAction.CONFIRMED, "link"),
    ]

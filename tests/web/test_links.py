"""Links in emails: confirm, manage and unsubscribe tokens, and what a GET may never do."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.domain import subscriptions
from mailer.extensions import db
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.tokens import Purpose
from mailer.tokens import make_token
from mailer.tokens import read_token
from mailer.tokens import subscriber_token
from mailer.tokens import subscriber_token_maker
from tests.helpers import at_once
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import send_queued
from tests.helpers import subscribe


def _status(app):
    with app.app_context():
        return db.session.scalar(select(Subscriber.status))


def _subscriber(app):
    with app.app_context():
        subscriber = db.session.scalar(select(Subscriber))
        db.session.expunge(subscriber)
        return subscriber


def _token(app, purpose, subscriber=None, *, age_seconds=0, monkeypatch=None):
    """Make a real token for `subscriber`, signed `age_seconds` ago."""
    subscriber = subscriber or _subscriber(app)
    with app.app_context():
        if age_seconds:
            then = time.time() - age_seconds
            monkeypatch.setattr("itsdangerous.timed.time", SimpleNamespace(time=lambda: then))
        token = subscriber_token(purpose, subscriber)
        if age_seconds:
            monkeypatch.undo()
        return token


@pytest.fixture
def pending(app, client):
    subscribe(client, "pat@example.com")
    return _subscriber(app)


@pytest.fixture
def active(app, client, smtpd, pending):
    send_queued(app)
    path = link(smtpd.get().text, "/confirm/")
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    send_queued(app)
    smtpd.get()
    return _subscriber(app)


def _tamper(token: str) -> str:
    index = len(token) // 2
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


@pytest.mark.parametrize("purpose", ["confirm", "manage", "unsubscribe"])
def test_a_tampered_link_gets_a_400_page_that_says_what_to_do(app, client, active, purpose):
    token = _tamper(_token(app, Purpose(purpose)))
    page = client.get(f"/{purpose}/{token}")
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "This link is not valid" in text
    assert 'href="/subscribe"' in text
    assert _status(app) is SubscriberStatus.ACTIVE


@pytest.mark.parametrize(
    ("issued_for", "used_for"),
    [
        ("unsubscribe", "confirm"),
        ("manage", "confirm"),
        ("confirm", "unsubscribe"),
        ("manage", "unsubscribe"),
        ("confirm", "manage"),
        ("unsubscribe", "manage"),
    ],
)
def test_a_link_for_one_purpose_does_nothing_for_another(
    app, client, pending, issued_for, used_for
):
    token = _token(app, Purpose(issued_for))
    assert client.get(f"/{used_for}/{token}").status_code == 400
    posted = app.test_client(use_cookies=False).post(
        f"/{used_for}/{token}", data={"List-Unsubscribe": "One-Click"}
    )
    assert posted.status_code == 400
    assert _status(app) is SubscriberStatus.PENDING


def test_a_confirmation_link_expires_after_seven_days(app, client, pending, monkeypatch):
    token = _token(app, Purpose.CONFIRM, age_seconds=7 * 86400 + 60, monkeypatch=monkeypatch)
    page = client.get(f"/confirm/{token}")
    assert page.status_code == 400
    assert "This link has expired" in page.get_data(as_text=True)
    fresh = _token(app, Purpose.CONFIRM, age_seconds=6 * 86400, monkeypatch=monkeypatch)
    assert client.get(f"/confirm/{fresh}").status_code == 200


def test_an_expired_manage_link_says_how_to_get_a_new_one(app, client, active, monkeypatch):
    token = _token(app, Purpose.MANAGE, age_seconds=31 * 86400, monkeypatch=monkeypatch)
    page = client.get(f"/manage/{token}")
    assert page.status_code == 400
    assert 'href="/manage"' in page.get_data(as_text=True)


def test_an_unsubscribe_link_still_works_after_400_days(app, client, active, monkeypatch):
    token = _token(app, Purpose.UNSUBSCRIBE, age_seconds=400 * 86400, monkeypatch=monkeypatch)
    response = app.test_client(use_cookies=False).post(f"/unsubscribe/{token}")
    assert response.status_code == 200
    assert _status(app) is SubscriberStatus.UNSUBSCRIBED


def test_raising_the_token_version_revokes_every_old_link(app, client, active):
    old = {p: _token(app, p) for p in (Purpose.MANAGE, Purpose.UNSUBSCRIBE)}
    with app.app_context():
        subscriber = db.session.scalar(select(Subscriber))
        subscriptions.revoke_links(subscriber, now=clock.now())
        db.session.commit()
    assert client.get(f"/manage/{old[Purpose.MANAGE]}").status_code == 400
    assert app.test_client().post(f"/unsubscribe/{old[Purpose.UNSUBSCRIBE]}").status_code == 400
    assert _status(app) is SubscriberStatus.ACTIVE
    assert client.get(f"/manage/{_token(app, Purpose.MANAGE)}").status_code == 200


def test_links_signed_with_an_older_key_still_work_after_rotation(app, app_settings, active):
    token = _token(app, Purpose.UNSUBSCRIBE)
    from config import TestingConfig
    from mailer.app import create_app

    rotated = create_app(
        TestingConfig,
        {
            **app_settings,
            "SECRET_KEY": "a-brand-new-secret-key-for-the-test",
            "SECRET_KEY_FALLBACKS": [app.config["SECRET_KEY"]],
        },
    )
    with rotated.app_context():
        assert read_token(Purpose.UNSUBSCRIBE, token)["s"] == active.id
        new_token = make_token(Purpose.UNSUBSCRIBE, {"s": active.id, "v": 1})
    with app.app_context(), pytest.raises(Exception, match="does not match"):
        read_token(Purpose.UNSUBSCRIBE, new_token)
    with rotated.app_context():
        db.engine.dispose()


def test_tokens_name_the_subscriber_by_id_never_by_address(app, active):
    import base64
    import json

    token = _token(app, Purpose.UNSUBSCRIBE)
    payload = token.split(".")[0]
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert decoded == {"s": active.id, "v": active.token_version}
    assert "@" not in token


def test_opening_links_never_changes_anything(app, client, pending):
    confirm = _token(app, Purpose.CONFIRM)
    for path in (f"/confirm/{confirm}", f"/unsubscribe/{_token(app, Purpose.UNSUBSCRIBE)}"):
        for _ in range(2):
            assert client.get(path).status_code == 200
            assert client.head(path).status_code == 200
    assert _status(app) is SubscriberStatus.PENDING
    with app.app_context():
        assert len(db.session.scalars(select(ConsentEvent)).all()) == 1


def test_confirming_twice_makes_one_subscription_and_one_welcome(app, client, smtpd, pending):
    path = f"/confirm/{_token(app, Purpose.CONFIRM)}"
    form_token = csrf_token(client, path)
    for _ in range(2):
        response = client.post(path, data={"csrf_token": form_token})
        assert response.status_code == 200
    assert "You have already confirmed" in client.get(path).get_data(as_text=True)
    send_queued(app)
    subjects = [m.message["Subject"] for m in smtpd.drain()]
    assert subjects.count("You are subscribed to Community Safety Partnerships news") == 1


def test_two_confirmations_at_once_make_one_welcome(app, pending):
    path = f"/confirm/{_token(app, Purpose.CONFIRM)}"

    def confirm(start):
        browser = app.test_client()
        token = csrf_token(browser, path)
        start()
        return browser.post(path, data={"csrf_token": token}).status_code

    assert at_once(confirm) == [200, 200]
    with app.app_context():
        kinds = [d.kind.value for d in db.session.scalars(select(Delivery))]
        actions = [e.action.value for e in db.session.scalars(select(ConsentEvent))]
    assert sorted(kinds) == ["confirm", "welcome"]
    assert actions == ["requested", "confirmed"]


def test_token_pages_are_private_and_send_no_referrer(app, client, pending):
    response = client.get(f"/confirm/{_token(app, Purpose.CONFIRM)}")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_one_click_works_with_either_encoding_without_cookies_and_twice(app, active):
    path = f"/unsubscribe/{_token(app, Purpose.UNSUBSCRIBE)}"
    provider = app.test_client(use_cookies=False)
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        response = provider.post(
            path, data={"List-Unsubscribe": "One-Click"}, content_type=content_type
        )
        assert response.status_code == 200
        assert "Location" not in response.headers
        assert "You have unsubscribed" in response.get_data(as_text=True)
    assert _status(app) is SubscriberStatus.UNSUBSCRIBED
    with app.app_context():
        methods = [e.detail["method"] for e in db.session.scalars(select(ConsentEvent))]
    assert methods == ["form", "link", "one-click"]


def test_the_unsubscribe_button_on_the_page_works_and_the_page_says_so_after(app, client, active):
    path = f"/unsubscribe/{_token(app, Purpose.UNSUBSCRIBE)}"
    assert "Unsubscribe from news updates" in client.get(path).get_data(as_text=True)
    assert client.post(path).status_code == 200
    assert "You have already unsubscribed" in client.get(path).get_data(as_text=True)


def test_unsubscribing_cancels_mail_still_in_the_queue(app, client, smtpd, active):
    client.post(
        "/manage", data={"csrf_token": csrf_token(client, "/manage"), "email": "pat@example.com"}
    )
    app.test_client().post(f"/unsubscribe/{_token(app, Purpose.UNSUBSCRIBE)}")
    stats = send_queued(app)
    assert stats.sent == 0
    assert smtpd.drain() == []
    with app.app_context():
        statuses = [d.status for d in db.session.scalars(select(Delivery).order_by(Delivery.id))]
    assert statuses[-1] is DeliveryStatus.CANCELLED


def test_a_manage_link_of_someone_who_left_says_they_are_not_subscribed(app, client, active):
    manage = _token(app, Purpose.MANAGE)
    app.test_client().post(f"/unsubscribe/{_token(app, Purpose.UNSUBSCRIBE)}")
    page = client.get(f"/manage/{manage}")
    assert page.status_code == 200
    assert "You are not subscribed" in page.get_data(as_text=True)


def test_changing_topics_without_the_csrf_token_is_refused(app, client, active):
    path = f"/manage/{_token(app, Purpose.MANAGE)}"
    response = client.post(path, data={"topics": ["events"], "frequency": "weekly"})
    assert response.status_code == 400
    with app.app_context():
        subscriber = db.session.scalar(select(Subscriber))
        assert [s.topic.slug for s in subscriber.subscriptions] == ["funding", "events"]


def test_changing_topics_with_bad_input_shows_errors_and_keeps_the_old_choice(app, client, active):
    path = f"/manage/{_token(app, Purpose.MANAGE)}"
    response = client.post(
        path, data={"csrf_token": csrf_token(client, path), "topics": [], "frequency": "yearly"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Select at least one topic" in page
    assert "Select how often you want to get emails" in page
    with app.app_context():
        subscriber = db.session.scalar(select(Subscriber))
        assert [s.topic.slug for s in subscriber.subscriptions] == ["funding", "events"]


@pytest.mark.parametrize("purpose", [Purpose.MANAGE, Purpose.UNSUBSCRIBE])
def test_the_send_runs_token_maker_makes_the_very_tokens_of_the_links(app, monkeypatch, purpose):
    # The ids include some zlib shortens (long runs of one digit), whose tokens are compressed.
    then = time.time() - 5 * 86400
    monkeypatch.setattr("itsdangerous.timed.time", SimpleNamespace(time=lambda: then))
    pairs = [(1, 1), (42, 3), (10**12 - 1, 1), (1111111111111111, 7), (7, 2222222222222222)]
    with app.app_context():
        make = subscriber_token_maker(purpose)
        made = [make(subscriber_id, version) for subscriber_id, version in pairs]
        expected = [make_token(purpose, {"s": s, "v": v}) for s, v in pairs]
        assert made == expected
        assert any(token.startswith(".") for token in made)
        assert [(read_token(purpose, t)["s"], read_token(purpose, t)["v"]) for t in made] == pairs

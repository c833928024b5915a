"""The sign-up form: validation, no enumeration, limits, hostile input."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer import clock
from mailer.domain import subscriptions
from mailer.domain.subscriptions import Choice
from mailer.domain.subscriptions import Origin
from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Topic
from tests.helpers import at_once
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import send_queued
from tests.helpers import subscribe


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _confirm(app, client, smtpd):
    send_queued(app)
    path = link(smtpd.get().text, "/confirm/")
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    send_queued(app)
    smtpd.get()  # the welcome email


def test_form_lists_every_topic_and_ticks_nothing(client):
    page = client.get("/subscribe").get_data(as_text=True)
    assert page.count('type="checkbox"') == 9
    assert 'value="domestic-homicide-reviews"' in page
    assert page.count('name="frequency" type="radio"') == 3
    assert "checked" not in page


def test_new_address_is_pending_until_confirmed_and_consent_is_recorded(app, client, smtpd):
    subscribe(client, "  New.Person@Example.org ", headers={"User-Agent": "Browser/1.0"})
    with app.app_context():
        subscriber = db.session.scalar(select(Subscriber))
        assert subscriber.email == "New.Person@example.org"
        assert subscriber.status is SubscriberStatus.PENDING
        assert sorted(s.topic.slug for s in subscriber.subscriptions) == ["events", "funding"]
        assert {s.frequency for s in subscriber.subscriptions} == {Frequency.DAILY}
        event = db.session.scalar(select(ConsentEvent))
        assert event.action is ConsentAction.REQUESTED
        assert event.ip == "127.0.0.1"
        assert event.wording_version == app.config["CONSENT_WORDING_VERSION"]
        assert event.detail == {
            "method": "form",
            "topics": ["funding", "events"],
            "frequency": "daily",
            "language": "en",
        }
    send_queued(app)
    message = smtpd.get()
    assert message.rcpt_tos == ["New.Person@example.org"]
    assert "Funding" in message.text
    assert "Events" in message.text


def test_the_answer_is_the_same_for_new_pending_and_active_addresses(app, client, smtpd):
    subscribe(client, "active@example.com")
    _confirm(app, client, smtpd)
    subscribe(client, "pending@example.com")
    send_queued(app)
    smtpd.drain()

    answers = [
        subscribe(client, address)
        for address in ("new@example.com", "pending@example.com", "active@example.com")
    ]
    assert {(a.status_code, a.headers["Location"]) for a in answers} == {(302, "/check-your-email")}
    send_queued(app)
    mails = {m.rcpt_tos[0]: m.message["Subject"] for m in smtpd.drain()}
    assert mails["new@example.com"].startswith("Confirm your subscription")
    assert mails["pending@example.com"].startswith("Confirm your subscription")
    assert mails["active@example.com"].startswith("Manage your")


def test_an_active_subscription_is_not_changed_from_the_form(app, client, smtpd):
    subscribe(client, "active@example.com", topics=("funding",), frequency="weekly")
    _confirm(app, client, smtpd)
    subscribe(client, "active@example.com", topics=("events",), frequency="immediate")
    with app.app_context():
        subscriber = db.session.scalar(select(Subscriber))
        assert [s.topic.slug for s in subscriber.subscriptions] == ["funding"]
        assert subscriber.subscriptions[0].frequency is Frequency.WEEKLY


def test_unsubscribed_and_suppressed_addresses_get_the_same_answer(app, client, smtpd):
    subscribe(client, "left@example.com")
    _confirm(app, client, smtpd)
    with app.app_context():
        left = db.session.scalar(select(Subscriber))
        subscriptions.unsubscribe(left, origin=Origin(), now=clock.now())
        suppressed = Subscriber(
            email="blocked@example.com",
            email_key="blocked@example.com",
            status=SubscriberStatus.SUPPRESSED,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        db.session.add(suppressed)
        db.session.commit()
    answers = {
        subscribe(client, a).headers["Location"]
        for a in ("left@example.com", "blocked@example.com", "fresh@example.com")
    }
    assert answers == {"/check-your-email"}
    send_queued(app)
    assert sorted(m.rcpt_tos[0] for m in smtpd.drain()) == ["fresh@example.com", "left@example.com"]


def test_an_internationalised_domain_is_kept_and_mailed_in_ascii(app, client, smtpd):
    assert subscribe(client, "Kim@Bücher.example").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Subscriber.email)) == "Kim@xn--bcher-kva.example"
    assert send_queued(app).sent == 1
    assert smtpd.get().rcpt_tos == ["Kim@xn--bcher-kva.example"]


def test_two_first_sign_ups_at_once_make_one_subscriber_and_no_error(app):
    def sign_up(start):
        browser = app.test_client()
        token = csrf_token(browser, "/subscribe")
        start()
        data = {
            "csrf_token": token,
            "email": "race@example.com",
            "topics": ["funding"],
            "frequency": "daily",
        }
        return browser.post("/subscribe", data=data).status_code

    assert at_once(sign_up) == [302, 302]
    assert _count(app, Subscriber) == 1


def test_the_same_address_in_another_case_is_the_same_subscriber(app, client):
    subscribe(client, "case@example.com")
    subscribe(client, "CASE@EXAMPLE.COM")
    assert _count(app, Subscriber) == 1


def test_at_most_three_emails_an_hour_go_to_one_address(app, client, smtpd):
    for _ in range(5):
        assert subscribe(client, "bombed@example.com").status_code == 302
    send_queued(app)
    assert len(smtpd.drain()) == 3

    # An hour later the address can be sent another.
    later = clock.now() + timedelta(minutes=61)
    with app.app_context():
        choice = Choice(tuple(db.session.scalars(select(Topic).limit(1))), Frequency.DAILY)
        subscriptions.request_subscription("bombed@example.com", choice, origin=Origin(), now=later)
        db.session.commit()
    send_queued(app, now=later)
    assert len(smtpd.drain()) == 1


def test_plus_tags_of_one_mailbox_share_its_hourly_limit(app, client, smtpd):
    for address in (
        "bombed@example.com",
        "bombed+1@example.com",
        "Bombed+News@example.com",
        "bombed+a+b@example.com",
        "bombed+@example.com",
    ):
        assert subscribe(client, address).status_code == 302
    send_queued(app)
    assert len(smtpd.drain()) == 3


def test_other_mailboxes_keep_limits_of_their_own(app, client, smtpd):
    # Dots or a longer name make another mailbox at most providers, and so does another domain.
    for _ in range(3):
        subscribe(client, "bombed+x@example.com")
    for address in ("bombed.x@example.com", "bombedx@example.com", "bombed@example.org"):
        subscribe(client, address)
    send_queued(app)
    assert len(smtpd.drain()) == 6


def _error_summary(page: str) -> list[str]:
    summary = page.split('class="govuk-error-summary"')[1].split("</ul>")[0]
    return re.findall(r'<a href="#(\w+)">', summary)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"email": "", "topics": [], "frequency": None}, ["email", "topics", "frequency"]),
        ({"email": "not-an-address"}, ["email"]),
        ({"email": "two@@example.com"}, ["email"]),
        ({"email": "x" * 250 + "@example.com"}, ["email"]),
        ({"topics": ["funding", "no-such-topic"]}, ["topics"]),
        ({"frequency": "hourly"}, ["frequency"]),
    ],
)
def test_invalid_input_shows_the_form_again_with_an_error_summary(
    app, client, smtpd, fields, expected
):
    data = {"email": "ok@example.com", "topics": ["funding"], "frequency": "daily", **fields}
    data = {key: value for key, value in data.items() if value is not None}
    response = client.post(
        "/subscribe", data={**data, "csrf_token": csrf_token(client, "/subscribe")}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page
    assert _error_summary(page) == expected
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Error: " in page
    assert _count(app, Subscriber) == 0
    send_queued(app)
    assert smtpd.drain() == []


INJECTIONS = [
    "victim@example.com\r\nBcc: everyone@example.net",
    "victim@example.com\nBcc: everyone@example.net",
    "victim@example.com%0d%0aBcc:everyone@example.net",
    "victim@example.com\x00",
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_line_breaks_in_the_manage_forms_are_refused(app, client, smtpd, value):
    subscribe(client, "victim@example.com")
    _confirm(app, client, smtpd)
    response = client.post(
        "/manage", data={"csrf_token": csrf_token(client, "/manage"), "email": value}
    )
    assert response.status_code == 400
    with app.app_context():
        subscriber = db.session.scalar(select(Subscriber))
        from mailer.tokens import Purpose
        from mailer.tokens import subscriber_token

        path = f"/manage/{subscriber_token(Purpose.MANAGE, subscriber)}"
    for field in ("topics", "frequency"):
        data = {"topics": ["events"], "frequency": "weekly", field: value}
        changed = client.post(path, data={**data, "csrf_token": csrf_token(client, path)})
        assert changed.status_code == 400, field
    with app.app_context():
        subscriber = db.session.scalar(select(Subscriber))
        assert [s.topic.slug for s in subscriber.subscriptions] == ["funding", "events"]
    send_queued(app)
    assert smtpd.drain() == []


@pytest.mark.parametrize("value", INJECTIONS)
@pytest.mark.parametrize("field", ["email", "topics", "frequency"])
def test_line_breaks_in_any_field_are_refused_and_nothing_is_sent(app, client, smtpd, field, value):
    data = {"email": "victim@example.com", "topics": ["funding"], "frequency": "daily"}
    data[field] = [value] if field == "topics" else value
    response = client.post(
        "/subscribe", data={**data, "csrf_token": csrf_token(client, "/subscribe")}
    )
    assert response.status_code == 400
    assert _error_summary(response.get_data(as_text=True)) == [field]
    assert _count(app, Delivery) == 0
    send_queued(app)
    assert smtpd.drain() == []


def test_a_hostile_user_agent_is_stored_cleaned_and_cut(app, client):
    subscribe(client, "ua@example.com", headers={"User-Agent": "Evil\x00Agent/" + "x" * 600})
    with app.app_context():
        event = db.session.scalar(select(ConsentEvent))
    assert event.user_agent.startswith("EvilAgent/xxx")
    assert len(event.user_agent) == 512


def test_an_oversized_request_gets_a_413_page(app, client):
    token = csrf_token(client, "/subscribe")
    response = client.post(
        "/subscribe",
        data={
            "csrf_token": token,
            "email": "a@example.com",
            "topics": ["funding"] * 9000,
            "frequency": "daily",
        },
    )
    assert response.status_code == 413
    assert "What you sent is too large" in response.get_data(as_text=True)
    assert _count(app, Subscriber) == 0


def test_a_form_without_its_csrf_token_is_refused(app, client):
    response = client.post(
        "/subscribe", data={"email": "a@example.com", "topics": ["funding"], "frequency": "daily"}
    )
    assert response.status_code == 400
    assert "The form had expired" in response.get_data(as_text=True)
    assert _count(app, Subscriber) == 0


def test_unknown_pages_and_methods_get_friendly_pages(client):
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "Page not found" in missing.get_data(as_text=True)
    wrong = client.delete("/subscribe")
    assert wrong.status_code == 405


def test_manage_link_request_answers_the_same_for_anyone(app, client, smtpd):
    subscribe(client, "active@example.com")
    _confirm(app, client, smtpd)
    for address in ("active@example.com", "stranger@example.com"):
        response = client.post(
            "/manage", data={"csrf_token": csrf_token(client, "/manage"), "email": address}
        )
        assert response.status_code == 302
        assert response.headers["Location"] == "/check-your-email?reason=manage"
    send_queued(app)
    sent = smtpd.drain()
    assert [m.rcpt_tos for m in sent] == [["active@example.com"]]
    assert "/manage/" in sent[0].text


def test_manage_link_request_with_a_bad_address_shows_an_error(client):
    response = client.post(
        "/manage", data={"csrf_token": csrf_token(client, "/manage"), "email": "nope"}
    )
    assert response.status_code == 400
    assert _error_summary(response.get_data(as_text=True)) == ["email"]

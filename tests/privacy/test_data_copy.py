"""A copy of one's own data without asking staff: asked for from the manage page or by
address, emailed as a link that works once, for an hour, and downloaded as the subject access
JSON."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from types import SimpleNamespace

import jsonschema_rs
import pytest
from sqlalchemy import select

from config import ConfigError
from config import TestingConfig
from mailer import clock
from mailer.app import create_app
from mailer.database import transaction
from mailer.delivery.practice_emails import CASE_STUDY_KINDS
from mailer.domain import data_copy
from mailer.domain import suppressions
from mailer.domain.retention import purge_unconfirmed
from mailer.domain.subject_access import SCHEMA_PATH
from mailer.domain.subscriptions import find_subscriber
from mailer.domain.subscriptions import revoke_links
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import ConsentAction
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import SubscriberStatus
from mailer.models import SuppressionReason
from mailer.tokens import Purpose
from mailer.tokens import data_copy_token
from mailer.tokens import make_token
from mailer.tokens import read_token
from mailer.tokens import subscriber_token
from tests.helpers import at_once
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import send_queued
from tests.helpers import subscribe
from tests.privacy.test_erasure import _sign_up_and_confirm

EMAIL = "jo.bloggs@example.org"
SCHEMA = jsonschema_rs.validator_for(json.loads(SCHEMA_PATH.read_text()), validate_formats=True)
NOT_VALID = "This link is not valid"


def _ask_from_manage(client, manage):
    return client.post(f"{manage}/data-copy", data={"csrf_token": csrf_token(client, manage)})


def _ask_by_address(client, email):
    token = csrf_token(client, "/my-data")
    return client.post("/my-data", data={"csrf_token": token, "email": email})


def _download(client, url):
    """Press the download button (the form token is the session's, whichever page has it)."""
    return client.post(url, data={"csrf_token": csrf_token(client, "/my-data")})


def _emailed_links(app, smtpd):
    """Send what is queued; return the data-copy links mailed, by recipient."""
    send_queued(app)
    return {m.message["To"]: link(m.text, "/my-data/") for m in smtpd.drain()}


def _active(client, smtpd, app, email=EMAIL):
    """Sign up and confirm; return the manage link of the welcome email."""
    return link(_sign_up_and_confirm(client, smtpd, app, email), "/manage/")


def _data_copy_emails(app):
    with app.app_context():
        return db.session.scalar(
            select(db.func.count(Delivery.id)).where(Delivery.kind == MessageKind.DATA_COPY)
        )


def test_a_subscriber_downloads_their_data_once_from_the_emailed_link(app, client, smtpd):
    manage = _active(client, smtpd, app)

    asked = _ask_from_manage(client, manage)
    assert asked.status_code == 302
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "We have emailed you a link to download a copy of your data" in page

    send_queued(app)
    mail = smtpd.get()
    assert mail.message["To"] == EMAIL
    assert mail.message["Subject"] == "Your copy of your Community Safety Partnerships news data"
    assert "List-Unsubscribe" not in mail.message
    assert "works once, for 60 minutes" in mail.text
    url = link(mail.text, "/my-data/")
    with app.app_context():
        assert "@" not in json.dumps(read_token(Purpose.DATA_COPY, url.rsplit("/", 1)[1]))

    # Opening the link (or a mail scanner fetching it) uses nothing up.
    for _ in range(2):
        shown = client.get(url)
        assert shown.status_code == 200
        assert "Download my data" in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert shown.headers["Referrer-Policy"] == "no-referrer"

    downloaded = _download(client, url)
    assert downloaded.status_code == 200
    assert downloaded.headers["Cache-Control"] == "private, no-store"
    day = clock.now().date().isoformat()
    assert downloaded.headers["Content-Disposition"] == (
        f'attachment; filename="csp-news-my-data-{day}.json"'
    )
    document = downloaded.get_json()
    SCHEMA.validate(document)
    assert document["address"] == EMAIL
    subscriber = document["subscriber"]
    assert subscriber["status"] == "active"
    assert [e["action"] for e in subscriber["consent_events"]] == ["requested", "confirmed"]
    assert ("data_copy", "sent") in [(e["kind"], e["status"]) for e in subscriber["emails"]]

    # Once used, the link is spent, for a download and for the page.
    again = _download(client, url)
    assert again.status_code == 400
    assert NOT_VALID in again.get_data(as_text=True)
    assert 'href="/my-data"' in again.get_data(as_text=True)
    assert client.get(url).status_code == 400

    with app.app_context():
        audit = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "subscriber.access_export")
        ).all()
    assert [event.actor for event in audit] == [data_copy.ACTOR]


def test_asking_by_address_answers_alike_and_mails_only_addresses_held(app, client, smtpd):
    active = "ann@example.org"
    pending = "pat@example.org"
    left = "lee@example.org"
    suppressed = "sam@example.org"
    unknown = "nobody@example.org"
    _active(client, smtpd, app, active)
    unsubscribe = link(_sign_up_and_confirm(client, smtpd, app, left), "/unsubscribe/")
    assert client.post(unsubscribe).status_code == 200
    _sign_up_and_confirm(client, smtpd, app, suppressed)
    subscribe(client, pending)
    with app.app_context(), transaction():
        suppressions.suppress(suppressed, SuppressionReason.COMPLAINT, actor="t", now=clock.now())
    send_queued(app)
    smtpd.drain()

    answers = []
    for email in (active, pending, left, suppressed, unknown):
        response = _ask_by_address(client, email)
        assert response.status_code == 302
        answers.append((response.headers["Location"], client.get(response.headers["Location"])))
    assert {location for location, _ in answers} == {"/check-your-email?reason=data"}
    assert len({page.get_data() for _, page in answers}) == 1
    assert "If we hold information about that address" in answers[0][1].get_data(as_text=True)

    links = _emailed_links(app, smtpd)
    assert sorted(links) == sorted([active, pending, left])
    # Someone who has left can still see what is kept about them until it is erased.
    document = _download(client, links[left]).get_json()
    SCHEMA.validate(document)
    assert document["subscriber"]["status"] == "unsubscribed"
    assert [e["action"] for e in document["subscriber"]["consent_events"]][-1] == "unsubscribed"


@pytest.mark.parametrize(
    "email",
    [
        "not-an-address",
        "ann@example.org\r\nBcc: victim@example.org",
        "ann@example.org\nSubject: hi",
        "a" * 300 + "@example.org",
        "",
    ],
)
def test_a_malformed_address_is_refused_with_a_message(app, client, email):
    response = _ask_by_address(client, email)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert 'id="email-error"' in page
    assert _data_copy_emails(app) == 0


def test_the_link_expires_after_an_hour(app, client, smtpd, monkeypatch):
    _active(client, smtpd, app)

    def token(age_seconds):
        then = time.time() - age_seconds
        with app.app_context():
            monkeypatch.setattr("itsdangerous.timed.time", SimpleNamespace(time=lambda: then))
            made = data_copy_token(find_subscriber(EMAIL))
            monkeypatch.undo()
        return made

    old = client.get(f"/my-data/{token(3600 + 60)}")
    assert old.status_code == 400
    assert "This link has expired" in old.get_data(as_text=True)
    assert client.get(f"/my-data/{token(59 * 60)}").status_code == 200


def test_tampered_and_wrong_purpose_links_are_refused(app, client, smtpd):
    manage = _active(client, smtpd, app)
    _ask_from_manage(client, manage)
    url = _emailed_links(app, smtpd)[EMAIL]
    token = url.rsplit("/", 1)[1]
    with app.app_context():
        subscriber = find_subscriber(EMAIL)
        other_purpose = subscriber_token(Purpose.MANAGE, subscriber)
        not_ids = make_token(Purpose.DATA_COPY, {"s": str(subscriber.id), "v": 1, "c": 0})
        booleans = make_token(Purpose.DATA_COPY, {"s": subscriber.id, "v": True, "c": False})
    for bad in (token[:-2] + "xx", other_purpose, not_ids, booleans, "x" * 2000):
        response = client.get(f"/my-data/{bad}")
        assert response.status_code == 400, bad
        assert NOT_VALID in response.get_data(as_text=True)
        assert _download(client, url.replace(token, bad)).status_code in (400, 404)
    # A data-copy link is no manage link either.
    assert client.get(f"/manage/{token}").status_code == 400
    # The genuine link still works after all that.
    assert _download(client, url).status_code == 200


def test_a_download_without_the_form_token_uses_nothing_up(app, client, smtpd):
    manage = _active(client, smtpd, app)
    assert client.post(f"{manage}/data-copy").status_code == 400
    assert client.post("/my-data", data={"email": EMAIL}).status_code == 400
    assert _data_copy_emails(app) == 0

    _ask_from_manage(client, manage)
    url = _emailed_links(app, smtpd)[EMAIL]
    assert client.post(url).status_code == 400
    assert _download(client, url).status_code == 200


def test_one_download_spends_every_link_sent_before_it(app, client, smtpd):
    manage = _active(client, smtpd, app)
    _ask_from_manage(client, manage)
    first = _emailed_links(app, smtpd)[EMAIL]
    _ask_from_manage(client, manage)
    second = _emailed_links(app, smtpd)[EMAIL]

    assert _download(client, second).status_code == 200
    assert _download(client, first).status_code == 400


def test_two_clicks_at_once_give_one_copy(app, client, smtpd):
    manage = _active(client, smtpd, app)
    _ask_from_manage(client, manage)
    url = _emailed_links(app, smtpd)[EMAIL]
    app.config["WTF_CSRF_ENABLED"] = False  # two browsers, without a session each

    def click(start):
        browser = app.test_client()
        start()
        return browser.post(url).status_code

    assert sorted(at_once(click)) == [200, 400]


def test_revoked_and_erased_subscribers_links_stop_working(app, admin, smtpd):
    manage = _active(admin, smtpd, app)
    _ask_from_manage(admin, manage)
    _ask_from_manage(admin, manage)
    first, second = (link(m.text, "/my-data/") for m in _sent(app, smtpd))

    with app.app_context(), transaction():
        revoke_links(find_subscriber(EMAIL), now=clock.now())
    assert NOT_VALID in admin.get(first).get_data(as_text=True)

    with app.app_context():
        subscriber_id = find_subscriber(EMAIL).id
    erase = f"/staff/subscribers/{subscriber_id}/erase"
    admin.post(erase, data={"csrf_token": csrf_token(admin, erase), "reason": "asked by email"})
    assert admin.get(second).status_code == 400


def _sent(app, smtpd):
    send_queued(app)
    return smtpd.drain()


def test_asking_again_and_again_mails_at_most_the_hourly_limit(app, client, smtpd):
    subscribe(client, EMAIL)  # the confirmation email counts towards the limit too
    for _ in range(5):
        assert _ask_by_address(client, EMAIL).status_code == 302
    limit = app.config["ADDRESS_EMAILS_PER_HOUR"]
    assert _data_copy_emails(app) == limit - 1
    assert len(_sent(app, smtpd)) == limit


def test_a_link_asked_for_before_a_complaint_is_not_sent(app, client, smtpd):
    manage = _active(client, smtpd, app)
    _ask_from_manage(client, manage)
    with app.app_context(), transaction():
        suppressions.suppress(EMAIL, SuppressionReason.COMPLAINT, actor="t", now=clock.now())
    assert _sent(app, smtpd) == []
    with app.app_context():
        status = db.session.scalar(
            select(Delivery.status).where(Delivery.kind == MessageKind.DATA_COPY)
        )
    assert status.value == "cancelled"


def test_the_privacy_notice_tells_how_to_get_a_copy_and_earlier_wording_stays(client):
    current = client.get("/privacy").get_data(as_text=True)
    assert 'href="/my-data"' in current
    assert "ask for a copy of your data" in current
    earlier = client.get("/privacy/2026-11-v1").get_data(as_text=True)
    assert 'href="/my-data"' not in earlier
    assert "To do any of these, email" in earlier


@pytest.mark.parametrize("seconds", [7200, 0, 90, 600.0, "an hour", True])
def test_a_link_lifetime_over_an_hour_stops_the_app(app_settings, seconds):
    with pytest.raises(ConfigError, match="MAILER_DATA_COPY_TOKEN_MAX_AGE must be"):
        create_app(TestingConfig, {**app_settings, "DATA_COPY_TOKEN_MAX_AGE": seconds})


def test_the_schema_allows_every_value_the_document_can_hold():
    schema = json.loads(SCHEMA_PATH.read_text())
    suppression = schema["properties"]["suppression"]["oneOf"][1]["properties"]
    profile = schema["properties"]["subscriber"]["oneOf"][1]["properties"]
    email = profile["emails"]["items"]["properties"]

    def values(kind):
        return sorted(member.value for member in kind)

    assert sorted(suppression["reason"]["enum"]) == values(SuppressionReason)
    # An erased subscriber has no document of their own: only the suppression entry.
    assert sorted(profile["status"]["enum"]) == sorted(
        set(values(SubscriberStatus)) - {SubscriberStatus.ERASED.value}
    )
    assert sorted(profile["subscriptions"]["items"]["properties"]["frequency"]["enum"]) == (
        values(Frequency)
    )
    assert sorted(profile["consent_events"]["items"]["properties"]["action"]["enum"]) == (
        values(ConsentAction)
    )
    # Emails to a partnership's mailbox, and replies to the contact form, are no subscriber's.
    partnerships = {MessageKind.CSP_LINK.value, MessageKind.CSP_REMINDER.value}
    others = partnerships | {MessageKind.CONTACT_REPLY.value, MessageKind.CONTACT_NOTICE.value}
    others |= {MessageKind.CASE_STUDY_ENQUIRY.value} | {kind.value for kind in CASE_STUDY_KINDS}
    assert sorted(email["kind"]["enum"]) == sorted(set(values(MessageKind)) - others)
    assert sorted(email["status"]["enum"]) == values(DeliveryStatus)


def test_a_link_outliving_its_subscriber_never_opens_the_next_ones_data(
    app, client, smtpd, monkeypatch
):
    subscribe(client, "pat@example.org")
    confirm = link(_sent(app, smtpd)[0].text, "/confirm/")
    _ask_by_address(client, "pat@example.org")
    url = _emailed_links(app, smtpd)["pat@example.org"]
    # A week on, the unconfirmed sign-up is purged and someone else signs up: on SQLite they
    # may get the same id, with the same link version and count.
    later = clock.now() + timedelta(days=8)
    with app.app_context(), transaction():
        assert purge_unconfirmed(now=later, older_than=timedelta(days=7)) == 1
    monkeypatch.setattr(clock, "now", lambda: later)
    subscribe(client, "quinn@example.org")

    assert NOT_VALID in _download(client, url).get_data(as_text=True)
    assert NOT_VALID in client.get(confirm).get_data(as_text=True)
    with app.app_context():
        assert find_subscriber("quinn@example.org").status is SubscriberStatus.PENDING


def test_a_confirmation_link_from_before_links_named_the_creation_time_still_works(
    app, client, smtpd
):
    subscribe(client, EMAIL)
    with app.app_context():
        subscriber = find_subscriber(EMAIL)
        older = make_token(Purpose.CONFIRM, {"s": subscriber.id, "v": 1, "g": 0})
    page = client.post(f"/confirm/{older}", data={"csrf_token": csrf_token(client, "/my-data")})
    assert page.status_code == 200
    with app.app_context():
        assert find_subscriber(EMAIL).status is SubscriberStatus.ACTIVE


def test_a_copy_asked_for_just_before_unsubscribing_still_goes(app, client, smtpd):
    welcome = _sign_up_and_confirm(client, smtpd, app, EMAIL)
    _ask_from_manage(client, link(welcome, "/manage/"))
    assert client.post(link(welcome, "/unsubscribe/")).status_code == 200

    url = _emailed_links(app, smtpd)[EMAIL]
    assert _download(client, url).get_json()["subscriber"]["status"] == "unsubscribed"


def test_the_manage_page_says_when_the_hourly_limit_holds_a_copy_back(app, client, smtpd):
    manage = _active(client, smtpd, app)  # its confirmation counts towards the limit
    for _ in range(app.config["ADDRESS_EMAILS_PER_HOUR"] - 1):
        page = client.get(_ask_from_manage(client, manage).headers["Location"])
        assert "We have emailed you a link" in page.get_data(as_text=True)
    page = client.get(_ask_from_manage(client, manage).headers["Location"])
    text = page.get_data(as_text=True)
    assert "We have emailed you a link" not in text
    assert "You have been sent several emails in the last hour" in text
    assert len(_sent(app, smtpd)) == app.config["ADDRESS_EMAILS_PER_HOUR"] - 1

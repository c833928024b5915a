"""The contact form: every error in the summary, odd and hostile input, the honeypot, and
that nothing is ever mailed to the address someone types in."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import ContactMessage
from mailer.models import ContactStatus
from mailer.models import Delivery
from tests.helpers import csrf_token
from tests.helpers import send_queued

GOOD = {
    "name": "Sam Patel",
    "email": "sam.patel@example.org",
    "subject": "directory",
    "message": "The Barnet entry lists an old phone number.\r\nPlease update it.",
}


def text(response) -> str:
    return response.get_data(as_text=True)


def send(client, **changes):
    data = {"csrf_token": csrf_token(client, "/contact"), **GOOD, **changes}
    return client.post("/contact", data={k: v for k, v in data.items() if v is not None})


def stored(app) -> list[ContactMessage]:
    with app.app_context():
        rows = db.session.scalars(select(ContactMessage).order_by(ContactMessage.id)).all()
        db.session.expunge_all()
        return list(rows)


def test_the_form_has_every_field_a_character_count_and_a_hidden_honeypot(client):
    page = text(client.get("/contact"))
    for field in ('id="name"', 'id="email"', 'name="subject"', 'id="message"'):
        assert field in page
    assert 'data-module="govuk-character-count" data-maxlength="2000"' in page
    assert '<div class="app-honeypot" aria-hidden="true">' in page
    assert 'tabindex="-1"' in page
    assert "checked" not in page


def test_the_feedback_link_picks_feedback_and_nonsense_picks_nothing(client):
    page = text(client.get("/contact?subject=feedback"))
    assert 'value="feedback" checked' in page
    assert "checked" not in text(client.get("/contact?subject=%0d%0aBcc:x@example.com"))


def test_a_message_is_kept_for_staff_and_nothing_is_mailed_to_its_writer(app, client, smtpd):
    sent = send(client)
    assert sent.status_code == 302
    assert sent.headers["Location"] == "/contact/sent"
    confirmation = text(client.get("/contact/sent"))
    assert "Message sent" in confirmation
    [message] = stored(app)
    assert (message.name, message.email, message.subject_area) == (
        "Sam Patel",
        "sam.patel@example.org",
        "directory",
    )
    assert message.message == "The Barnet entry lists an old phone number.\nPlease update it."
    assert message.status is ContactStatus.NEW
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == 0
        event = db.session.scalars(select(AuditEvent)).one()
        assert (event.actor, event.action) == ("public", "contact.receive")
    assert send_queued(app).sent == 0
    assert smtpd.received.empty()


def test_an_empty_form_lists_every_error_in_the_summary_in_page_order(app, client):
    response = send(client, name="", email="", subject=None, message="  ")
    assert response.status_code == 400
    page = text(response)
    assert "There is a problem" in page
    links = [
        ("#name", "Enter your name"),
        ("#email", "Enter your email address"),
        ("#subject", "Select what your message is about"),
        ("#message", "Enter your message"),
    ]
    positions = [page.index(f'<a href="{anchor}">{words}</a>') for anchor, words in links]
    assert positions == sorted(positions)
    assert 'id="name-error"' in page
    assert stored(app) == []


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"email": "not an address"}, "email", "Enter an email address in the correct format"),
        ({"email": "a@b.c\r\nBcc: victim@example.com"}, "email", "in the correct format"),
        ({"name": "Sam\r\nBcc: victim@example.com"}, "name", "must be on one line"),
        ({"name": "Sam\nPatel"}, "name", "must be on one line"),
        ({"name": "Sam\u2028Patel"}, "name", "must be on one line"),
        ({"name": "x" * 101}, "name", "100 characters or fewer"),
        ({"message": "x" * 2001}, "message", "2,000 characters or fewer"),
        ({"subject": "feedback\r\nBcc: victim@example.com"}, "subject", "Select what"),
        ({"subject": "urgent"}, "subject", "Select what"),
    ],
)
def test_bad_and_hostile_fields_are_refused_with_their_error(app, client, changes, field, words):
    response = send(client, **changes)
    assert response.status_code == 400
    page = text(response)
    assert f'<a href="#{field}">' in page
    assert words in page
    assert stored(app) == []


def test_a_message_of_exactly_the_limit_is_taken(app, client):
    assert send(client, message="x" * 2000, name="y" * 100).status_code == 302
    assert len(stored(app)[0].message) == 2000


def test_what_is_typed_comes_back_escaped(client):
    page = text(send(client, name="<script>alert(1)</script>", email="bad"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_filled_honeypot_gets_the_same_thanks_and_nothing_is_kept(app, client):
    response = send(client, website="https://spam.example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/contact/sent"
    assert stored(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_without_the_form_token_nothing_is_kept(app, client):
    response = client.post("/contact", data=GOOD)
    assert response.status_code == 400
    assert stored(app) == []


@pytest.fixture
def unit_mailbox(app):
    app.config["CONTACT_UNIT_EMAIL"] = "community.safety@unit.example.gov.uk"
    return app.config["CONTACT_UNIT_EMAIL"]


def test_the_unit_is_told_of_a_new_message_without_any_of_its_words(
    app, client, smtpd, unit_mailbox
):
    assert send(client, name="Mallory Bcc", email="victim@example.net").status_code == 302
    assert send_queued(app).sent == 1
    received = smtpd.get()
    assert received.rcpt_tos == [unit_mailbox]
    message = received.message
    assert message["To"] == unit_mailbox
    assert message["Subject"] == "New message through the contact form: The CSP directory"
    assert "Reply-To" not in message or "victim" not in str(message["Reply-To"])
    [stored_message] = stored(app)
    assert f"/staff/contact/{stored_message.id}" in received.text
    raw = received.content.decode("ascii", "replace")
    for written in ("Mallory", "victim@example.net", "old phone number"):
        assert written not in raw
    assert smtpd.received.empty()


def test_without_a_unit_mailbox_nobody_is_told(app, client, smtpd):
    assert send(client).status_code == 302
    assert send_queued(app).sent == 0
    assert smtpd.received.empty()

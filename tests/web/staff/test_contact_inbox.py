"""The contact inbox: messages newest first with counts and a status filter, a message with
its conversation, the reply by email to the writer alone, closing without a reply, and the
audit log's words for each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import ContactMessage
from mailer.models import ContactStatus
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import MessageKind
from mailer.models import StaffRole
from tests import TODAY
from tests.factories import add_contact_message
from tests.helpers import EDITOR
from tests.helpers import csrf_token
from tests.helpers import logged_in
from tests.helpers import send_queued


@pytest.fixture
def editor(app, client):
    return logged_in(app, client, EDITOR, StaffRole.EDITOR, now=TODAY)


def text(response) -> str:
    return response.get_data(as_text=True)


def add_messages(app, count: int, **fields) -> list[int]:
    """`count` messages an hour apart, the last the newest; returns their ids."""
    with app.app_context():
        made = [
            add_contact_message(now=TODAY + timedelta(hours=n), **{"name": f"Writer {n}", **fields})
            for n in range(count)
        ]
        db.session.commit()
        return [message.id for message in made]


def reply(client, message_id: int, body: str):
    url = f"/staff/contact/{message_id}"
    data = {"csrf_token": csrf_token(client, url), "reply": body}
    return client.post(f"{url}/reply", data=data)


def test_editors_find_the_inbox_in_the_staff_navigation(editor):
    page = text(editor.get("/staff/contact"))
    assert 'href="/staff/contact"' in page
    assert "There are no messages." in page


def test_the_staff_area_needs_a_login(client, app):
    [message_id] = add_messages(app, 1)
    for url in ("/staff/contact", f"/staff/contact/{message_id}"):
        assert client.get(url).status_code == 302
    assert client.post(f"/staff/contact/{message_id}/reply", data={"reply": "x"}).status_code in (
        302,
        400,
    )


def test_a_message_sent_through_the_form_appears_in_the_inbox(app, client, editor):
    public = app.test_client()
    data = {
        "csrf_token": csrf_token(public, "/contact"),
        "name": "Sam Patel",
        "email": "sam.patel@example.org",
        "subject": "feedback",
        "message": "The search is <b>great</b>.",
    }
    assert public.post("/contact", data=data).status_code == 302
    inbox = text(editor.get("/staff/contact"))
    assert "Sam Patel" in inbox
    assert "Feedback about this website" in inbox
    assert 'data-state="new"' in inbox
    with app.app_context():
        message_id = db.session.scalars(select(ContactMessage.id)).one()
    page = text(editor.get(f"/staff/contact/{message_id}"))
    assert "sam.patel@example.org" in page
    assert "The search is &lt;b&gt;great&lt;/b&gt;." in page


def test_the_inbox_is_newest_first_paged_and_filtered_by_status(app, editor):
    ids = add_messages(app, 27)
    with app.app_context():
        db.session.get_one(ContactMessage, ids[0]).status = ContactStatus.CLOSED
        db.session.commit()
    first = text(editor.get("/staff/contact"))
    assert "27 messages, page 1 of 2, newest first" in first
    assert first.index("Writer 26") < first.index("Writer 25")
    assert "Writer 1<" not in first
    assert "New (26)" in first
    assert "Closed without reply (1)" in first
    assert "All (27)" in first
    second = text(editor.get("/staff/contact?page=2"))
    assert "Writer 1<" in second
    assert "Writer 0<" in second
    closed = text(editor.get("/staff/contact?status=closed"))
    assert "1 message closed without reply" in closed
    assert "Writer 0<" in closed
    assert "Writer 1<" not in closed
    assert editor.get("/staff/contact?page=0").status_code == 404
    assert editor.get("/staff/contact/999999").status_code == 404


def test_a_reply_goes_by_email_to_the_writer_only_and_answers_the_message(app, editor, smtpd):
    [message_id] = add_messages(app, 1, email="sam.patel@example.org", subject_area="directory")
    response = reply(editor, message_id, "Thank you, Sam.\r\n\r\nWe have corrected the number.")
    assert response.status_code == 302
    page = text(editor.get(response.headers["Location"]))
    assert "Your reply is on its way to sam.patel@example.org" in page
    assert 'data-state="answered"' in page
    assert "Thank you, Sam." in page
    assert "Editor (editor@example.gov.uk) replied by email" in page

    assert send_queued(app).sent == 1
    received = smtpd.get()
    assert received.rcpt_tos == ["sam.patel@example.org"]
    message = received.message
    assert message["To"] == "sam.patel@example.org"
    assert message["Subject"] == "Re: The CSP directory"
    assert "List-Unsubscribe" not in message
    assert "Dear Writer 0" in received.text
    assert "Thank you, Sam.\r\n\r\nWe have corrected the number." in received.text
    assert smtpd.received.empty()
    with app.app_context():
        delivery = db.session.scalars(select(Delivery)).one()
        assert delivery.kind is MessageKind.CONTACT_REPLY
        assert delivery.contact_message_id == message_id
        assert delivery.subscriber_id is None
        assert delivery.status is DeliveryStatus.SENT
        found = db.session.get_one(ContactMessage, message_id)
        assert found.status is ContactStatus.ANSWERED
        assert [r.delivery_id for r in found.replies] == [delivery.id]


def test_the_audit_log_says_who_replied_and_who_closed(app, client, smtpd):
    admin = logged_in(app, client, "ann.smith@example.gov.uk", StaffRole.ADMIN, now=TODAY)
    first, second = add_messages(app, 2)
    reply(admin, first, "Thank you.")
    url = f"/staff/contact/{second}"
    admin.post(f"{url}/close", data={"csrf_token": csrf_token(admin, url)})
    log = text(admin.get("/staff/audit"))
    assert "replied by email to" in log
    assert "closed" in log
    assert "without a reply" in log
    assert "the message from Writer 0" in log
    assert "the message from Writer 1" in log
    assert "A member of the public" in log
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["contact.reply", "contact.close"]


def test_header_injection_in_the_name_cannot_reach_the_email_headers(app, editor, smtpd):
    [message_id] = add_messages(app, 1, name="Sam <sam@example.org>")
    reply(editor, message_id, "Thank you.")
    assert send_queued(app).sent == 1
    received = smtpd.get()
    assert received.rcpt_tos == ["sam.patel@example.org"]
    assert received.message["Subject"] == "Re: The CSP directory"
    assert received.message["To"] == "sam.patel@example.org"
    assert "Dear Sam <sam@example.org>" in received.text
    assert "Dear Sam &lt;sam@example.org&gt;" in received.html


def test_an_empty_or_oversized_reply_is_refused(app, editor):
    [message_id] = add_messages(app, 1)
    empty = reply(editor, message_id, "   ")
    assert empty.status_code == 400
    assert '<a href="#reply">Enter your reply</a>' in text(empty)
    long = reply(editor, message_id, "x" * 5001)
    assert long.status_code == 400
    assert "5,000 characters or fewer" in text(long)
    with app.app_context():
        assert db.session.scalars(select(Delivery)).all() == []


def test_a_closed_message_takes_no_reply_and_cannot_be_closed_twice(app, editor):
    [message_id] = add_messages(app, 1)
    url = f"/staff/contact/{message_id}"
    token = csrf_token(editor, url)
    assert editor.post(f"{url}/close", data={"csrf_token": token}).status_code == 302
    assert editor.post(f"{url}/close", data={"csrf_token": token}).status_code == 409
    refused = editor.post(f"{url}/reply", data={"csrf_token": token, "reply": "Hello"})
    assert refused.status_code == 409
    assert 'id="reply"' not in text(editor.get(url))


def test_a_reply_to_a_message_deleted_before_it_was_sent_is_cancelled(app, editor, smtpd):
    [message_id] = add_messages(app, 1)
    reply(editor, message_id, "Thank you.")
    with app.app_context():
        db.session.delete(db.session.get_one(ContactMessage, message_id))
        db.session.commit()
    assert send_queued(app).sent == 0
    assert smtpd.received.empty()
    with app.app_context():
        assert db.session.scalars(select(Delivery.status)).one() is DeliveryStatus.CANCELLED

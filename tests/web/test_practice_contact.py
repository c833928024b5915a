"""Writing to a case study's contact: the form, its checks, the relayed email in the SMTP
sink with the reader's address to reply to, and the contact's address never shown."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import CaseStudyEnquiry
from mailer.models import CaseStudyState
from mailer.models import Delivery
from mailer.models import MessageKind
from tests import TODAY
from tests.helpers import csrf_token
from tests.helpers import send_queued
from tests.practice_factories import make_case_study

URL = "/effective-practice/synthetic-example-knife-amnesty-bins/contact"


@pytest.fixture
def case_study(app):
    with app.app_context():
        make_case_study(
            "Synthetic example: knife amnesty bins",
            now=TODAY,
            submitter_email="lead@northtown.example.gov.uk",
        )
        make_case_study("Synthetic example: quiet one", now=TODAY, contact_consent=False)
        db.session.commit()


def _send(client, **fields):
    data = {"name": "Sam Reader", "email": "sam@example.org", "message": "How much did it cost?"}
    data |= fields
    return client.post(URL, data={"csrf_token": csrf_token(client, URL), **data})


def _enquiries(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CaseStudyEnquiry)) or 0


def test_a_message_reaches_the_contact_who_can_reply_to_the_reader(app, client, smtpd, case_study):
    form = client.get(URL)
    assert form.status_code == 200
    assert "lead@northtown" not in form.get_data(as_text=True)
    response = _send(client)
    assert response.status_code == 302
    sent = client.get(response.headers["Location"])
    assert "Message sent" in sent.get_data(as_text=True)
    assert "lead@northtown" not in sent.get_data(as_text=True)
    assert send_queued(app).sent == 1
    received = smtpd.get()
    assert received.rcpt_tos == ["lead@northtown.example.gov.uk"]
    message = received.message
    assert message["Reply-To"] == "sam@example.org"
    assert "knife amnesty bins" in message["Subject"]
    assert "List-Unsubscribe" not in message
    assert "Sam Reader" in received.text
    assert "How much did it cost?" in received.text
    with app.app_context():
        delivery = db.session.scalars(select(Delivery)).one()
        assert delivery.kind is MessageKind.CASE_STUDY_ENQUIRY
        assert delivery.enquiry_id == db.session.scalars(select(CaseStudyEnquiry.id)).one()


@pytest.mark.parametrize(
    "name",
    [
        "Sam\r\nBcc: victim@example.com",
        "Sam\nReply-To: evil@example.com",
        "Sam\rX: y",
    ],
)
def test_line_breaks_in_the_name_are_refused(app, client, smtpd, case_study, name):
    response = _send(client, name=name)
    assert response.status_code == 400
    assert "on one line" in response.get_data(as_text=True)
    assert _enquiries(app) == 0


def test_a_tampered_address_never_becomes_a_header(app, client, smtpd, case_study):
    response = _send(client, email="sam@example.org\r\nBcc: victim@example.com")
    assert response.status_code == 400
    assert "correct format" in response.get_data(as_text=True)
    assert _enquiries(app) == 0


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": ""}, "Enter your name"),
        ({"name": "x" * 201}, "200 characters or fewer"),
        ({"email": "not-an-address"}, "correct format"),
        ({"message": "  "}, "Enter your message"),
        ({"message": "x" * 5001}, "5,000 characters or fewer"),
    ],
)
def test_bad_fields_show_the_error_summary(app, client, case_study, fields, error):
    response = _send(client, **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert error in page
    assert _enquiries(app) == 0


def test_a_filled_honeypot_looks_sent_but_nothing_is_kept(app, client, smtpd, case_study):
    response = _send(client, website="http://spam.example")
    assert response.status_code == 302
    assert _enquiries(app) == 0
    assert send_queued(app).sent == 0


def test_no_form_without_consent_or_publication(app, client, case_study):
    assert client.get("/effective-practice/synthetic-example-quiet-one/contact").status_code == 404
    assert client.get("/effective-practice/nothing/contact").status_code == 404
    with app.app_context():
        make_case_study("Draft one", now=TODAY, state=CaseStudyState.DRAFT, slug="draft-one")
        db.session.commit()
    assert client.get("/effective-practice/draft-one/contact").status_code == 404


def test_a_message_to_a_case_study_withdrawn_since_is_not_sent(app, client, smtpd, case_study):
    _send(client)
    with app.app_context():
        from mailer.models import CaseStudy

        db.session.scalars(select(CaseStudy)).first().contact_consent = False
        db.session.commit()
    assert send_queued(app).sent == 0
    with app.app_context():
        assert db.session.scalars(select(Delivery.last_error)).one()

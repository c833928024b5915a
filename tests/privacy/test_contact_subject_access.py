"""Subject access covers what the contact form holds from an address, and its replies."""

from __future__ import annotations

import json

import jsonschema_rs

from mailer.domain import contact
from mailer.domain.subject_access import SCHEMA_PATH
from mailer.domain.subject_access import subject_access
from mailer.extensions import db
from mailer.models import ContactStatus
from mailer.models.contact import SUBJECT_AREAS
from tests import TODAY
from tests.factories import add_contact_message

SCHEMA = json.loads(SCHEMA_PATH.read_text())


def test_the_document_holds_the_messages_from_the_address_and_their_replies(app):
    with app.app_context():
        mine = add_contact_message(now=TODAY, email="sam.patel@example.org", message="Hello")
        contact.reply(mine, "Thank you.", actor="staff:1 ann@example.gov.uk", now=TODAY)
        add_contact_message(now=TODAY, email="someone.else@example.org")
        db.session.commit()
        document = subject_access("Sam.Patel@example.org", actor="test", now=TODAY)
    jsonschema_rs.validator_for(SCHEMA, validate_formats=True).validate(document)
    assert document["contact_messages"] == [
        {
            "received_at": TODAY.isoformat(),
            "name": "Sam Patel",
            "subject_area": "directory",
            "message": "Hello",
            "status": "answered",
            "replies": [{"sent_at": TODAY.isoformat(), "text": "Thank you."}],
        }
    ]


def test_the_schema_allows_every_subject_area_and_status():
    item = SCHEMA["properties"]["contact_messages"]["items"]["properties"]
    assert sorted(item["subject_area"]["enum"]) == sorted(SUBJECT_AREAS)
    assert sorted(item["status"]["enum"]) == sorted(status.value for status in ContactStatus)

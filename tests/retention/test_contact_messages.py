"""Contact messages are personal data: deleted with their replies a while after staff dealt
with them, and with the address when a subscriber is erased."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from mailer.domain import contact
from mailer.domain import erasure
from mailer.domain import retention
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import ContactMessage
from mailer.models import ContactReply
from tests import TODAY
from tests.factories import add_contact_message
from tests.factories import make_subscriber

YEAR = timedelta(days=365)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_answered_and_closed_messages_go_with_their_replies_after_the_period(app):
    with app.app_context():
        answered = add_contact_message(now=TODAY, name="Answered")
        contact.reply(answered, "Thank you.", actor="staff:1 ann@example.gov.uk", now=TODAY)
        closed = add_contact_message(now=TODAY, name="Closed")
        contact.close(closed, actor="staff:1 ann@example.gov.uk", now=TODAY + timedelta(days=1))
        add_contact_message(now=TODAY, name="Waiting")
        db.session.commit()

        assert retention.delete_old_contact_messages(now=TODAY + YEAR, older_than=YEAR) == 0
        gone = retention.delete_old_contact_messages(
            now=TODAY + YEAR + timedelta(hours=1), older_than=YEAR
        )
        db.session.commit()
        assert gone == 1
        assert db.session.scalars(select(ContactMessage.name)).all() == ["Closed", "Waiting"]
        assert count(ContactReply) == 0
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.actor, event.action, event.detail) == (
            "retention",
            "contact.delete_handled",
            {"deleted": 1},
        )


def test_erasing_a_subscriber_deletes_the_messages_written_from_their_address(app):
    with app.app_context():
        subscriber = make_subscriber(email="Sam.Patel@example.org", now=TODAY)
        mine = add_contact_message(now=TODAY, email="sam.patel@example.org")
        contact.reply(mine, "Thank you.", actor="staff:1 ann@example.gov.uk", now=TODAY)
        add_contact_message(now=TODAY, email="someone.else@example.org")
        db.session.commit()
        erasure.erase(subscriber, why="Asked by email", actor="test", now=TODAY)
        db.session.commit()
        assert db.session.scalars(select(ContactMessage.email)).all() == [
            "someone.else@example.org"
        ]
        assert count(ContactReply) == 0

"""A bounce of an email to a partnership's mailbox: bound to that delivery by its return path,
kept for staff, and no subscriber suppressed."""

from __future__ import annotations

from sqlalchemy import select

from mailer.domain.directory.listing import csp_by_code
from mailer.domain.directory.self_service import send_link
from mailer.extensions import db
from mailer.models import BounceEvent
from mailer.models import InboundMessage
from mailer.models import Suppression
from tests import TODAY
from tests.bounces import samples
from tests.bounces.conftest import deliver
from tests.bounces.samples import Original
from tests.factories import load_directory
from tests.helpers import send_queued


def test_a_bounce_of_a_partnership_email_is_kept_for_staff(app, inbox, smtpd):
    with app.app_context():
        load_directory(now=TODAY, E22000187={"email": "gone@barnet.example.gov.uk"})
        send_link(csp_by_code("E22000187"), actor="test", now=TODAY)
        db.session.commit()
    assert send_queued(app).sent == 1
    received = smtpd.get()
    head = received.content.split(b"\r\n\r\n", 1)[0].decode()
    original = Original(
        recipient=received.rcpt_tos[0],
        verp=received.mail_from,
        headers=f"Return-Path: <{received.mail_from}>\n" + head.replace("\r\n", "\n"),
        message_id=received.message["Message-ID"],
    )
    assert deliver(inbox, samples.postfix_user_unknown(original), to=[original.verp]) == {}
    with app.app_context():
        kept = db.session.scalars(select(InboundMessage.problem)).all()
        assert kept == ["no email of ours to a subscriber matches this hard report"]
        assert db.session.scalars(select(Suppression)).all() == []
        assert db.session.scalars(select(BounceEvent)).all() == []

"""An ARF report anyone can send to postmaster@<bounce domain> or the unsubscribe address,
naming an address but no VERP token or Message-ID of ours, touches nobody: it is kept."""

import smtplib

from sqlalchemy import select

from mailer.extensions import db
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Suppression
from tests import TODAY
from tests.factories import make_subscriber

ARF = """From: attacker@evil.example\r
To: {to}\r
Subject: complaint\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=feedback-report; boundary="b"\r
\r
--b\r
Content-Type: text/plain\r
\r
This is an abuse report.\r
--b\r
Content-Type: message/feedback-report\r
\r
Feedback-Type: abuse\r
User-Agent: forged/1.0\r
Version: 1\r
Original-Rcpt-To: victim@example.org\r
\r
--b--\r
"""


def test_a_forged_complaint_naming_only_an_address_suppresses_nobody(app, inbox):
    with app.app_context():
        make_subscriber(email="victim@example.org", now=TODAY)
        db.session.commit()
    to = f"postmaster@{app.config['BOUNCE_DOMAIN']}"
    with smtplib.SMTP("127.0.0.1", inbox.port) as client:
        client.sendmail("attacker@evil.example", [to], ARF.format(to=to).encode())
    with app.app_context():
        victim = db.session.scalars(select(Subscriber)).one()
        suppressed = db.session.scalars(select(Suppression.email)).all()
        # Expected: the report is kept for staff and nobody is touched.
        assert victim.status is SubscriberStatus.ACTIVE, (victim.status, suppressed)

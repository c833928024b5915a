"""Every email's Message-ID is unguessable, as list mail's are: a complaint quoting one ties
the report to its reader, so a guessed one must tie it to nobody."""

from __future__ import annotations

import os
import random
import re
import smtplib
import time
from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import select

from mailer.domain import subscriptions
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import InboundMessage
from mailer.models import Subscriber
from mailer.models import Suppression
from tests.bounces import samples
from tests.bounces.conftest import deliver
from tests.factories import make_subscriber
from tests.helpers import send_queued

# Monday 2 November 2026, 9am UTC.
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
VICTIM = "victim@example.org"
POSTMASTER = "postmaster@bounces.csp-news.localhost"
# Any state of the sending process's `random` that the attacker has worked out: 624 outputs
# of the Mersenne Twister give it away, and Message-IDs and MIME boundaries show them.
SEED = 20261102


@pytest.fixture
def app_settings(app_settings):
    """Room for every guess among the messages kept from one client in an hour."""
    return {**app_settings, "INBOUND_KEPT_PER_HOUR": 100_000}


def _complaint_quoting(message_id: str) -> bytes:
    headers = (
        "From: CSP news <news@csp-news.localhost>\n"
        f"To: redacted@aol.com\nSubject: Confirm your subscription\nMessage-ID: {message_id}\n"
    )
    original = samples.Original("redacted@aol.com", "", headers, message_id)
    return samples.aol_complaint(original)


def _guesses(before: float, after: float, domain: str) -> list[str]:
    """What make_msgid gives in this process between two times, once `random` is known."""
    random.seed(SEED)
    draw = random.getrandbits(64)
    pid = os.getpid()
    return [
        f"<{hundredths}.{pid}.{draw}@{domain}>"
        for hundredths in range(int(before * 100), int(after * 100) + 1)
    ]


def test_a_complaint_quoting_a_guessed_message_id_unsubscribes_nobody(app, smtpd, inbox):
    # Someone signs the victim up: the confirmation goes to the victim alone.
    with app.app_context():
        choice = subscriptions.Choice(subscriptions.parse_topics(["funding"]), Frequency.DAILY)
        subscriptions.request_subscription(
            VICTIM, choice, origin=subscriptions.Origin(method="form"), now=T0
        )
        db.session.commit()
    random.seed(SEED)
    before = time.time()
    assert send_queued(app, now=T0).sent == 1
    after = time.time()
    assert smtpd.get().rcpt_tos == [VICTIM]

    guesses = _guesses(before, after, "csp-news.localhost")
    with smtplib.SMTP("127.0.0.1", inbox.port, timeout=10) as client:
        for guess in guesses:
            client.sendmail("", [POSTMASTER], _complaint_quoting(guess))

    with app.app_context():
        victim = db.session.scalars(select(Subscriber)).one()
        suppressed = db.session.scalars(select(Suppression.reason)).all()
        kept = db.session.scalars(select(InboundMessage.id)).all()
    assert (victim.status.value, suppressed) == ("pending", [])
    assert len(kept) == len(guesses)


def test_every_email_has_a_message_id_as_unguessable_as_list_mail(app, smtpd, inbox):
    with app.app_context():
        choice = subscriptions.Choice(subscriptions.parse_topics(["funding"]), Frequency.DAILY)
        subscriptions.request_subscription(
            VICTIM, choice, origin=subscriptions.Origin(method="form"), now=T0
        )
        make_subscriber(email="reader@example.org", now=T0)
        subscriptions.request_manage_link("reader@example.org", now=T0)
        db.session.commit()
    send_queued(app, now=T0)
    confirmation, manage = sorted(smtpd.drain(), key=lambda received: received.rcpt_tos)[::-1]
    ids = [confirmation.message["Message-ID"], manage.message["Message-ID"]]
    assert all(re.fullmatch(r"<[0-9a-f]{32}@csp-news\.localhost>", i) for i in ids), ids

    # So a complaint about the confirmation, quoting its Message-ID only, is believed.
    assert deliver(inbox, _complaint_quoting(ids[0]), to=[POSTMASTER]) == {}
    with app.app_context():
        victim = db.session.scalars(select(Subscriber).where(Subscriber.email == VICTIM)).one()
        reason = db.session.scalars(select(Suppression.reason)).one()
    assert (victim.status.value, reason.value) == ("suppressed", "complaint")

"""Erasure: the address leaves every table, a hash keeps it suppressed, counts stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import LargeBinary
from sqlalchemy import func
from sqlalchemy import select

from mailer import clock
from mailer.database import transaction
from mailer.delivery.returns import Inbound
from mailer.delivery.returns import Outcome
from mailer.delivery.returns import Verdict
from mailer.domain import bounces
from mailer.domain import erasure
from mailer.domain import inbound
from mailer.domain import suppressions
from mailer.domain.subscriptions import find_subscriber
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import BounceEvent
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import InboundMessage
from mailer.models import Subscriber
from mailer.models import SubscriberImport
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from mailer.models import SuppressionReason
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import send_queued
from tests.helpers import subscribe

EMAIL = "Robin.Hood@example.org"
RULE = bounces.SoftBounceRule(limit=3, within=timedelta(days=14))


def _sign_up_and_confirm(client, smtpd, app, email=EMAIL):
    """Subscribe through the form, confirm from the emailed link, get the welcome email."""
    subscribe(client, email, headers={"User-Agent": "Firefox/140"})
    send_queued(app)
    confirm = link(smtpd.get().text, "/confirm/")
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    send_queued(app)
    welcome = smtpd.get()
    assert welcome.message["To"] == email
    return welcome.text


def _leave_traces(app, email=EMAIL):
    """Put the address where texts quote it: an SMTP error, a bounce report, unreadable
    mail, an unapplied import, a suppression note and the audit log."""
    now = clock.now()
    with app.app_context(), transaction():
        subscriber = find_subscriber(email)
        delivery = db.session.scalars(
            select(Delivery).where(Delivery.subscriber_id == subscriber.id)
        ).first()
        delivery.last_error = f"452 4.2.2 <{email.lower()}>: mailbox full"
        received = Inbound("", ("bounces+x@bounces.csp-news.localhost",), b"x")
        outcome = Outcome(
            Verdict.SOFT,
            delivery.id,
            status="4.2.2",
            diagnostic=f"<{email}> over quota",
            return_key=delivery.return_key,
        )
        bounces.record(received, [outcome], rule=RULE, now=now)
        stray = Outcome(Verdict.HARD, 99999, addresses=("nobody@example.net",), diagnostic=email)
        bounces.record(received, [stray], rule=RULE, now=now)
        reply = Inbound(
            email, ("postmaster@csp-news.localhost",), f"From: {email}\r\n\r\nHi".encode()
        )
        inbound.keep(reply, "a person's reply", now=now)
        db.session.add(
            SubscriberImport(
                filename="list.csv",
                content=f"email,topics\r\n{email.upper()},funding\r\n".encode(),
                sha256="0" * 64,
                created_by="test",
                created_at=now,
            )
        )
        db.session.add(
            AuditEvent(
                at=now,
                actor="test",
                action="note",
                target_type="Subscriber",
                target_id=subscriber.id,
                detail={"said": f"asked by {email} on the phone", email: [email]},
            )
        )


def _tables_holding(app, needle):
    """Every (table, column) whose stored text or bytes hold `needle`, in any case."""
    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, LargeBinary):
                    values = db.session.scalars(select(column)).all()
                    if any(needle.lower().encode() in bytes(v).lower() for v in values if v):
                        found.append(f"{table.name}.{column.name}")
                    continue
                text = func.lower(func.cast(column, db.String))
                hits = db.session.scalar(
                    select(func.count()).select_from(table).where(text.contains(needle.lower()))
                )
                if hits:
                    found.append(f"{table.name}.{column.name}")
    return found


def _erase(app, email=EMAIL, why="erasure request by email, 24 November 2026"):
    with app.app_context(), transaction():
        subscriber = find_subscriber(email, lock=True)
        erasure.erase(subscriber, why=why, actor="staff:1 ann@example.gov.uk", now=clock.now())
        return subscriber.id


def test_the_scan_finds_the_address_everywhere_it_was_left(app, client, smtpd):
    _sign_up_and_confirm(client, smtpd, app)
    _leave_traces(app)

    held = _tables_holding(app, EMAIL)

    assert {
        "subscribers.email",
        "subscribers.email_key",
        "deliveries.last_error",
        "bounce_events.diagnostic",
        "inbound_messages.mail_from",
        "inbound_messages.content",
        "subscriber_imports.content",
        "audit_events.detail",
    } <= set(held)


def test_erasure_leaves_no_trace_of_the_address_in_any_column(app, client, smtpd):
    _sign_up_and_confirm(client, smtpd, app)
    _leave_traces(app)
    with app.app_context():
        sent = db.session.scalar(select(func.count(Delivery.id)))

    subscriber_id = _erase(app)

    assert _tables_holding(app, EMAIL) == []
    with app.app_context():
        tombstone = db.session.get(Subscriber, subscriber_id)
        assert (tombstone.status, tombstone.email) == (SubscriberStatus.ERASED, "")
        assert db.session.scalar(select(func.count(Delivery.id))) == sent
        for model in (ConsentEvent, Subscription):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0
        entry = suppressions.find(EMAIL.lower())
        assert entry is not None
        assert entry.email is None
        assert entry.reason is SuppressionReason.ERASED
        kept = db.session.scalars(select(InboundMessage.problem)).all()
        assert kept == ["no email of ours that still exists matches this hard report"]
        assert db.session.scalars(select(SubscriberImport.content)).one() == b""
        erased = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "subscriber.erase")
        ).one()
        assert erased.detail == {"why": "erasure request by email, 24 November 2026"}


def test_an_address_in_the_reason_is_not_kept_either(app, client, smtpd):
    _sign_up_and_confirm(client, smtpd, app)

    _erase(app, why=f"request from {EMAIL.lower()}")

    assert _tables_holding(app, EMAIL) == []


def test_erasure_cancels_what_is_queued_and_keeps_what_was_sent(app, client, smtpd):
    _sign_up_and_confirm(client, smtpd, app)
    with app.app_context(), transaction():
        subscriber = find_subscriber(EMAIL)
        db.session.add(
            Delivery(
                kind="manage",
                subscriber_id=subscriber.id,
                status=DeliveryStatus.QUEUED,
                next_attempt_at=clock.now(),
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )

    _erase(app)
    send_queued(app)

    assert smtpd.drain() == []
    with app.app_context():
        statuses = db.session.scalars(select(Delivery.status).order_by(Delivery.id)).all()
    assert statuses == [DeliveryStatus.SENT, DeliveryStatus.SENT, DeliveryStatus.CANCELLED]


def test_old_links_stop_working_after_erasure(app, client, smtpd):
    welcome = _sign_up_and_confirm(client, smtpd, app)
    unsubscribe = link(welcome, "/unsubscribe/")

    _erase(app)

    page = client.get(unsubscribe)
    assert page.status_code in (400, 404)
    assert EMAIL not in page.get_data(as_text=True)


def test_an_erased_address_can_sign_up_again_and_confirming_lifts_the_suppression(
    app, client, smtpd
):
    _sign_up_and_confirm(client, smtpd, app)
    _erase(app)
    with app.app_context():
        assert suppressions.is_suppressed(EMAIL)

    _sign_up_and_confirm(client, smtpd, app)

    with app.app_context():
        assert not suppressions.is_suppressed(EMAIL)
        assert find_subscriber(EMAIL).status is SubscriberStatus.ACTIVE
        lifted = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "suppression.remove")
        ).one()
        assert lifted.detail["reason"] == "signed up again and confirmed"


def test_a_complaint_suppression_survives_erasure_and_still_blocks_sign_up(app, client, smtpd):
    _sign_up_and_confirm(client, smtpd, app)
    with app.app_context(), transaction():
        suppressions.suppress(
            EMAIL,
            SuppressionReason.COMPLAINT,
            detail=f"ARF about {EMAIL}",
            actor="t",
            now=clock.now(),
        )
    _erase(app)

    subscribe(client, EMAIL)
    send_queued(app)

    assert smtpd.drain() == []
    assert _tables_holding(app, EMAIL) == []
    with app.app_context():
        assert suppressions.find(EMAIL).reason is SuppressionReason.COMPLAINT


def test_a_bounce_for_an_erased_subscriber_brings_nothing_back(app, client, smtpd):
    _sign_up_and_confirm(client, smtpd, app)
    with app.app_context():
        delivery_id, key = db.session.execute(select(Delivery.id, Delivery.return_key)).first()
    _erase(app)

    with app.app_context(), transaction():
        outcome = Outcome(
            Verdict.HARD,
            delivery_id,
            status="5.1.1",
            diagnostic=f"<{EMAIL}> unknown",
            return_key=key,
        )
        bounces.record(Inbound("", ("x@y",), b"x"), [outcome], rule=RULE, now=clock.now())

    assert _tables_holding(app, EMAIL) == []
    with app.app_context():
        assert db.session.scalar(select(func.count(BounceEvent.id))) == 0


def test_erasing_twice_or_without_a_reason_is_refused(app, client, smtpd):
    _sign_up_and_confirm(client, smtpd, app)
    with app.app_context(), transaction():
        subscriber = find_subscriber(EMAIL)
        with pytest.raises(InvalidInput, match="Say why"):
            erasure.erase(subscriber, why="  ", actor="t", now=clock.now())
    subscriber_id = _erase(app)
    with app.app_context(), pytest.raises(InvalidInput, match="already been erased"):
        erasure.erase(
            db.session.get(Subscriber, subscriber_id), why="x", actor="t", now=clock.now()
        )

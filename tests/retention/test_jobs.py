"""The retention jobs in the scheduler, and `mailer retention`, their twin, with --dry-run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func
from sqlalchemy import select

from mailer import jobs
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import ContactMessage
from mailer.models import ContactStatus
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import DeliverySummary
from mailer.models import InboundMessage
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Suppression
from tests.factories import add_contact_message
from tests.factories import make_subscriber

LONDON = ZoneInfo("Europe/London")
# Monday 2 November 2026, 9am UTC; a year and more later, everything below is due.
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=401)
RETENTION_JOBS = {
    "purge-unconfirmed": jobs.purge_unconfirmed,
    "erase-unsubscribed": jobs.erase_unsubscribed,
    "summarise-deliveries": jobs.summarise_deliveries,
    "delete-old-inbound": jobs.delete_old_inbound,
    "delete-old-contact": jobs.delete_old_contact_messages,
}


@pytest.fixture
def scheduler(app) -> Iterator[BackgroundScheduler]:
    """The service's jobs in a scheduler on London time, as in production; never started."""
    scheduler = BackgroundScheduler(timezone=LONDON)
    jobs.add_jobs(scheduler, app)
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=False)


def test_each_retention_job_is_scheduled_once(scheduler, app):
    ids = [job.id for job in scheduler.get_jobs()]
    assert len(ids) == len(set(ids))
    for job_id, func_ in RETENTION_JOBS.items():
        job = scheduler.get_job(job_id)
        assert (job.func, job.args) == (func_, (app,))
        assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, None)


@pytest.mark.parametrize(
    ("job_id", "now", "expected"),
    [
        ("erase-unsubscribed", datetime(2026, 7, 15, 12, 0), datetime(2026, 7, 16, 3, 23)),
        ("summarise-deliveries", datetime(2026, 7, 15, 12, 0), datetime(2026, 7, 16, 3, 41)),
        ("erase-unsubscribed", datetime(2026, 11, 25, 3, 0), datetime(2026, 11, 25, 3, 23)),
        ("summarise-deliveries", datetime(2026, 11, 25, 3, 42), datetime(2026, 11, 26, 3, 41)),
        ("delete-old-inbound", datetime(2026, 11, 25, 3, 0), datetime(2026, 11, 25, 3, 47)),
        ("delete-old-contact", datetime(2026, 11, 25, 3, 0), datetime(2026, 11, 25, 3, 53)),
    ],
)
def test_the_daily_jobs_fire_in_the_quiet_of_a_london_night(scheduler, job_id, now, expected):
    trigger = scheduler.get_job(job_id).trigger
    fire = trigger.get_next_fire_time(None, now.replace(tzinfo=LONDON))
    assert fire == expected.replace(tzinfo=LONDON)


def _due_data(app):
    """One of each kind of record past its time, and one of each that must stay."""
    with app.app_context():
        make_subscriber(email="waiting@example.com", status=SubscriberStatus.PENDING, now=T0)
        make_subscriber(email="fresh@example.com", status=SubscriberStatus.PENDING, now=LATER)
        for email, when in (("gone@example.com", T0), ("recent@example.com", LATER)):
            leaver = make_subscriber(email=email, status=SubscriberStatus.UNSUBSCRIBED, now=T0)
            leaver.unsubscribed_at = when
        reader = make_subscriber(email="reader@example.com", now=T0)
        for status, when in (
            (DeliveryStatus.SENT, T0),
            (DeliveryStatus.SENT, T0),
            (DeliveryStatus.FAILED, T0),
            (DeliveryStatus.QUEUED, T0),
            (DeliveryStatus.SENT, LATER),
        ):
            db.session.add(
                Delivery(
                    kind=MessageKind.MANAGE,
                    subscriber=reader,
                    status=status,
                    next_attempt_at=when,
                    created_at=when,
                    updated_at=when,
                )
            )
        # Mail the bounce inbox kept for staff: one past INBOUND_RETENTION_DAYS, one not.
        for when in (LATER - timedelta(days=91), LATER - timedelta(days=89)):
            db.session.add(
                InboundMessage(
                    received_at=when,
                    mail_from="someone@example.net",
                    rcpt_to="postmaster@bounces.csp-news.localhost",
                    problem="mail to postmaster address",
                    content=b"Subject: hello\r\n\r\nhello\r\n",
                    peer="192.0.2.7",
                )
            )
        # Contact messages: one answered past CONTACT_RETENTION_DAYS, one answered since, and
        # one never handled, which stays however old.
        for when in (T0, LATER - timedelta(days=364), None):
            message = add_contact_message(now=T0)
            message.status = ContactStatus.NEW if when is None else ContactStatus.ANSWERED
            message.handled_at = when
        db.session.commit()


def _snapshot(app):
    with app.app_context():
        subscribers = db.session.execute(select(Subscriber.email, Subscriber.status)).all()
        return {
            "subscribers": sorted(subscribers),
            "deliveries": sorted(db.session.scalars(select(Delivery.id))),
            **{
                model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (
                    DeliverySummary,
                    Suppression,
                    AuditEvent,
                    InboundMessage,
                    ContactMessage,
                )
            },
        }


def test_the_dry_run_counts_what_would_go_and_changes_nothing(app, runner, at):
    _due_data(app)
    before = _snapshot(app)
    at(LATER + timedelta(days=1))
    result = runner.invoke(args=["retention", "--dry-run"])
    assert result.exit_code == 0
    assert result.output == (
        "Dry run: nothing is changed.\n"
        "Would purge 1 unconfirmed sign-up older than 7 days.\n"
        "Would erase 1 subscriber who left (unsubscribed or suppressed) more than 90 days ago.\n"
        "Would summarise and delete 3 delivery records older than 400 days.\n"
        "Would delete 1 message kept from the bounce inbox older than 90 days.\n"
        "Would delete 1 contact message answered or closed more than 365 days ago.\n"
    )
    assert _snapshot(app) == before


def test_the_real_run_does_each_step_and_says_what_it_did(app, runner, at):
    _due_data(app)
    at(LATER + timedelta(days=1))
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0
    assert result.output == (
        "Purged 1 unconfirmed sign-up older than 7 days.\n"
        "Erased 1 subscriber who left (unsubscribed or suppressed) more than 90 days ago.\n"
        "Summarised and deleted 3 delivery records older than 400 days.\n"
        "Deleted 1 message kept from the bounce inbox older than 90 days.\n"
        "Deleted 1 contact message answered or closed more than 365 days ago.\n"
    )
    after = _snapshot(app)
    assert after["subscribers"] == sorted(
        [
            ("", SubscriberStatus.ERASED),
            ("fresh@example.com", SubscriberStatus.PENDING),
            ("reader@example.com", SubscriberStatus.ACTIVE),
            ("recent@example.com", SubscriberStatus.UNSUBSCRIBED),
        ]
    )
    assert len(after["deliveries"]) == 2
    assert after["DeliverySummary"] == 2
    assert after["InboundMessage"] == 1
    assert after["ContactMessage"] == 2
    again = runner.invoke(args=["retention", "--dry-run"])
    assert "Would purge 0 unconfirmed sign-ups" in again.output
    assert "Would erase 0 subscribers" in again.output
    assert "Would summarise and delete 0 delivery records" in again.output
    assert "Would delete 0 messages kept from the bounce inbox" in again.output
    assert "Would delete 0 contact messages" in again.output

"""Delivery records past DELIVERY_RETENTION_DAYS become daily counts: the rows go, the
numbers on the run page and the deliverability page stay, and an interruption loses none."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer import jobs
from mailer.database import transaction
from mailer.delivery.returns import Inbound
from mailer.delivery.returns import Outcome
from mailer.delivery.returns import Verdict
from mailer.domain import bounces
from mailer.domain import periods
from mailer.domain import retention
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import BounceEvent
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import DeliverySummary
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import Subscriber
from tests.factories import add_readers
from tests.factories import make_subscriber
from tests.factories import publish_news
from tests.helpers import count_again
from tests.helpers import send_queued

# Wednesday 25 November 2026, 07:00 in London (GMT): a daily period ends.
END = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
MADE = END + timedelta(minutes=1)
SENT = MADE + timedelta(minutes=1)
DAY = date(2026, 11, 25)
RECEIVED = Inbound("", ("bounces+x@bounces.csp-news.localhost",), b"Subject: x\r\n\r\nx\r\n")


@pytest.fixture
def app_settings(app_settings, request):
    """On PostgreSQL, sessions in a zone far from UTC: days must still be UTC days."""
    if request.config.getoption("--db") != "postgres":
        return app_settings
    options = {"pool_pre_ping": True, "connect_args": {"options": "-c timezone=Pacific/Auckland"}}
    return {**app_settings, "SQLALCHEMY_ENGINE_OPTIONS": options}


def _sent_run(app, readers):
    """A daily digest made at MADE and sent to `readers` people at SENT; the first bounced."""
    with app.app_context():
        add_readers(readers, follows={"funding": Frequency.DAILY}, now=END - timedelta(days=9))
        publish_news("Safer Streets Fund round 6", at=END - timedelta(hours=3))
        db.session.commit()
        period = periods.Schedule.from_config(app.config).period_ending(Frequency.DAILY, END)
        run, _ = send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=MADE)
        db.session.commit()
        run_id = run.id
    assert send_queued(app, now=SENT).sent == readers
    with app.app_context():
        first = db.session.scalar(select(func.min(Delivery.id)).where(Delivery.run_id == run_id))
        key = db.session.get(Delivery, first).return_key
        rule = bounces.SoftBounceRule.from_config(app.config)
        outcome = Outcome(
            Verdict.HARD, first, status="5.1.1", diagnostic="no such user", return_key=key
        )
        with transaction():
            bounces.record(RECEIVED, [outcome], rule=rule, now=SENT + timedelta(hours=1))
    return run_id


def _lifecycle(email, status, created_at, kind=MessageKind.WELCOME):
    """One email of the subscription lifecycle (no run) in `status`, made at `created_at`."""
    subscriber = make_subscriber(email=email, now=created_at - timedelta(days=1))
    settled = status not in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)
    db.session.add(
        Delivery(
            kind=kind,
            subscriber_id=subscriber.id,
            status=status,
            next_attempt_at=created_at,
            sent_at=created_at if settled else None,
            created_at=created_at,
            updated_at=created_at,
        )
    )
    db.session.flush()


def _summaries(app):
    with app.app_context():
        rows = db.session.scalars(select(DeliverySummary))
        return {(r.day, r.run_id, r.kind, r.status): r.count for r in rows}


def _left(app):
    with app.app_context():
        rows = db.session.execute(
            select(Delivery.kind, Delivery.status, func.count()).group_by(
                Delivery.kind, Delivery.status
            )
        )
        return {(kind, status): count for kind, status, count in rows}


def test_settled_records_older_than_the_setting_are_counted_then_deleted(app, smtpd, at):
    run_id = _sent_run(app, 4)
    with app.app_context():
        _lifecycle("failed@example.com", DeliveryStatus.FAILED, MADE)
        _lifecycle("cancelled@example.com", DeliveryStatus.CANCELLED, MADE, MessageKind.MANAGE)
        _lifecycle("queued@example.com", DeliveryStatus.QUEUED, MADE, MessageKind.CONFIRM)
        _lifecycle("sending@example.com", DeliveryStatus.SENDING, MADE, MessageKind.CONFIRM)
        _lifecycle("recent@example.com", DeliveryStatus.SENT, MADE + timedelta(days=399))
        db.session.commit()
    smtpd.drain()

    at(MADE + timedelta(days=400, seconds=-1))
    assert jobs.summarise_deliveries(app) == 0
    assert _summaries(app) == {}
    at(MADE + timedelta(days=400, seconds=1))
    assert jobs.summarise_deliveries(app) == 6

    assert _summaries(app) == {
        (DAY, run_id, MessageKind.DIGEST, DeliveryStatus.SENT): 3,
        (DAY, run_id, MessageKind.DIGEST, DeliveryStatus.BOUNCED): 1,
        (DAY, None, MessageKind.WELCOME, DeliveryStatus.FAILED): 1,
        (DAY, None, MessageKind.MANAGE, DeliveryStatus.CANCELLED): 1,
    }
    assert _left(app) == {
        (MessageKind.CONFIRM, DeliveryStatus.QUEUED): 1,
        (MessageKind.CONFIRM, DeliveryStatus.SENDING): 1,
        (MessageKind.WELCOME, DeliveryStatus.SENT): 1,
    }
    with app.app_context():
        bounce = db.session.scalars(select(BounceEvent)).one()
        assert (bounce.delivery_id, bounce.status) == (None, "5.1.1")
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "deliveries.summarise")
        ).one()
        assert (event.actor, event.target_type, event.target_id) == ("retention", "Delivery", None)
        assert event.detail["deleted"] == 6
        # The tombstones of people stay; only their delivery records went.
        assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 9
    assert jobs.summarise_deliveries(app) == 0


def test_a_day_is_the_utc_day_the_record_was_made(app, at):
    with app.app_context():
        _lifecycle(
            "late@example.com", DeliveryStatus.SENT, datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
        )
        _lifecycle(
            "early@example.com", DeliveryStatus.SENT, datetime(2026, 11, 26, 0, 10, tzinfo=UTC)
        )
        db.session.commit()
        assert (
            retention.summarise_deliveries(
                now=END + timedelta(days=3), older_than=timedelta(days=1)
            )
            == 2
        )
    assert _summaries(app) == {
        (date(2026, 11, 25), None, MessageKind.WELCOME, DeliveryStatus.SENT): 1,
        (date(2026, 11, 26), None, MessageKind.WELCOME, DeliveryStatus.SENT): 1,
    }


def _counts(page):
    return {name: int(n) for name, n in re.findall(r'data-count="(\w+)">(\d+)<', page)}


def _outcomes(page):
    return {name: int(n) for name, n in re.findall(r'data-outcome="(\w+)">(\d+)<', page)}


def _totals(page):
    return {name: int(n) for name, n in re.findall(r'data-total="(\w+)">(\d+)<', page)}


def _day(page, day):
    table = page.split('id="deliverability-table"', 1)[1].split("</table>", 1)[0]
    row = table.split(f'<time datetime="{day.isoformat()}">', 1)[1].split("</tr>", 1)[0]
    return [int(n) for n in re.findall(r">(\d+)</td>", row)]


def _pages(admin, run_id):
    run_page = admin.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    chart = admin.get("/staff/deliverability").get_data(as_text=True)
    return {
        "run": _counts(run_page),
        "bounced": _outcomes(run_page)["bounced"],
        "totals": _totals(chart),
        "day": _day(chart, DAY),
    }


def test_the_run_page_and_the_chart_show_the_same_counts_after_summarising(app, smtpd, admin, at):
    run_id = _sent_run(app, 5)
    with app.app_context():
        _lifecycle("welcome@example.com", DeliveryStatus.SENT, MADE)
        db.session.commit()
        count_again()
    smtpd.drain()
    at(END + timedelta(days=3))
    before = _pages(admin, run_id)
    assert before == {
        "run": {"queued": 0, "sending": 0, "sent": 4, "failed": 0, "cancelled": 0, "bounced": 1},
        "bounced": 1,
        "totals": {"sent": 6, "bounced": 1, "complained": 0, "unsubscribed": 0},
        # Sent, bounced, reported as spam, unsubscribed.
        "day": [6, 1, 0, 0],
    }
    with app.app_context():
        done = retention.summarise_deliveries(
            now=MADE + timedelta(days=2), older_than=timedelta(days=1)
        )
    assert done == 6
    assert _left(app) == {}
    assert _pages(admin, run_id) == before


def test_an_interrupted_summary_loses_no_count_and_doubles_none(app, smtpd, monkeypatch):
    run_id = _sent_run(app, 5)
    smtpd.drain()
    now = END + timedelta(days=3)
    real = retention._add_to_summary
    calls = []

    def fail_in_the_second_batch(key, count, *, now):
        calls.append(count)
        if len(calls) == 3:
            raise RuntimeError("the machine went away")
        real(key, count, now=now)

    monkeypatch.setattr(retention, "_add_to_summary", fail_in_the_second_batch)
    with app.app_context(), pytest.raises(RuntimeError, match="went away"):
        retention.summarise_deliveries(now=now, older_than=timedelta(days=1), batch=2)
    # The first batch (the bounced one and one sent) is counted and gone; the second not.
    assert _summaries(app) == {
        (DAY, run_id, MessageKind.DIGEST, DeliveryStatus.BOUNCED): 1,
        (DAY, run_id, MessageKind.DIGEST, DeliveryStatus.SENT): 1,
    }
    assert _left(app) == {(MessageKind.DIGEST, DeliveryStatus.SENT): 3}
    expected = {"sent": 4, "bounced": 1}
    with app.app_context():
        assert send_runs.status_counts([run_id])[run_id] == expected

    monkeypatch.setattr(retention, "_add_to_summary", real)
    with app.app_context():
        assert retention.summarise_deliveries(now=now, older_than=timedelta(days=1), batch=2) == 3
        assert send_runs.status_counts([run_id])[run_id] == expected
        # Counts of one day, run, kind and status add up in one row, whatever the batches.
        assert db.session.scalar(select(func.count()).select_from(DeliverySummary)) == 2
    assert _left(app) == {}


def test_records_behind_a_batch_of_waiting_ones_are_still_reached(app):
    with app.app_context():
        for n in range(3):
            _lifecycle(f"queued{n}@example.com", DeliveryStatus.QUEUED, MADE, MessageKind.CONFIRM)
        for n in range(3):
            _lifecycle(f"sent{n}@example.com", DeliveryStatus.SENT, MADE)
        db.session.commit()
        now = END + timedelta(days=3)
        assert retention.summarise_deliveries(now=now, older_than=timedelta(days=1), batch=2) == 3
    assert _left(app) == {(MessageKind.CONFIRM, DeliveryStatus.QUEUED): 3}
    assert _summaries(app) == {(DAY, None, MessageKind.WELCOME, DeliveryStatus.SENT): 3}

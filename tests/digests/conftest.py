"""Helpers for the send-run tests: make runs at fixed times, read back runs and deliveries."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from mailer.domain import news
from mailer.domain import periods
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import SendRun
from mailer.models import Subscriber

# Wednesday 25 November 2026, 07:00 in London (GMT): a daily period ends.
END = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
# A minute later, when the scheduler makes the run.
AFTER = END + timedelta(minutes=1)


@pytest.fixture
def postgres(app: Flask) -> None:
    """Skip the test unless it runs on PostgreSQL."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite serialises every writer; only PostgreSQL lets two really race")


def make_digest(
    app: Flask,
    frequency: Frequency = Frequency.DAILY,
    end: datetime = END,
    *,
    now: datetime = AFTER,
) -> tuple[int, bool, int]:
    """Make the digest run of the period ending at `end`; return (id, made now, recipients)."""
    with app.app_context():
        schedule = periods.Schedule.from_config(app.config)
        period = schedule.period_ending(frequency, end)
        run, created = send_runs.make_digest_run(frequency, period, actor="test", now=now)
        db.session.commit()
        return run.id, created, run.recipients


def make_due(app: Flask, now: datetime, **options: Any) -> list[str]:
    """Call make_due_runs at `now` with the app's settings, which `options` override; return
    the keys of the runs made."""
    settings = {
        "schedule": periods.Schedule.from_config(app.config),
        "actor": "test",
        "alert_within": timedelta(hours=app.config["ALERT_WITHIN_HOURS"]),
        "recovery": timedelta(days=app.config["DIGEST_RECOVERY_DAYS"]),
        **options,
    }
    with app.app_context():
        return [run.key for run in send_runs.make_due_runs(now=now, **settings)]


def run_keys(app: Flask) -> list[str]:
    """The keys of every run, oldest first."""
    with app.app_context():
        return list(db.session.scalars(select(SendRun.key).order_by(SendRun.id)))


def deliveries(app: Flask, run_id: int | None = None) -> list[tuple[str, DeliveryStatus]]:
    """(address, status) of each delivery of a run (or of every run), by address."""
    with app.app_context():
        statement = select(Subscriber.email, Delivery.status).join(Delivery.subscriber)
        if run_id is not None:
            statement = statement.where(Delivery.run_id == run_id)
        return sorted((email, status) for email, status in db.session.execute(statement))


def run_state(app: Flask, run_id: int) -> str:
    with app.app_context():
        return db.session.get_one(SendRun, run_id).state.value


def withdraw(app: Flask, item_id: int, *, now: datetime = AFTER) -> None:
    """Withdraw a news item as staff would."""
    with app.app_context():
        item = news.item_by_id(item_id)
        assert item is not None
        news.withdraw_item(
            item, reason="The round closed early", actor="editor@example.gov.uk", now=now
        )
        db.session.commit()

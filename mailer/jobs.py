"""Scheduler job bodies; each takes the app, runs in its context, commits, logs a summary."""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Sequence
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from mailer import clock
from mailer.database import transaction
from mailer.delivery import queue
from mailer.domain import bulletins
from mailer.domain import erasure
from mailer.domain import news
from mailer.domain import periods
from mailer.domain import retention
from mailer.domain import send_runs
from mailer.domain.directory import self_service
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import SendRun

logger = logging.getLogger(__name__)


def release_stale_leases(app: Flask) -> int:
    """Put deliveries held by crashed workers back in the queue; close finished runs."""
    with app.app_context(), transaction():
        count = queue.release_stale_leases(now=clock.now())
        queue.finish_runs(now=clock.now())
    logger.info("released %s stale leases", count)
    return count


def make_due_runs(
    app: Flask, frequencies: Sequence[Frequency] = tuple(Frequency), *, actor: str = "scheduler"
) -> list[SendRun]:
    """Make the send runs that are due now: alerts of newly published items, digests of
    periods that have ended (including any missed while nothing ran)."""
    config = app.config
    with app.app_context():
        try:
            made = send_runs.make_due_runs(
                schedule=periods.Schedule.from_config(config),
                now=clock.now(),
                actor=actor,
                alert_within=timedelta(hours=float(config["ALERT_WITHIN_HOURS"])),
                recovery=timedelta(days=float(config["DIGEST_RECOVERY_DAYS"])),
                frequencies=frequencies,
            )
        except BaseException:
            db.session.rollback()
            raise
        for run in made:
            logger.info("made run %s (%s) for %s recipients", run.id, run.key, run.recipients)
        return made


def send_alerts(app: Flask) -> int:
    """Make the alert runs of items published since the last look."""
    return len(make_due_runs(app, (Frequency.IMMEDIATE,)))


def send_digest(app: Flask, frequency: str) -> int:
    """Make the digest runs of `frequency` whose periods have ended."""
    return len(make_due_runs(app, (Frequency(frequency),)))


def purge_unconfirmed(app: Flask) -> int:
    """Delete sign-ups that were never confirmed within the retention period, and the files
    of uploaded lists not imported within it."""
    days = int(app.config["UNCONFIRMED_RETENTION_DAYS"])
    with app.app_context(), transaction():
        count = retention.purge_unconfirmed(now=clock.now(), older_than=timedelta(days=days))
        lists = retention.discard_stale_uploads(now=clock.now(), older_than=timedelta(days=days))
    logger.info("purged %s unconfirmed sign-ups older than %s days", count, days)
    logger.info("discarded %s uploaded lists not imported within %s days", lists, days)
    return count


def erase_unsubscribed(app: Flask) -> int:
    """Erase subscribers who left (unsubscribed or suppressed) longer ago than the retention
    period (a batch per transaction), keeping a hashed suppression of each address."""
    period = retention.Periods.from_config(app.config).unsubscribed
    with app.app_context(), transaction():
        count = erasure.erase_unsubscribed(now=clock.now(), older_than=period)
    logger.info("erased %s subscribers who left over %s days ago", count, period.days)
    return count


def summarise_deliveries(app: Flask, *, on_batch: Callable[[int], object] | None = None) -> int:
    """Turn delivery records older than the retention period into daily counts and delete
    them (a batch per transaction)."""
    period = retention.Periods.from_config(app.config).deliveries
    with app.app_context(), transaction():
        count = retention.summarise_deliveries(
            now=clock.now(), older_than=period, on_batch=on_batch
        )
    logger.info("summarised %s delivery records older than %s days", count, period.days)
    return count


def delete_old_inbound(app: Flask) -> int:
    """Delete the messages the bounce inbox kept for staff longer ago than the retention
    period, handled or not."""
    period = retention.Periods.from_config(app.config).inbound
    with app.app_context(), transaction():
        count = retention.delete_old_inbound(now=clock.now(), older_than=period)
    logger.info("deleted %s kept inbound messages older than %s days", count, period.days)
    return count


def delete_old_contact_messages(app: Flask) -> int:
    """Delete the contact-form messages answered or closed longer ago than the retention
    period, with their replies."""
    period = retention.Periods.from_config(app.config).contact
    with app.app_context(), transaction():
        count = retention.delete_old_contact_messages(now=clock.now(), older_than=period)
    logger.info("deleted %s contact messages handled over %s days ago", count, period.days)
    return count


def publish_due(app: Flask) -> int:
    """Publish scheduled news items whose time has come."""
    with app.app_context(), transaction():
        count = news.publish_due(now=clock.now())
    logger.info("published %s scheduled items", count)
    return count


def send_due_bulletins(app: Flask) -> int:
    """Send the scheduled bulletins whose time has come: make and enqueue their runs."""
    with app.app_context(), transaction():
        runs = bulletins.send_due(now=clock.now())
        made = [(run.id, run.bulletin_id, run.recipients) for run in runs]
    for run_id, bulletin_id, recipients in made:
        logger.info("sent bulletin %s as run %s to %s recipients", bulletin_id, run_id, recipients)
    return len(made)


def _settled(at: time, weekday: int = 0) -> tuple[time, str]:
    """When a digest job fires (time and weekday): when its periods end, plus the settling
    time, which may carry it over midnight."""
    # 3 January 2000 was a Monday.
    fires = datetime.combine(date(2000, 1, 3) + timedelta(days=weekday), at) + periods.SETTLE
    return fires.time(), periods.WEEKDAYS[fires.weekday()]


def remind_partnerships(app: Flask) -> int:
    """Ask each partnership whose directory entry was not confirmed for a year to confirm it
    (once a year each)."""
    with app.app_context(), transaction():
        count = self_service.remind_due(now=clock.now())
    logger.info("asked %s partnerships to confirm their contact details", count)
    return count


def add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Add every job to `scheduler`; a second scheduler is harmless (the jobs are idempotent)."""
    # A fire that comes late (a suspended machine, a busy pool) still runs, once: a dropped
    # digest fire would otherwise wait a day or a week for the next one.
    common = {
        "args": [app],
        "max_instances": 1,
        "coalesce": True,
        "misfire_grace_time": None,
        "replace_existing": True,
    }
    scheduler.add_job(
        release_stale_leases, "interval", minutes=1, id="release-stale-leases", **common
    )
    scheduler.add_job(publish_due, "interval", seconds=30, id="publish-due", **common)
    scheduler.add_job(send_due_bulletins, "interval", seconds=30, id="send-due-bulletins", **common)
    scheduler.add_job(purge_unconfirmed, "cron", minute=17, id="purge-unconfirmed", **common)
    # Daily, at quiet minutes of the night, apart from each other and from the digests.
    scheduler.add_job(
        erase_unsubscribed, "cron", hour=3, minute=23, id="erase-unsubscribed", **common
    )
    scheduler.add_job(
        summarise_deliveries, "cron", hour=3, minute=41, id="summarise-deliveries", **common
    )
    scheduler.add_job(
        delete_old_inbound, "cron", hour=3, minute=47, id="delete-old-inbound", **common
    )
    scheduler.add_job(
        delete_old_contact_messages, "cron", hour=3, minute=53, id="delete-old-contact", **common
    )
    scheduler.add_job(send_alerts, "interval", minutes=1, id="send-alerts", **common)
    scheduler.add_job(remind_partnerships, "cron", hour=9, minute=7, id="remind-csps", **common)
    _add_digest_jobs(scheduler, app, common)


def _add_digest_jobs(scheduler: BaseScheduler, app: Flask, common: dict[str, Any]) -> None:
    """The daily and weekly digests, at the schedule's times in its time zone."""
    # Each digest job also runs once at start, to make a digest missed while it was down.
    schedule = periods.Schedule.from_config(app.config)
    start = {**common, "next_run_time": datetime.now(schedule.zone)}
    daily, _ = _settled(schedule.daily_at)
    weekly, weekday = _settled(schedule.weekly_at, schedule.weekly_day)
    scheduler.add_job(
        send_digest,
        CronTrigger(hour=daily.hour, minute=daily.minute, timezone=schedule.zone),
        id="daily-digest",
        **{**start, "args": [app, "daily"]},
    )
    scheduler.add_job(
        send_digest,
        CronTrigger(
            day_of_week=weekday,
            hour=weekly.hour,
            minute=weekly.minute,
            timezone=schedule.zone,
        ),
        id="weekly-digest",
        **{**start, "args": [app, "weekly"]},
    )

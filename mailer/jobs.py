"""Scheduler job bodies; each takes the app, runs in its context, commits, logs a summary."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from mailer import clock
from mailer.database import transaction
from mailer.delivery import queue
from mailer.domain import news
from mailer.domain import subscriptions

logger = logging.getLogger(__name__)


def release_stale_leases(app: Flask) -> int:
    """Put deliveries held by crashed workers back in the queue."""
    with app.app_context(), transaction():
        count = queue.release_stale_leases(now=clock.now())
    logger.info("released %s stale leases", count)
    return count


def purge_unconfirmed(app: Flask) -> int:
    """Delete sign-ups that were never confirmed within the retention period."""
    days = int(app.config["UNCONFIRMED_RETENTION_DAYS"])
    with app.app_context(), transaction():
        count = subscriptions.purge_unconfirmed(now=clock.now(), older_than=timedelta(days=days))
    logger.info("purged %s unconfirmed sign-ups older than %s days", count, days)
    return count


def publish_due(app: Flask) -> int:
    """Publish scheduled news items whose time has come."""
    with app.app_context(), transaction():
        count = news.publish_due(now=clock.now())
    logger.info("published %s scheduled items", count)
    return count


def add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Add every job to `scheduler`; a second scheduler is harmless (the jobs are idempotent)."""
    common = {"args": [app], "max_instances": 1, "coalesce": True, "replace_existing": True}
    scheduler.add_job(
        release_stale_leases, "interval", minutes=1, id="release-stale-leases", **common
    )
    scheduler.add_job(publish_due, "interval", seconds=30, id="publish-due", **common)
    scheduler.add_job(purge_unconfirmed, "cron", minute=17, id="purge-unconfirmed", **common)

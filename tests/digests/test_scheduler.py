"""The scheduler's jobs: which there are, and when the digest jobs fire in London."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from mailer import clock
from mailer import jobs
from mailer.domain.periods import SETTLE

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def scheduler(app) -> Iterator[BackgroundScheduler]:
    """A scheduler with the service's jobs, started paused so that no job runs."""
    scheduler = BackgroundScheduler(timezone=UTC)
    jobs.add_jobs(scheduler, app)
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=False)


def _next_fire(scheduler, job_id, now):
    return scheduler.get_job(job_id).trigger.get_next_fire_time(None, now)


def test_the_digest_and_alert_jobs_are_there_once_each(scheduler, app):
    ids = [job.id for job in scheduler.get_jobs()]
    assert len(ids) == len(set(ids))
    assert {"daily-digest", "weekly-digest", "send-alerts"} <= set(ids)
    daily = scheduler.get_job("daily-digest")
    assert (daily.func, daily.args) == (jobs.send_digest, (app, "daily"))
    assert scheduler.get_job("weekly-digest").args == (app, "weekly")
    assert scheduler.get_job("send-alerts").func is jobs.send_alerts
    for job_id in ("daily-digest", "weekly-digest", "send-alerts"):
        job = scheduler.get_job(job_id)
        assert (job.max_instances, job.coalesce) == (1, True)


def test_the_digest_jobs_also_run_at_start(scheduler):
    soon = clock.now() + timedelta(minutes=1)
    for job_id in ("daily-digest", "weekly-digest"):
        assert scheduler.get_job(job_id).next_run_time <= soon


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Saturday before the spring change: Sunday 07:00 is British Summer Time.
        (datetime(2026, 3, 28, 8, 0, tzinfo=LONDON), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
        # Just before 07:00 on the day of the change itself.
        (datetime(2026, 3, 29, 6, 59, tzinfo=LONDON), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
        (datetime(2026, 3, 29, 7, 1, 1, tzinfo=LONDON), datetime(2026, 3, 30, 6, 0, tzinfo=UTC)),
        # Saturday before the autumn change: Sunday 07:00 is Greenwich Mean Time.
        (datetime(2026, 10, 24, 8, 0, tzinfo=LONDON), datetime(2026, 10, 25, 7, 0, tzinfo=UTC)),
        (datetime(2026, 10, 25, 1, 30, tzinfo=LONDON), datetime(2026, 10, 25, 7, 0, tzinfo=UTC)),
    ],
)
def test_the_daily_job_fires_at_seven_in_london_across_a_clock_change(scheduler, now, expected):
    # It fires a settling minute after the period ends, for items committed at the boundary.
    fire = _next_fire(scheduler, "daily-digest", now)
    assert fire == expected + SETTLE
    assert (fire.astimezone(LONDON).hour, fire.astimezone(LONDON).minute) == (7, 1)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 24, 12, 0, tzinfo=UTC), datetime(2026, 3, 30, 6, 0, tzinfo=UTC)),
        (datetime(2026, 10, 20, 12, 0, tzinfo=UTC), datetime(2026, 10, 26, 7, 0, tzinfo=UTC)),
    ],
)
def test_the_weekly_job_fires_on_monday_at_seven_in_london(scheduler, now, expected):
    assert _next_fire(scheduler, "weekly-digest", now) == expected + SETTLE


@pytest.mark.parametrize("job_id", ["daily-digest", "weekly-digest"])
def test_a_digest_job_that_fires_late_still_runs(scheduler, job_id):
    """A fire held up by more than a moment (a busy thread pool, a suspended machine) must
    not be dropped: the digest would wait for the job's next fire, a day or a week later."""
    grace = scheduler.get_job(job_id).misfire_grace_time
    assert grace is None or grace >= 3600

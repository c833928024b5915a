"""Making runs once: repeated and concurrent triggers, and recovery after the scheduler was down."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer import clock
from mailer.domain import periods
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import SendRun
from tests.digests.conftest import AFTER
from tests.digests.conftest import END
from tests.digests.conftest import deliveries
from tests.digests.conftest import make_digest
from tests.digests.conftest import make_due
from tests.digests.conftest import run_keys
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import at_once
from tests.helpers import send_queued

MAILER = str(Path(sys.executable).parent / "mailer")
DAY = timedelta(days=1)
DAILY = (Frequency.DAILY,)


def _daily_key(end):
    return periods.digest_key(Frequency.DAILY, end)


def _readers_and_news(app, readers=3, at=END - timedelta(hours=1)):
    with app.app_context():
        add_readers(readers, follows={"funding": Frequency.DAILY}, now=at)
        publish_news("Safer Streets Fund round 6", at=at)
        db.session.commit()


def test_making_the_same_digest_twice_gives_one_run_and_one_email_each(app, smtpd):
    _readers_and_news(app)
    first = make_digest(app)
    again = make_digest(app, now=AFTER + timedelta(minutes=5))
    assert first == (first[0], True, 3)
    assert again == (first[0], False, 3)
    assert send_queued(app, now=AFTER).sent == 3
    assert make_digest(app, now=AFTER + timedelta(hours=1))[1] is False
    assert send_queued(app, now=AFTER + timedelta(hours=1)).sent == 0
    assert Counter(m.rcpt_tos[0] for m in smtpd.drain()) == {
        "reader0@example.org": 1,
        "reader1@example.org": 1,
        "reader2@example.org": 1,
    }
    assert run_keys(app) == [_daily_key(END)]


def test_enqueueing_a_run_again_adds_no_delivery(app):
    _readers_and_news(app)
    run_id = make_digest(app)[0]
    with app.app_context():
        send_runs.enqueue(db.session.get_one(SendRun, run_id), now=AFTER)
        db.session.commit()
    assert len(deliveries(app, run_id)) == 3


def test_threads_making_the_same_digest_at_once_make_one_run(app):
    _readers_and_news(app, readers=5)
    schedule = periods.Schedule.from_config(app.config)
    period = schedule.period_ending(Frequency.DAILY, END)

    def make(start):
        with app.app_context():
            start()
            run, created = send_runs.make_digest_run(Frequency.DAILY, period, actor="t", now=AFTER)
            db.session.commit()
            return run.id, created

    results = at_once(make, times=4)
    assert len(results) == 4
    assert len({run_id for run_id, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SendRun)) == 1
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == 5


def _env(app):
    """The environment of a `mailer` process on the test database and SMTP sink."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAILER_")}
    env.update(
        {
            "MAILER_ENV": "testing",
            "MAILER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "MAILER_SMTP_PORT": str(app.config["SMTP_PORT"]),
            "MAILER_SECRET_KEY": app.config["SECRET_KEY"],
        }
    )
    return env


@pytest.mark.slow
@pytest.mark.usefixtures("postgres")
def test_two_schedulers_at_once_make_each_run_once(app):
    now = clock.now()
    latest = periods.Schedule.from_config(app.config).latest_end(Frequency.DAILY, now)
    _readers_and_news(app, readers=20, at=latest - timedelta(hours=1))
    env = _env(app)
    processes = [
        subprocess.Popen(
            [MAILER, "send-due"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    keys = run_keys(app)
    weekly = periods.Schedule.from_config(app.config).latest_end(Frequency.WEEKLY, now)
    assert sorted(key for key in keys if not key.startswith("immediate:")) == [
        _daily_key(latest),
        periods.digest_key(Frequency.WEEKLY, weekly),
    ]
    # Between them, the two processes report each run once.
    reported = [line for out, _ in outputs for line in out.decode().splitlines() if "(" in line]
    assert sorted(line.split("(")[1].split(")")[0] for line in reported) == sorted(keys)
    with app.app_context():
        run_id = db.session.scalar(select(SendRun.id).where(SendRun.key == _daily_key(latest)))
    addresses = [email for email, _ in deliveries(app, run_id)]
    assert len(addresses) == 20
    assert len(set(addresses)) == 20


def test_a_new_installation_makes_only_the_latest_periods(app):
    made = make_due(app, END + timedelta(hours=2), frequencies=periods.DIGESTS)
    assert sorted(made) == [
        _daily_key(END),
        periods.digest_key(Frequency.WEEKLY, END - 2 * DAY),
    ]


def test_after_three_days_down_the_missed_digests_are_made_once(app, smtpd):
    make_due(app, AFTER, frequencies=DAILY)
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY}, now=END)
        for day in range(3):
            publish_news(f"News of day {day + 1}", at=END + day * DAY + timedelta(hours=1))
        db.session.commit()
    later = AFTER + 3 * DAY
    assert make_due(app, later, frequencies=DAILY) == [_daily_key(END + n * DAY) for n in (1, 2, 3)]
    assert make_due(app, later, frequencies=DAILY) == []
    assert make_due(app, later + timedelta(hours=3), frequencies=DAILY) == []
    assert send_queued(app, now=later).sent == 3
    subjects = sorted(m.message["Subject"] for m in smtpd.drain())
    assert subjects == [f"CSP news: 1 update (daily, {day} November 2026)" for day in (26, 27, 28)]


def test_missed_digests_older_than_the_recovery_window_are_not_made(app):
    make_due(app, AFTER, frequencies=DAILY)
    made = make_due(app, AFTER + 10 * DAY, frequencies=DAILY, recovery=timedelta(days=7))
    assert made == [_daily_key(END + n * DAY) for n in range(4, 11)]


def test_no_digest_is_made_for_a_period_before_the_first_one(app):
    make_digest(app)
    made = make_due(app, AFTER + 2 * DAY, frequencies=DAILY, recovery=timedelta(days=7))
    assert made == [_daily_key(END + DAY), _daily_key(END + 2 * DAY)]


def test_missed_digests_across_the_spring_clock_change_tile(app):
    first_end = END.replace(month=3, day=27)
    make_digest(app, end=first_end, now=first_end)
    made = make_due(app, first_end + 3 * DAY, frequencies=DAILY)
    # From 29 March the period ends at 07:00 British Summer Time, 06:00 UTC.
    assert made == [
        "daily:2026-03-28T07:00:00+00:00",
        "daily:2026-03-29T06:00:00+00:00",
        "daily:2026-03-30T06:00:00+00:00",
    ]
    with app.app_context():
        runs = db.session.scalars(select(SendRun).order_by(SendRun.period_end)).all()
        assert all(a.period_end == b.period_start for a, b in zip(runs, runs[1:], strict=False))


def test_a_digest_made_by_hand_is_not_made_again_by_the_scheduler(app):
    make_digest(app)
    make_digest(app, end=END + DAY, now=END + DAY)
    assert make_due(app, END + DAY + timedelta(minutes=1), frequencies=DAILY) == []

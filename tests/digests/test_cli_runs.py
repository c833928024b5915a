"""The run commands as an operator uses them: send-due, send-digest, runs and its actions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mailer import clock
from mailer.domain import periods
from mailer.extensions import db
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from tests.digests.conftest import AFTER
from tests.digests.conftest import END
from tests.digests.conftest import deliveries
from tests.digests.conftest import make_digest
from tests.digests.conftest import run_keys
from tests.digests.conftest import run_state
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import send_queued

PERIOD_END = "2026-11-25T07:00:00+00:00"
DAILY_KEY = f"daily:{PERIOD_END}"
# Monday 30 November 2026, 07:00 in London: a weekly period ends.
WEEK_END = END + timedelta(days=5)


def _latest_daily_end(app):
    return periods.Schedule.from_config(app.config).latest_end(Frequency.DAILY, clock.now())


def _readers_and_news(app, at, readers=2):
    with app.app_context():
        add_readers(readers, follows={"funding": Frequency.DAILY}, now=at)
        publish_news("Safer Streets Fund round 6", at=at)
        db.session.commit()


def _fails(result, message):
    """The command exited non-zero with `message`, as a usage error and not a crash."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert message in result.output
    assert "Traceback" not in result.output


def test_send_due_makes_the_latest_digests_then_says_none_is_due(app, runner):
    now = clock.now()
    schedule = periods.Schedule.from_config(app.config)
    daily = periods.digest_key(Frequency.DAILY, schedule.latest_end(Frequency.DAILY, now))
    weekly = periods.digest_key(Frequency.WEEKLY, schedule.latest_end(Frequency.WEEKLY, now))
    first = runner.invoke(args=["send-due"])
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        f"Run 1 ({daily}): 0 recipients, done.",
        f"Run 2 ({weekly}): 0 recipients, done.",
    ]
    again = runner.invoke(args=["send-due"])
    assert (again.exit_code, again.output) == (0, "No run is due.\n")


def test_send_due_wait_sends_what_it_made(app, runner, smtpd):
    latest = _latest_daily_end(app)
    _readers_and_news(app, latest - timedelta(hours=1))
    result = runner.invoke(args=["send-due", "--wait"])
    assert result.exit_code == 0, result.output
    assert f"({periods.digest_key(Frequency.DAILY, latest)}): 2 recipients, sending." in (
        result.output
    )
    assert "Worker finished: sent 2," in result.output
    received = smtpd.drain()
    assert sorted(m.rcpt_tos[0] for m in received) == [
        "reader0@example.org",
        "reader1@example.org",
    ]
    assert {m.message["Subject"][:23] for m in received} == {"CSP news: 1 update (dai"}


def test_send_digest_makes_the_run_of_a_past_period_once(app, runner):
    _readers_and_news(app, END - timedelta(hours=1))
    args = ["send-digest", "--frequency", "daily", "--period-end", PERIOD_END]
    first = runner.invoke(args=args)
    assert (first.exit_code, first.output) == (0, f"Run 1 ({DAILY_KEY}): 2 recipients, sending.\n")
    again = runner.invoke(args=args)
    assert again.exit_code == 0
    assert again.output == f"Already made: Run 1 ({DAILY_KEY}): 2 recipients, sending.\n"
    assert run_keys(app) == [DAILY_KEY]
    assert len(deliveries(app)) == 2


def test_send_digest_takes_an_end_in_summer_time(app, runner):
    result = runner.invoke(
        args=["send-digest", "--frequency", "daily", "--period-end", "2026-07-01T07:00:00+01:00"]
    )
    assert result.exit_code == 0, result.output
    assert run_keys(app) == ["daily:2026-07-01T06:00:00+00:00"]


def test_send_digest_without_an_end_makes_the_latest_period(app, runner):
    latest = periods.Schedule.from_config(app.config).latest_end(Frequency.WEEKLY, clock.now())
    result = runner.invoke(args=["send-digest", "--frequency", "weekly"])
    assert result.exit_code == 0, result.output
    assert run_keys(app) == [periods.digest_key(Frequency.WEEKLY, latest)]


def test_send_digest_wait_sends_it(app, runner, smtpd):
    _readers_and_news(app, END - timedelta(hours=1))
    args = ["send-digest", "--frequency", "daily", "--period-end", PERIOD_END, "--wait"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Worker finished: sent 2," in result.output
    assert len(smtpd.drain()) == 2


@pytest.mark.parametrize(
    ("period_end", "message"),
    [
        (
            "2026-11-25T08:00:00+00:00",
            "2026-11-25T08:00:00+00:00 is not when a daily digest period ends "
            "(they end at 07:00 Europe/London)",
        ),
        ("2026-11-25T07:00:00", "'2026-11-25T07:00:00' has no UTC offset (add Z or +01:00)"),
        ("yesterday", "'yesterday' is not an ISO 8601 date and time"),
        # Out of range once taken to UTC, and the first scheduled end there ever was.
        ("0001-01-01T00:30:00+14:00", "0001-01-01T00:30:00+14:00"),
        ("0001-01-01T07:01:15+00:00", "0001-01-01T07:01:15+00:00"),
    ],
    ids=["not-an-end", "no-offset", "not-iso", "out-of-range", "first-end-ever"],
)
def test_send_digest_refuses_a_bad_period_end_clearly(app, runner, period_end, message):
    result = runner.invoke(args=["send-digest", "--frequency", "daily", "--period-end", period_end])
    _fails(result, "Invalid value for --period-end")
    assert message in result.output
    assert run_keys(app) == []


def test_send_digest_refuses_a_period_that_has_not_ended(app, runner):
    future = (_latest_daily_end(app) + timedelta(days=2)).isoformat()
    result = runner.invoke(args=["send-digest", "--frequency", "daily", "--period-end", future])
    _fails(result, f"the period ending {future} has not ended")
    assert run_keys(app) == []


def test_send_digest_refuses_a_weekly_end_that_is_not_a_monday(app, runner):
    result = runner.invoke(
        args=["send-digest", "--frequency", "weekly", "--period-end", PERIOD_END]
    )
    _fails(result, "is not when a weekly digest period ends")


def test_send_digest_refuses_an_unknown_frequency(app, runner):
    result = runner.invoke(args=["send-digest", "--frequency", "monthly"])
    _fails(result, "Invalid value for '--frequency': 'monthly' is not one of")


def test_runs_lists_each_run_with_its_counts(app, runner):
    assert runner.invoke(args=["runs"]).output == "No send runs yet.\n"
    _readers_and_news(app, END - timedelta(hours=1), readers=3)
    run_id = make_digest(app)[0]
    send_queued(app, now=AFTER)
    make_digest(app, end=END + timedelta(days=1), now=END + timedelta(days=1))
    result = runner.invoke(args=["runs"])
    assert result.exit_code == 0
    header, *rows = result.output.splitlines()
    assert header.split() == ["ID", "STATE", "SENT", "QUEUED", "FAILED", "RUN"]
    assert [row.split() for row in rows] == [
        [str(run_id + 1), "done", "0", "0", "0", "daily:2026-11-26T07:00:00+00:00"],
        [str(run_id), "done", "3", "0", "0", DAILY_KEY],
    ]


def test_a_paused_run_sends_nothing_until_it_is_resumed_then_everything_once(app, runner, smtpd):
    _readers_and_news(app, END - timedelta(hours=1), readers=3)
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.WEEKLY}, domain="weekly.example", now=END)
        db.session.commit()
    run_id = make_digest(app)[0]
    paused = runner.invoke(args=["runs", "pause", str(run_id)])
    assert (paused.exit_code, paused.output) == (0, f"Run {run_id} is paused.\n")
    # Another run goes on meanwhile.
    make_digest(app, Frequency.WEEKLY, WEEK_END, now=WEEK_END)
    assert send_queued(app, now=WEEK_END).sent == 1
    assert [m.rcpt_tos[0] for m in smtpd.drain()] == ["reader3@weekly.example"]
    assert {status for _, status in deliveries(app, run_id)} == {DeliveryStatus.QUEUED}
    resumed = runner.invoke(args=["runs", "resume", str(run_id)])
    assert (resumed.exit_code, resumed.output) == (0, f"Run {run_id} is sending.\n")
    assert send_queued(app, now=WEEK_END).sent == 3
    assert sorted(m.rcpt_tos[0] for m in smtpd.drain()) == [
        f"reader{n}@example.org" for n in range(3)
    ]
    assert send_queued(app, now=WEEK_END + timedelta(hours=1)).sent == 0
    assert run_state(app, run_id) == "done"


def test_cancelling_a_run_cancels_its_queued_deliveries(app, runner, smtpd):
    _readers_and_news(app, END - timedelta(hours=1))
    run_id = make_digest(app)[0]
    result = runner.invoke(args=["runs", "cancel", str(run_id)])
    assert (result.exit_code, result.output) == (0, f"Run {run_id} is cancelled.\n")
    assert {status for _, status in deliveries(app)} == {DeliveryStatus.CANCELLED}
    assert send_queued(app, now=AFTER).sent == 0
    assert smtpd.drain() == []


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("pause", "it cannot be paused"),
        ("resume", "it cannot be resumed"),
        ("cancel", "it cannot be cancelled"),
    ],
)
def test_a_done_run_cannot_be_paused_resumed_or_cancelled(app, runner, action, message):
    run_id = make_digest(app)[0]
    assert run_state(app, run_id) == "done"
    result = runner.invoke(args=["runs", action, str(run_id)])
    _fails(result, f"Error: run {run_id} is done; {message}\n")
    assert run_state(app, run_id) == "done"


@pytest.mark.parametrize("run_id", ["999", "0", str(2**40)])
def test_an_unknown_run_cannot_be_paused(app, runner, run_id):
    result = runner.invoke(args=["runs", "pause", run_id])
    _fails(result, f"Error: no run with id {run_id}")


def test_a_run_id_that_is_not_a_number_is_refused(app, runner):
    result = runner.invoke(args=["runs", "pause", "daily"])
    _fails(result, "'daily' is not a valid integer")
    assert re.search(r"Usage: .* runs pause", result.output)

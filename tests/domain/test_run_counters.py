"""The counts kept on runs and the tallies of mail sent stay exact as deliveries settle:
sends, failures, retries, cancelling, bounces, complaints and erasure each move them in the
transaction that records the outcome, to the figures a count of the deliveries gives."""

from __future__ import annotations

from collections import Counter
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from mailer.database import transaction
from mailer.delivery.returns import Inbound
from mailer.delivery.returns import Outcome
from mailer.delivery.returns import Verdict
from mailer.domain import bounces
from mailer.domain import erasure
from mailer.domain import periods
from mailer.domain import recount
from mailer.domain import run_counts
from mailer.domain import send_runs
from mailer.domain.subscriptions import Origin
from mailer.domain.subscriptions import unsubscribe
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import HourlySends
from mailer.models import RunSends
from mailer.models import SendRun
from mailer.models import Subscriber
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import send_queued

END = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
MADE = END + timedelta(minutes=1)
RULE = bounces.SoftBounceRule(limit=3, within=timedelta(days=14))
RECEIVED = Inbound("", ("bounces+x@bounces.csp-news.localhost",), b"Subject: x\r\n\r\nx\r\n")


def _daily_run(app, readers):
    """A daily digest run to `readers` new readers; returns (run id, their ids)."""
    with app.app_context():
        ids = add_readers(readers, follows={"funding": Frequency.DAILY}, now=END)
        publish_news("Safer Streets Fund round 6", topics=("funding",), at=END - timedelta(hours=3))
        db.session.commit()
        period = periods.Schedule.from_config(app.config).period_ending(Frequency.DAILY, END)
        run, _ = send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=MADE)
        db.session.commit()
        return run.id, ids


def _live(run_id):
    """The run's deliveries by status, counted the slow way."""
    rows = db.session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.run_id == run_id)
        .group_by(Delivery.status)
    )
    counted = Counter({status.value: int(n) for status, n in rows})
    return {status.value: counted[status.value] for status in DeliveryStatus}


def _kept(run_id):
    counts = run_counts.status_counts([run_id])[run_id]
    return {status.value: counts[status.value] for status in DeliveryStatus}


def _report(verdict, delivery, *, now):
    outcome = Outcome(verdict, delivery.id, status="5.1.1", return_key=delivery.return_key)
    with transaction():
        bounces.record(RECEIVED, [outcome], rule=RULE, now=now)


def test_sends_failures_retries_bounces_and_complaints_keep_the_counts_exact(app, smtpd):
    run_id, readers = _daily_run(app, 7)
    with app.app_context():
        # Leaving before the run is sent cancels their email.
        unsubscribe(
            db.session.get_one(Subscriber, readers[6]), origin=Origin(method="link"), now=MADE
        )
        db.session.commit()
        assert _kept(run_id) == _live(run_id)
    # The first address does not exist; the second server is busy, so it is tried again.
    smtpd.script("RCPT", "550 5.1.1 No such user", "451 4.3.0 Mail system busy")
    first = send_queued(app, now=MADE + timedelta(minutes=1))
    assert (first.sent, first.failed, first.retried) == (4, 1, 1)
    with app.app_context():
        assert (
            _kept(run_id)
            == _live(run_id)
            == {
                "queued": 1,
                "sending": 0,
                "sent": 4,
                "failed": 1,
                "cancelled": 1,
                "bounced": 0,
            }
        )
    assert send_queued(app, now=MADE + timedelta(hours=1)).sent == 1
    with app.app_context():
        later = MADE + timedelta(hours=2)
        sent = db.session.scalars(
            select(Delivery).where(
                Delivery.run_id == run_id, Delivery.status == DeliveryStatus.SENT
            )
        ).all()
        _report(Verdict.HARD, sent[0], now=later)
        # Two reports about one email are one complaint.
        complained = sent[1]
        _report(Verdict.COMPLAINT, complained, now=later)
        _report(Verdict.COMPLAINT, complained, now=later + timedelta(minutes=5))
        run = db.session.get_one(SendRun, run_id)
        assert _kept(run_id) == _live(run_id)
        assert (run.sent, run.bounced, run.complained) == (4, 1, 1)
        # Six went out: five at 07:02 and one at 08:01, in the hours' tallies and the run's.
        tallies = db.session.execute(select(HourlySends.hour, HourlySends.count)).all()
        assert sorted(tallies) == [
            (int(datetime(2026, 11, 25, 7, tzinfo=UTC).timestamp()), 4),
            (int(datetime(2026, 11, 25, 8, tzinfo=UTC).timestamp()), 1),
        ]
        assert db.session.scalar(select(func.sum(RunSends.count))) == 5
        assert (run.first_sent_at, run.last_sent_at) == (
            MADE + timedelta(minutes=1),
            MADE + timedelta(hours=1),
        )
        assert recount.recount(fix=False) == []
    smtpd.drain()


def test_erasure_and_cancelling_a_run_count_what_they_cancel(app):
    run_id, readers = _daily_run(app, 4)
    with app.app_context():
        subscriber = db.session.get_one(Subscriber, readers[0])
        erasure.erase(subscriber, why="asked by email", actor="staff@example.org", now=MADE)
        db.session.commit()
        assert _kept(run_id)["cancelled"] == 1
        run = send_runs.run_by_id(run_id, lock=True)
        send_runs.change_state(run, "cancel", actor="staff@example.org", now=MADE)
        db.session.commit()
        assert _kept(run_id) == _live(run_id)
        assert _kept(run_id)["cancelled"] == 4
        assert recount.recount(fix=False) == []


def test_the_dashboard_counts_every_email_held_by_status(app, smtpd):
    run_id, _ = _daily_run(app, 3)
    assert send_queued(app, now=MADE + timedelta(minutes=1)).sent == 3
    with app.app_context():
        counts = run_counts.email_counts()
        rows = db.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
        live = Counter({status.value: int(n) for status, n in rows})
        assert counts == {status.value: live[status.value] for status in DeliveryStatus}
    smtpd.drain()


def test_the_recount_finds_drift_and_puts_it_right(app, runner, smtpd):
    run_id, _ = _daily_run(app, 3)
    assert send_queued(app, now=MADE + timedelta(minutes=1)).sent == 3
    with app.app_context():
        db.session.execute(update(SendRun).where(SendRun.id == run_id).values(sent=7, failed=2))
        db.session.execute(update(HourlySends).values(count=HourlySends.count + 1))
        db.session.commit()

    checked = runner.invoke(args=["recount-runs"])
    assert checked.exit_code == 1
    assert f"run {run_id}: sent kept 7, counted 3" in checked.output
    assert f"run {run_id}: failed kept 2, counted 0" in checked.output
    assert "tallies: digest sent from 2026-11-25 07:00 UTC kept 4, counted 3" in checked.output
    assert "3 figures drifted; run with --fix to put them right" in checked.output

    fixed = runner.invoke(args=["recount-runs", "--fix"])
    assert fixed.exit_code == 0
    assert "Put right 3 figures." in fixed.output
    again = runner.invoke(args=["recount-runs", "--run", str(run_id)])
    assert (again.exit_code, again.output) == (0, "The kept counts match the deliveries.\n")
    with app.app_context():
        assert db.session.get_one(SendRun, run_id).sent == 3
    smtpd.drain()


def test_the_recount_refuses_a_run_number_out_of_range(runner):
    result = runner.invoke(args=["recount-runs", "--run", "0"])
    assert result.exit_code == 2
    assert "Invalid value for '--run'" in result.output

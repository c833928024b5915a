"""The worker against a real SMTP server: retries, failures, crashes and several workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from tests import TODAY
from tests.factories import make_subscriber
from tests.factories import queue_emails
from tests.helpers import ALLOWED_SMTP_PORTS
from tests.helpers import send_queued

# The queue is filled at a fixed time; the workers below run at it, unless they are processes
# of their own, which read the clock and find the mail long due.
NOW = TODAY

MAILER = str(Path(sys.executable).parent / "mailer")


def _deliveries(app):
    with app.app_context():
        rows = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
        db.session.expunge_all()
        return rows


def _queue(app, count=1, *, now=NOW, **options):
    with app.app_context():
        return queue_emails(count, now=now, **options)


def test_a_421_is_retried_later_and_then_sent(app, smtpd):
    _queue(app)
    smtpd.script("RCPT", "421 4.7.0 Try again later, closing connection")
    first = send_queued(app, now=NOW)
    assert (first.sent, first.retried) == (0, 1)
    [delivery] = _deliveries(app)
    assert delivery.status is DeliveryStatus.QUEUED
    assert delivery.attempts == 1
    assert "421" in delivery.last_error
    assert delivery.next_attempt_at > NOW + timedelta(seconds=50)

    assert send_queued(app, now=NOW).sent == 0
    assert send_queued(app, now=NOW + timedelta(minutes=2)).sent == 1
    [delivery] = _deliveries(app)
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.attempts == 2
    assert delivery.message_id == smtpd.get().message["Message-ID"]
    assert smtpd.drain() == []


def test_a_550_fails_that_recipient_at_once_and_is_never_retried(app, smtpd):
    _queue(app, 2)
    smtpd.script("RCPT", "550 5.1.1 No such user")
    stats = send_queued(app, now=NOW)
    assert (stats.sent, stats.failed) == (1, 1)
    assert send_queued(app, now=NOW + timedelta(days=2)).sent == 0
    failed, sent = _deliveries(app)
    assert failed.status is DeliveryStatus.FAILED
    assert failed.attempts == 1
    assert failed.last_error.startswith("550 5.1.1")
    assert sent.status is DeliveryStatus.SENT
    assert [m.rcpt_tos for m in smtpd.drain()] == [["reader1@example.com"]]


def test_a_5xx_after_data_is_permanent_too(app, smtpd):
    _queue(app)
    smtpd.script("DATA", "552 5.3.4 Message too big")
    assert send_queued(app, now=NOW).failed == 1
    assert _deliveries(app)[0].status is DeliveryStatus.FAILED


@pytest.fixture
def app_settings(app_settings):
    app_settings["DELIVERY_MAX_ATTEMPTS"] = 3
    # One connection, so scripted replies meet the deliveries in id order.
    app_settings["WORKER_CONCURRENCY"] = 1
    return app_settings


def test_temporary_failures_back_off_and_give_up_after_the_last_attempt(app, smtpd):
    _queue(app)
    smtpd.script("RCPT", *["451 4.3.0 Mail system busy"] * 3)
    now = NOW
    waits = []
    for _ in range(3):
        send_queued(app, now=now)
        delivery = _deliveries(app)[0]
        waits.append(delivery.next_attempt_at - now)
        now = delivery.next_attempt_at + timedelta(seconds=1)
    assert waits[:2] == [timedelta(seconds=60), timedelta(seconds=120)]
    delivery = _deliveries(app)[0]
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert delivery.last_error.startswith("gave up after 3 attempts: 451")
    assert smtpd.drain() == []


def test_an_unreachable_server_is_a_temporary_failure(app, app_settings, smtpd):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    ALLOWED_SMTP_PORTS.add(closed_port)
    app.config["SMTP_PORT"] = closed_port
    _queue(app)
    assert send_queued(app, now=NOW).retried == 1
    delivery = _deliveries(app)[0]
    assert delivery.status is DeliveryStatus.QUEUED
    assert "cannot connect" in delivery.last_error


def test_one_poisoned_row_fails_alone_and_the_rest_of_the_batch_is_sent(app, smtpd):
    with app.app_context():
        make_subscriber(email="eve@example.com\r\nBcc: everyone@example.net", now=NOW)
        from mailer.domain.subscriptions import queue_email
        from mailer.models import MessageKind
        from mailer.models import Subscriber

        eve = db.session.scalar(select(Subscriber))
        queue_email(eve, MessageKind.MANAGE, now=NOW, limited=False)
        db.session.commit()
        queue_emails(2, now=NOW)
    stats = send_queued(app, now=NOW)
    assert (stats.sent, stats.failed) == (2, 1)
    poisoned = _deliveries(app)[0]
    assert poisoned.status is DeliveryStatus.FAILED
    assert "cannot build message" in poisoned.last_error
    received = smtpd.drain()
    assert sorted(r for m in received for r in m.rcpt_tos) == [
        "reader0@example.com",
        "reader1@example.com",
    ]
    assert all(b"everyone@example.net" not in m.content for m in received)


def test_a_server_that_hangs_up_mid_session_loses_nothing(app, smtpd):
    _queue(app, 4)
    smtpd.script("RCPT", "250 OK", "421 4.4.2 Connection dropped")
    send_queued(app, now=NOW)
    send_queued(app, now=NOW + timedelta(minutes=5))
    assert all(d.status is DeliveryStatus.SENT for d in _deliveries(app))
    assert sorted(len(m.rcpt_tos) for m in smtpd.drain()) == [1, 1, 1, 1]


def _worker_env(app, **settings):
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAILER_")}
    env.update(
        {
            "MAILER_ENV": "testing",
            "MAILER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "MAILER_SMTP_PORT": str(app.config["SMTP_PORT"]),
            "MAILER_SECRET_KEY": app.config["SECRET_KEY"],
        }
    )
    env.update({f"MAILER_{key}": str(value) for key, value in settings.items()})
    return env


def kill_when_stalled(app, smtpd, tmp_path, command, **settings):
    """Run `mailer COMMAND` until the sink stalls it mid-message, then SIGKILL it."""
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [MAILER, *command],
            env=_worker_env(app, **settings),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        assert smtpd.holding.wait(timeout=60), log.read_text()
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        # Whatever the dead worker had written is refused before the hold is lifted: the
        # server may still read a message it sent just before the kill.
        smtpd.retire_connections()
        smtpd.hold_after = None
        smtpd.release.set()


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_nothing_and_its_lease_is_taken_over(app, smtpd, tmp_path):
    _queue(app, 60)
    smtpd.hold_after = 25
    kill_when_stalled(app, smtpd, tmp_path, ["worker"], WORKER_BATCH_SIZE=20, WORKER_CONCURRENCY=1)
    # The server accepted 25 messages: the whole first batch, recorded as sent when its chunk
    # ended, and 5 of the second. Those 5 are recorded as they go, every quarter second, so
    # the worker may have died before recording some or all of them.
    statuses = Counter(d.status for d in _deliveries(app))
    recorded = statuses[DeliveryStatus.SENT]
    assert 20 <= recorded <= 25
    assert statuses[DeliveryStatus.SENDING] == 40 - recorded  # its second batch, still leased
    assert statuses[DeliveryStatus.QUEUED] == 20

    # Before the lease runs out nobody takes those over; afterwards a new worker does. The
    # killed process took its leases by the clock, so the takeover is timed by it too.
    assert send_queued(app).sent == 20
    assert send_queued(app, now=clock.now() + timedelta(seconds=301)).sent == 40 - recorded
    assert all(d.status is DeliveryStatus.SENT for d in _deliveries(app))
    counts = Counter(r for m in smtpd.drain() for r in m.rcpt_tos)
    assert len(counts) == 60
    # Only the messages accepted but not yet recorded went twice.
    twice = 25 - recorded
    assert Counter(counts.values()) == Counter({1: 60 - twice, 2: twice})


@pytest.mark.slow
def test_two_worker_processes_share_a_large_queue_and_send_each_email_once(app, smtpd):
    _queue(app, 600)
    env = _worker_env(app, WORKER_BATCH_SIZE=25)
    workers = [
        subprocess.Popen(
            [MAILER, "worker", "--once"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=240) for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    sent_by = [int(out.decode().split("sent ")[1].split(",")[0]) for out, _ in outputs]
    assert sum(sent_by) == 600
    assert all(count > 0 for count in sent_by), sent_by
    counts = Counter(r for m in smtpd.drain() for r in m.rcpt_tos)
    assert len(counts) == 600
    assert set(counts.values()) == {1}
    deliveries = _deliveries(app)
    assert {d.status for d in deliveries} == {DeliveryStatus.SENT}
    assert {d.attempts for d in deliveries} == {1}
    assert len({d.message_id for d in deliveries}) == 600


def _claimed_by(app, worker, now):
    """Let `worker` claim and compose a batch without sending it yet."""
    from mailer.delivery import queue

    ids = queue.claim_batch(owner=worker.owner, limit=100, lease=worker.settings.lease, now=now)
    db.session.commit()
    prepared = worker.prepare(ids)
    db.session.commit()
    return prepared


def test_a_slow_worker_whose_lease_was_taken_over_neither_sends_nor_overwrites(app, smtpd):
    from mailer.delivery.worker import worker_from_config

    _queue(app, 3)
    now = NOW
    with app.app_context():
        slow = worker_from_config(app.config, now=lambda: now)
        prepared = _claimed_by(app, slow, now)
    # The slow worker's lease runs out; another worker sends everything.
    assert send_queued(app, now=now + timedelta(seconds=301)).sent == 3
    with app.app_context():
        slow.send(prepared)
        slow.pool.shutdown()
        from mailer.delivery import queue

        queue.record_retry(
            prepared[0].delivery_id,
            owner=slow.owner,
            attempts=1,
            error="451 late reply",
            policy=slow.settings.retry,
            now=now,
        )
        db.session.commit()
    assert slow.stats.sent == 0
    assert {d.status for d in _deliveries(app)} == {DeliveryStatus.SENT}
    assert len(smtpd.drain()) == 3


def test_unsubscribing_after_a_batch_was_claimed_still_stops_the_email(app, smtpd):
    from mailer.delivery.worker import worker_from_config
    from mailer.domain import subscriptions
    from mailer.domain.subscriptions import Origin
    from mailer.models import Subscriber

    # The worker below reads the clock, so the claim is made at the clock's time too.
    now = clock.now()
    _queue(app, 2, now=now)
    with app.app_context():
        worker = worker_from_config(app.config)
        prepared = _claimed_by(app, worker, now)
        leaver = db.session.scalar(select(Subscriber).where(Subscriber.email.startswith("reader0")))
        subscriptions.unsubscribe(leaver, origin=Origin(method="link"), now=now)
        db.session.commit()
        worker.send(prepared)
        worker.pool.shutdown()
    assert (worker.stats.sent, worker.stats.cancelled) == (1, 1)
    assert [m.rcpt_tos for m in smtpd.drain()] == [["reader1@example.com"]]
    assert [d.status for d in _deliveries(app)] == [DeliveryStatus.CANCELLED, DeliveryStatus.SENT]


def test_when_the_server_is_unreachable_the_rest_of_the_batch_waits_uncounted(app, smtpd):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    ALLOWED_SMTP_PORTS.add(closed_port)
    app.config["SMTP_PORT"] = closed_port
    _queue(app, 5)
    stats = send_queued(app, now=NOW)
    assert stats.sent == 0
    deliveries = _deliveries(app)
    assert [d.attempts for d in deliveries] == [1, 0, 0, 0, 0]
    assert {d.status for d in deliveries} == {DeliveryStatus.QUEUED}
    due = [d.next_attempt_at for d in deliveries]
    assert max(due) - min(due) < timedelta(seconds=1)
    assert deliveries[0].next_attempt_at > NOW

"""`mailer worker --processes N`: several worker processes under one parent send a run once to
each reader, and stop cleanly when the parent is told to."""

from __future__ import annotations

import signal
import subprocess
from collections import Counter

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import RunState
from tests.delivery.test_run_workers import MAILER
from tests.delivery.test_run_workers import _daily_run
from tests.delivery.test_run_workers import _finished_state
from tests.delivery.test_run_workers import _sent_by
from tests.delivery.test_run_workers import _tally
from tests.delivery.test_worker import _worker_env


def test_two_worker_processes_send_a_digest_run_once_to_each_reader(app, smtpd):
    readers = 240
    run_id = _daily_run(app, readers)
    # Small batches, so that both processes have some to claim.
    env = _worker_env(app, WORKER_BATCH_SIZE=20, WORKER_CHUNK_SIZE=10)
    done = subprocess.run(
        [MAILER, "worker", "--processes", "2", "--once"],
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert _sent_by(done.stdout) == readers
    messages = smtpd.drain()
    counts = Counter(r for m in messages for r in m.rcpt_tos)
    assert len(counts) == readers
    assert set(counts.values()) == {1}
    message_ids = Counter(m.message["Message-ID"] for m in messages)
    assert len(message_ids) == readers
    assert _tally(app) == {(DeliveryStatus.SENT, 1): readers}
    assert _finished_state(app, run_id) is RunState.DONE
    # Both processes took part: their leases had different owners.
    assert b"worker " in done.stderr
    assert len(set(_owners(done.stderr))) == 2


def _owners(log: bytes) -> list[bytes]:
    started = [line for line in log.splitlines() if line.endswith(b" started")]
    return [line.split(b"worker ")[1].split()[0] for line in started]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_parent_stops_every_worker_process_after_its_batch(
    app, smtpd, tmp_path, stop
):
    readers = 120
    _daily_run(app, readers)
    env = _worker_env(app, WORKER_BATCH_SIZE=20, WORKER_CHUNK_SIZE=10)
    smtpd.hold_after = 5
    log = tmp_path / "workers.log"
    with log.open("wb") as output:
        parent = subprocess.Popen(
            [MAILER, "worker", "--processes", "2"], env=env, stdout=output, stderr=output
        )
    try:
        assert smtpd.holding.wait(timeout=60), log.read_text()
        parent.send_signal(stop)
    finally:
        smtpd.hold_after = None
        smtpd.release.set()
    assert parent.wait(timeout=120) == 0, log.read_text()
    assert "Worker finished: sent " in log.read_text()
    tally = _tally(app)
    # What each process had claimed was sent and recorded; the rest waits in the queue.
    assert {status for status, _ in tally} <= {DeliveryStatus.SENT, DeliveryStatus.QUEUED}
    sent = sum(count for (status, _), count in tally.items() if status is DeliveryStatus.SENT)
    counts = Counter(r for m in smtpd.drain() for r in m.rcpt_tos)
    assert set(counts.values()) == {1}
    assert len(counts) == sent > 0
    with app.app_context():
        leased = db.session.scalar(select(func.count()).where(Delivery.lease_owner.is_not(None)))
    assert leased == 0

"""A send run against several worker processes, a killed worker and a faulty SMTP server:
every reader gets their digest, and nobody gets it twice."""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer import clock
from mailer.delivery import queue
from mailer.domain import periods
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import RunState
from mailer.models import SendRun
from mailer.models import Subscriber
from tests.delivery.test_worker import MAILER
from tests.delivery.test_worker import _worker_env
from tests.delivery.test_worker import kill_when_stalled
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import ALLOWED_SMTP_PORTS
from tests.helpers import send_queued
from tests.smtp_sink import SinkHandler
from tests.smtp_sink import SmtpServer

SETTLED = {DeliveryStatus.SENT, DeliveryStatus.FAILED}


def _daily_run(app, readers: int) -> int:
    """A daily digest run of one item for `readers` readers, made for the latest period."""
    now = clock.now()
    with app.app_context():
        add_readers(readers, follows={"funding": Frequency.DAILY}, now=now)
        schedule = periods.Schedule.from_config(app.config)
        end = schedule.latest_end(Frequency.DAILY, now)
        publish_news("Safer Streets Fund round 6", topics=("funding",), at=end - timedelta(hours=1))
        period = schedule.period_ending(Frequency.DAILY, end)
        run, created = send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=now)
        db.session.commit()
        assert created
        assert run.recipients == readers
        return run.id


def _tally(app) -> Counter[tuple[DeliveryStatus, int]]:
    """How many deliveries are in each (status, attempts)."""
    with app.app_context():
        rows = db.session.execute(
            select(Delivery.status, Delivery.attempts, func.count()).group_by(
                Delivery.status, Delivery.attempts
            )
        )
        return Counter({(status, attempts): count for status, attempts, count in rows})


def _statuses(app) -> Counter[DeliveryStatus]:
    counts: Counter[DeliveryStatus] = Counter()
    for (status, _), count in _tally(app).items():
        counts[status] += count
    return counts


def _finished_state(app, run_id: int) -> RunState:
    """Close the runs that have nothing left to send; return the state of this one."""
    with app.app_context():
        queue.finish_runs(now=clock.now())
        db.session.commit()
        run = db.session.get_one(SendRun, run_id)
        return run.state


def _sent_by(output: bytes) -> int:
    match = re.search(rb"Worker finished: sent (\d+),", output)
    assert match, output
    return int(match[1])


@pytest.mark.slow
def test_four_worker_processes_send_a_large_digest_run_once_to_each_reader(app, smtpd, request):
    # SQLite serialises every writer, so its variant is smaller.
    postgres = request.config.getoption("--db") == "postgres"
    readers = 10_000 if postgres else 2_000
    run_id = _daily_run(app, readers)
    env = _worker_env(app, WORKER_BATCH_SIZE=200 if postgres else 50)
    workers = [
        subprocess.Popen(
            [MAILER, "worker", "--once"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * 4, outputs
    sent_by = [_sent_by(out) for out, _ in outputs]
    assert sum(sent_by) == readers
    assert all(count > 0 for count in sent_by), sent_by
    counts = Counter(r for m in smtpd.drain() for r in m.rcpt_tos)
    assert len(counts) == readers
    assert set(counts.values()) == {1}
    assert _tally(app) == {(DeliveryStatus.SENT, 1): readers}
    assert _finished_state(app, run_id) is RunState.DONE


def _lease_end(app) -> datetime:
    with app.app_context():
        end = db.session.scalar(
            select(func.max(Delivery.lease_expires_at)).where(
                Delivery.status == DeliveryStatus.SENDING
            )
        )
        assert end is not None
        return end


def _emails_of(app, status: DeliveryStatus) -> set[str]:
    with app.app_context():
        return set(
            db.session.scalars(
                select(Subscriber.email)
                .join(Delivery, Delivery.subscriber_id == Subscriber.id)
                .where(Delivery.status == status)
            )
        )


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_nothing_and_resends_only_what_it_had_in_flight(
    app, smtpd, tmp_path
):
    run_id = _daily_run(app, 100)
    # The server accepts 50 messages and stalls the next, and the worker is killed there:
    # its first batch of 40 is recorded, and of its second the 10 accepted are recorded as
    # they go, every quarter second, so some or all of them may not be recorded yet.
    smtpd.hold_after = 50
    settings = {"WORKER_BATCH_SIZE": 40, "WORKER_LEASE_SECONDS": 2, "WORKER_CONCURRENCY": 4}
    kill_when_stalled(app, smtpd, tmp_path, ["worker", "--once"], **settings)
    statuses = _statuses(app)
    recorded = statuses[DeliveryStatus.SENT]
    assert 40 <= recorded <= 50
    assert statuses == {
        DeliveryStatus.SENT: recorded,
        DeliveryStatus.SENDING: 80 - recorded,
        DeliveryStatus.QUEUED: 20,
    }
    in_flight = _emails_of(app, DeliveryStatus.SENDING)

    # While its lease holds, a second worker leaves the dead one's batch alone; afterwards
    # it takes it over.
    lease_end = _lease_end(app)
    assert send_queued(app, now=lease_end - timedelta(seconds=1)).sent == 20
    assert send_queued(app, now=lease_end + timedelta(seconds=1)).sent == 80 - recorded
    assert _tally(app) == {
        (DeliveryStatus.SENT, 1): recorded + 20,
        (DeliveryStatus.SENT, 2): 80 - recorded,
    }
    assert _finished_state(app, run_id) is RunState.DONE

    counts = Counter(r for m in smtpd.drain() for r in m.rcpt_tos)
    assert len(counts) == 100
    twice = {email for email, count in counts.items() if count > 1}
    assert set(counts.values()) <= {1, 2}
    assert twice <= in_flight
    # Only the messages accepted but not yet recorded went twice.
    assert len(twice) == 50 - recorded


def _wait_for(condition, *, timeout: float = 60) -> None:
    """Poll `condition` until it holds, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.mark.slow
def test_a_worker_slowed_by_its_send_rate_is_not_overtaken_by_another_worker(app, smtpd, tmp_path):
    # A chunk of 10 at 2 messages a second takes 5 s; the lease is 2 s.
    _daily_run(app, 10)
    settings = {"WORKER_BATCH_SIZE": 10, "WORKER_LEASE_SECONDS": 2, "SEND_RATE": 2}
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        slow = subprocess.Popen(
            [MAILER, "worker", "--once", "--concurrency", "1"],
            env=_worker_env(app, **settings),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        # 6 messages in, 2.5 s have passed since the slow worker last renewed its leases.
        _wait_for(lambda: smtpd.accepted >= 6)
        send_queued(app)
        assert slow.wait(timeout=60) == 0, log.read_text()
    finally:
        if slow.poll() is None:
            slow.kill()
            slow.wait(timeout=30)
    counts = Counter(r for m in smtpd.drain() for r in m.rcpt_tos)
    assert len(counts) == 10
    assert set(counts.values()) == {1}, counts


class FlakySink(SinkHandler):
    """The sink, able to hang up without an answer on the next `drops` DATA commands."""

    def __init__(self) -> None:
        super().__init__()
        self.drops = 0

    async def handle_DATA(self, server, session, envelope):
        if self.drops > 0:
            self.drops -= 1
            server.transport.close()
            return "421 4.4.2 hung up"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(scope="module")
def flaky_server():
    server = SmtpServer(FlakySink()).start()
    ALLOWED_SMTP_PORTS.add(server.port)
    yield server
    server.stop()


@pytest.fixture
def flaky(flaky_server, app) -> FlakySink:
    """A sink that can hang up mid-message, which the app sends to."""
    flaky_server.handler.reset()
    app.config["SMTP_PORT"] = flaky_server.port
    handler = flaky_server.handler
    assert isinstance(handler, FlakySink)
    return handler


def _send_until_settled(app, *, rounds: int = 12) -> int:
    """Run workers, each after the last retry fell due, until nothing is left to send;
    return how many rounds it took."""
    now = clock.now()
    for round_ in range(1, rounds + 1):
        send_queued(app, now=now)
        with app.app_context():
            waiting = db.session.scalars(
                select(Delivery).where(
                    Delivery.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.SENDING))
                )
            ).all()
            if not waiting:
                return round_
            now = max(d.lease_expires_at or d.next_attempt_at for d in waiting)
            now += timedelta(seconds=1)
    pytest.fail(f"deliveries still waiting after {rounds} rounds")


UNKNOWN = "550 5.1.1 No such user here"
LATER = "421 4.7.0 Try again later, closing connection"
BUSY = "421 4.3.2 System not accepting messages"
HUNG_UP = "connection lost: Connection unexpectedly closed"
# How the server misbehaves, and the errors the deliveries must have recorded on the way.
FAULTS = {
    "drop": {"drops": 3, "seen": {HUNG_UP}},
    "421": {"RCPT": [LATER] * 6, "DATA": [BUSY] * 2, "seen": {LATER, BUSY}},
    "550": {"RCPT": ["250 OK", UNKNOWN, "250 OK", UNKNOWN, UNKNOWN], "seen": {UNKNOWN}},
    "all": {
        "drops": 2,
        "RCPT": [LATER, UNKNOWN, LATER, "250 OK", UNKNOWN, LATER, LATER],
        "DATA": [BUSY],
        "seen": {HUNG_UP, LATER, BUSY, UNKNOWN},
    },
}


@pytest.mark.parametrize("fault", FAULTS)
def test_after_faults_and_retries_every_delivery_is_sent_or_failed_and_none_twice(
    app, flaky, fault
):
    run_id = _daily_run(app, 40)
    script = FAULTS[fault]
    flaky.drops = script.get("drops", 0)
    for command in ("RCPT", "DATA"):
        flaky.script(command, *script.get(command, []))
    rounds = _send_until_settled(app)
    assert not any(flaky.scripts.values())
    assert flaky.drops == 0
    with app.app_context():
        errors = set(db.session.scalars(select(Delivery.last_error))) - {None}
    assert errors == script["seen"]
    assert rounds == (1 if errors == {UNKNOWN} else 2)

    statuses = _statuses(app)
    assert set(statuses) <= SETTLED
    assert sum(statuses.values()) == 40
    unknown = script.get("RCPT", []).count(UNKNOWN)
    assert statuses[DeliveryStatus.FAILED] == unknown
    with app.app_context():
        failures = db.session.scalars(
            select(Delivery.last_error).where(Delivery.status == DeliveryStatus.FAILED)
        ).all()
    assert failures == [UNKNOWN] * unknown
    assert _finished_state(app, run_id) is RunState.DONE

    counts = Counter(r for m in flaky.drain() for r in m.rcpt_tos)
    assert set(counts.values()) <= {1}
    assert set(counts) == _emails_of(app, DeliveryStatus.SENT)
    assert not set(counts) & _emails_of(app, DeliveryStatus.FAILED)

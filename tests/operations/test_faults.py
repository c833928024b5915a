"""Faults a team running the service meets, each ending with every delivery sent or failed and
none sent twice: the SMTP relay down for a while, PostgreSQL dropping the worker's and the
scheduler's connections mid-run, and a full disk under the worker's log."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mailer import jobs
from mailer.delivery.worker import worker_from_config
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from tests import TODAY
from tests.factories import queue_emails
from tests.helpers import ALLOWED_SMTP_PORTS
from tests.helpers import send_queued
from tests.smtp_sink import SinkHandler
from tests.smtp_sink import SmtpServer


class RelayAt(SmtpServer):
    """The SMTP sink on a port of our choosing, so that it can come back where it was."""

    def __init__(self, handler: SinkHandler, port: int) -> None:
        super().__init__(handler)
        self.wanted = port

    def start(self) -> RelayAt:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(
            self.loop.create_server(self._factory, "127.0.0.1", self.wanted), self.loop
        )
        self.server = future.result(timeout=10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self


def _statuses(app) -> Counter:
    with app.app_context():
        return Counter(db.session.scalars(select(Delivery.status)))


def _each_once(handler: SinkHandler, count: int) -> None:
    recipients = Counter(r for message in handler.drain() for r in message.rcpt_tos)
    assert len(recipients) == count
    assert set(recipients.values()) == {1}


def test_the_relay_down_for_a_while_then_back(app):
    handler = SinkHandler()
    relay = RelayAt(handler, 0).start()
    port = relay.port
    ALLOWED_SMTP_PORTS.add(port)
    app.config["SMTP_PORT"] = port
    relay.stop()
    with app.app_context():
        queue_emails(30, now=TODAY)

    # Down: each try uses up one attempt of one delivery; the rest wait without using theirs.
    now = TODAY
    for _ in range(3):
        stats = send_queued(app, now=now)
        assert stats.sent == 0
        assert _statuses(app) == {DeliveryStatus.QUEUED: 30}
        now += timedelta(hours=2)
    with app.app_context():
        attempts = Counter(db.session.scalars(select(Delivery.attempts)))
    assert sum(count * n for n, count in attempts.items()) <= 3

    back = RelayAt(handler, port).start()
    try:
        assert send_queued(app, now=now).sent == 30
    finally:
        back.stop()
    assert _statuses(app) == {DeliveryStatus.SENT: 30}
    _each_once(handler, 30)


def test_the_relay_backs_off_between_tries(app):
    relay = RelayAt(SinkHandler(), 0).start()
    ALLOWED_SMTP_PORTS.add(relay.port)
    app.config["SMTP_PORT"] = relay.port
    relay.stop()
    with app.app_context():
        queue_emails(1, now=TODAY)
    waits = []
    now = TODAY
    for _ in range(3):
        send_queued(app, now=now)
        with app.app_context():
            due = db.session.scalar(select(Delivery.next_attempt_at))
        waits.append(due - now)
        now = due
    assert waits == [timedelta(seconds=60), timedelta(seconds=120), timedelta(seconds=240)]


@pytest.fixture
def postgres(app):
    """Skip on SQLite; afterwards, let go of the connections the server dropped here, not in
    a later test (psycopg warns of each as it is garbage-collected)."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    yield
    with app.app_context():
        db.engine.dispose()
    gc.collect()


# Dropped connections are garbage, and psycopg says so; these tests make them on purpose.
dropped_connections = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)


def _terminate_backends(app) -> int:
    """Cut every connection to the test database, as a restart of PostgreSQL would."""
    admin = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        admin.dispose()


@dropped_connections
@pytest.mark.usefixtures("postgres")
def test_postgresql_dropping_connections_mid_run(app, smtpd):
    app.config.update(WORKER_BATCH_SIZE=20, WORKER_CHUNK_SIZE=10, WORKER_CONCURRENCY=2)
    with app.app_context():
        queue_emails(60, now=TODAY)
    # The relay stalls the 25th message: the worker is mid-batch, its database connections
    # idle in the pool, when the database drops them all.
    smtpd.hold_after = 24
    finished = []

    def work() -> None:
        finished.append(send_queued(app, now=TODAY))

    worker = threading.Thread(target=work)
    worker.start()
    try:
        assert smtpd.holding.wait(timeout=60)
        assert _terminate_backends(app) >= 1
    finally:
        smtpd.hold_after = None
        smtpd.release.set()
        worker.join(timeout=60)
    assert finished, "the worker stopped"
    # The scheduler's next job finds its connection gone too, and carries on.
    assert _terminate_backends(app) >= 0
    assert jobs.release_stale_leases(app) == 0
    # The stalled message was refused with a 451: it goes at its retry.
    send_queued(app, now=TODAY + timedelta(minutes=5))
    assert _statuses(app) == {DeliveryStatus.SENT: 60}
    _each_once(smtpd, 60)


@dropped_connections
@pytest.mark.usefixtures("postgres")
@pytest.mark.parametrize(
    ("thread", "reading"),
    [
        ("MainThread", "FROM subscribers"),  # composing the first part of the batch
        ("compose", "FROM subscribers"),  # composing the next part ahead, on its own thread
        ("MainThread", "deliveries.lease_expires_at >="),  # renewing leases before sending
    ],
    ids=["composing", "composing ahead", "renewing leases"],
)
def test_the_database_dropping_connections_while_a_batch_is_prepared(app, smtpd, thread, reading):
    """What the worker does before sending commits as a whole: cut off midway, it is done
    again on a new connection."""
    app.config.update(WORKER_BATCH_SIZE=20, WORKER_CHUNK_SIZE=10)
    with app.app_context():
        queue_emails(20, now=TODAY)
        engine = db.engine
    cuts = []

    def cut_first_read(connection, cursor, statement, *args) -> None:
        on_thread = threading.current_thread().name.startswith(thread)
        if on_thread and not cuts and reading in statement:
            cuts.append(_terminate_backends(app))

    event.listen(engine, "before_cursor_execute", cut_first_read)
    try:
        stats = send_queued(app, now=TODAY)
    finally:
        event.remove(engine, "before_cursor_execute", cut_first_read)
    assert len(cuts) == 1
    assert cuts[0] >= 1
    assert stats.sent == 20
    assert _statuses(app) == {DeliveryStatus.SENT: 20}
    _each_once(smtpd, 20)


def _stopped_by_a_failing_statement(app, matches, nth: int, before=lambda: None) -> None:
    """Queue 20 emails and run a worker (chunks of 10, one connection) until the `nth`
    statement that `matches` fails (not a dropped connection: nothing to do again), which
    stops it; `before` runs just before that statement."""
    app.config.update(WORKER_BATCH_SIZE=20, WORKER_CHUNK_SIZE=10, WORKER_CONCURRENCY=1)
    with app.app_context():
        queue_emails(20, now=TODAY)
        engine = db.engine
    seen = []

    def fail_nth(connection, cursor, statement, parameters, context, executemany):
        if matches(statement):
            seen.append(statement)
            if len(seen) == nth:
                before()
                return "SELECT * FROM no_such_table", parameters
        return statement, parameters

    event.listen(engine, "before_cursor_execute", fail_nth, retval=True)
    try:
        with pytest.raises(DBAPIError, match="no_such_table"):
            send_queued(app, now=TODAY)
    finally:
        event.remove(engine, "before_cursor_execute", fail_nth)


def _renewal(statement: str) -> bool:
    return "deliveries.lease_expires_at >=" in statement


def _recording(statement: str) -> bool:
    return statement.startswith("UPDATE deliveries SET") and "sent_at" in statement


@pytest.mark.parametrize(
    ("accepted", "failing", "nth"),
    [
        # The second chunk's renewal, while the first is on its way.
        (3, _renewal, 2),
        # The first chunk's recording, while the second is on its way.
        (15, _recording, 1),
    ],
    ids=["renewing", "recording"],
)
def test_a_database_error_mid_batch_loses_nothing_and_sends_nothing_twice(
    app, smtpd, accepted, failing, nth
):
    """Each chunk's leases are renewed while the chunk before it goes, and it is recorded
    while the chunk after it goes. A statement that fails then stops the worker, but what the
    relay accepted of every chunk is recorded first, so the takeover sends only the rest."""
    # The relay takes `accepted` messages, then holds the next until the statement is about
    # to fail; let go, it refuses that one and any more with a 451.
    smtpd.hold_after = accepted

    def let_go() -> None:
        assert smtpd.holding.wait(timeout=30)
        smtpd.release.set()

    try:
        _stopped_by_a_failing_statement(app, failing, nth, let_go)
    finally:
        smtpd.hold_after = None
    assert _statuses(app) == {DeliveryStatus.SENT: accepted, DeliveryStatus.SENDING: 20 - accepted}
    # Once the leases have run out, another worker sends the rest.
    assert send_queued(app, now=TODAY + timedelta(minutes=6)).sent == 20 - accepted
    assert _statuses(app) == {DeliveryStatus.SENT: 20}
    _each_once(smtpd, 20)


@dropped_connections
@pytest.mark.usefixtures("postgres")
def test_a_worker_running_on_carries_on_after_the_database_drops_it(app, smtpd):
    """The long-running loop: a batch that fails on a dropped connection is retried."""
    with app.app_context():
        queue_emails(10, now=TODAY)
        worker = worker_from_config(app.config, now=lambda: TODAY)
        assert worker.process_batch() == 10
        _terminate_backends(app)
        queue_emails(5, now=TODAY, domain="example.net")
        stop = threading.Event()
        batches = []
        process_batch = worker.process_batch

        def claim() -> int:
            batches.append(process_batch())
            if sum(batches) >= 5:
                stop.set()
            return batches[-1]

        worker.process_batch = claim  # type: ignore[method-assign]
        worker.run_forever(stop)
    assert _statuses(app) == {DeliveryStatus.SENT: 15}
    _each_once(smtpd, 15)


def test_a_full_disk_under_the_log_does_not_stop_sending(app, smtpd, capsys):
    app.config["WORKER_BATCH_SIZE"] = 5
    with app.app_context():
        queue_emails(12, now=TODAY)
    full = logging.FileHandler("/dev/full")
    full.setLevel(logging.DEBUG)
    mailer_log = logging.getLogger("mailer")
    level = mailer_log.level
    mailer_log.addHandler(full)
    mailer_log.setLevel(logging.INFO)
    try:
        stats = send_queued(app, now=TODAY)
    finally:
        mailer_log.removeHandler(full)
        mailer_log.setLevel(level)
        with contextlib.suppress(OSError):  # what is still buffered cannot be written either
            full.close()
    assert stats.sent == 12
    assert "No space left on device" in capsys.readouterr().err
    assert _statuses(app) == {DeliveryStatus.SENT: 12}
    _each_once(smtpd, 12)

"""Under a send-rate cap a batch takes longer than its lease: the worker keeps the leases of
the rest of its batch while it sends each chunk, so the release-stale-leases job (every
minute in production; every 0.5 s here) never takes them back, and no attempt is wasted."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer import clock
from mailer import jobs
from mailer.delivery.worker import worker_from_config
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import Frequency
from tests.factories import add_readers
from tests.factories import publish_news


@pytest.fixture
def app_settings(app_settings):
    return {
        **app_settings,
        "WORKER_LEASE_SECONDS": 4,
        "SEND_RATE": 25,
        "WORKER_BATCH_SIZE": 200,
        "WORKER_CONCURRENCY": 2,
    }


def test_the_rest_of_a_rate_capped_batch_keeps_its_lease_and_is_sent_once(app, smtpd):
    now = clock.now()
    with app.app_context():
        add_readers(200, follows={"funding": Frequency.IMMEDIATE}, now=now)
        item = publish_news("Fund", at=now - timedelta(minutes=1))
        send_runs.make_alert_run(item, actor="t", now=now)
        db.session.commit()
    stop = threading.Event()

    def scheduler():
        while not stop.wait(0.5):
            jobs.release_stale_leases(app)

    thread = threading.Thread(target=scheduler)
    thread.start()
    try:
        with app.app_context():
            worker = worker_from_config(app.config)
            worker.process_batch()  # one batch of 200 at 25/s: 8 s, lease 4 s
            worker.pool.shutdown()
    finally:
        stop.set()
        thread.join()
    with app.app_context():
        attempts = Counter(db.session.scalars(select(Delivery.status)).all())
    assert attempts["sent"] == 200, (
        f"only {attempts['sent']} of 200 sent by the batch that claimed them"
    )

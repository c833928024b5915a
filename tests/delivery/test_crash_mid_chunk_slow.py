"""A worker killed while a slow relay takes its chunk repeats only what the last moment sent:
what was accepted is recorded as it goes, not only when the chunk ends."""

import time
from collections import Counter
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from mailer.delivery import worker as worker_module
from mailer.delivery.smtp import Connection
from mailer.delivery.worker import worker_from_config
from mailer.domain import periods
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import Frequency
from tests.factories import add_readers
from tests.factories import publish_news

END = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


class Killed(BaseException):
    pass


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_crash_mid_chunk_repeats_only_the_last_moment(app, smtpd, monkeypatch, concurrency):
    with app.app_context():
        add_readers(150, follows={"funding": Frequency.DAILY}, now=END)
        publish_news("Fund", at=END - timedelta(hours=2))
        period = periods.Schedule.from_config(app.config).period_ending(Frequency.DAILY, END)
        send_runs.make_digest_run(Frequency.DAILY, period, actor="t", now=END)
        db.session.commit()
    real_send = Connection.send

    def slow(self, *a):
        time.sleep(0.02 * concurrency)  # a relay at ~50 messages a second
        return real_send(self, *a)

    monkeypatch.setattr(Connection, "send", slow)
    now = END + timedelta(minutes=1)

    def die(self, *args, **kwargs):
        raise Killed

    real_record = worker_module.Worker._record
    monkeypatch.setattr(worker_module.Worker, "_record", die)
    with app.app_context():
        w = worker_from_config(app.config, now=lambda: now, concurrency=concurrency)
        with pytest.raises(Killed):
            w.process_batch()
        w.pool.shutdown()
        db.session.rollback()
    monkeypatch.setattr(worker_module.Worker, "_record", real_record)
    later = now + timedelta(minutes=6)
    with app.app_context():
        worker_from_config(app.config, now=lambda: later).run_once()
    copies = Counter(m.rcpt_tos[0] for m in smtpd.drain())
    twice = [a for a, n in copies.items() if n > 1]
    assert len(copies) == 150
    assert len(twice) <= 20, len(twice)

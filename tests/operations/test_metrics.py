"""Prometheus figures: the web app's from the database, each worker's own, moving as mail goes
to the real SMTP sink."""

from __future__ import annotations

import threading
import urllib.request
from datetime import timedelta

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from mailer.delivery.metrics import close
from mailer.delivery.metrics import start_exporting
from mailer.delivery.worker import worker_from_config
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import BounceEvent
from mailer.models import BounceKind
from mailer.models import Frequency
from mailer.web.operations import DatabaseCollector
from tests import TODAY
from tests.factories import add_readers
from tests.factories import publish_news
from tests.factories import queue_emails
from tests.helpers import send_queued


def figures(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client, **options) -> dict:
    response = client.get("/metrics", **options)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return figures(response.get_data(as_text=True))


def _alert_run(app, readers: int) -> str:
    with app.app_context():
        add_readers(readers, follows={"funding": Frequency.IMMEDIATE}, now=TODAY)
        item = publish_news("Fund", at=TODAY - timedelta(minutes=1))
        run, _ = send_runs.make_alert_run(item, actor="t", now=TODAY)
        db.session.commit()
        return run.key


def test_queue_and_run_progress_move_as_a_run_is_sent(app, client, smtpd):
    key = _alert_run(app, 3)
    before = scrape(client)
    assert before[("mailer_queue_deliveries", (("kind", "alert"), ("state", "queued")))] == 3
    assert before[("mailer_run_recipients", (("run", key),))] == 3
    assert before[("mailer_run_deliveries", (("run", key), ("state", "queued")))] == 3

    assert send_queued(app, now=TODAY).sent == 3
    assert len(smtpd.drain()) == 3
    after = scrape(client)
    assert not any(name == "mailer_queue_deliveries" for name, _ in after)
    assert not any(name == "mailer_run_recipients" for name, _ in after)
    assert after[("mailer_expired_leases", ())] == 0


def test_bounces_of_the_last_day_are_counted_by_kind(app):
    with app.app_context():
        for kind, at in [
            (BounceKind.HARD, TODAY),
            (BounceKind.HARD, TODAY - timedelta(hours=2)),
            (BounceKind.COMPLAINT, TODAY),
            (BounceKind.SOFT, TODAY - timedelta(days=2)),
        ]:
            db.session.add(BounceEvent(kind=kind, received_at=at))
        db.session.commit()
        text = generate_latest(DatabaseCollector(now=TODAY + timedelta(hours=1))).decode()
    found = figures(text)
    assert found[("mailer_bounces_last_day", (("kind", "hard"),))] == 2
    assert found[("mailer_bounces_last_day", (("kind", "complaint"),))] == 1
    assert ("mailer_bounces_last_day", (("kind", "soft"),)) not in found


def test_metrics_are_for_loopback_only_without_a_token(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer wrong", 401), ("Basic c2VjcmV0", 401), ("Bearer s3cret-token", 200)],
)
def test_metrics_with_a_token_need_it_from_anywhere(app, client, authorization, status):
    app.config["METRICS_TOKEN"] = "s3cret-token"
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == status


def _read(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return figures(response.read().decode())


def test_a_worker_serves_its_own_counts_of_what_it_sent(app, smtpd):
    with app.app_context():
        queue_emails(2, now=TODAY)
        worker = worker_from_config(app.config, now=lambda: TODAY)
    stop = threading.Event()
    server = start_exporting(worker.stats, port=0, host="127.0.0.1", stop=stop)
    port = server.server_port
    try:
        before = _read(port)
        with app.app_context():
            worker.run_once()
        after = _read(port)
    finally:
        close(server)
    assert len(smtpd.drain()) == 2
    sent = ("mailer_worker_sent_total", ())
    batches = ("mailer_worker_batches_total", ())
    assert after[sent] - before[sent] == 2
    assert after[batches] - before[batches] == 1
    assert ("process_resident_memory_bytes", ()) in after

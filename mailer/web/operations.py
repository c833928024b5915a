"""For load balancers and monitoring: /healthz (the process answers), /readyz (the database
answers and its migrations are current) and /metrics (Prometheus figures from the database).

None of them is rate limited or cached, and their requests are kept out of the access logs.
/metrics answers a bearer token (MAILER_METRICS_TOKEN) or, with none set, loopback clients only.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import abort
from flask import current_app
from flask import request
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from mailer import clock
from mailer.domain import operations
from mailer.extensions import limiter

bp = Blueprint("operations", __name__)

PROBES = ("/healthz", "/readyz", "/metrics")
LOOPBACK = ("127.0.0.1", "::1")
BOUNCE_WINDOW = timedelta(hours=24)


def init_app(app: Flask) -> None:
    """Register the probes, free of rate limits, and keep them out of the access logs."""
    app.register_blueprint(bp)
    limiter.exempt(bp)
    for name in ("werkzeug", "gunicorn.access"):
        logging.getLogger(name).addFilter(QuietProbes())


class QuietProbes(logging.Filter):
    """Drop access-log lines of the probes: a balancer asks every few seconds."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(f"GET {path}" in message or f" {path} " in message for path in PROBES)


@bp.after_request
def _never_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up; asks nothing of the database."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, str], int]:
    """Ready when the database answers and its migrations are at the code's head."""
    reason = operations.not_ready_reason()
    if reason is not None:
        return {"status": "unavailable", "reason": reason}, 503
    return {"status": "ok"}, 200


@bp.get("/metrics")
def metrics() -> Response:
    """The queue, the runs in progress and what came back, in Prometheus' text format."""
    _authorise()
    collector = DatabaseCollector(now=clock.now())
    return Response(generate_latest(collector), mimetype=CONTENT_TYPE_LATEST)


def _authorise() -> None:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        if request.remote_addr not in LOOPBACK:
            abort(403)
        return
    credentials = request.authorization
    given = credentials.token if credentials and credentials.type == "bearer" else None
    if not given or not hmac.compare_digest(given.encode(), str(token).encode()):
        abort(401)


class DatabaseCollector(Collector):
    """Figures read from the database at each scrape, so every web process gives the same."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        now = self.now
        depth = GaugeMetricFamily(
            "mailer_queue_deliveries",
            "Deliveries waiting (queued) or being sent (sending), by kind",
            labels=["kind", "state"],
        )
        for kind, state, count in operations.queue_depth():
            depth.add_metric([kind, state], count)
        yield depth
        yield GaugeMetricFamily(
            "mailer_expired_leases",
            "Deliveries whose worker's lease ran out, waiting to be taken over",
            value=operations.expired_leases(now=now),
        )
        bounces = GaugeMetricFamily(
            "mailer_bounces_last_day",
            "Bounces, complaints and unsubscribe emails received in the last 24 hours",
            labels=["kind"],
        )
        for kind, count in operations.bounces_since(now - BOUNCE_WINDOW):
            bounces.add_metric([kind], count)
        yield bounces
        yield from _run_progress()


def _run_progress() -> Iterator[Metric]:
    recipients = GaugeMetricFamily(
        "mailer_run_recipients", "Deliveries a run in progress has", labels=["run"]
    )
    deliveries = GaugeMetricFamily(
        "mailer_run_deliveries", "Deliveries of a run in progress by state", labels=["run", "state"]
    )
    for run in operations.runs_in_progress():
        recipients.add_metric([run.key], run.recipients)
        for state, count in run.by_status.items():
            deliveries.add_metric([run.key, state], count)
    yield recipients
    yield deliveries

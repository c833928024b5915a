"""A worker's own Prometheus figures: what it sent, retried, failed and cancelled, and the
batches it claimed, served at `mailer worker --metrics-port`.

The counters follow the worker's WorkerStats. With several worker processes on one machine,
set PROMETHEUS_MULTIPROC_DIR (an empty directory, emptied at boot) for all of them: each then
writes its counts there (every second, and at each scrape) and the one given --metrics-port
serves the sum. Without it, give each worker a port of its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import fields
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from mailer.delivery.settings import WorkerStats

COUNTERS = {
    "sent": Counter("mailer_worker_sent", "Messages the SMTP relay accepted", registry=None),
    "retried": Counter(
        "mailer_worker_retried", "Deliveries put back to be tried again later", registry=None
    ),
    "failed": Counter("mailer_worker_failed", "Deliveries failed for good", registry=None),
    "cancelled": Counter(
        "mailer_worker_cancelled", "Deliveries no longer wanted when their turn came", registry=None
    ),
    "batches": Counter("mailer_worker_batches", "Batches of deliveries claimed", registry=None),
}
SYNC_SECONDS = 1.0


class StatsExporter(Collector):
    """Carries a worker's WorkerStats over into the counters; as a collector it does so just
    before each scrape and yields nothing of its own."""

    def __init__(self, stats: WorkerStats) -> None:
        self.stats = stats
        self.seen = WorkerStats()
        self.lock = threading.Lock()

    def sync(self) -> None:
        """Add to each counter what the worker did since the last sync."""
        with self.lock:
            for name in (field.name for field in fields(WorkerStats)):
                done = getattr(self.stats, name) - getattr(self.seen, name)
                if done > 0:
                    COUNTERS[name].inc(done)
                    setattr(self.seen, name, getattr(self.stats, name))

    def collect(self) -> Iterator[Metric]:
        self.sync()
        return iter(())

    def sync_until(self, stop: threading.Event) -> None:
        """Sync every second until `stop` is set (for workers that do not serve)."""
        while not stop.wait(SYNC_SECONDS):
            self.sync()
        self.sync()


def registry_for(exporter: StatsExporter) -> CollectorRegistry:
    """The figures one worker serves: its own, or all the machine's workers' in multiprocess
    mode; with the process's memory and CPU time."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(exporter)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for counter in COUNTERS.values():
            registry.register(counter)
        ProcessCollector(registry=registry)
    return registry


def start_exporting(
    stats: WorkerStats, *, port: int | None, host: str, stop: threading.Event
) -> WSGIServer | None:
    """Serve the worker's figures on `port` (0: any free one) until `stop` is set, and return
    the server; with no port but a multiprocess directory, write them there for another
    worker to serve."""
    exporter = StatsExporter(stats)
    if port is None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            threading.Thread(target=exporter.sync_until, args=(stop,), daemon=True).start()
        return None
    server, _ = start_http_server(port, addr=host, registry=registry_for(exporter))
    threading.Thread(target=_close_on, args=(stop, server), daemon=True).start()
    return server


def _close_on(stop: threading.Event, server: WSGIServer) -> None:
    stop.wait()
    close(server)


def close(server: WSGIServer) -> None:
    """Stop serving and free the port."""
    server.shutdown()
    server.server_close()

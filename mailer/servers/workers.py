"""Several worker processes under one parent (`mailer worker --processes N`), so that composing
and DKIM signing, which hold Python's interpreter lock, use every core.

The children are forked from the parent, each with database connections and an SMTP pool of
its own (the parent closes its connections before forking, and each child drops any it
inherited). They share nothing but the database: the queue's leases already keep several
workers on several machines from sending a delivery twice. SIGTERM or SIGINT to the parent is
passed on to the children, which finish the chunk they are sending, record it and exit; the
parent waits for them.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
import sys
import threading
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import fields
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from types import FrameType

from flask import Flask

from mailer.delivery.settings import WorkerStats
from mailer.delivery.worker import worker_from_config
from mailer.extensions import db

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_workers(
    app: Flask, *, processes: int, once: bool, concurrency: int | None = None
) -> tuple[WorkerStats, bool]:
    """Run `processes` workers until stopped (or, `once`, until none has anything due);
    return their stats added up, and True when every child exited cleanly."""
    context = multiprocessing.get_context("fork")
    results: Queue[WorkerStats] = context.Queue()
    with app.app_context():
        # No connection may be shared across a fork.
        db.session.remove()
        db.engine.dispose()
    children = [
        context.Process(
            target=_child,
            args=(app, once, concurrency, results),
            name=f"mailer-worker-{number + 1}",
        )
        for number in range(processes)
    ]
    with _passed_on(children):
        for child in children:
            child.start()
        reported = _collect(results, children)
    total = WorkerStats()
    for stats in reported:
        for name in (item.name for item in fields(WorkerStats)):
            setattr(total, name, getattr(total, name) + getattr(stats, name))
    clean = all(child.exitcode == 0 for child in children)
    return total, clean


def _collect(results: Queue[WorkerStats], children: Sequence[BaseProcess]) -> list[WorkerStats]:
    """The stats each child sends just before it exits, read while they run (so that none
    blocks on a full pipe), until all have exited; a child that was killed sends none."""
    reported = []
    while any(child.is_alive() for child in children):
        try:
            reported.append(results.get(timeout=0.2))
        except queue.Empty:
            pass
    for child in children:
        child.join()
    while True:
        try:
            reported.append(results.get(timeout=0.1))
        except queue.Empty:
            return reported


def _child(app: Flask, once: bool, concurrency: int | None, results: Queue[WorkerStats]) -> None:
    """One worker process: its own engine and SMTP pool; stops on SIGTERM or SIGINT."""
    stop = threading.Event()
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda signum, frame: stop.set())
    stats = WorkerStats()
    try:
        with app.app_context():
            # Forget (without closing) the connections the parent's pool held.
            db.engine.dispose(close=False)
            sender = worker_from_config(app.config, concurrency=concurrency)
            logger.info("worker %s started", sender.owner)
            if once:
                stats = sender.run_once(stop)
            else:
                sender.run_forever(stop)
                stats = sender.stats
            db.session.remove()
            db.engine.dispose()
    finally:
        results.put(stats)
        results.close()
        results.join_thread()
    sys.exit(0)


@contextmanager
def _passed_on(children: Sequence[BaseProcess]) -> Iterator[None]:
    """While the block runs, pass SIGTERM and SIGINT on to the children that are running."""

    def handler(signum: int, frame: FrameType | None) -> None:
        for child in children:
            if child.pid is not None and child.exitcode is None:
                child.terminate()

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)

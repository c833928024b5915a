"""Bench: one daily digest to N subscribers, end to end, against the ceilings of a send.

Makes N subscribers (1-4 random topics each, a random frequency per topic) and M news items
published during the last daily period, in a child process. Then, in this process, makes the
digest run and enqueues it (timed: enqueue_s), and runs the worker with its configured
concurrency until nothing is due (timed: send_s), into an SMTP sink on loopback that only
counts, in a process of its own. It checks that the sink counted exactly the deliveries
recorded as sent, then sends as many copies of one real message over as many connections to
the same sink, with nothing to read or compose: by plain smtplib (the ceiling; sendmail's four
round trips a message) and by the worker's own SMTP connection (the same two round trips as
the worker, where the sink offers PIPELINING). The last line is

    RESULT subscribers=N items=M enqueue_s=... send_s=... msgs_per_s=...
        ceiling_msgs_per_s=... ratio=... own_smtp_msgs_per_s=... ratio_to_own_smtp=...
        peak_rss_mb=... processes=P renew_ms_per_chunk=... record_ms_per_chunk=...

(on one line), where ratio_to_own_smtp is what the database and composing leave of the
worker's own sending, peak_rss_mb is this process's peak resident memory (it runs enqueue and
send only; with --processes, the largest worker process's), and the last two the mean time of
renewing one chunk's leases and of recording its outcomes (flat from 100,000 to 1,000,000
subscribers when they are O(chunk); one process only).
Run `make bench`, or `.venv/bin/python bench/fanout.py --help`.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from ceiling import Message
from ceiling import send_own
from ceiling import send_plain
from dataset import Generated
from dataset import bench_app
from dataset import database_url
from dataset import generate
from flask import Flask
from probes import ChildrenPeak
from probes import Phases
from probes import Progress
from probes import Sampler
from probes import profiled
from sinks import KINDS
from sinks import Sink
from sinks import open_sink
from sinks import settled_count
from sqlalchemy import func
from sqlalchemy import select

from mailer import clock
from mailer.clock import Period
from mailer.database import read_only
from mailer.delivery.messages import MailSettings
from mailer.delivery.preparing import Prepared
from mailer.delivery.preparing import Preparer
from mailer.delivery.settings import WorkerSettings
from mailer.delivery.settings import WorkerStats
from mailer.delivery.smtp import SmtpSettings
from mailer.delivery.worker import Worker
from mailer.delivery.worker import worker_from_config
from mailer.domain.periods import Schedule
from mailer.domain.send_runs import make_digest_run
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import SendRun
from mailer.servers.workers import run_workers


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000, metavar="N")
    parser.add_argument("--items", type=int, default=9, metavar="M")
    parser.add_argument(
        "--database-url",
        help="default: a new SQLite file in a temporary directory; a PostgreSQL URL names the "
        "server, on which a private database bench_fanout_<pid> is made and dropped",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        help="SMTP connections of the worker (default: the app's, MAILER_WORKER_CONCURRENCY)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="P",
        help="worker processes (`mailer worker --processes P`); above 1 the ceiling is P "
        "processes of plain smtplib too, and the phases of the worker's loop are not timed",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--welsh",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="the share of subscribers (0 to 1) who read their emails in Welsh (default 0)",
    )
    parser.add_argument(
        "--ceiling-runs",
        type=int,
        default=3,
        metavar="R",
        help="times the ceiling is measured; the best counts (threads make it noisy)",
    )
    parser.add_argument(
        "--sink", choices=KINDS, default="auto", help="auto: smtp-sink if unpacked, else aiosmtpd"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="record the send phase with py-spy into FILE (collapsed stacks; the figures of "
        "a profiled run are slowed by the sampling); summarise it with bench/hotspots.py",
    )
    parser.add_argument(
        "--profile-gil", action="store_true", help="sample only the thread holding the GIL"
    )
    return parser.parse_args(argv)


def last_daily_period(app: Flask) -> Period:
    """The daily digest period that ended last, by the app's schedule."""
    schedule = Schedule.from_config(app.config)
    end = schedule.latest_end(Frequency.DAILY, clock.now())
    return schedule.period_ending(Frequency.DAILY, end)


def generate_in_child(
    url: str, args: argparse.Namespace, period: Period, workdir: Path
) -> Generated:
    """Fill the database from a child process, so this one's memory is the send path's."""
    print(
        f"generating {args.subscribers:,} subscribers and {args.items} items "
        f"(seed {args.seed}) in a child process",
        flush=True,
    )
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        made: Generated = pool.apply(
            generate,
            (url,),
            {
                "subscribers": args.subscribers,
                "items": args.items,
                "period": period,
                "seed": args.seed,
                "outbox_dir": str(workdir / "outbox"),
                "welsh": getattr(args, "welsh", 0.0),
            },
        )
    print(
        f"generated {made.subscribers:,} subscribers, {made.subscriptions:,} subscriptions, "
        f"{made.items} items in {made.seconds:.1f} s (child peak RSS {made.peak_rss_mb:.0f} MB)"
    )
    return made


@dataclass
class Outcome:
    """What the digest's enqueue and send did."""

    recipients: int
    enqueue_s: float
    send_s: float
    stats: WorkerStats
    concurrency: int
    sampler: Sampler
    peak_rss_mb: float
    verified: bool
    phases: Phases | None


def enqueue_digest(period: Period) -> tuple[int, int, float]:
    """Make the daily digest run of `period` and enqueue it; return (run id, recipients,
    seconds)."""
    started = time.perf_counter()
    run, created = make_digest_run(Frequency.DAILY, period, actor="bench", now=clock.now())
    run_id, recipients = run.id, run.recipients
    db.session.commit()
    seconds = time.perf_counter() - started
    if not created:
        raise SystemExit("the digest run existed already: the database is not the bench's own")
    return run_id, recipients, seconds


def send_all(worker: Worker, sink: Sink) -> tuple[WorkerStats, float, Phases]:
    """Run the worker until nothing is due; return its stats, the seconds it took and the
    time of each step of its loop."""
    progress = Progress(sink, sink.count())
    phases = Phases(worker)
    progress.start()
    started = time.perf_counter()
    try:
        stats = worker.run_once()
    finally:
        seconds = time.perf_counter() - started
        progress.stopped.set()
        progress.join()
        phases.restore()
    print(f"send phases: {phases.report(seconds)}")
    return stats, seconds, phases


def verify(run_id: int, stats: WorkerStats, counted: int) -> bool:
    """Check that the sink counted exactly what was recorded as sent, and the run is done."""
    recorded = db.session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.run_id == run_id, Delivery.status == DeliveryStatus.SENT)
    )
    state = db.session.scalars(select(SendRun.state).where(SendRun.id == run_id)).one()
    ok = counted == recorded == stats.sent and state.value == "done"
    print(
        f"verify: sink counted {counted:,}, deliveries recorded sent {recorded:,}, worker "
        f"says sent {stats.sent:,}, run {state.value}: {'ok' if ok else 'MISMATCH'}"
    )
    return ok


def run_digest(app: Flask, period: Period, args: argparse.Namespace, sink: Sink) -> Outcome:
    """Enqueue and send the daily digest of `period` through the app's own code."""
    print(f"bench process RSS before enqueue: {_rss_mb():.0f} MB")
    run_id, recipients, enqueue_s = enqueue_digest(period)
    print(f"enqueue: {recipients:,} deliveries in {enqueue_s:.2f} s")
    if args.processes > 1:
        return run_in_processes(app, args, sink, (run_id, recipients, enqueue_s))
    worker = worker_from_config(app.config, concurrency=args.concurrency)
    sampler = Sampler(worker.pool.start, random.Random(args.seed))
    worker.pool.start = sampler  # type: ignore[method-assign]
    concurrency = worker.pool.size
    print(
        f"send: worker with {concurrency} SMTP connections, batches of "
        f"{worker.settings.batch_size}, into {sink.kind} on port {sink.port}",
        flush=True,
    )
    before = sink.count()
    with profiled(args.profile, gil=args.profile_gil):
        stats, send_s, phases = send_all(worker, sink)
    peak = _rss_mb()
    print(f"bench process RSS after send: {_current_rss_mb():.0f} MB now, {peak:.0f} MB at peak")
    # The worker keeps each distinct laid-out message; how many it made is worth seeing.
    prototypes = worker.preparer.rendered
    print(
        f"send: {stats} in {send_s:.2f} s, {stats.batches} batches, {prototypes} distinct "
        f"messages rendered, mean message {sampler.mean_size:,.0f} bytes"
    )
    ok = verify(run_id, stats, settled_count(sink) - before)
    return Outcome(recipients, enqueue_s, send_s, stats, concurrency, sampler, peak, ok, phases)


def run_in_processes(
    app: Flask, args: argparse.Namespace, sink: Sink, enqueued: tuple[int, int, float]
) -> Outcome:
    """Send the enqueued run with `mailer worker --processes P --once`'s code; the messages
    the ceiling copies are a sample composed here first (nothing is sent or written)."""
    run_id, recipients, enqueue_s = enqueued
    sampler = sample_composed(app, run_id, random.Random(args.seed))
    settings = WorkerSettings.from_config(app.config, concurrency=args.concurrency)
    print(
        f"send: {args.processes} worker processes with {settings.concurrency} SMTP connections "
        f"each, batches of {settings.batch_size}, into {sink.kind} on port {sink.port}",
        flush=True,
    )
    db.session.remove()
    db.engine.dispose()
    progress = Progress(sink, sink.count())
    peaks = ChildrenPeak()
    progress.start()
    peaks.start()
    started = time.perf_counter()
    try:
        stats, clean = run_workers(
            app, processes=args.processes, once=True, concurrency=args.concurrency
        )
    finally:
        send_s = time.perf_counter() - started
        progress.stopped.set()
        peaks.stopped.set()
        progress.join()
        peaks.join()
    print(
        f"send: {stats} in {send_s:.2f} s over {args.processes} processes "
        f"(exited cleanly: {'yes' if clean else 'no'}), peak RSS of the largest "
        f"{peaks.peak_mb:.0f} MB, mean message {sampler.mean_size:,.0f} bytes"
    )
    ok = clean and verify(run_id, stats, settled_count(sink) - progress.base)
    total = settings.concurrency * args.processes
    return Outcome(recipients, enqueue_s, send_s, stats, total, sampler, peaks.peak_mb, ok, None)


def sample_composed(app: Flask, run_id: int, rng: random.Random, count: int = 64) -> Sampler:
    """Compose `count` of the run's deliveries, chosen at random, without sending them."""
    ids = list(db.session.scalars(select(Delivery.id).where(Delivery.run_id == run_id)))
    chosen = sorted(rng.sample(ids, min(count, len(ids))))
    preparer = Preparer(
        mail=MailSettings.from_config(app.config), max_attempts=1, now=clock.now, signer=None
    )
    with read_only():
        composed = [done for done in preparer.prepare(chosen) if isinstance(done, Prepared)]
    sampler = Sampler(lambda *args, **kwargs: None, rng)
    sampler(composed, lambda prepared: prepared.outgoing)
    return sampler


def measure_ceiling(
    outcome: Outcome, sink: Sink, runs: int, processes: int, own: SmtpSettings | None = None
) -> float:
    """Send as many copies of one real message over as many connections (shared by as many
    processes), `runs` times; return the best rate. Plain smtplib, or with `own` the worker's
    own SMTP connection with those settings."""
    message = outcome.sampler.typical()
    count = outcome.stats.sent
    way = "plain smtplib" if own is None else "the worker's own SMTP"
    rates = []
    for _ in range(max(1, runs)):
        before = sink.count()
        seconds = send_in(
            processes,
            message,
            count=count,
            connections=outcome.concurrency,
            port=sink.port,
            own=own,
        )
        counted = settled_count(sink) - before
        if counted != count:
            raise SystemExit(f"ceiling: the sink counted {counted:,}, not {count:,}")
        rates.append(count / seconds)
        print(
            f"ceiling: {count:,} copies of one {len(message.data):,}-byte message over "
            f"{outcome.concurrency} connections of {way} in {seconds:.2f} s = "
            f"{rates[-1]:,.0f} msgs/s (sink counted {counted:,})",
            flush=True,
        )
    return max(rates)


def send_in(
    processes: int,
    message: Message,
    *,
    count: int,
    connections: int,
    port: int,
    own: SmtpSettings | None,
) -> float:
    """Send from `processes` processes at once, sharing `count` and `connections`; return the
    seconds from the first start to the last end."""
    if processes <= 1:
        return _send_share(message, count, connections, port, own)
    shares = [(count // processes + (n < count % processes)) for n in range(processes)]
    each = max(1, connections // processes)
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        started = time.perf_counter()
        pool.starmap(
            _send_share, [(message, share, each, port, own) for share in shares], chunksize=1
        )
        return time.perf_counter() - started


def _send_share(
    message: Message, count: int, connections: int, port: int, own: SmtpSettings | None
) -> float:
    if own is not None:
        return send_own(message, count=count, connections=connections, settings=own)
    return send_plain(message, count=count, connections=connections, host="127.0.0.1", port=port)


def _chunk_figures(phases: Phases | None) -> str:
    """The mean time of renewing and of recording one chunk, when the loop was timed."""
    if phases is None:
        return ""
    return (
        f" renew_ms_per_chunk={phases.ms_per_call('renew leases'):.1f}"
        f" record_ms_per_chunk={phases.ms_per_call('record'):.1f}"
    )


def _rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def describe_code() -> str:
    """The commit measured, and a hash of mailer/ as it is on disk (it may have changes)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted((root / "mailer").rglob("*.py")):
        digest.update(path.read_bytes())
    git = shutil.which("git")
    commit = "unknown commit"
    if git:
        found = subprocess.run(  # noqa: S603
            [git, "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        commit = found.stdout.strip() or commit
    return f"{commit}, mailer/ content {digest.hexdigest()[:12]}"


def _current_rss_mb() -> float:
    """This process's resident memory now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; print the figures and the RESULT line."""
    args = parse_args(argv)
    print(f"code: {describe_code()}")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-fanout-")))
        url = database_url(stack, args.database_url, workdir, "bench_fanout_")
        sink = stack.enter_context(open_sink(args.sink, workdir))
        print(f"sink: {sink.kind} on 127.0.0.1:{sink.port}")
        app = bench_app(url, SMTP_PORT=sink.port, OUTBOX_DIR=str(workdir / "outbox"))
        period = last_daily_period(app)
        print(f"period: {period.start:%Y-%m-%d %H:%M} to {period.end:%Y-%m-%d %H:%M} UTC")
        generate_in_child(url, args, period, workdir)
        with app.app_context():
            outcome = run_digest(app, period, args, sink)
            db.session.remove()
            db.engine.dispose()
        if not outcome.stats.sent:
            raise SystemExit("nothing was sent: no subscriber matched the items")
        ceiling = measure_ceiling(outcome, sink, args.ceiling_runs, args.processes)
        smtp = SmtpSettings.from_config(app.config)
        own = measure_ceiling(outcome, sink, args.ceiling_runs, args.processes, own=smtp)
    rate = outcome.stats.sent / outcome.send_s
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(
        f"RESULT subscribers={args.subscribers} items={args.items} "
        f"enqueue_s={outcome.enqueue_s:.2f} send_s={outcome.send_s:.2f} "
        f"msgs_per_s={rate:.0f} ceiling_msgs_per_s={ceiling:.0f} ratio={rate / ceiling:.2f} "
        f"own_smtp_msgs_per_s={own:.0f} ratio_to_own_smtp={rate / own:.2f} "
        f"peak_rss_mb={outcome.peak_rss_mb:.0f} "
        f"processes={args.processes}{_chunk_figures(outcome.phases)}"
    )
    return 0 if outcome.verified else 1


if __name__ == "__main__":
    sys.exit(main())

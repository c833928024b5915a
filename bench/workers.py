"""Bench: one daily digest sent by 1, 2, 4 worker processes on one database, each delivery
exactly once; with --dkim, signed (RSA-2048 and Ed25519) against the machine's signing limit.

Fills a database of its own once (as fanout.py does, in a child process), then for each number
of processes: empties the queue, makes and enqueues the digest run, and runs
`mailer worker --processes N --once`'s code (mailer.servers.workers) into the aiosmtpd
counter, which counts messages, distinct recipients and repeats (a message to a recipient
already seen: a delivery sent twice). It checks that the sink counted exactly the deliveries
recorded sent, one per recipient, none twice, and prints one line per round; with --dkim also
the Signer's messages per second on one core (bench/dkim_sign.py's measure, on a copy of the
same size) times the cores, and the ratio to it. Ends with one line

    RESULT workers=1,2,4 msgs_per_s=...,...,... exactly_once=yes worker_cpu_share=...,...,...
        [sign_limit=... ratio=...]

where worker_cpu_share is the share of the machine's cores the worker processes used (each
round also prints what the sink and the database server took).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from dataset import bench_app
from dataset import database_url
from dkim_sign import digest_copy
from dkim_sign import per_second
from fanout import enqueue_digest
from fanout import generate_in_child
from fanout import last_daily_period
from flask import Flask
from probes import children_cpu_s
from probes import machine_busy_s
from probes import process_cpu_s
from sinks import CounterSink
from sinks import SmtpSink
from sinks import settled_count
from sinks import smtp_sink_binary
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from mailer.delivery.dkim import Signer
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import SendRun
from mailer.servers.workers import run_workers


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--subscribers", type=int, default=50_000, metavar="N")
    parser.add_argument("--items", type=int, default=9, metavar="M")
    parser.add_argument(
        "--database-url",
        help="default: a new SQLite file; a PostgreSQL URL names the server, on which a "
        "private database bench_workers_<pid> is made and dropped",
    )
    parser.add_argument("--workers", default="1,2,4", help="numbers of processes, in turn")
    parser.add_argument("--concurrency", type=int, help="SMTP connections per process")
    parser.add_argument("--dkim", action="store_true", help="sign with RSA-2048 and Ed25519")
    parser.add_argument(
        "--sink",
        choices=("counter", "smtp-sink"),
        default="counter",
        help="counter: the aiosmtpd counter, which also counts distinct recipients and repeats "
        "(Python: it takes a share of the cores); smtp-sink: Postfix's, in C, which counts "
        "messages only, so 'exactly once' is the sink's count against the deliveries recorded",
    )
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def dkim_settings(workdir: Path) -> dict[str, str]:
    """Make an RSA-2048 and an Ed25519 key; the settings that sign with both."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.asymmetric import rsa

    keys = {
        "rsa.pem": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ed.pem": ed25519.Ed25519PrivateKey.generate(),
    }
    for name, key in keys.items():
        (workdir / name).write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return {
        "DKIM_KEY_FILE": str(workdir / "rsa.pem"),
        "DKIM_SELECTOR": "rsa",
        "DKIM_ED25519_KEY_FILE": str(workdir / "ed.pem"),
        "DKIM_ED25519_SELECTOR": "ed",
    }


def sign_limit(app: Flask) -> float:
    """The Signer's messages per second on one core, on a 9,000-byte digest copy, times the
    cores: what signing every message allows at best."""
    signer = Signer.from_config(app.config)
    if signer is None:
        raise SystemExit("no DKIM key configured")
    message = digest_copy(9000)
    rate = per_second(lambda: signer.sign(message), 2.0, 3)
    cores = os.cpu_count() or 1
    print(f"signing: {rate:,.0f} msgs/s on one core x {cores} cores = {rate * cores:,.0f}")
    return rate * cores


def one_round(app: Flask, processes: int, args: argparse.Namespace) -> tuple[float, bool, float]:
    """Enqueue the digest afresh and send it with `processes` workers; (msgs/s, exactly once,
    the share of the machine's cores the worker processes used)."""
    with app.app_context():
        db.session.execute(delete(Delivery))
        db.session.execute(delete(SendRun))
        db.session.commit()
        run_id, recipients, _ = enqueue_digest(last_daily_period(app))
        db.session.remove()
    sink = CounterSink() if args.sink == "counter" else MessageCounter(args.workdir)
    app.config["SMTP_PORT"] = sink.port
    try:
        busy, children, sink_before = machine_busy_s(), children_cpu_s(), process_cpu_s(sink.pid)
        started = time.perf_counter()
        stats, clean = run_workers(
            app, processes=processes, once=True, concurrency=args.concurrency
        )
        seconds = time.perf_counter() - started
        settled_count(sink)
        cpu = CpuShares(
            cores=os.cpu_count() or 1,
            seconds=seconds,
            busy=machine_busy_s() - busy,
            workers=children_cpu_s() - children,
            sink=process_cpu_s(sink.pid) - sink_before,
        )
        counts = sink.counts()
    finally:
        sink.close()
    with app.app_context():
        recorded = db.session.scalar(
            select(func.count()).where(
                Delivery.run_id == run_id, Delivery.status == DeliveryStatus.SENT
            )
        )
        db.session.remove()
    once = clean and counts["mesg"] == recorded == recipients == stats.sent
    counted = f"{counts['mesg']:,} messages"
    if "rcpt" in counts:
        once = once and counts["rcpt"] == counts["mesg"] and counts["repeats"] == 0
        counted += f" to {counts['rcpt']:,} recipients, {counts['repeats']} repeated"
    rate = stats.sent / seconds
    print(
        f"workers={processes}: {stats} in {seconds:.2f} s = {rate:,.0f} msgs/s; sink counted "
        f"{counted}; {recorded:,} of {recipients:,} recorded sent: "
        f"{'exactly once' if once else 'MISMATCH'}; load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    print(f"  {cpu}", flush=True)
    return rate, once, cpu.workers / (cpu.cores * cpu.seconds)


class MessageCounter:
    """Postfix's smtp-sink in a round of its own, with the counter's interface: it counts
    messages only."""

    def __init__(self, workdir: Path) -> None:
        binary = smtp_sink_binary()
        if binary is None:
            raise SystemExit("no smtp-sink: run bench/fetch_smtp_sink.sh (or make bench)")
        self.sink = SmtpSink(binary, workdir)
        self.port, self.pid = self.sink.port, self.sink.process.pid

    def counts(self) -> dict[str, int]:
        return {"mesg": self.sink.count()}

    def count(self) -> int:
        return self.sink.count()

    def close(self) -> None:
        self.sink.close()


@dataclass(frozen=True)
class CpuShares:
    """Where the cores' time went during one round."""

    cores: int
    seconds: float
    busy: float
    workers: float
    sink: float

    def __str__(self) -> str:
        available = self.cores * self.seconds
        rest = self.busy - self.workers - self.sink
        return (
            f"CPU seconds of the {self.cores} cores' {available:.1f}: worker processes "
            f"{self.workers:.1f} ({self.workers / available:.0%}), SMTP sink {self.sink:.1f} "
            f"({self.sink / available:.0%}), database server and the rest {rest:.1f} "
            f"({rest / available:.0%}), idle {available - self.busy:.1f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; print the figures and the RESULT line."""
    args = parse_args(argv)
    rounds = [int(n) for n in args.workers.split(",")]
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-workers-")))
        args.workdir = workdir
        url = database_url(stack, args.database_url, workdir, "bench_workers_")
        settings = dkim_settings(workdir) if args.dkim else {}
        app = bench_app(url, OUTBOX_DIR=str(workdir / "outbox"), **settings)
        generate_in_child(url, args, last_daily_period(app), workdir)
        limit = sign_limit(app) if args.dkim else 0.0
        results = [one_round(app, processes, args) for processes in rounds]
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    ok = all(once for _, once, _ in results)
    line = (
        f"RESULT workers={args.workers} msgs_per_s={','.join(f'{r:.0f}' for r, _, _ in results)} "
        f"exactly_once={'yes' if ok else 'no'} "
        f"worker_cpu_share={','.join(f'{share:.2f}' for _, _, share in results)}"
    )
    if args.dkim:
        ratios = ",".join(f"{rate / limit:.2f}" for rate, _, _ in results)
        line += f" dkim=rsa2048+ed25519 sign_limit={limit:.0f} ratio={ratios}"
    print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

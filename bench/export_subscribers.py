"""Bench: the subscriber CSV export of N subscribers, to /dev/null, with its peak memory.

Fills a fresh database with N active subscribers (1-4 random topics each, a random frequency
per topic, and a confirmation consent event each) in a child process, then, in this process,
writes the export of all of them through the code the page and the command use
(`csv_chunks(export_rows(Filters()))`) to /dev/null. The last line is

    RESULT subscribers=N export_s=... rows_per_s=... peak_rss_mb=...

where peak_rss_mb is this process's peak resident memory (it runs the export only). Run it at
two sizes to see that memory does not grow with N:

    .venv/bin/python bench/export_subscribers.py --subscribers 100000
    .venv/bin/python bench/export_subscribers.py --subscribers 400000
    .venv/bin/python bench/export_subscribers.py --postgres postgresql://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from dataset import bench_app
from dataset import database_url
from dataset import generate
from sqlalchemy import Table
from sqlalchemy import insert

from mailer import clock
from mailer.clock import Period
from mailer.domain.subscriber_admin import Filters
from mailer.domain.subscriber_export import csv_chunks
from mailer.domain.subscriber_export import export_rows
from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import ConsentEvent

CHUNK = 10_000


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--subscribers", type=int, default=200_000, metavar="N")
    parser.add_argument(
        "--postgres",
        "--database-url",
        dest="database_url",
        metavar="URL",
        help="default: a new SQLite file in a temporary directory; a PostgreSQL URL names the "
        "server, on which a private database bench_export_<pid> is made and dropped",
    )
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def fill(url: str, count: int, seed: int, outbox_dir: str) -> float:
    """Make `count` subscribers with their topics and a confirmation each; return the seconds
    it took (meant to run in a child process)."""
    started = time.perf_counter()
    now = clock.now()
    generate(
        url,
        subscribers=count,
        items=0,
        period=Period(now - timedelta(days=1), now),
        seed=seed,
        outbox_dir=outbox_dir,
    )
    logging.disable(logging.INFO)
    app = bench_app(url, OUTBOX_DIR=outbox_dir)
    with app.app_context():
        add_confirmations(count, at=now - timedelta(days=1))
        db.session.remove()
        db.engine.dispose()
    return time.perf_counter() - started


def add_confirmations(count: int, *, at: datetime) -> None:
    """One CONFIRMED consent event for each of subscribers 1..count, CHUNK at a time."""
    table: Table = ConsentEvent.__table__  # type: ignore[assignment]
    rng = random.Random(count)
    for start in range(1, count + 1, CHUNK):
        rows = [
            {
                "subscriber_id": subscriber_id,
                "action": ConsentAction.CONFIRMED,
                "at": at,
                "ip": f"192.0.2.{rng.randint(1, 254)}",
                "user_agent": "Mozilla/5.0 (bench)",
                "wording_version": "2026-01",
                "detail": {"method": "link"},
            }
            for subscriber_id in range(start, min(count, start + CHUNK - 1) + 1)
        ]
        db.session.connection().execute(insert(table), rows)
        db.session.commit()
    print(f"  consent events made: {count:,}", flush=True)


def fill_in_child(url: str, args: argparse.Namespace, workdir: Path) -> None:
    """Fill the database from a child process, so this one's memory is the export's."""
    print(f"generating {args.subscribers:,} subscribers in a child process", flush=True)
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        seconds = pool.apply(fill, (url, args.subscribers, args.seed, str(workdir / "outbox")))
    print(f"generated in {seconds:.1f} s")


def export_to_devnull() -> tuple[int, float]:
    """Write the export of every subscriber to /dev/null; return (rows, seconds)."""
    rows = 0

    def counted() -> Iterator[list[str]]:
        nonlocal rows
        for row in export_rows(Filters()):
            rows += 1
            yield row

    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        for chunk in csv_chunks(counted()):
            sink.write(chunk.encode("utf-8"))
    db.session.rollback()
    return rows, time.perf_counter() - started


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; print the figures and the RESULT line."""
    args = parse_args(argv)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-export-")))
        url = database_url(stack, args.database_url, workdir, "bench_export_", "--postgres")
        fill_in_child(url, args, workdir)
        app = bench_app(url, OUTBOX_DIR=str(workdir / "outbox"))
        with app.app_context():
            before = _peak_rss_mb()
            print(f"bench process peak RSS before the export: {before:.0f} MB", flush=True)
            rows, seconds = export_to_devnull()
            db.session.remove()
            db.engine.dispose()
    peak = _peak_rss_mb()
    print(
        f"export: {rows:,} rows in {seconds:.2f} s; peak RSS {peak:.0f} MB (+{peak - before:.0f})"
    )
    if rows != args.subscribers:
        raise SystemExit(f"the export had {rows:,} rows, not {args.subscribers:,}")
    print(
        f"RESULT subscribers={args.subscribers} export_s={seconds:.2f} "
        f"rows_per_s={rows / seconds:.0f} peak_rss_mb={peak:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

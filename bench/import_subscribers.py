"""Bench: the dry run and the apply of a subscriber import of N rows, on a fresh database.

Builds a CSV file of N rows as staff would bring it (1-3 topics each, a random frequency,
two rows in three with a consent source and date, about 1 % duplicates and 1 % invalid
addresses), makes its own database (a new SQLite file, or with --postgres a private
PostgreSQL database bench_import_<pid>, dropped at the end), migrates it and seeds the topics.
Then it times `check_import` (check_s, the dry run, read-only) and `apply_import` (apply_s:
every row checked read-only, then written a chunk per transaction), checks that the database
holds exactly what the report says, and prints

    RESULT rows=N check_s=... apply_s=... total_s=... longest_write_s=... write_transactions=...
        peak_rss_mb=...

on one line, where longest_write_s is the longest write transaction of the apply (on SQLite,
the longest that any other writer could have had to wait for the lock), write_transactions
how many it made, and peak_rss_mb this process's peak resident memory. Run
`.venv/bin/python bench/import_subscribers.py --help`.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import tempfile
import time
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import ExitStack
from contextlib import contextmanager
from pathlib import Path

from dataset import bench_app
from dataset import database_url
from flask_migrate import upgrade
from sqlalchemy import Connection
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select

from mailer import clock
from mailer.database import READ_ONLY
from mailer.database import read_only
from mailer.domain.imports import Report
from mailer.domain.imports import apply_import
from mailer.domain.imports import check_import
from mailer.domain.topics import DEMO_TOPICS
from mailer.domain.topics import seed_topics
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import Subscriber
from mailer.models import SubscriberStatus

FREQUENCIES = ("immediate", "daily", "weekly", "")
SOURCES = ("paper form, CSP conference 2025", "sign-up sheet, regional workshop", "email reply")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, metavar="N")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="a PostgreSQL server URL, on which a private database bench_import_<pid> is made "
        "and dropped (default: a new SQLite file in a temporary directory)",
    )
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def build_csv(rows: int, seed: int) -> bytes:
    """A list of `rows` subscribers as a spreadsheet saves it (UTF-8, CRLF)."""
    chosen = random.Random(seed)
    slugs = [slug for slug, _, _ in DEMO_TOPICS]
    out = io.StringIO()
    out.write("email,topics,frequency,consent_source,consent_date\r\n")
    for n in range(rows):
        roll = chosen.random()
        email = f"reader{n}@example.org"
        if roll < 0.01:
            email = f"reader{n}.example.org"
        elif roll < 0.02:
            email = f"Reader{chosen.randrange(max(n, 1))}@example.org"
        topics = ";".join(chosen.sample(slugs, chosen.randint(1, 3)))
        frequency = chosen.choice(FREQUENCIES)
        consent = "," if roll > 0.67 else f'"{chosen.choice(SOURCES)}",2025-03-14'
        out.write(f"{email},{topics},{frequency},{consent}\r\n")
    return out.getvalue().encode()


def verify(report: Report) -> None:
    """Fail unless the database holds exactly the subscribers and emails the report says."""
    count = db.session.scalar
    active = count(select(func.count()).where(Subscriber.status == SubscriberStatus.ACTIVE))
    pending = count(select(func.count()).where(Subscriber.status == SubscriberStatus.PENDING))
    emails = count(select(func.count()).select_from(Delivery))
    if (active, pending, emails) != (report.active, report.pending, report.pending):
        raise SystemExit(
            f"the database has {active} active, {pending} pending and {emails} emails; "
            f"the report says {report.active}, {report.pending} and {report.pending}"
        )


@contextmanager
def write_transactions() -> Iterator[list[float]]:
    """The length in seconds of each write transaction on the app's engine during the block
    (read-only ones, which take no lock on SQLite, left out)."""
    lengths: list[float] = []
    began: dict[int, float] = {}

    def begin(connection: Connection) -> None:
        if not connection.get_execution_options().get(READ_ONLY):
            began[id(connection)] = time.perf_counter()

    def end(connection: Connection) -> None:
        if (start := began.pop(id(connection), None)) is not None:
            lengths.append(time.perf_counter() - start)

    listeners = (("begin", begin), ("commit", end), ("rollback", end))
    for name, listener in listeners:
        event.listen(db.engine, name, listener)
    try:
        yield lengths
    finally:
        for name, listener in listeners:
            event.remove(db.engine, name, listener)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; print the figures and the RESULT line."""
    args = parse_args(argv)
    print(f"load average at start: {os.getloadavg()}")
    content = build_csv(args.rows, args.seed)
    print(f"built a CSV file of {args.rows:,} rows, {len(content) / 1e6:.1f} MB")
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-import-")))
        app = bench_app(database_url(stack, args.postgres, workdir, "bench_import_", "--postgres"))
        with app.app_context():
            upgrade()
            seed_topics()
            db.session.commit()
            started = time.perf_counter()
            with read_only():
                checked = check_import(content, now=clock.now())
            check_s = time.perf_counter() - started
            started = time.perf_counter()
            with write_transactions() as writes:
                report = apply_import(
                    content,
                    actor="bench",
                    target="Subscriber",
                    filename="bench.csv",
                    now=clock.now(),
                )
            apply_s = time.perf_counter() - started
            verify(report)
            db.engine.dispose()
    print(
        f"dry run: {checked.accepted:,} accepted ({checked.active:,} active, "
        f"{checked.pending:,} pending), {checked.rejected:,} rejected: "
        + ", ".join(f"{reason.value} {count:,}" for reason, count in checked.reasons())
    )
    print(f"applied: {report.accepted:,} imported, {report.rejected:,} rejected")
    print(f"load average at end: {os.getloadavg()}")
    print(
        f"RESULT rows={args.rows} check_s={check_s:.1f} apply_s={apply_s:.1f} "
        f"total_s={check_s + apply_s:.1f} longest_write_s={max(writes):.2f} "
        f"write_transactions={len(writes)} peak_rss_mb={peak_rss_mb():.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Staff pages at scale: the run list, a run's page, the deliverability page and the
dashboard, timed with 30,000,000 delivery records.

    .venv/bin/python bench/staff_pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/staff_pages.py --deliveries 3000000      # SQLite

Makes its own database (a private PostgreSQL database bench_staff_<pid>, dropped at the end,
or a SQLite file in a temporary directory) at migration 0013, the schema before runs kept
their counts, and fills it in a few INSERT … SELECT statements: `--subscribers` readers,
`--runs` daily digest runs a day apart that share the `--deliveries` between them (most
sent over an hour, 1% bounced, 0.5% failed, 0.1% cancelled; the last run still sending,
half of it queued), two lifecycle emails per reader, a bounce event per bounced email, a
complaint and an unsubscribe per thousand readers a run. It then migrates to the head (timed:
0017 counts what is held) and, logged in as an admin through the Flask test client, requests
each page `--requests` times and prints the median. With `--before` it also times the live
counts the pages made before 0017 (the same SQL, run directly). Ends with one line:

    RESULT deliveries=N runs=R fill_s=... migrate_s=... runs_ms=... run_ms=...
        deliverability_ms=... dashboard_ms=... slowest_ms=... under_200ms=True|False
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import ExitStack
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from before import LIVE_COUNTS
from dataset import bench_app
from dataset import database_url
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from mailer import clock
from mailer.domain import staff as accounts
from mailer.extensions import db
from mailer.models import StaffRole

# The first run is made at START; the last, --runs days later, is still sending.
START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
ADMIN = "bench-admin@example.org"
PASSWORD = "correct horse battery staple bench"  # noqa: S105
PAGES = ("runs", "run", "deliverability", "dashboard")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=30_000_000, metavar="N")
    parser.add_argument("--subscribers", type=int, default=100_000, metavar="S")
    parser.add_argument("--runs", type=int, default=300, metavar="R")
    parser.add_argument("--requests", type=int, default=7, help="per page (the median counts)")
    parser.add_argument("--before", action="store_true", help="time the old live counts too")
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    return parser.parse_args(argv)


def _seconds(postgresql: bool, start: str, offset: str) -> str:
    """SQL of the UTC timestamp `offset` (an SQL expression of seconds) after `start`."""
    if postgresql:
        return f"(CAST({start} AS timestamptz) + ({offset}) * interval '1 second')"
    return f"strftime('%Y-%m-%d %H:%M:%f', {start}, '+' || ({offset}) || ' seconds')"


def fill(args: argparse.Namespace, postgresql: bool) -> None:
    """The readers, runs, deliveries and what came back, in a few statements."""
    per_run = args.deliveries // args.runs
    at = _seconds
    seq = "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {})"
    params = {"start": START.replace(tzinfo=None).isoformat(" ") if not postgresql else START}
    statements = [
        f"""{seq.format(args.subscribers)}
        INSERT INTO subscribers (email, email_key, status, token_version, generation,
            created_at, updated_at, data_copies)
        SELECT 'reader' || n || '@example.org', 'reader' || n || '@example.org', 'active', 1,
            0, :start, :start, 0 FROM seq""",  # noqa: S608
        f"""{seq.format(args.runs)}
        INSERT INTO send_runs (key, frequency, state, recipients, created_by, created_at,
            updated_at, completed_at)
        SELECT 'daily:' || n, 'daily', CASE WHEN n = {args.runs} THEN 'sending' ELSE 'done' END,
            {per_run}, 'bench', {at(postgresql, ":start", "(n - 1) * 86400")},
            {at(postgresql, ":start", "(n - 1) * 86400")},
            {at(postgresql, ":start", "(n - 1) * 86400 + 3600")} FROM seq ORDER BY n""",  # noqa: S608
        _deliveries(args, postgresql, per_run),
        f"""{seq.format(args.subscribers)}
        INSERT INTO deliveries (kind, subscriber_id, status, attempts, next_attempt_at,
            sent_at, created_at, updated_at)
        SELECT kind, n, 'sent', 1, :start, :start, :start, :start
        FROM seq CROSS JOIN (SELECT 'confirm' AS kind UNION ALL SELECT 'welcome') AS k""",  # noqa: S608
        f"""INSERT INTO bounce_events (kind, received_at, delivery_id, subscriber_id, status,
            diagnostic)
        SELECT 'hard', {at(postgresql, "sent_at", "1800")}, id, subscriber_id, '5.1.1', ''
        FROM deliveries WHERE status = 'bounced'""",  # noqa: S608
        f"""INSERT INTO bounce_events (kind, received_at, delivery_id, subscriber_id, status,
            diagnostic)
        SELECT 'complaint', {at(postgresql, "sent_at", "7200")}, id, subscriber_id, '', ''
        FROM deliveries WHERE status = 'sent' AND run_id IS NOT NULL
            AND (subscriber_id + run_id) % 1000 = 1""",  # noqa: S608
        f"""INSERT INTO consent_events (subscriber_id, action, at, wording_version, detail)
        SELECT subscriber_id, 'unsubscribed', {at(postgresql, "sent_at", "86000")}, 'v1', '{{}}'
        FROM deliveries WHERE status = 'sent' AND run_id IS NOT NULL
            AND (subscriber_id + run_id) % 1000 = 2""",  # noqa: S608
    ]
    with _indexes_set_aside(postgresql):
        for statement in statements[:3]:
            db.session.execute(text(statement), params)
            db.session.commit()
    for statement in statements[3:]:
        db.session.execute(text(statement), params)
        db.session.commit()


@contextmanager
def _indexes_set_aside(postgresql: bool) -> Iterator[None]:
    """Fill `deliveries` without its secondary indexes, then build them again in one pass
    each (far quicker than keeping them up row by row); on PostgreSQL also without its unique
    key and foreign key checks."""
    if not postgresql:
        yield from _sqlite_indexes_set_aside()
        return
    db.session.execute(text("SET maintenance_work_mem = '512MB'"))
    constraints = db.session.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'deliveries'::regclass AND contype = 'u'"
        )
    ).all()
    indexes = db.session.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'deliveries' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'deliveries'::regclass)"
        )
    ).all()
    for name, _ in constraints:
        db.session.execute(text(f'ALTER TABLE deliveries DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        db.session.execute(text(f'DROP INDEX "{name}"'))
    # Nor a foreign key check per row, queued to the end of the statement: the rows made
    # here point at runs and readers made just before (this needs a superuser).
    db.session.execute(text("ALTER TABLE deliveries DISABLE TRIGGER ALL"))
    db.session.commit()
    yield
    db.session.execute(text("ALTER TABLE deliveries ENABLE TRIGGER ALL"))
    for name, definition in constraints:
        db.session.execute(text(f'ALTER TABLE deliveries ADD CONSTRAINT "{name}" {definition}'))
    for _, definition in indexes:
        db.session.execute(text(definition))
    db.session.commit()


def _sqlite_indexes_set_aside() -> Iterator[None]:
    """SQLite's named indexes of `deliveries` (those a constraint makes stay)."""
    indexes = db.session.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'deliveries' AND sql IS NOT NULL"
        )
    ).all()
    for name, _ in indexes:
        db.session.execute(text(f'DROP INDEX "{name}"'))
    db.session.commit()
    yield
    for _, definition in indexes:
        db.session.execute(text(definition))
    db.session.commit()


def _deliveries(args: argparse.Namespace, postgresql: bool, per_run: int) -> str:
    """The INSERT … SELECT of every run's deliveries, one per reader (cycling)."""
    last = args.runs
    status = f"""CASE WHEN r.id = {last} AND n > {per_run // 2} THEN 'queued'
        WHEN n % 1000 < 10 THEN 'bounced' WHEN n % 1000 < 15 THEN 'failed'
        WHEN n % 1000 = 15 THEN 'cancelled' ELSE 'sent' END"""
    offset = f"(r.id - 1) * 86400 + 60 + n * 3600 / {per_run}"
    sent_at = f"""CASE WHEN (r.id = {last} AND n > {per_run // 2}) OR n % 1000 BETWEEN 10 AND 15
        THEN NULL ELSE {_seconds(postgresql, ":start", offset)} END"""
    made = _seconds(postgresql, ":start", "(r.id - 1) * 86400")
    return f"""WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq
            WHERE n < {per_run})
        INSERT INTO deliveries (kind, run_id, subscriber_id, status, attempts,
            next_attempt_at, sent_at, created_at, updated_at)
        SELECT 'digest', r.id, (n - 1) % {args.subscribers} + 1, {status}, 1, {made},
            {sent_at}, {made}, {made}
        FROM send_runs AS r CROSS JOIN seq
        WHERE (n - 1) < {args.subscribers}"""  # noqa: S608


def log_in(app: Flask) -> FlaskClient:
    """A test client logged in as an admin."""
    with app.app_context():
        accounts.create_staff(ADMIN, PASSWORD, role=StaffRole.ADMIN, actor="bench", now=START)
        db.session.commit()
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    token = match.group(1) if match else ""
    data = {"csrf_token": token, "email": ADMIN, "password": PASSWORD}
    response = client.post("/staff/login", data=data)
    if response.status_code != 302:
        raise SystemExit(f"could not log in: {response.status_code}")
    return client


def median_ms(action: Callable[[], object], times: int) -> float:
    """The median of `times` runs of `action`, in milliseconds, after one to warm up."""
    action()
    laps = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        laps.append((time.perf_counter() - started) * 1000)
    return statistics.median(laps)


def time_pages(client: FlaskClient, run_id: int, times: int) -> dict[str, float]:
    """The median time of each page, checked to answer 200."""
    paths = {
        "runs": "/staff/runs",
        "run": f"/staff/runs/{run_id}",
        "deliverability": "/staff/deliverability",
        "dashboard": "/staff/",
    }

    def getter(path: str) -> Callable[[], object]:
        def get() -> object:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
            return response

        return get

    return {name: median_ms(getter(path), times) for name, path in paths.items()}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.disable(logging.INFO)
    with ExitStack() as stack, tempfile.TemporaryDirectory() as workdir:
        url = database_url(stack, args.database_url, Path(workdir), "bench_staff_")
        app = bench_app(url, OUTBOX_DIR=workdir)
        print(f"load average before: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
        with app.app_context():
            upgrade(revision="0013")
            postgresql = db.engine.dialect.name == "postgresql"
            started = time.perf_counter()
            fill(args, postgresql)
            fill_s = time.perf_counter() - started
            total = db.session.scalar(text("SELECT count(*) FROM deliveries"))
            print(f"filled {total:,} deliveries in {args.runs} runs in {fill_s:.1f} s")
            run_id = int(db.session.scalar(text("SELECT max(id) FROM send_runs")) or 0)
            before = _before(run_id, args.requests) if args.before else {}
            db.session.remove()
            started = time.perf_counter()
            upgrade()
            migrate_s = time.perf_counter() - started
            print(f"migration 0017 counted what is held in {migrate_s:.1f} s")
            if postgresql:
                # What autovacuum would have done on a live system (index-only scans need
                # the visibility map), timed apart.
                started = time.perf_counter()
                db.session.commit()
                with db.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                ) as connection:
                    connection.execute(text("VACUUM (ANALYZE)"))
                print(f"VACUUM (ANALYZE) took {time.perf_counter() - started:.1f} s")
        # The pages read the clock: half an hour into the last run.
        seen = START + timedelta(days=args.runs - 1, minutes=30)
        clock.now = lambda: seen
        return _report(args, app, run_id, total, fill_s, migrate_s, before)


def _before(run_id: int, times: int) -> dict[str, float]:
    """The live counts each page made before 0017, timed directly."""
    timings: dict[str, float] = {}
    for page, statements in LIVE_COUNTS.items():

        def run_all(statements: Sequence[str] = statements) -> None:
            for statement in statements:
                db.session.execute(text(statement), {"run_id": run_id}).all()

        timings[page] = median_ms(run_all, times)
        print(f"before: {page} live counts {timings[page]:.0f} ms")
    db.session.rollback()
    return timings


def _report(
    args: argparse.Namespace,
    app: Flask,
    run_id: int,
    total: int,
    fill_s: float,
    migrate_s: float,
    before: dict[str, float],
) -> int:
    client = log_in(app)
    timings = time_pages(client, run_id, args.requests)
    for name in PAGES:
        was = f" (live counts before: {before[name]:.0f} ms)" if name in before else ""
        print(f"{name}: median {timings[name]:.1f} ms of {args.requests} requests{was}")
    slowest = max(timings.values())
    print(f"load average after: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    figures = " ".join(f"{name}_ms={timings[name]:.1f}" for name in PAGES)
    olds = " ".join(f"before_{name}_ms={before[name]:.0f}" for name in PAGES if name in before)
    print(
        f"RESULT deliveries={total} runs={args.runs} fill_s={fill_s:.1f} "
        f"migrate_s={migrate_s:.1f} {figures} slowest_ms={slowest:.1f} "
        f"under_200ms={slowest < 200} {olds}".rstrip()
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

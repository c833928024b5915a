"""RFC 8058 one-click unsubscribes at the rate mail providers send them after a big digest:
N concurrent POSTs, each a distinct subscriber's real signed link, against the app under
gunicorn; then every one must be unsubscribed, with no 5xx.

    .venv/bin/python bench/one_click.py [--subscribers 1000] [--workers 4]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Ends with one line:

    RESULT db=... subscribers=N workers=W seconds=... per_s=... p50_ms=... p95_ms=...
        p99_ms=... max_ms=... status_5xx=0 other=0 unsubscribed=N lost=0
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from dataset import bench_app
from dataset import database_url
from serving import app_env
from serving import gunicorn
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.tokens import Purpose
from mailer.tokens import subscriber_token

BODY = b"List-Unsubscribe=One-Click"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    return parser.parse_args(argv)


def prepare(url: str, count: int) -> list[str]:
    """Migrate, add `count` active subscribers; return the path of each one's one-click link,
    signed as the emails sign it."""
    from flask_migrate import upgrade

    logging.disable(logging.INFO)
    now = datetime.now(UTC)
    app = bench_app(url)
    with app.app_context():
        upgrade()
        emails = [f"reader{n}@example.org" for n in range(count)]
        rows = [
            {
                "email": email,
                "email_key": email,
                "status": SubscriberStatus.ACTIVE,
                "token_version": 1,
                "generation": 0,
                "created_at": now,
                "updated_at": now,
                "confirmed_at": now,
            }
            for email in emails
        ]
        db.session.execute(insert(Subscriber), rows)
        db.session.commit()
        paths = [
            f"/unsubscribe/{subscriber_token(Purpose.UNSUBSCRIBE, subscriber)}"
            for subscriber in db.session.scalars(select(Subscriber))
        ]
        db.session.remove()
        db.engine.dispose()
    return paths


async def one_click(host: str, port: int, path: str) -> tuple[int, float]:
    """POST as a mail provider does: no cookie, no CSRF token, the one-click body."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(BODY)}\r\nConnection: close\r\n\r\n".encode()
        + BODY
    )
    await writer.drain()
    status_line = await reader.readline()
    await reader.read()
    writer.close()
    status = int(status_line.split()[1]) if status_line else 0
    return status, time.perf_counter() - started


async def storm(base: str, paths: list[str]) -> tuple[list[tuple[int, float]], float]:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    started = time.perf_counter()
    results = await asyncio.wait_for(
        asyncio.gather(*(one_click(host, port, path) for path in paths)), timeout=600
    )
    return list(results), time.perf_counter() - started


def unsubscribed(url: str) -> int:
    app = bench_app(url)
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(Subscriber)
            .where(Subscriber.status == SubscriberStatus.UNSUBSCRIBED)
        )
        db.session.remove()
        db.engine.dispose()
    return int(count or 0)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f}")
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_click_")))
        url = database_url(stack, args.database_url, workdir, "bench_click_")
        paths = prepare(url, args.subscribers)
        log = workdir / "gunicorn.log"
        with gunicorn("wsgi:app", workers=args.workers, env=app_env(url), log=log) as base:
            print(f"gunicorn: {args.workers} sync workers; {len(paths)} concurrent one-click POSTs")
            results, seconds = asyncio.run(storm(base, paths))
        done = unsubscribed(url)
        errors = [line for line in log.read_text().splitlines() if "Error" in line]
    statuses = Counter(status for status, _ in results)
    latencies = [latency * 1000 for _, latency in results]
    server_errors = sum(count for status, count in statuses.items() if status >= 500)
    other = sum(count for status, count in statuses.items() if status != 200) - server_errors
    lost = args.subscribers - done
    print(f"statuses: {dict(statuses)}; unsubscribed afterwards: {done} of {args.subscribers}")
    print(f"latency ms: median {statistics.median(latencies):.0f}")
    for line in errors[:5]:
        print(f"  server: {line}")
    print(
        f"RESULT db={'postgresql' if args.database_url else 'sqlite'} "
        f"subscribers={args.subscribers} workers={args.workers} seconds={seconds:.2f} "
        f"per_s={len(results) / seconds:.0f} p50_ms={percentile(latencies, 0.5):.0f} "
        f"p95_ms={percentile(latencies, 0.95):.0f} p99_ms={percentile(latencies, 0.99):.0f} "
        f"max_ms={max(latencies):.0f} status_5xx={server_errors} other={other} "
        f"unsubscribed={done} lost={lost}"
    )
    return 0 if server_errors == 0 and other == 0 and lost == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

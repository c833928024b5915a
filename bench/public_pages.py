"""Requests per second of the public pages under gunicorn, against a bare Flask page served by
the same gunicorn in the same run.

    .venv/bin/python bench/public_pages.py [--workers 4] [--seconds 10] [--connections 32]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Drives it with wrk (Debian: `apt-get install wrk`) when it is on the PATH, else with a
Python load generator (slower, so the figures are lower for both pages). Ends with one line:

    RESULT db=... workers=N tool=... bare_rps=... home_rps=... home_ratio=... item_rps=...
        item_ratio=... feed_rps=... feed_ratio=... not_modified_rps=... not_modified_ratio=...
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dataset import bench_app
from dataset import database_url
from flask import Flask
from serving import app_env
from serving import gunicorn
from sqlalchemy import select

from mailer import clock
from mailer.domain.demo import seed_demo
from mailer.extensions import db
from mailer.models import NewsItem
from mailer.models import NewsState

TARGET = 0.5


def serving_app() -> Any:
    """What gunicorn serves: the service, with a bare Flask page at /bare beside it."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from mailer.app import create_app

    bare = Flask("bare")

    @bare.get("/")
    def hello() -> str:
        return "Hello"

    service = create_app()
    service.wsgi_app = DispatcherMiddleware(service.wsgi_app, {"/bare": bare})  # type: ignore[method-assign]
    return service


@dataclass(frozen=True)
class Rate:
    name: str
    url: str
    per_s: float
    bad: int


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    return parser.parse_args(argv)


def prepare(url: str) -> str:
    """Migrate, publish the demo news; return the slug of an item."""
    from flask_migrate import upgrade

    logging.disable(logging.INFO)
    app = bench_app(url)
    with app.app_context():
        upgrade()
        seed_demo(actor="bench", now=clock.now())
        db.session.commit()
        slug = db.session.scalar(
            select(NewsItem.slug).where(NewsItem.state == NewsState.PUBLISHED).limit(1)
        )
        db.session.remove()
        db.engine.dispose()
    if not slug:
        raise SystemExit("the demo published nothing")
    return slug


def wrk(url: str, headers: dict[str, str], args: argparse.Namespace) -> tuple[float, int]:
    command = ["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.seconds:g}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    found = subprocess.run([*command, url], capture_output=True, text=True, check=True)  # noqa: S603
    output = found.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    if errors:
        print(f"  {errors.group(0)}")
    if not rate:
        raise SystemExit(f"wrk said:\n{output}")
    return float(rate.group(1)), int(bad.group(1)) if bad else 0


def python_load(url: str, headers: dict[str, str], args: argparse.Namespace) -> tuple[float, int]:
    """One thread per connection, each asking again as soon as it has its answer."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    done = [0]
    bad = [0]
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def drive() -> None:
        count = failed = 0
        while time.monotonic() < stop:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            count += 1
            failed += response.status >= 400
        with lock:
            done[0] += count
            bad[0] += failed

    threads = [threading.Thread(target=drive) for _ in range(args.connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.monotonic() - started), bad[0]


def etag_of(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310  (loopback)
        if not response.headers["Cache-Control"].startswith("public"):
            raise SystemExit(f"{url} is not cacheable: {response.headers}")
        return str(response.headers["ETag"])


def measure(base: str, slug: str, args: argparse.Namespace, tool: str) -> list[Rate]:
    drive = wrk if tool == "wrk" else python_load
    targets = [
        ("bare", f"{base}/bare/", {}),
        ("home", f"{base}/", {}),
        ("item", f"{base}/news/{slug}", {}),
        ("feed", f"{base}/feed.atom", {}),
        ("not_modified", f"{base}/", {"If-None-Match": etag_of(f"{base}/")}),
    ]
    rates = []
    for name, url, headers in targets:
        per_s, bad = drive(url, headers, args)
        rates.append(Rate(name, url, per_s, bad))
        print(f"  {name:13} {per_s:9.0f} req/s  {bad} errors  {url.removeprefix(base)}")
    return rates


def check_not_modified(base: str) -> None:
    headers = {"If-None-Match": etag_of(f"{base}/")}
    request = urllib.request.Request(f"{base}/", headers=headers)  # noqa: S310
    try:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310  (loopback)
    except urllib.error.HTTPError as answer:
        if answer.code == 304:
            return
    raise SystemExit("a matching If-None-Match did not get 304")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    tool = args.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    print(f"load: {tool}; load average {os.getloadavg()[0]:.2f}")
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_pages_")))
        url = database_url(stack, args.database_url, workdir, "bench_pages_")
        slug = prepare(url)
        base = stack.enter_context(
            gunicorn(
                "public_pages:serving_app()",
                workers=args.workers,
                env=app_env(url),
                log=workdir / "gunicorn.log",
            )
        )
        check_not_modified(base)
        print(
            f"gunicorn: {args.workers} sync workers at {base}; {args.connections} connections,"
            f" {args.seconds:g} s each"
        )
        rates = measure(base, slug, args, tool)
    bare = rates[0].per_s
    figures = " ".join(
        f"{rate.name}_rps={rate.per_s:.0f}"
        + ("" if rate.name == "bare" else f" {rate.name}_ratio={rate.per_s / bare:.2f}")
        for rate in rates
    )
    met = all(rate.per_s >= TARGET * bare for rate in rates[1:])
    errors = sum(rate.bad for rate in rates)
    print(
        f"load average {os.getloadavg()[0]:.2f}; target {TARGET} of bare: "
        f"{'met' if met else 'not met'}"
    )
    db_name = "postgresql" if args.database_url else "sqlite"
    print(f"RESULT db={db_name} workers={args.workers} tool={tool} {figures} errors={errors}")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

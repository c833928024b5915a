"""Bench: where the time of a large enqueue goes on PostgreSQL.

Fills a private database (as fanout.py does), then runs the daily digest's INSERT … SELECT
several ways, each in a transaction that is rolled back, and prints for each the CPU time of
the server process that ran it (from /proc, so the server must be on this machine; it moves
far less with the load of the machine than the wall time, which is printed too) and the WAL
records it wrote; then EXPLAIN (ANALYZE, BUFFERS, WAL) of the enqueue as the code runs it.

    as made       the enqueue as the code makes it (after migration 0018)
    before 0018   with the three indexes 0018 dropped or made partial, and ON CONFLICT
    no FK checks  as made, with the foreign-key triggers off (needs a superuser; what the
                  two foreign keys of `deliveries` cost)

Run: .venv/bin/python bench/enqueue_costs.py --database-url postgresql://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from typing import cast

from dataset import bench_app
from dataset import database_url
from fanout import generate_in_child
from fanout import last_daily_period
from sqlalchemy import Table
from sqlalchemy import insert
from sqlalchemy import text

from mailer import clock
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import RunState
from mailer.models import SendRun

BEFORE_0018 = (
    "DROP INDEX ix_deliveries_message_id",
    "DROP INDEX ix_deliveries_csp_id",
    "CREATE INDEX ix_deliveries_due ON deliveries (status, next_attempt_at, id)",
    "CREATE INDEX ix_deliveries_message_id ON deliveries (message_id)",
    "CREATE INDEX ix_deliveries_csp_id ON deliveries (csp_id)",
)
NO_FK = ("SET LOCAL session_replication_role = replica",)


def enqueue_sql(period: Any) -> str:
    """The INSERT … SELECT of a new daily digest run, with its values written in."""
    now = clock.now()
    run = SendRun(
        key="bench-enqueue",
        frequency=Frequency.DAILY,
        period_start=period.start,
        period_end=period.end,
        state=RunState.SENDING,
        recipients=0,
        created_by="bench",
        created_at=now,
        updated_at=now,
    )
    db.session.add(run)
    db.session.commit()
    queued = send_runs._queued(run, send_runs.run_audience(run), now=now)
    statement = insert(cast(Table, Delivery.__table__)).from_select(
        send_runs.QUEUED_COLUMNS, queued
    )
    return str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))


def server_cpu(pid: int) -> float:
    """User and system CPU seconds of a server process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(connection: Any, pid: int, name: str, before: Sequence[str], sql: str) -> None:
    """Run `sql` after `before` in a transaction that is rolled back; print what it cost."""
    for statement in before:
        connection.execute(text(statement))
    started, cpu = time.perf_counter(), server_cpu(pid)
    plan = connection.execute(text("EXPLAIN (ANALYZE, BUFFERS, WAL) " + sql)).scalars().all()
    wall, used = time.perf_counter() - started, server_cpu(pid) - cpu
    connection.rollback()
    records = next((line for line in plan if "WAL:" in line), "").strip()
    print(f"{name:14s} server CPU {used:6.2f} s, wall {wall:6.2f} s, {records}", flush=True)
    if name == "as made":
        print("\n".join(plan), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server")
    args = parser.parse_args(argv)
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-enq-")))
        url = database_url(stack, args.database_url, workdir, "bench_enqueue_")
        app = bench_app(url)
        period = last_daily_period(app)
        generate_in_child(url, args, period, workdir)
        with app.app_context():
            sql = enqueue_sql(period)
            with db.engine.connect() as connection:
                pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
                measure(connection, pid, "as made", (), sql)
                conflict = " ON CONFLICT (run_id, subscriber_id) DO NOTHING"
                measure(connection, pid, "before 0018", BEFORE_0018, sql + conflict)
                measure(connection, pid, "no FK checks", NO_FK, sql)
            db.engine.dispose()
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

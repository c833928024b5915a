"""Summarising old delivery records: records per second, and the longest a batch holds its
locks (one transaction per batch).

    .venv/bin/python bench/retention.py [--deliveries 200000] [--runs 20] [--batch 2000]
    .venv/bin/python bench/retention.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Makes its own database (a SQLite file in a temporary directory, or a private PostgreSQL
database bench_retention_<pid>, dropped at the end), fills it with `--runs` digest runs of
equal size made a day apart more than DELIVERY_RETENTION_DAYS ago, settled (most sent, some
bounced or failed), then times `retention.summarise_deliveries` and checks that the counts
kept equal the records deleted. Ends with one `RESULT key=value ...` line.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from dataset import bench_app
from dataset import private_postgres
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

from mailer.domain import retention
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import DeliverySummary
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import RunState
from mailer.models import SendRun
from mailer.models import Subscriber
from mailer.models import SubscriberStatus

NOW = datetime(2027, 12, 1, 3, 41, tzinfo=UTC)
FIRST_RUN = NOW - timedelta(days=460)
CHUNK = 10_000


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=200_000, help="records to summarise")
    parser.add_argument("--runs", type=int, default=20, help="digest runs they belong to")
    parser.add_argument("--batch", type=int, default=retention.BATCH, help="records per batch")
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    return parser.parse_args(argv)


def fill(deliveries: int, runs: int) -> None:
    """Insert one subscriber per delivery of a run, the runs, and their settled deliveries."""
    per_run = deliveries // runs
    db.session.execute(
        insert(Subscriber),
        [
            {
                "email": f"reader{n}@example.org",
                "email_key": f"reader{n}@example.org",
                "status": SubscriberStatus.ACTIVE,
                "token_version": 1,
                "generation": 0,
                "created_at": FIRST_RUN,
                "updated_at": FIRST_RUN,
            }
            for n in range(per_run)
        ],
    )
    subscriber_ids = list(db.session.scalars(select(Subscriber.id).order_by(Subscriber.id)))
    for number in range(runs):
        made = FIRST_RUN + timedelta(days=number)
        run = SendRun(
            key=f"daily:{made.isoformat()}",
            frequency=Frequency.DAILY,
            state=RunState.DONE,
            recipients=per_run,
            created_by="bench",
            created_at=made,
            updated_at=made,
        )
        db.session.add(run)
        db.session.flush()
        rows = [_delivery(run.id, subscriber_id, made) for subscriber_id in subscriber_ids]
        for start in range(0, len(rows), CHUNK):
            db.session.execute(insert(Delivery), rows[start : start + CHUNK])
    db.session.commit()


def _delivery(run_id: int, subscriber_id: int, made: datetime) -> dict[str, object]:
    status = (DeliveryStatus.BOUNCED, DeliveryStatus.FAILED)[subscriber_id // 50 % 2]
    return {
        "kind": MessageKind.DIGEST,
        "run_id": run_id,
        "subscriber_id": subscriber_id,
        "status": status if subscriber_id % 50 == 0 else DeliveryStatus.SENT,
        "attempts": 1,
        "next_attempt_at": made,
        "sent_at": made,
        "created_at": made,
        "updated_at": made,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.disable(logging.INFO)
    with ExitStack() as stack, tempfile.TemporaryDirectory() as workdir:
        if args.database_url:
            url = stack.enter_context(private_postgres(args.database_url, "bench_retention_"))
        else:
            url = f"sqlite:///{Path(workdir) / 'bench.sqlite'}"
        app = bench_app(url, OUTBOX_DIR=workdir)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            fill(args.deliveries, args.runs)
            total = db.session.scalar(select(func.count()).select_from(Delivery)) or 0
            print(
                f"database: {db.engine.dialect.name}; {total} delivery records in {args.runs} runs"
            )
            return _measure(total, args.batch)
    return 0


def _measure(total: int, batch: int) -> int:
    """Summarise everything, timing each batch; print the figures; 0 if the counts agree."""
    batches: list[float] = []
    mark = time.perf_counter()

    def lap(done: int) -> None:
        nonlocal mark
        now = time.perf_counter()
        batches.append(now - mark)
        mark = now

    started = mark
    done = retention.summarise_deliveries(
        now=NOW, older_than=timedelta(days=400), batch=batch, on_batch=lap
    )
    seconds = time.perf_counter() - started
    kept = db.session.scalar(select(func.sum(DeliverySummary.count))) or 0
    rows = db.session.scalar(select(func.count()).select_from(DeliverySummary)) or 0
    left = db.session.scalar(select(func.count()).select_from(Delivery)) or 0
    ok = done == total == kept and left == 0
    print(f"summarised {done} records in {seconds:.2f} s ({done / seconds:,.0f} per second)")
    print(f"{len(batches)} batches of {batch}; longest {max(batches, default=0) * 1000:.0f} ms")
    print(f"{rows} summary rows keep {kept} counts; {left} records left; counts agree: {ok}")
    print(
        f"RESULT records={done} seconds={seconds:.3f} per_s={done / seconds:.0f} "
        f"batches={len(batches)} longest_batch_ms={max(batches, default=0) * 1000:.0f} ok={ok}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

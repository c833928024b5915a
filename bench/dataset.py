"""The app a bench runs and the data it runs on: subscribers with random topics and
frequencies, and news published during one digest period, inserted in chunks; and the
database of its own that it fills (a new SQLite file, or a private PostgreSQL database)."""

from __future__ import annotations

import logging
import os
import random
import re
import resource
import time
from collections.abc import Iterator
from contextlib import ExitStack
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Table
from sqlalchemy import create_engine
from sqlalchemy import insert
from sqlalchemy import make_url
from sqlalchemy import select
from sqlalchemy import text

from config import DevelopmentConfig
from mailer.app import create_app
from mailer.clock import Period
from mailer.domain.topics import seed_topics
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from mailer.models import Topic
from mailer.models import news_item_topics

FREQUENCIES = (Frequency.IMMEDIATE, Frequency.DAILY, Frequency.WEEKLY)
OPENINGS = (
    "Partnerships can now bid for",
    "The Home Office has published",
    "Councils and police forces are invited to comment on",
    "A new toolkit sets out",
    "Registration is open for",
    "An evaluation of local schemes looks at",
)
SUBJECTS = (
    "safer streets funding for the next financial year",
    "guidance on domestic homicide reviews",
    "a regional workshop on antisocial behaviour case reviews",
    "what works in reducing reoffending among young adults",
    "the serious violence duty and its data-sharing requirements",
    "alcohol and drug treatment referrals from custody",
)
CLOSINGS = (
    "Applications close at the end of the month.",
    "The full report is available on the website.",
    "Places are limited, so book early.",
    "Responses are due within eight weeks.",
    "Partners are encouraged to share it with their local networks.",
)


def bench_app(database_url: str, **overrides: Any) -> Flask:
    """The app on `database_url`, with development settings (and MAILER_* variables), a
    loopback SMTP server, no send-rate cap and nothing written to the instance folder."""
    return create_app(
        DevelopmentConfig,
        {
            "DATABASE_URL": database_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_USERNAME": None,
            "SMTP_STARTTLS": False,
            "SMTP_SSL": False,
            "SEND_RATE": 0.0,
            **overrides,
        },
    )


@contextmanager
def private_postgres(url: str, prefix: str) -> Iterator[str]:
    """Create a database of our own, `prefix` and our process id, on the server of `url`;
    drop it afterwards."""
    url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}{os.getpid()}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def database_url(
    stack: ExitStack, given: str | None, workdir: Path, prefix: str, option: str = "--database-url"
) -> str:
    """The URL of the bench's own, empty database: a new SQLite file in `workdir` unless
    `given` (the value of `option`) names a PostgreSQL server, on which a private database
    named by `prefix` is made, and dropped when `stack` closes."""
    if not given:
        print(f"database: new SQLite file in {workdir}")
        return f"sqlite:///{workdir / 'bench.sqlite'}"
    if not re.match(r"^postgres(ql)?(\+\w+)?://", given):
        raise SystemExit(f"{option} must be a PostgreSQL URL (SQLite is the default)")
    url = stack.enter_context(private_postgres(given, prefix))
    print(f"database: PostgreSQL, private database {make_url(url).database}")
    return url


@dataclass(frozen=True)
class Generated:
    """What the generator made, and what it cost."""

    subscribers: int
    subscriptions: int
    items: int
    seconds: float
    peak_rss_mb: float


def generate(
    database_url: str,
    *,
    subscribers: int,
    items: int,
    period: Period,
    seed: int,
    outbox_dir: str,
    chunk: int = 10_000,
    welsh: float = 0.0,
) -> Generated:
    """Migrate an empty database and fill it (meant to run in a child process, so that the
    bench process's memory shows the send path alone)."""
    from flask_migrate import upgrade

    # Alembic announces each migration at INFO; the bench's own figures are what matter here.
    logging.disable(logging.INFO)
    started = time.perf_counter()
    rng = random.Random(seed)
    app = bench_app(database_url, OUTBOX_DIR=outbox_dir)
    with app.app_context():
        upgrade()
        seed_topics()
        db.session.commit()
        topic_ids = list(db.session.scalars(select(Topic.id).order_by(Topic.position)))
        made = add_subscribers(
            subscribers, rng=rng, topic_ids=topic_ids, now=period.start, chunk=chunk, welsh=welsh
        )
        publish_items(items, rng=rng, topic_ids=topic_ids, period=period)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            _settle_postgres()
        db.session.remove()
        db.engine.dispose()
    return Generated(
        subscribers=subscribers,
        subscriptions=made,
        items=items,
        seconds=time.perf_counter() - started,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def add_subscribers(
    count: int,
    *,
    rng: random.Random,
    topic_ids: list[int],
    now: datetime,
    chunk: int = 10_000,
    welsh: float = 0.0,
) -> int:
    """Insert `count` active subscribers, each following 1-4 topics at a random frequency per
    topic, the share `welsh` of them reading in Welsh (every 1/welsh-th one), `chunk` at a time
    with executemany; return how many subscriptions were made."""
    subscribers_table: Table = Subscriber.__table__  # type: ignore[assignment]
    subscriptions_table: Table = Subscription.__table__  # type: ignore[assignment]
    made = 0
    for start in range(0, count, chunk):
        ids = range(start + 1, min(count, start + chunk) + 1)
        connection = db.session.connection()
        connection.execute(insert(subscribers_table), list(_subscriber_rows(ids, now, welsh)))
        rows = list(_subscription_rows(ids, rng, topic_ids, now))
        connection.execute(insert(subscriptions_table), rows)
        db.session.commit()
        made += len(rows)
        if ids[-1] % 100_000 == 0 or ids[-1] == count:
            print(f"  subscribers made: {ids[-1]:,} ({made:,} subscriptions)", flush=True)
    return made


def _subscriber_rows(ids: range, now: datetime, welsh: float) -> Iterator[dict[str, Any]]:
    for subscriber_id in ids:
        email = f"reader{subscriber_id}@example.org"
        in_welsh = welsh > 0 and int(subscriber_id * welsh) != int((subscriber_id - 1) * welsh)
        yield {
            "id": subscriber_id,
            "email": email,
            "email_key": email,
            "status": SubscriberStatus.ACTIVE,
            "token_version": 1,
            "generation": 0,
            "created_at": now,
            "updated_at": now,
            "confirmed_at": now,
            "language": "cy" if in_welsh else "en",
        }


def _subscription_rows(
    ids: range, rng: random.Random, topic_ids: list[int], now: datetime
) -> Iterator[dict[str, Any]]:
    for subscriber_id in ids:
        for topic_id in rng.sample(topic_ids, rng.randint(1, 4)):
            yield {
                "subscriber_id": subscriber_id,
                "topic_id": topic_id,
                "frequency": rng.choice(FREQUENCIES),
                "created_at": now,
            }


def publish_items(count: int, *, rng: random.Random, topic_ids: list[int], period: Period) -> None:
    """Insert `count` published items at random times in `period`, each under 1-3 topics."""
    span = (period.end - period.start).total_seconds()
    for n in range(count):
        at = period.start + timedelta(seconds=rng.uniform(0, span - 1))
        summary = " ".join((rng.choice(OPENINGS), rng.choice(SUBJECTS) + ".", rng.choice(CLOSINGS)))
        item = NewsItem(
            slug=f"bench-news-{n + 1}",
            title=f"{rng.choice(OPENINGS)} {rng.choice(SUBJECTS)}"[:200],
            summary=summary,
            body_markdown=f"{summary}\n\n{rng.choice(CLOSINGS)}",
            body_html=f"<p>{summary}</p>\n<p>{rng.choice(CLOSINGS)}</p>",
            state=NewsState.PUBLISHED,
            published_at=at,
            created_at=at,
            updated_at=at,
        )
        db.session.add(item)
        db.session.flush()
        db.session.execute(
            insert(news_item_topics),
            [
                {"news_item_id": item.id, "topic_id": topic_id}
                for topic_id in rng.sample(topic_ids, rng.randint(1, 3))
            ],
        )
    print(f"  news items published: {count}", flush=True)


def _settle_postgres() -> None:
    """Move the id sequence past the ids given explicitly, and gather the statistics that
    autovacuum would gather on the tables just filled (the queue is left as a new database
    has it: never analysed)."""
    db.session.execute(
        text("SELECT setval(pg_get_serial_sequence('subscribers', 'id'), max(id)) FROM subscribers")
    )
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(
            text("ANALYZE subscribers, subscriptions, topics, news_items, news_item_topics")
        )

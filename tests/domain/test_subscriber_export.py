"""The subscriber export's CSV and the statements behind the list and the export."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import event
from sqlalchemy import select

from mailer.database import transaction
from mailer.domain import subscriber_admin
from mailer.domain import subscriber_export
from mailer.domain.csv_cells import neutralise_formula
from mailer.domain.csv_cells import restore_formula
from mailer.domain.subscriber_admin import Filters
from mailer.domain.subscriber_export import csv_chunks
from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import Frequency
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from mailer.models import Topic
from tests.factories import add_consent
from tests.factories import add_readers
from tests.factories import make_subscriber

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "cell", ["=1+1", "=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\tSUM(A1)", "\r=1"]
)
def test_a_cell_a_spreadsheet_would_run_as_a_formula_gets_a_leading_quote(cell):
    assert neutralise_formula(cell) == "'" + cell
    assert restore_formula(neutralise_formula(cell)) == cell


@pytest.mark.parametrize(
    "cell", ["", "alex@example.com", "2026-07-15", "a=b", " =1", "'=1", "funding;events"]
)
def test_other_cells_are_left_as_they_are(cell):
    assert neutralise_formula(cell) == cell
    assert restore_formula(cell) == (cell[1:] if cell == "'=1" else cell)


def test_the_csv_has_a_byte_order_mark_quoted_fields_and_crlf_lines():
    text = "".join(csv_chunks([["a@example.com", "=1", 'say "hi"\nthere']]))
    assert text == (
        "\ufeff"
        + ",".join(f'"{name}"' for name in subscriber_export.HEADER)
        + '\r\n"a@example.com","\'=1","say ""hi""\nthere"\r\n'
    )


def test_the_csv_comes_in_chunks_of_rows():
    chunks = list(csv_chunks(([str(n)] for n in range(5)), rows_per_chunk=2))
    assert [chunk.count("\r\n") for chunk in chunks] == [3, 2, 1]
    rows = list(csv.reader(io.StringIO("".join(chunks).removeprefix("\ufeff"), newline="")))
    assert [row[0] for row in rows[1:]] == ["0", "1", "2", "3", "4"]


@contextmanager
def _statements():
    """Collect the SQL statements run in the block (SQLite's BEGIN aside)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith("BEGIN"):
            seen.append((type(cursor).__name__, statement))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_the_export_reads_topics_and_consent_once_per_thousand_subscribers(app):
    with app.app_context():
        ids = add_readers(
            2500, follows={"funding": Frequency.DAILY, "events": Frequency.DAILY}, now=NOW
        )
        confirmed = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        add_consent(ids[-1], ConsentAction.CONFIRMED, at=confirmed, detail={"method": "link"})
        db.session.commit()
        db_name = db.engine.dialect.name
        with _statements() as seen:
            rows = list(subscriber_export.export_rows(Filters()))
    assert len(rows) == 2500
    assert rows[0][:5] == [
        "reader0@example.org",
        "funding;events",
        "daily",
        "sign-up form",
        "2026-07-15",
    ]
    assert rows[-1][:5] == [
        "reader2499@example.org",
        "funding;events",
        "daily",
        "sign-up form",
        "2026-03-01",
    ]
    # The subscribers, then topics and consent for each of the three batches.
    assert len(seen) == 1 + 3 * 2
    if db_name == "postgresql":
        # psycopg's server-side cursor: rows come over a batch at a time.
        assert seen[0][0] == "ServerCursor"


def test_a_filtered_export_gives_every_topic_of_the_few_who_match(app):
    with app.app_context():
        ids = add_readers(2500, follows={"funding": Frequency.DAILY}, now=NOW)
        events = db.session.scalars(select(Topic).where(Topic.slug == "events")).one()
        chosen = ids[::700]
        for subscriber_id in chosen:
            db.session.get_one(Subscriber, subscriber_id).status = SubscriberStatus.PENDING
            db.session.add(
                Subscription(
                    subscriber_id=subscriber_id,
                    topic=events,
                    frequency=Frequency.DAILY,
                    created_at=NOW,
                )
            )
        db.session.commit()
        filters = Filters(status=SubscriberStatus.PENDING, topic="events")
        rows = list(subscriber_export.export_rows(filters))
        assert subscriber_export.count(filters) == len(chosen) == 4
    assert [row[0] for row in rows] == [f"reader{n}@example.org" for n in (0, 700, 1400, 2100)]
    assert {row[1] for row in rows} == {"funding;events"}
    assert {row[5] for row in rows} == {"pending"}


def test_a_page_of_the_list_loads_topics_without_a_statement_per_subscriber(app):
    with app.app_context():
        add_readers(60, follows={"funding": Frequency.DAILY, "events": Frequency.WEEKLY}, now=NOW)
        db.session.commit()
        with _statements() as seen:
            listing = subscriber_admin.page(Filters(), page=1, per_page=50)
            topics = [
                [s.topic.slug for s in subscriber.subscriptions] for subscriber in listing.items
            ]
    assert listing.total == 60
    assert topics == [["funding", "events"]] * 50
    # The count, the page, and the subscriptions with their topics.
    assert len(seen) == 3


def test_sign_ups_go_on_while_an_export_is_being_read(app):
    with app.app_context():
        add_readers(2500, follows={"funding": Frequency.DAILY}, now=NOW)
        db.session.commit()
        rows = subscriber_export.export_rows(Filters())
        first = next(rows)
        # Another app context has a session and connection of its own, as another request.
        with app.app_context(), transaction():
            make_subscriber(email="new@example.org", now=NOW)
        rest = list(rows)

    assert first[0] == "reader0@example.org"
    assert len(rest) == 2499

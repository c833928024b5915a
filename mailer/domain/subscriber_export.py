"""The subscriber export: a CSV file that `mailer import-subscribers` can read back, written
as it is read from the database, so memory stays flat whatever the number of subscribers."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy import select

from mailer.database import read_only
from mailer.domain.csv_cells import neutralise_formula
from mailer.domain.subscriber_admin import Filters
from mailer.domain.subscriber_admin import Statement
from mailer.domain.subscriber_admin import count_matching
from mailer.domain.subscriber_admin import matching
from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Frequency
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from mailer.models import Topic

# The first five are the columns of `mailer import-subscribers`; the rest are for reading.
HEADER = (
    "email",
    "topics",
    "frequency",
    "consent_source",
    "consent_date",
    "status",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "language",
)
# Rows read from the database at a time, and written to the output at a time.
BATCH = 1000
SIGN_UP_FORM = "sign-up form"
# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
BYTE_ORDER_MARK = "\ufeff"


def count(filters: Filters) -> int:
    """How many rows an export of `filters` has now (erased subscribers are never exported)."""
    return count_matching(filters, erased=False)


def export_rows(filters: Filters) -> Iterator[list[str]]:
    """The row of each matching subscriber, except the erased, in id order (see HEADER).

    Reads BATCH subscribers at a time through a server-side cursor on PostgreSQL, and the
    topics and consent of each batch in one statement each, all in one read-only
    transaction: on SQLite it holds no lock, so sign-ups and sends go on during a download.
    """
    columns = select(
        Subscriber.id,
        Subscriber.email,
        Subscriber.status,
        Subscriber.created_at,
        Subscriber.confirmed_at,
        Subscriber.unsubscribed_at,
        Subscriber.language,
    )
    statement = _exported(columns, filters).order_by(Subscriber.id)
    with read_only():
        for batch in db.session.execute(statement.execution_options(yield_per=BATCH)).partitions():
            # The batch is in id order: its first and last ids bound the statements of its topics
            # and consent, which the subscriber_id indexes answer, and which never read a row
            # twice over the whole export however sparse the filters' matches are.
            span = (batch[0].id, batch[-1].id)
            follows, consents = _follows(filters, span), _consents(filters, span)
            for row in batch:
                yield _row(row, follows.get(row.id, []), consents.get(row.id))


def csv_chunks(rows: Iterable[Sequence[str]], *, rows_per_chunk: int = BATCH) -> Iterator[str]:
    """The CSV text of HEADER and `rows`, `rows_per_chunk` rows at a time: a UTF-8 byte order
    mark first (Excel then reads the encoding right), every field quoted and neutralised
    (see `neutralise_formula`), CRLF line endings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    buffer.write(BYTE_ORDER_MARK)
    writer.writerow(HEADER)
    for number, row in enumerate(rows, start=1):
        writer.writerow([neutralise_formula(cell) for cell in row])
        if number % rows_per_chunk == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _row(
    row: Row[*tuple[Any, ...]],
    follows: list[tuple[str, Frequency]],
    consent: tuple[str, str] | None,
) -> list[str]:
    """One subscriber's CSV row."""
    source, consent_date = consent or _signed_up(row.confirmed_at)
    # Each topic has its own frequency; the service sets one for all, so this is one value.
    frequencies = {frequency for _, frequency in follows}
    return [
        row.email,
        ";".join(slug for slug, _ in follows),
        ";".join(frequency.value for frequency in Frequency if frequency in frequencies),
        source,
        consent_date,
        row.status.value,
        _instant(row.created_at),
        _instant(row.confirmed_at),
        _instant(row.unsubscribed_at),
        row.language,
    ]


def _exported(statement: Statement, filters: Filters) -> Statement:
    """`statement` narrowed to the subscribers an export of `filters` has."""
    return matching(statement, filters).where(Subscriber.status != SubscriberStatus.ERASED)


def _follows(filters: Filters, span: tuple[int, int]) -> dict[int, list[tuple[str, Frequency]]]:
    """The topic slugs (in display order) and frequencies each exported subscriber with an id
    in `span` follows."""
    statement = (
        select(Subscription.subscriber_id, Topic.slug, Subscription.frequency)
        .join(Topic, Topic.id == Subscription.topic_id)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        # The span on both tables: PostgreSQL carries equalities across a join, not ranges.
        .where(Subscription.subscriber_id.between(*span), Subscriber.id.between(*span))
        .order_by(Subscription.subscriber_id, Topic.position, Topic.id)
    )
    found: dict[int, list[tuple[str, Frequency]]] = defaultdict(list)
    for subscriber_id, slug, frequency in db.session.execute(_exported(statement, filters)):
        found[subscriber_id].append((slug, frequency))
    return found


def _consents(filters: Filters, span: tuple[int, int]) -> dict[int, tuple[str, str]]:
    """The consent source and date of each exported subscriber with an id in `span` who has
    them: those of their latest import if the list gave them, else the date of their latest
    confirmation."""
    statement = (
        select(
            ConsentEvent.subscriber_id, ConsentEvent.action, ConsentEvent.at, ConsentEvent.detail
        )
        .join(Subscriber, Subscriber.id == ConsentEvent.subscriber_id)
        .where(
            ConsentEvent.subscriber_id.between(*span),
            Subscriber.id.between(*span),
            ConsentEvent.action.in_((ConsentAction.IMPORTED, ConsentAction.CONFIRMED)),
        )
        .order_by(ConsentEvent.at, ConsentEvent.id)
    )
    imported: dict[int, tuple[str, str]] = {}
    confirmed: dict[int, tuple[str, str]] = {}
    for subscriber_id, action, at, detail in db.session.execute(_exported(statement, filters)):
        if action is ConsentAction.CONFIRMED:
            confirmed[subscriber_id] = (SIGN_UP_FORM, _date(at))
        elif consent := _imported(detail):
            imported[subscriber_id] = consent
    return {**confirmed, **imported}


def _imported(detail: dict[str, Any] | None) -> tuple[str, str] | None:
    """The consent source and date an import recorded; None if the list gave neither."""
    source, given = ((detail or {}).get(key) or "" for key in ("source", "consent_date"))
    return (str(source), str(given)) if source or given else None


def _signed_up(confirmed_at: datetime | None) -> tuple[str, str]:
    """The consent of someone who confirmed by the sign-up form; blank if they never did
    (import-subscribers takes no consent source without a date)."""
    return (SIGN_UP_FORM, _date(confirmed_at)) if confirmed_at else ("", "")


def _date(value: datetime | None) -> str:
    return value.date().isoformat() if value else ""


def _instant(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _drain(buffer: io.StringIO) -> str:
    """What `buffer` holds, leaving it empty."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text

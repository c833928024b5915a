"""Writing the accepted rows of a subscriber list: many rows per statement, never an ORM
object per row."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from typing import TypeVar
from typing import cast

from sqlalchemy import JSON
from sqlalchemy import Dialect
from sqlalchemy import Insert
from sqlalchemy import Select
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import column
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mailer.clock import as_utc
from mailer.database import on_postgresql
from mailer.domain.imports.rows import Candidate
from mailer.domain.imports.rows import Reason
from mailer.domain.imports.rows import Rejection
from mailer.extensions import Base
from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Subscription

WORDING_VERSION = "import"

InsertT = TypeVar("InsertT", bound=Insert)


def write_chunk(
    candidates: list[Candidate], topic_ids: dict[str, int], *, now: datetime, import_id: int | None
) -> list[Rejection]:
    """Add the subscribers of a chunk of rows, with their subscriptions, consent events and,
    for those without a consent source, a queued confirmation email; return the rows whose
    address someone's sign-up took meanwhile. Core statements only, nothing to flush."""
    ids = _insert_subscribers(candidates, now=now)
    added = [candidate for candidate in candidates if candidate.key in ids]
    subscriptions = [
        {"subscriber_id": ids[c.key], "topic_id": topic_ids[slug], "frequency": c.frequency}
        for c in added
        for slug in c.topics
    ]
    _insert(Subscription, subscriptions, created_at=now)
    events = [{"subscriber_id": ids[c.key], "detail": _detail(c, import_id)} for c in added]
    _insert(ConsentEvent, events, **_consent_constants(now))
    confirmations = [{"subscriber_id": ids[c.key]} for c in added if not c.source]
    _insert(Delivery, confirmations, **_confirmation_constants(now))
    return [
        candidate.reject(Reason.EXISTING, "already a subscriber (signed up during the import)")
        for candidate in candidates
        if candidate.key not in ids
    ]


def _insert_subscribers(candidates: list[Candidate], *, now: datetime) -> dict[str, int]:
    """Insert the subscribers, skipping addresses that have one by now; return their ids."""
    table = _table(Subscriber)
    rows: list[dict[str, Any]] = [
        {
            "email": candidate.email,
            "email_key": candidate.key,
            "status": SubscriberStatus.ACTIVE if candidate.source else SubscriberStatus.PENDING,
            "confirmed_at": candidate.confirmed_at,
            "language": candidate.language,
        }
        for candidate in candidates
    ]
    constants: dict[str, Any] = {
        "token_version": 1,
        "generation": 0,
        "created_at": now,
        "updated_at": now,
    }
    dialect_insert = pg_insert if on_postgresql() else sqlite_insert
    statement = dialect_insert(table).from_select(
        [*rows[0], *constants], _rows_select(table, rows, constants)
    )
    # A subscriber who signed up since the check keeps their own sign-up; the row is skipped.
    skipping = statement.on_conflict_do_nothing(index_elements=["email_key"])
    found = db.session.execute(skipping.returning(table.c.email_key, table.c.id))
    return dict(found.all())


def _insert(model: type[Base], rows: list[dict[str, Any]], **constants: Any) -> None:
    """Insert many rows of `model`, each with the `constants` too; no rows is fine."""
    if rows:
        table = _table(model)
        chosen = _rows_select(table, rows, constants)
        db.session.execute(insert(table).from_select([*rows[0], *constants], chosen))


def _rows_select(
    table: Table, rows: list[dict[str, Any]], constants: dict[str, Any]
) -> Select[Any]:
    """SELECT the `rows`, sent as one JSON document that the database takes apart
    (json_to_recordset or json_each), followed by the `constants`.

    One statement and one parameter for a thousand rows: executemany costs SQLAlchemy and
    psycopg work on every row, and psycopg sends the rows one at a time; this is several
    times faster on both databases.
    """
    names = list(rows[0])
    fixed = [bindparam(None, value, type_=table.c[name].type) for name, value in constants.items()]
    if on_postgresql():
        document = bindparam(None, json.dumps(rows, default=_iso), type_=String).cast(JSON)
        types = (column(name, table.c[name].type) for name in names)
        records = (
            func.json_to_recordset(document).table_valued(*types).render_derived(with_types=True)
        )
        return select(*records.c, *fixed)
    dialect = db.session.get_bind().dialect
    stored = bindparam(None, json.dumps(_as_stored(table, rows, dialect)), type_=String)
    each = func.json_each(stored).table_valued("value")
    values = [func.json_extract(each.c.value, f"$.{name}") for name in names]
    # WHERE true: SQLite would read the ON of ON CONFLICT as a join condition without it.
    return select(*values, *fixed).where(true())


def _as_stored(table: Table, rows: list[dict[str, Any]], dialect: Dialect) -> list[dict[str, Any]]:
    """The rows as SQLAlchemy would store them (JSON as text, timestamps in SQLite's format,
    enums by value), since SQLite copies them from the document as they are."""
    processors = {
        name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in rows[0]
    }
    active = {name: process for name, process in processors.items() if process is not None}
    return [
        {**row, **{name: process(row[name]) for name, process in active.items()}} for row in rows
    ]


def _iso(value: object) -> str:
    """Timestamps in the rows' JSON, as PostgreSQL reads them."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in an import row")


def _table(model: type[Base]) -> Table:
    """The table of a model: Core statements on it skip the ORM's per-row bookkeeping."""
    return cast(Table, model.__table__)


def _detail(candidate: Candidate, import_id: int | None) -> dict[str, Any]:
    """What the consent event of a row records: where the list says consent came from."""
    return {
        "method": "import",
        "source": candidate.source,
        "consent_date": candidate.consent_date,
        "import_id": import_id,
        "topics": list(candidate.topics),
        "frequency": candidate.frequency.value,
        "language": candidate.language,
    }


def _consent_constants(now: datetime) -> dict[str, Any]:
    """The columns every IMPORTED consent event shares: no IP address or browser to keep."""
    return {
        "action": ConsentAction.IMPORTED,
        "at": now,
        "ip": None,
        "user_agent": None,
        "wording_version": WORDING_VERSION,
    }


def _confirmation_constants(now: datetime) -> dict[str, Any]:
    """A queued confirmation email, which the worker sends as for a sign-up on the form."""
    return {
        "kind": MessageKind.INVITE,
        "run_id": None,
        "status": DeliveryStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }

"""Database wiring: bind SQLAlchemy and Alembic, make SQLite safe for several threads."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any
from typing import TypeVar
from typing import cast

from flask import Flask
from sqlalchemy import ColumnElement
from sqlalchemy import Connection
from sqlalchemy import Integer
from sqlalchemy import Result
from sqlalchemy import String
from sqlalchemy import any_
from sqlalchemy import bindparam
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from mailer.extensions import db
from mailer.extensions import migrate
from mailer.paths import MIGRATIONS

# Execution option of a connection whose transaction only reads.
READ_ONLY = "mailer_read_only"

logger = logging.getLogger(__name__)

T = TypeVar("T")


def init_app(app: Flask) -> None:
    """Bind the database and migrations; on SQLite, use WAL and immediate transactions."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_connect)
            event.listen(db.engine, "begin", _sqlite_begin)


def _sqlite_connect(dbapi_connection: sqlite3.Connection, record: Any) -> None:
    """Let SQLAlchemy issue BEGIN itself, wait for locks, enforce foreign keys."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Take the write lock at BEGIN: a deferred transaction that later writes can fail at once
    with "database is locked" when another thread wrote in between. A read-only transaction
    (see `read_only`) takes no lock, so a long read never holds up a writer."""
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def read_only() -> Iterator[None]:
    """Run the block in a transaction that only reads: on SQLite it reads a snapshot without
    the write lock, so a long read (a download, a dry run) never holds up a writer. The
    session's current transaction, which must hold only reads, ends first."""
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read-only transaction cannot start with changes unsaved")
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={READ_ONLY: True})
    try:
        yield
    finally:
        session.rollback()


def again_if_disconnected(
    work: Callable[[], T], *, what: str, before_again: Callable[[], None] = lambda: None
) -> T:
    """Run `work`; if the database dropped the connection meanwhile (a restart, a failover),
    roll back, call `before_again` and run it once more on a new connection. Only for work that
    may be done twice: a read, or writes committed together at its end."""
    try:
        return work()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        logger.warning("database connection lost while %s; %s again", what, what)
        db.session.rollback()
        before_again()
        return work()


@contextmanager
def transaction() -> Iterator[None]:
    """Commit the work of the block, or roll it all back on any error."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def on_postgresql() -> bool:
    """Whether the session talks to PostgreSQL (else SQLite), for the statements the two
    dialects write differently."""
    return db.session.get_bind().dialect.name == "postgresql"


def among(column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids`, with the ids as one bound value: the statement's text is the same for
    any number of ids, so SQLAlchemy compiles it once and the driver parses it once. (An IN
    list of a chunk's 250 ids is rendered and parsed anew for each statement, which cost the
    worker more than the statement itself.) PostgreSQL: `= ANY(array)`; SQLite: `IN (SELECT
    value FROM json_each(...))`, which it answers by looking each id up in the primary key."""
    values = [int(value) for value in ids]
    if on_postgresql():
        return cast(ColumnElement[bool], column == any_(bindparam(None, values, ARRAY(Integer))))
    listed = func.json_each(bindparam(None, json.dumps(values), String)).table_valued("value")
    return cast(ColumnElement[bool], column.in_(select(listed.c.value)))


def row_count(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE touched; 0 when the driver does not say."""
    return int(getattr(result, "rowcount", 0) or 0)


def dialect_insert(table: Any) -> Any:
    """The dialect's own INSERT into `table`, which can say ON CONFLICT DO NOTHING."""
    return (pg_insert if on_postgresql() else sqlite_insert)(table)


def escape_like(text: str) -> str:
    """`text` with LIKE's wildcards escaped (use with escape="\\"), so it matches only itself."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

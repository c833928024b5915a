"""Fixtures: the app on SQLite or PostgreSQL (--db), a real SMTP sink, a logged-in admin;
the helpers the tests share are in tests/helpers.py."""

from __future__ import annotations

import os
import re
import smtplib
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy import make_url
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from config import TestingConfig
from mailer.app import create_app
from mailer.domain.topics import seed_topics
from mailer.extensions import db
from mailer.models import StaffRole
from tests import TODAY
from tests.helpers import ADMIN
from tests.helpers import ALLOWED_SMTP_PORTS
from tests.helpers import logged_in
from tests.smtp_sink import SinkHandler
from tests.smtp_sink import SmtpServer

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="database to run the suite on (postgres: MAILER_TEST_POSTGRES_URL)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {config.getoption('--db')}"


def _postgres_url() -> str:
    url = os.environ.get("MAILER_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


@contextmanager
def _private_postgres_database(url: str) -> Iterator[str]:
    """Create a database of our own on the server of `url`, so that runs never collide.

    Fails the run loudly if PostgreSQL is not there: the PostgreSQL pass must not be skipped.
    """
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"mailer_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        raise pytest.UsageError(f"PostgreSQL is not reachable at {url}: {error}") from None
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session")
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database of this run's own."""
    from flask_migrate import upgrade

    with ExitStack() as stack:
        if request.config.getoption("--db") == "postgres":
            url = stack.enter_context(_private_postgres_database(_postgres_url()))
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        app = create_app(TestingConfig, {"DATABASE_URL": url})
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield url


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(SinkHandler()).start()
    ALLOWED_SMTP_PORTS.add(server.port)
    yield server
    server.stop()


@pytest.fixture
def smtpd(smtp_server: SmtpServer) -> SinkHandler:
    """The SMTP sink, emptied and with no scripted replies."""
    smtp_server.handler.reset()
    return smtp_server.handler


@pytest.fixture(autouse=True)
def no_stray_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any SMTP connection to a server the test did not start."""
    original = smtplib.SMTP.connect

    def guarded(
        self: smtplib.SMTP, host: str = "localhost", port: int = 0, source_address: Any = None
    ) -> Any:
        if port not in ALLOWED_SMTP_PORTS:
            pytest.fail(f"SMTP connection to {host}:{port}, which no test fixture started")
        return original(self, host, port, source_address)

    monkeypatch.setattr(smtplib.SMTP, "connect", guarded)


def _empty_tables() -> None:
    """Delete every row and start the ids again from 1. On PostgreSQL, DELETE and setval cost
    a fraction of a millisecond on a table a test hardly filled; TRUNCATE costs ~5 ms a table
    whatever it holds, a quarter of a second a test."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
            )
        )
    db.session.commit()


@pytest.fixture
def app_settings(database_url: str, smtp_server: SmtpServer, tmp_path: Path) -> dict[str, Any]:
    """Overrides for the test app; tests may change them before `app` is built."""
    return {
        "DATABASE_URL": database_url,
        "SMTP_PORT": smtp_server.port,
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "WORKER_POLL_SECONDS": 0.05,
    }


@pytest.fixture
def app(app_settings: dict[str, Any]) -> Iterator[Flask]:
    """The app on the test database, with the demo topics and nothing else."""
    app = create_app(TestingConfig, app_settings)
    with app.app_context():
        _empty_tables()
        seed_topics()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    """The browser of a logged-in admin, ADMIN, whose account was made on TODAY."""
    return logged_in(app, client, ADMIN, StaffRole.ADMIN, now=TODAY)

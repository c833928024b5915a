"""Fixtures: the app on SQLite or PostgreSQL (--db), a real SMTP sink, a logged-in admin, and
helpers."""

from __future__ import annotations

import os
import re
import smtplib
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from contextlib import contextmanager
from datetime import datetime
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
from mailer.delivery.worker import WorkerStats
from mailer.delivery.worker import worker_from_config
from mailer.domain import staff as accounts
from mailer.domain.topics import seed_topics
from mailer.extensions import db
from mailer.models import StaffRole
from tests import TODAY
from tests.smtp_sink import SinkHandler
from tests.smtp_sink import SmtpServer

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "correct horse battery staple"
ADMIN = "admin@example.gov.uk"
EDITOR = "editor@example.gov.uk"

# SMTP ports the tests started themselves; any other connection is a forgotten fixture.
ALLOWED_SMTP_PORTS: set[int] = set()


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
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(table.name for table in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
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


def csrf_token(client: FlaskClient, url: str) -> str:
    """Fetch a form page and return its CSRF token."""
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def make_staff(app: Flask, email: str, role: StaffRole, *, now: datetime) -> None:
    """Add a staff account with PASSWORD, made at `now`."""
    with app.app_context():
        accounts.create_staff(email, PASSWORD, role=role, actor="test", now=now)
        db.session.commit()


def login(
    client: FlaskClient, email: str, password: str = PASSWORD, next_path: str | None = None
) -> Any:
    """Submit the staff login form."""
    url = "/staff/login" + (f"?next={next_path}" if next_path else "")
    return client.post(
        url,
        data={
            "csrf_token": csrf_token(client, "/staff/login"),
            "email": email,
            "password": password,
        },
    )


def logged_in(
    app: Flask, client: FlaskClient, email: str, role: StaffRole, *, now: datetime
) -> FlaskClient:
    """Add a staff account made at `now` and log `client` in with it; return `client`."""
    make_staff(app, email, role, now=now)
    login(client, email)
    return client


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    """The browser of a logged-in admin, ADMIN, whose account was made on TODAY."""
    return logged_in(app, client, ADMIN, StaffRole.ADMIN, now=TODAY)


def send_queued(app: Flask, *, now: datetime | None = None) -> WorkerStats:
    """Run a worker until nothing is due at `now`; without it the worker reads the clock, as
    in production, which is right only for mail that a request or command queued just now."""
    with app.app_context():
        overrides = {"now": lambda: now} if now else {}
        return worker_from_config(app.config, **overrides).run_once()


def link(text: str, path: str) -> str:
    """Return the path of the first link in `text` that starts with `path` on the base URL."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s\"<>]*)", text)
    assert match, f"no {path} link in:\n{text}"
    return match.group(1)


def subscribe(
    client: FlaskClient,
    email: str = "alex@example.com",
    *,
    topics: tuple[str, ...] = ("funding", "events"),
    frequency: str = "daily",
    **request_options: Any,
) -> Any:
    """Submit the sign-up form as a browser would; options go to the test client."""
    data: dict[str, Any] = {
        "csrf_token": csrf_token(client, "/subscribe"),
        "email": email,
        "topics": list(topics),
        "frequency": frequency,
    }
    return client.post("/subscribe", data=data, **request_options)


def at_once(action: Any, times: int = 2) -> list[Any]:
    """Run `action(start)` in `times` threads; each calls start() when ready to race."""
    barrier = threading.Barrier(times)
    results: list[Any] = []

    def run() -> None:
        results.append(action(lambda: barrier.wait(timeout=10)))

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results

"""Helpers the tests share: staff accounts and logins, forms, the worker, links, races."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from mailer.delivery.settings import WorkerStats
from mailer.delivery.worker import worker_from_config
from mailer.domain import recount
from mailer.domain import staff as accounts
from mailer.extensions import db
from mailer.models import StaffRole

PASSWORD = "correct horse battery staple"


ADMIN = "admin@example.gov.uk"


EDITOR = "editor@example.gov.uk"


# SMTP ports the tests started themselves; any other connection is a forgotten fixture.
ALLOWED_SMTP_PORTS: set[int] = set()


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


def when_fields(day: Any, time: str) -> dict[str, str]:
    """The publish or send form's "Schedule" choice for `day` (a date or "YYYY-MM-DD")."""
    year, month, date_of_month = str(day)[:10].split("-")
    return {
        "when": "later",
        "date-day": str(int(date_of_month)),
        "date-month": str(int(month)),
        "date-year": year,
        "time": time,
    }


def count_again() -> None:
    """Put the counts staff pages read in line with deliveries a test wrote itself, bypassing
    the code that records outcomes (and counts them as it goes)."""
    recount.recount(fix=True)
    db.session.commit()

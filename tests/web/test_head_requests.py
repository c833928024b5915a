"""Only POST changes anything: a HEAD request with a form body is a GET, whoever sends it.

Werkzeug lets HEAD into every route that takes GET, and neither CSRF protection nor the rate
limits look at it, so a view that took "not GET" for "POST" did a POST's work unchecked.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from mailer import clock
from mailer.domain import bulletins
from mailer.domain import deliverability
from mailer.domain.directory.listing import csp_by_code
from mailer.domain.directory.suggestions import add_suggestion
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import StaffRole
from mailer.models import StaffUser
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.tokens import Purpose
from mailer.tokens import subscriber_token
from tests.factories import add_readers
from tests.factories import load_directory
from tests.factories import make_subscriber
from tests.factories import publish_news
from tests.helpers import ADMIN
from tests.helpers import PASSWORD
from tests.helpers import logged_in
from tests.helpers import login
from tests.helpers import make_staff
from tests.practice_factories import make_case_study

READER = "reader@example.org"


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    rows = {}
    for table in db.metadata.sorted_tables:
        found = db.session.execute(select(table)).all()
        rows[table.name] = sorted((tuple(map(repr, row)) for row in found), key=repr)
    db.session.rollback()
    return rows


def _form() -> dict[str, Any]:
    """A body each GET-and-POST form would act on if it were posted (no CSRF token)."""
    return {
        "email": READER,
        "password": PASSWORD,
        "topics": ["funding", "events"],
        "frequency": "weekly",
        "title": "Changed by a HEAD request",
        "summary": "Changed by a HEAD request.",
        "body": "Changed by a HEAD request.",
        "reason": "Asked by HEAD",
        "name": "head key",
        "role": "editor",
        "note": "head",
        "problem": "Changed by a HEAD request",
        "correction": "Changed by a HEAD request",
        "phone": "020 7946 0000",
        "decision": "approve",
    }


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """A reader, a news item and a suppression entry, and the URL values that name them."""
    now = clock.now()
    with app.app_context():
        [reader_id] = add_readers(1, follows={"funding": Frequency.DAILY}, now=now)
        reader = db.session.get(Subscriber, reader_id)
        assert reader is not None
        reader.email = reader.email_key = READER
        item = publish_news("Already published", at=now)
        make_subscriber(email="suppressed@example.org", now=now)
        deliverability.suppress_by_hand(
            "suppressed@example.org", note="test", actor="test", now=now
        )
        db.session.flush()
        entry = deliverability.suppression_page(page=1, per_page=1).items[0]
        content = bulletins.validate(
            subject="Winter bulletin",
            body="",
            everyone=True,
            topic_slugs=[],
            item_ids=[],
            public=True,
        )
        bulletin = bulletins.create(content, actor="test", now=now)
        load_directory(now=now)
        csp = csp_by_code("E22000187")
        suggestion = add_suggestion(csp, "Wrong", "Right", "", now=now)
        case_study = make_case_study("Synthetic example: head", now=now)
        db.session.flush()
        values = {
            "bulletin_id": bulletin.id,
            "code": csp.code,
            "suggestion_id": suggestion.id,
            "token": subscriber_token(Purpose.MANAGE, reader),
            "item_id": item.id,
            "subscriber_id": reader.id,
            "suppression_id": entry.id,
            "slug": "funding",
            "case_study_id": case_study.id,
            "task_key": "problem",
        }
        db.session.commit()
    return values


def _get_and_post_rules(app: Flask) -> list[Any]:
    """The rules (by path) that answer both GET and POST."""
    methods: dict[str, set[str]] = {}
    rules: dict[str, Any] = {}
    for rule in app.url_map.iter_rules():
        methods.setdefault(rule.rule, set()).update(rule.methods or ())
        rules.setdefault(rule.rule, rule)
    return [rules[path] for path, found in sorted(methods.items()) if {"GET", "POST"} <= found]


def test_no_route_that_takes_get_and_post_changes_anything_on_head(app, client, world):
    now = clock.now()
    logged_in(app, client, ADMIN, StaffRole.ADMIN, now=now)
    rules = _get_and_post_rules(app)
    paths = {rule.rule for rule in rules}
    assert {"/subscribe", "/staff/login", "/staff/subscribers/<int:subscriber_id>/erase"} <= paths
    changed = []
    for rule in rules:
        unknown = set(rule.arguments) - set(world)
        assert not unknown, f"give the test a value for {unknown} of {rule.rule}"
        with app.test_request_context():
            url = app.url_map.bind("localhost").build(
                rule.endpoint, {name: world[name] for name in rule.arguments}
            )
        with app.app_context():
            before = _snapshot()
        response = client.open(url, method="HEAD", data=_form())
        with app.app_context():
            after = _snapshot()
        assert response.status_code < 500, url
        if before != after:
            tables = sorted(name for name in before if before[name] != after[name])
            changed.append(f"{url}: {', '.join(tables)}")
    assert not changed, "HEAD changed the database:\n" + "\n".join(changed)


def test_a_head_request_with_a_sign_up_form_signs_nobody_up(app, client, smtpd):
    response = client.open(
        "/subscribe",
        method="HEAD",
        data={"email": "someone@example.com", "topics": ["funding"], "frequency": "daily"},
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalars(select(Subscriber)).all() == []


def test_head_logins_are_no_logins_and_use_up_no_attempts(app, client):
    make_staff(app, ADMIN, StaffRole.ADMIN, now=clock.now())
    # More guesses than the login rate limit (20 a minute) and the lock-out (5) allow.
    for guess in range(25):
        response = client.open(
            "/staff/login", method="HEAD", data={"email": ADMIN, "password": f"guess {guess}"}
        )
        assert response.status_code == 200
    response = client.open(
        "/staff/login", method="HEAD", data={"email": ADMIN, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert client.get("/staff/").status_code == 302
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == ADMIN))
        assert user is not None
        assert (user.failed_logins, user.locked_until, user.last_login_at) == (0, None, None)
    assert login(client, ADMIN).status_code == 302
    assert client.get("/staff/").status_code == 200


def test_a_head_request_with_an_erase_form_erases_nobody(app, client, world):
    logged_in(app, client, ADMIN, StaffRole.ADMIN, now=clock.now())
    url = f"/staff/subscribers/{world['subscriber_id']}/erase"
    response = client.open(url, method="HEAD", data={"reason": "Asked by HEAD"})
    assert response.status_code == 200
    with app.app_context():
        reader = db.session.get(Subscriber, world["subscriber_id"])
        assert reader is not None
        assert (reader.status, reader.email) == (SubscriberStatus.ACTIVE, READER)

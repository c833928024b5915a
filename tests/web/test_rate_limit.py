"""The per-IP limit on sign-ups, with a small limit so the test stays short."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import Subscriber
from tests.helpers import subscribe


@pytest.fixture
def app_settings(app_settings):
    app_settings["SUBSCRIBE_RATE_LIMIT"] = "4 per hour"
    return app_settings


def test_one_ip_is_limited_but_another_is_not(app, client):
    for number in range(4):
        assert subscribe(client, f"person{number}@example.com").status_code == 302
    refused = subscribe(client, "person5@example.com")
    assert refused.status_code == 429
    assert "Too many requests" in refused.get_data(as_text=True)
    other_office = subscribe(
        client, "person6@example.com", environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert other_office.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 5

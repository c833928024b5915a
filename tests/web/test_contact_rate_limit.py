"""Sending messages through the contact form is limited per client IP."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import ContactMessage
from tests.helpers import csrf_token


@pytest.fixture
def app_settings(app_settings):
    app_settings["CONTACT_RATE_LIMIT"] = "3 per hour"
    return app_settings


def test_one_ip_is_limited_with_a_clear_page_but_another_is_not(app, client):
    data = {
        "csrf_token": csrf_token(client, "/contact"),
        "name": "Sam Patel",
        "email": "sam@example.org",
        "subject": "other",
        "message": "Hello",
    }
    for _ in range(3):
        assert client.post("/contact", data=data).status_code == 302
    refused = client.post("/contact", data=data)
    assert refused.status_code == 429
    assert "Too many requests" in refused.get_data(as_text=True)
    # Reading the form is not limited.
    assert client.get("/contact").status_code == 200
    other = client.post("/contact", data=data, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContactMessage)) == 4

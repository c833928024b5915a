"""Asking for a case study link is limited per client IP, like sign-ups."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import CaseStudy
from tests.helpers import csrf_token


@pytest.fixture
def app_settings(app_settings):
    app_settings["SUBSCRIBE_RATE_LIMIT"] = "3 per hour"
    return app_settings


@pytest.mark.parametrize("path", ["email", "new-link"])
def test_one_ip_is_limited_but_another_is_not(app, client, path):
    url = f"/effective-practice/submit/{path}"
    data = {"csrf_token": csrf_token(client, url), "email": "sam@example.com"}
    for _ in range(3):
        assert client.post(url, data=data).status_code == 302
    refused = client.post(url, data=data)
    assert refused.status_code == 429
    assert "Too many requests" in refused.get_data(as_text=True)
    other = client.post(url, data=data, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 302
    with app.app_context():
        started = db.session.scalar(select(func.count()).select_from(CaseStudy))
        assert started == (4 if path == "email" else 0)

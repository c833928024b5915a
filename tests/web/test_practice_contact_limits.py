"""Messages to a case study's contact are limited per client IP and per case study."""

from __future__ import annotations

import pytest

from mailer.extensions import db
from tests import TODAY
from tests.helpers import csrf_token
from tests.practice_factories import make_case_study

URL = "/effective-practice/synthetic-example-bins/contact"


@pytest.fixture
def app_settings(app_settings):
    app_settings["ENQUIRY_RATE_LIMIT"] = "2 per hour"
    app_settings["ENQUIRY_CASE_STUDY_RATE_LIMIT"] = "3 per day"
    return app_settings


def _post(client, address: str):
    data = {
        "csrf_token": csrf_token(client, URL),
        "name": "Sam",
        "email": "sam@example.org",
        "message": "Hello",
    }
    return client.post(URL, data=data, environ_base={"REMOTE_ADDR": address})


def test_one_ip_is_limited_and_so_is_one_case_study(app, client):
    with app.app_context():
        make_case_study("Synthetic example: bins", now=TODAY)
        db.session.commit()
    assert [_post(client, "192.0.2.1").status_code for _ in range(3)] == [302, 302, 429]
    # Another address may still write, until the case study has had its share.
    assert _post(client, "192.0.2.2").status_code == 302
    assert _post(client, "192.0.2.3").status_code == 429

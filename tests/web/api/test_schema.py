"""The OpenAPI document against the API itself: schemathesis drives the app through WSGI."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings
from schemathesis.checks import positive_data_acceptance

from config import TestingConfig
from mailer import clock
from mailer.database import transaction
from mailer.domain import bulletins
from mailer.domain import news
from mailer.domain import staff
from mailer.domain.subscriptions import parse_topics
from mailer.domain.topics import DEMO_TOPICS
from mailer.extensions import db
from mailer.web.api.openapi import build_document
from tests.factories import load_directory
from tests.practice_factories import make_case_study


class Target:
    """The app and API key of the running test; the schema is made before either exists."""

    def __init__(self):
        self.app = None
        self.key = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


# The document the test app serves, with the topics every test starts with. It is loaded with
# the module, to make one test per operation, before any fixture has built an app.
DOCUMENT = build_document(base_url=TestingConfig.BASE_URL, topic_slugs=[t[0] for t in DEMO_TOPICS])
target = Target()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = target
schema.config.update(base_url=TestingConfig.BASE_URL)


# Some cases are made when the module is collected, before there is a key; they carry this
# stand-in, which each test swaps for its real key. Cases that drop or spoil the credentials on
# purpose no longer carry it, and are sent as they are.
STAND_IN = "Bearer key-of-the-running-test"


@schema.auth()
class BearerKey:
    """Send a key the way the document says: as a bearer token."""

    def get(self, case, context):
        return STAND_IN

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": data}


@pytest.fixture
def api(app):
    """Point the schema at this test's app, with a key, one item in each state (ids 1-4) and a
    draft bulletin featuring the published one (id 1)."""
    with app.app_context(), transaction():
        made = staff.create_api_key("schemathesis", created_by=None, actor="test", now=clock.now())
        topics = parse_topics(["funding"])
        for title in ("Draft", "Published", "Scheduled", "Withdrawn"):
            now = clock.now()
            item = news.create_item(
                news.Draft(title, "A summary", "*Hi*", topics), actor="t", now=now
            )
            if title != "Draft":
                at = now.replace(year=2100) if title == "Scheduled" else None
                news.publish_item(item, actor="test", now=now, at=at)
            if title == "Withdrawn":
                news.withdraw_item(item, reason="The round closed early", actor="test", now=now)
        content = bulletins.validate(
            subject="Winter bulletin",
            body="Dear partners,",
            everyone=False,
            topic_slugs=["funding"],
            item_ids=[2],
            public=True,
        )
        bulletins.create(content, actor="test", now=clock.now())
    with app.app_context():
        load_directory(now=clock.now())
        make_case_study("Synthetic example: schema", now=clock.now(), csp_code="E22000187")
        db.session.commit()
    target.app, target.key = app, made.plaintext
    yield target
    target.app = target.key = None


@pytest.fixture
def requests_sent():
    """Count the requests made for one operation (by method: some probe undocumented ones)."""
    sent = Counter()
    yield sent
    assert sent["GET"] + sent["POST"] + sent["PATCH"] > 0, "the operation was never called"


def test_the_app_serves_the_document_under_test(client):
    assert client.get("/api/v1/openapi.json").get_json() == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    # One app, key and database per operation: its examples share them, as clients would.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_every_operation_answers_as_documented(case, api, requests_sent):
    if case.headers and case.headers.get("Authorization") == STAND_IN:
        case.headers["Authorization"] = f"Bearer {api.key}"
    requests_sent[case.method] += 1
    # A bulletin may feature only published news items, which no schema can say: an id the
    # document allows may still be refused (422).
    # Likewise a police force area or partnership code of the documented form may name none
    # in the directory.
    unknowable = case.operation.label == "POST /api/v1/bulletins" or _names_places(case.body)
    excluded = [positive_data_acceptance] if unknowable else []
    case.call_and_validate(excluded_checks=excluded)


def _names_places(body):
    """True when a request body names police force areas or partnerships."""
    places = body.get("applies_to") if isinstance(body, dict) else None
    return isinstance(places, dict) and bool(places.get("pfas") or places.get("csps"))

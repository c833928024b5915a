"""The JSON API as a client sees it, and what it leaves in the database."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer import clock
from mailer.database import transaction
from mailer.domain import news
from mailer.domain import staff
from mailer.extensions import db
from mailer.models import ApiKey
from mailer.models import AuditEvent
from mailer.models import Frequency
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.web.api import schema as api_schema
from tests import TODAY
from tests.factories import add_readers

NEWS = "/api/v1/news"
WITHDRAW = {"reason": "The round closed early"}
ITEM = {
    "title": "Funding round opens",
    "summary": "Bids are invited for local projects.",
    "body": "Read the **guidance** first.",
    "topics": ["funding"],
}


@pytest.fixture
def key(app):
    """A current API key: the row and its plain text."""
    with app.app_context(), transaction():
        made = staff.create_api_key("website-cms", created_by=None, actor="test", now=clock.now())
        key_id = made.key.id
    return key_id, made.plaintext


@pytest.fixture
def auth(key):
    return {"Authorization": f"Bearer {key[1]}"}


def create(client, auth, **fields):
    """POST a valid item, changed by `fields`; return the response."""
    return client.post(NEWS, json=ITEM | fields, headers=auth)


def stored_items(app):
    """(title, state) of every item in the database, oldest first."""
    with app.app_context():
        items = db.session.scalars(select(NewsItem).order_by(NewsItem.id))
        return [(item.title, item.state) for item in items]


def audit_trail(app):
    """(actor, action, target id) of every audit event about a news item, oldest first."""
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.target_type == "NewsItem").order_by(AuditEvent.id)
        )
        return [(event.actor, event.action, event.target_id) for event in events]


def error_of(response, status):
    """Check that the response is the API's JSON error with `status`; return its body."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()["error"]
    assert set(body) == {"code", "message", "fields"}
    return body


# Keys


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", NEWS),
        ("post", NEWS),
        ("get", f"{NEWS}/1"),
        ("patch", f"{NEWS}/1"),
        ("post", f"{NEWS}/1/publish"),
        ("post", f"{NEWS}/1/withdraw"),
    ],
)
def test_every_operation_asks_for_a_bearer_key(client, method, path):
    response = getattr(client, method)(path, json=ITEM)
    assert error_of(response, 401)["code"] == "missing_key"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Token cspk_abc", "bearer", "Bearer a=b"],
)
def test_credentials_that_are_not_a_bearer_key_are_refused(client, header):
    response = client.get(NEWS, headers={"Authorization": header})
    assert error_of(response, 401)["code"] == "missing_key"


def test_an_unknown_key_is_refused(client, key):
    response = client.get(NEWS, headers={"Authorization": f"Bearer {key[1]}x"})
    assert error_of(response, 401)["code"] == "invalid_key"
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_revoked_key_is_forbidden_and_not_marked_as_used(app, client, key, auth):
    with app.app_context(), transaction():
        staff.revoke_api_key(db.session.get(ApiKey, key[0]), actor="test", now=clock.now())
    response = create(client, auth)
    assert error_of(response, 403)["code"] == "revoked_key"
    assert stored_items(app) == []
    with app.app_context():
        assert db.session.get(ApiKey, key[0]).last_used_at is None


def test_each_use_of_a_key_is_recorded(app, client, key, auth):
    before = clock.now()
    assert client.get(NEWS, headers=auth).status_code == 200
    with app.app_context():
        used = db.session.get(ApiKey, key[0]).last_used_at
    assert before <= used <= clock.now()


def test_the_openapi_document_needs_no_key(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


# Creating


def test_creating_a_draft_answers_201_with_the_item_and_its_address(app, client, auth):
    response = create(client, auth, body="**Bold** <script>alert(1)</script>")
    assert response.status_code == 201
    item = response.get_json()
    assert response.headers["Location"] == f"http://127.0.0.1:5000{NEWS}/{item['id']}"
    assert item["slug"] == "funding-round-opens"
    assert item["url"] == "http://127.0.0.1:5000/news/funding-round-opens"
    assert item["state"] == "draft"
    assert item["topics"] == ["funding"]
    assert item["body"] == "**Bold** <script>alert(1)</script>"
    assert "<strong>Bold</strong>" in item["body_html"]
    assert "script" not in item["body_html"]
    assert item["publish_at"] is item["published_at"] is item["withdrawn_at"] is None
    assert item["created_at"].endswith("Z")
    assert stored_items(app) == [("Funding round opens", NewsState.DRAFT)]
    assert client.get(response.headers["Location"], headers=auth).get_json() == item


def test_the_url_of_a_created_item_is_its_public_page(app, client, auth):
    app.config["BASE_URL"] = "https://news.example.gov.uk"
    item = create(client, auth).get_json()
    assert item["url"] == "https://news.example.gov.uk/news/funding-round-opens"


def test_items_with_the_same_title_get_different_slugs_and_urls(client, auth):
    first, second = create(client, auth).get_json(), create(client, auth).get_json()
    assert (first["slug"], second["slug"]) == ("funding-round-opens", "funding-round-opens-2")
    assert second["url"].endswith("/news/funding-round-opens-2")


def test_creating_with_publish_publishes_at_once(app, client, auth):
    before = clock.now()
    item = create(client, auth, publish=True).get_json()
    assert item["state"] == "published"
    assert before <= datetime.fromisoformat(item["published_at"]) <= clock.now()
    assert stored_items(app) == [("Funding round opens", NewsState.PUBLISHED)]


def test_creating_with_a_future_publish_at_schedules_the_item(app, client, auth):
    item = create(client, auth, publish=True, publish_at="2099-06-01T10:30:00+01:00").get_json()
    assert item["state"] == "scheduled"
    assert item["publish_at"] == "2099-06-01T09:30:00Z"
    assert item["published_at"] is None
    with app.app_context():
        assert news.publish_due(now=datetime(2099, 6, 1, 9, 29, tzinfo=UTC)) == 0
        assert news.publish_due(now=datetime(2099, 6, 1, 9, 30, tzinfo=UTC)) == 1
        db.session.commit()
    assert stored_items(app) == [("Funding round opens", NewsState.PUBLISHED)]


def test_creating_with_a_past_publish_at_publishes_now(client, auth):
    item = create(client, auth, publish=True, publish_at="2020-01-01T00:00:00Z").get_json()
    assert item["state"] == "published"
    assert item["publish_at"] is None


def test_creating_with_publish_false_makes_a_draft(client, auth):
    assert create(client, auth, publish=False).get_json()["state"] == "draft"


def test_a_long_body_of_escaped_non_ascii_text_is_accepted(client, auth):
    # 50,000 characters sent as \u escapes: six bytes each, far over the forms' 64 KiB.
    body = "é" * news.MAX_BODY
    raw = json.dumps(ITEM | {"body": body})
    response = client.post(NEWS, data=raw, content_type="application/json", headers=auth)
    assert response.status_code == 201
    assert response.get_json()["body"] == body


def test_creating_needs_title_summary_and_topics(app, client, auth):
    response = client.post(NEWS, json={}, headers=auth)
    assert error_of(response, 422) == {
        "code": "invalid_fields",
        "message": "Check the fields",
        "fields": {
            "title": "Enter a title",
            "summary": "Enter a summary",
            "topics": "Topics must be a list of topic slugs",
        },
    }
    assert stored_items(app) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": 7}, "title", "Title must be text"),
        ({"title": None}, "title", "Title must be text"),
        ({"title": "   "}, "title", "Enter a title"),
        ({"title": "x" * 201}, "title", "Title must be 200 characters or fewer"),
        ({"title": "x" * 200 + " "}, "title", "Title must be 200 characters or fewer"),
        ({"title": "Two\nlines"}, "title", "Title must not contain control characters"),
        ({"title": "Trailing newline\n"}, "title", "Title must not contain control characters"),
        ({"title": "Bell \x07"}, "title", "Title must not contain control characters"),
        ({"title": "Tab\tstop"}, "title", "Title must not contain control characters"),
        ({"summary": "x" * 601}, "summary", "Summary must be 600 characters or fewer"),
        ({"summary": "Del \x7f"}, "summary", "Summary must not contain control characters"),
        ({"body": "x" * 50_001}, "body", "Body must be 50,000 characters or fewer"),
        ({"body": "NUL \x00 here"}, "body", "Body must not contain NUL characters"),
        ({"body": ["a list"]}, "body", "Body must be text"),
        ({"topics": []}, "topics", "Select at least one topic"),
        ({"topics": ["no-such-topic"]}, "topics", "Select topics from the list"),
        ({"topics": ["Funding"]}, "topics", "Select topics from the list"),
        ({"topics": "funding"}, "topics", "Topics must be a list of topic slugs"),
        ({"topics": [1]}, "topics", "Topics must be a list of topic slugs"),
        ({"publish": "yes"}, "publish", "Publish must be true or false"),
        ({"publish": 1}, "publish", "Publish must be true or false"),
        ({"titel": "Typo"}, "titel", "Unknown field"),
        ({"slug": "my-slug"}, "slug", "Unknown field"),
    ],
)
def test_creating_refuses_bad_fields_and_says_which(app, client, auth, fields, field, message):
    response = create(client, auth, **fields)
    error = error_of(response, 422)
    assert error["code"] == "invalid_fields"
    assert set(error["fields"]) == {field}
    assert error["fields"][field].startswith(message)
    assert stored_items(app) == []
    assert audit_trail(app) == []


@pytest.mark.parametrize(
    ("publish_at", "message"),
    [
        ("tomorrow", "Enter publish_at as a date and time with an offset"),
        ("2099-06-01T10:30:00", "Enter publish_at as a date and time with an offset"),
        ("2099-06-01", "Enter publish_at as a date and time with an offset"),
        ("2099-06-01 10:30:00Z", "Enter publish_at as a date and time with an offset"),
        ("2099-02-30T10:30:00Z", "Enter publish_at as a date and time with an offset"),
        ("2099-06-01T25:00:00Z", "Enter publish_at as a date and time with an offset"),
        ("2099-06-01T10:30:00+01:75", "Enter publish_at as a date and time with an offset"),
        ("2099-06-01T10:30:00+24:00", "Enter publish_at as a date and time with an offset"),
        ("20990601T103000Z", "Enter publish_at as a date and time with an offset"),
        (4070908800, "Enter publish_at as a date and time with an offset"),
        ("3000-01-01T00:00:00Z", "Enter publish_at in the years 2000 to 2999"),
        ("9999-12-31T23:59:59-05:00", "Enter publish_at in the years 2000 to 2999"),
        ("0001-01-01T00:00:00+05:00", "Enter publish_at in the years 2000 to 2999"),
    ],
)
def test_creating_refuses_a_bad_publish_at(app, client, auth, publish_at, message):
    response = create(client, auth, publish=True, publish_at=publish_at)
    assert error_of(response, 422)["fields"] == {"publish_at": message + _example(message)}
    assert stored_items(app) == []


def _example(message):
    return ", like 2026-03-06T09:30:00Z" if "offset" in message else ""


def test_a_publish_at_needs_publish_true(app, client, auth):
    response = create(client, auth, publish_at="2099-06-01T10:30:00Z")
    assert error_of(response, 422)["fields"] == {
        "publish_at": "Set publish to true to schedule an item"
    }
    assert stored_items(app) == []


def test_lone_surrogates_are_refused(app, client, auth):
    raw = '{"title": "Broken \\ud800", "summary": "S", "topics": ["funding"]}'
    response = client.post(NEWS, data=raw, content_type="application/json", headers=auth)
    assert error_of(response, 422)["fields"] == {"title": "Title must be valid Unicode text"}
    assert stored_items(app) == []


def test_every_bad_field_is_reported_at_once(client, auth):
    response = create(client, auth, title="", summary=3, topics=[], publish="no", extra=1)
    assert set(error_of(response, 422)["fields"]) == {
        "title",
        "summary",
        "topics",
        "publish",
        "extra",
    }


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b'{"title": ',
        b"[1, 2]",
        b'"a string"',
        b"null",
        b'{"title": "\xff"}',
        b"[" * 100_000,
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(app, client, auth, raw):
    response = client.post(NEWS, data=raw, content_type="application/json", headers=auth)
    assert error_of(response, 400)["code"] == "invalid_json"
    assert stored_items(app) == []


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"],
)
def test_a_body_that_is_not_sent_as_json_is_415(app, client, auth, content_type):
    headers = auth | ({"Content-Type": content_type} if content_type else {})
    response = client.post(NEWS, data=json.dumps(ITEM), headers=headers)
    assert error_of(response, 415)["code"] == "unsupported_media_type"
    assert stored_items(app) == []


def test_json_with_a_charset_parameter_is_accepted(client, auth):
    headers = auth | {"Content-Type": "application/json; charset=utf-8"}
    assert client.post(NEWS, data=json.dumps(ITEM), headers=headers).status_code == 201


def test_a_body_over_one_mebibyte_is_413(app, client, auth):
    raw = json.dumps(ITEM | {"body": "x" * (1024 * 1024)})
    response = client.post(NEWS, data=raw, content_type="application/json", headers=auth)
    assert error_of(response, 413)["code"] == "request_entity_too_large"
    assert stored_items(app) == []


# Reading


def test_the_list_pages_items_most_recently_changed_first(client, auth):
    ids = [create(client, auth, title=f"Item {n}").get_json()["id"] for n in range(3)]
    first = client.get(f"{NEWS}?per_page=2", headers=auth).get_json()
    second = client.get(f"{NEWS}?per_page=2&page=2", headers=auth).get_json()
    assert [item["id"] for item in first["items"]] == [ids[2], ids[1]]
    assert [item["id"] for item in second["items"]] == [ids[0]]
    assert {k: v for k, v in first.items() if k != "items"} == {
        "page": 1,
        "per_page": 2,
        "total": 3,
        "pages": 2,
    }
    assert second["page"] == 2


def test_past_the_last_page_the_list_is_empty(client, auth):
    create(client, auth)
    page = client.get(f"{NEWS}?page=5", headers=auth).get_json()
    assert (page["items"], page["total"], page["pages"]) == ([], 1, 1)


def test_the_list_filters_by_state_and_topic(client, auth):
    draft = create(client, auth, title="Draft", topics=["events"]).get_json()
    published = create(client, auth, title="Live", topics=["funding"], publish=True).get_json()

    def titles(query):
        return [item["title"] for item in client.get(f"{NEWS}?{query}", headers=auth).json["items"]]

    assert titles("state=draft") == [draft["title"]]
    assert titles("state=published") == [published["title"]]
    assert titles("topic=events") == [draft["title"]]
    assert titles("topic=events&state=published") == []
    assert titles("state=withdrawn") == []


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("page=", "page"),
        ("page=%D9%A3", "page"),
        ("page=100001", "page"),
        ("page=99999999999999999999", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("state=live", "state"),
        ("state=", "state"),
        ("topic=no-such-topic", "topic"),
        ("topic=Funding", "topic"),
    ],
)
def test_bad_query_parameters_are_400(client, auth, query, parameter):
    response = client.get(f"{NEWS}?{query}", headers=auth)
    error = error_of(response, 400)
    assert error["code"] == "invalid_query"
    assert set(error["fields"]) == {parameter}


def test_an_item_is_found_by_its_id(client, auth):
    item = create(client, auth).get_json()
    assert client.get(f"{NEWS}/{item['id']}", headers=auth).get_json() == item


@pytest.mark.parametrize("item_id", ["999", "0", "2147483648", "99999999999999999999999"])
def test_an_unknown_id_is_404(client, auth, item_id):
    response = client.get(f"{NEWS}/{item_id}", headers=auth)
    assert error_of(response, 404)["code"] == "not_found"


# Changing


def test_patch_changes_only_the_fields_sent(app, client, auth):
    item = create(client, auth, publish=True).get_json()
    response = client.patch(
        f"{NEWS}/{item['id']}", json={"title": "Funding round extended"}, headers=auth
    )
    changed = response.get_json()
    assert response.status_code == 200
    assert changed["title"] == "Funding round extended"
    assert changed["slug"] == item["slug"]
    assert changed["url"] == item["url"]
    assert (changed["summary"], changed["body"], changed["topics"]) == (
        item["summary"],
        item["body"],
        item["topics"],
    )
    assert changed["state"] == "published"
    assert changed["updated_at"] > item["updated_at"]
    assert stored_items(app) == [("Funding round extended", NewsState.PUBLISHED)]


def test_patch_can_change_topics_and_body(client, auth):
    item = create(client, auth).get_json()
    changes = {"topics": ["events", "funding"], "body": "## New"}
    changed = client.patch(f"{NEWS}/{item['id']}", json=changes, headers=auth).get_json()
    assert changed["topics"] == ["funding", "events"]
    assert (changed["body"], changed["body_html"]) == ("## New", "<h2>New</h2>\n")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"summary": "a\nb"}, "summary"),
        ({"topics": []}, "topics"),
        ({"topics": None}, "topics"),
        ({"state": "published"}, "state"),
        ({"publish": True}, "publish"),
    ],
)
def test_patch_refuses_bad_fields_and_changes_nothing(app, client, auth, changes, field):
    item = create(client, auth).get_json()
    response = client.patch(f"{NEWS}/{item['id']}", json=changes, headers=auth)
    assert set(error_of(response, 422)["fields"]) == {field}
    assert client.get(f"{NEWS}/{item['id']}", headers=auth).get_json() == item


def test_patch_needs_a_json_object(client, auth):
    item_path = f"{NEWS}/{create(client, auth).get_json()['id']}"
    assert error_of(client.patch(item_path, data="title=x", headers=auth), 415)
    response = client.patch(item_path, data="[]", content_type="application/json", headers=auth)
    assert error_of(response, 400)["code"] == "invalid_json"


def test_a_withdrawn_item_cannot_be_patched(client, auth):
    item = create(client, auth, publish=True).get_json()
    client.post(f"{NEWS}/{item['id']}/withdraw", json=WITHDRAW, headers=auth)
    response = client.patch(f"{NEWS}/{item['id']}", json={"title": "New"}, headers=auth)
    error = error_of(response, 409)
    assert error["code"] == "state_conflict"
    assert "withdrawn" in error["message"]


def test_patching_an_unknown_item_is_404(client, auth):
    assert error_of(client.patch(f"{NEWS}/42", json={"title": "x"}, headers=auth), 404)


# Publishing and withdrawing


def test_publish_publishes_a_draft_now(client, auth):
    item = create(client, auth).get_json()
    response = client.post(f"{NEWS}/{item['id']}/publish", headers=auth)
    assert response.status_code == 200
    assert response.get_json()["state"] == "published"
    assert response.get_json()["published_at"] is not None


def test_publish_with_a_future_time_schedules_and_can_then_publish_now(client, auth):
    item = create(client, auth).get_json()
    path = f"{NEWS}/{item['id']}/publish"
    scheduled = client.post(path, json={"publish_at": "2099-01-01T09:00:00Z"}, headers=auth)
    assert scheduled.get_json()["state"] == "scheduled"
    assert scheduled.get_json()["publish_at"] == "2099-01-01T09:00:00Z"
    published = client.post(path, json={}, headers=auth).get_json()
    assert (published["state"], published["publish_at"]) == ("published", None)


def test_publishing_a_published_item_is_409(client, auth):
    item = create(client, auth, publish=True).get_json()
    response = client.post(f"{NEWS}/{item['id']}/publish", headers=auth)
    assert error_of(response, 409)["message"] == "The item is already published"


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"publish_at": "soon"}}, 422),
        ({"json": {"publish_at": "2099-01-01T09:00:00"}}, 422),
        ({"json": {"when": "2099-01-01T09:00:00Z"}}, 422),
        ({"data": "[]", "content_type": "application/json"}, 400),
        ({"data": "publish_at=2099", "content_type": "text/plain"}, 415),
    ],
)
def test_publish_refuses_a_bad_body(app, client, auth, kwargs, status):
    item = create(client, auth).get_json()
    response = client.post(f"{NEWS}/{item['id']}/publish", headers=auth, **kwargs)
    error_of(response, status)
    assert stored_items(app) == [("Funding round opens", NewsState.DRAFT)]


def test_withdraw_takes_an_item_down_and_it_can_be_published_again(client, auth):
    item = create(client, auth, publish=True).get_json()
    withdrawn = client.post(f"{NEWS}/{item['id']}/withdraw", json=WITHDRAW, headers=auth).get_json()
    assert withdrawn["state"] == "withdrawn"
    assert withdrawn["withdrawn_at"] is not None
    again = client.post(f"{NEWS}/{item['id']}/publish", headers=auth).get_json()
    assert (again["state"], again["withdrawn_at"]) == ("published", None)


@pytest.mark.parametrize("publish", [False, None])
def test_only_published_or_scheduled_items_can_be_withdrawn(client, auth, publish):
    item = create(client, auth).get_json()
    if publish is None:
        client.post(f"{NEWS}/{item['id']}/publish", headers=auth)
        client.post(f"{NEWS}/{item['id']}/withdraw", json=WITHDRAW, headers=auth)
    response = client.post(f"{NEWS}/{item['id']}/withdraw", json=WITHDRAW, headers=auth)
    assert error_of(response, 409)["code"] == "state_conflict"


def test_a_scheduled_item_can_be_withdrawn(client, auth):
    item = create(client, auth, publish=True, publish_at="2099-01-01T00:00:00Z").get_json()
    response = client.post(f"{NEWS}/{item['id']}/withdraw", json=WITHDRAW, headers=auth)
    assert response.get_json()["state"] == "withdrawn"


def test_every_change_is_audited_under_the_key(app, client, key, auth):
    actor = f"api:{key[0]} website-cms"
    item_id = create(client, auth, publish=True).get_json()["id"]
    client.patch(f"{NEWS}/{item_id}", json={"summary": "Changed"}, headers=auth)
    client.post(f"{NEWS}/{item_id}/withdraw", json=WITHDRAW, headers=auth)
    client.post(
        f"{NEWS}/{item_id}/publish", json={"publish_at": "2099-01-01T00:00:00Z"}, headers=auth
    )
    client.get(f"{NEWS}/{item_id}", headers=auth)
    client.get(NEWS, headers=auth)
    client.patch(f"{NEWS}/{item_id}", json={"title": ""}, headers=auth)
    assert audit_trail(app) == [
        (actor, "created", item_id),
        (actor, "published", item_id),
        (actor, "edited", item_id),
        (actor, "withdrew", item_id),
        (actor, "scheduled", item_id),
    ]


# Errors


def test_unknown_paths_and_methods_under_the_api_answer_json(client, auth):
    assert error_of(client.get("/api/v1/nothing-here", headers=auth), 404)["code"] == "not_found"
    assert error_of(client.get("/api/v2/news"), 404)["code"] == "not_found"
    assert error_of(client.get(f"{NEWS}/abc", headers=auth), 404)["code"] == "not_found"
    response = client.delete(NEWS, headers=auth)
    assert error_of(response, 405)["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_pages_outside_the_api_still_get_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_an_unexpected_error_is_a_json_500_and_is_logged(client, auth, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(news, "items_page", broken)
    response = client.get(NEWS, headers=auth)
    assert error_of(response, 500)["code"] == "internal_error"
    assert "database on fire" not in response.get_data(as_text=True)
    assert "unhandled error on GET /api/v1/news" in caplog.text


def test_api_answers_are_not_cached(client, auth):
    assert client.get(NEWS, headers=auth).headers["Cache-Control"] == "no-store"


# The command


def test_create_api_key_prints_the_key_alone_on_its_last_line_and_it_works(app, client, runner):
    result = runner.invoke(args=["create-api-key", "website-cms"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "website-cms" in lines[0]
    assert re.fullmatch(r"cspk_[A-Za-z0-9_-]{43}", lines[-1])
    response = client.get(NEWS, headers={"Authorization": f"Bearer {lines[-1]}"})
    assert response.status_code == 200
    with app.app_context():
        key = db.session.scalar(select(ApiKey))
        assert key.name == "website-cms"
        assert key.prefix == lines[-1][:12]
        assert lines[-1] not in key.key_hash
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.target_type == "ApiKey"))
        assert (event.actor, event.action) == ("cli", "created")


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "cms\r\nforged line"])
def test_create_api_key_refuses_a_blank_or_long_name(app, runner, name):
    result = runner.invoke(args=["create-api-key", name])
    assert result.exit_code != 0
    assert "Enter a name of up to 100 printable characters" in result.stderr
    assert result.stdout == ""
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0


# The documented patterns


def test_the_title_pattern_accepts_exactly_what_the_domain_accepts():
    line = re.compile(api_schema.LINE_PATTERN)
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if "\ud800" <= char <= "\udfff":
            continue
        control = code < 0x20 or code == 0x7F
        assert (line.fullmatch(char) is not None) == (not control and not char.isspace()), code
        assert (line.fullmatch(f"a{char}a") is not None) == (not control), code


def test_timestamps_are_utc_with_a_z():
    value = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC) + timedelta(microseconds=6)
    assert api_schema._iso(value) == "2030-01-02T03:04:05.000006Z"


def test_withdrawing_needs_a_reason_that_the_item_then_carries(client, auth):
    item = create(client, auth, publish=True).get_json()
    path = f"{NEWS}/{item['id']}/withdraw"
    assert client.post(path, headers=auth).status_code == 415
    missing = client.post(path, json={}, headers=auth)
    assert missing.status_code == 422
    assert missing.get_json()["error"]["fields"] == {
        "reason": "Say why the news is withdrawn: readers of its page will see it"
    }
    bad = client.post(path, json={"reason": "a\nb"}, headers=auth).get_json()
    assert bad["error"]["fields"] == {
        "reason": "The reason must not contain control characters or line breaks"
    }
    done = client.post(path, json=WITHDRAW, headers=auth).get_json()
    assert (done["state"], done["withdrawn_reason"]) == ("withdrawn", "The round closed early")


def test_the_audience_of_an_item_is_counted_before_it_is_published(app, client, auth):
    with app.app_context():
        add_readers(2, follows={"funding": Frequency.IMMEDIATE}, now=TODAY)
        add_readers(3, follows={"funding": Frequency.DAILY}, now=TODAY, prefix="d")
        db.session.commit()
    item = create(client, auth).get_json()
    path = f"{NEWS}/{item['id']}/audience"
    plain = client.get(path, headers=auth).get_json()
    assert (plain["at_once"], plain["daily"]["count"], plain["weekly"]["count"]) == (2, 3, 0)
    urgent = client.get(f"{path}?urgent=true", headers=auth).get_json()
    assert (urgent["at_once"], urgent["daily"]["count"], urgent["total"]) == (5, 0, 5)
    later = client.get(f"{path}?publish_at=2030-03-06T09:30:00Z", headers=auth).get_json()
    assert later["daily"]["at"] == "2030-03-07T07:00:00Z"
    bad = client.get(f"{path}?urgent=maybe&x=1", headers=auth)
    assert bad.status_code == 400
    assert set(bad.get_json()["error"]["fields"]) == {"urgent", "x"}


def test_urgent_publishing_through_the_api_needs_a_reason(client, auth):
    item = create(client, auth).get_json()
    path = f"{NEWS}/{item['id']}/publish"
    refused = client.post(path, json={"urgent": True}, headers=auth)
    assert refused.status_code == 422
    assert set(refused.get_json()["error"]["fields"]) == {"urgent_reason"}
    done = client.post(
        path, json={"urgent": True, "urgent_reason": "Closes at noon"}, headers=auth
    ).get_json()
    assert (done["urgent"], done["urgent_reason"], done["state"]) == (
        True,
        "Closes at noon",
        "published",
    )
    draft_only = create(client, auth, urgent=True, urgent_reason="Now")
    assert draft_only.get_json()["error"]["fields"] == {
        "urgent": "Set publish to true to publish an urgent item"
    }

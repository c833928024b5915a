"""The API's topics: list, read, add, change and retire, with keys and JSON errors."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.database import transaction
from mailer.domain import staff
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import Subscription
from mailer.models import Topic
from tests import TODAY
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import send_queued

TOPICS = "/api/v1/topics"


@pytest.fixture
def auth(app):
    with app.app_context(), transaction():
        made = staff.create_api_key("cms", created_by=None, actor="test", now=clock.now())
    return {"Authorization": f"Bearer {made.plaintext}"}


def _error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def test_topics_need_a_key(client):
    assert client.get(TOPICS).status_code == 401
    assert client.post(TOPICS, json={"name": "Crime"}).status_code == 401
    assert client.post(f"{TOPICS}/events/retire", json={}).status_code == 401


def test_the_list_has_counts_the_last_item_and_retired_topics(app, client, auth):
    with app.app_context():
        add_readers(2, follows={"events": Frequency.DAILY, "funding": Frequency.WEEKLY}, now=TODAY)
        add_readers(1, follows={"events": Frequency.IMMEDIATE}, now=TODAY, prefix="now")
        publish_news("Annual conference", topics=("events",), at=TODAY)
        db.session.commit()
    client.post(f"{TOPICS}/events/retire", json={"move_to": "funding"}, headers=auth)

    items = client.get(TOPICS, headers=auth).get_json()["items"]
    assert [item["slug"] for item in items][-1] == "events"
    funding = next(item for item in items if item["slug"] == "funding")
    assert funding == {
        "slug": "funding",
        "name": "Funding",
        "description": "Funding rounds and grants open to partnerships",
        "heading": "",
        "position": 0,
        "url": "http://127.0.0.1:5000/topics/funding",
        "subscribers": 3,
        "subscribers_by_frequency": {"immediate": 1, "daily": 0, "weekly": 2},
        "retired_at": None,
        "successor": None,
        "last_item_at": None,
    }
    events = items[-1]
    assert events["successor"] == "funding"
    assert events["retired_at"].endswith("Z")
    assert events["last_item_at"] == "2026-11-25T10:00:00Z"
    assert events["subscribers"] == 0
    current = client.get(f"{TOPICS}?retired=false", headers=auth).get_json()["items"]
    assert "events" not in [item["slug"] for item in current]
    assert _error(client.get(f"{TOPICS}?retired=maybe", headers=auth), 400)["fields"] == {
        "retired": "retired must be true or false"
    }


def test_adding_a_topic_answers_201_with_its_address(app, client, auth):
    body = {"name": "Crime types", "description": "Burglary and fraud", "heading": "Crime"}
    response = client.post(TOPICS, json=body, headers=auth)
    assert response.status_code == 201
    topic = response.get_json()
    assert response.headers["Location"] == "http://127.0.0.1:5000/api/v1/topics/crime-types"
    assert (topic["slug"], topic["heading"], topic["subscribers"]) == ("crime-types", "Crime", 0)
    assert client.get(response.headers["Location"], headers=auth).get_json() == topic
    with app.app_context():
        event = db.session.scalars(select(AuditEvent)).all()[-1]
        assert (event.action, event.actor.startswith("api:")) == ("created", True)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "name", "Enter a name"),
        ({"name": "x" * 121}, "name", "Name must be 120 characters or fewer"),
        ({"name": "Crime\r\nBcc: all@example.com"}, "name", "Name must be on one line"),
        ({"name": "Crime", "slug": "Crime Types"}, "slug", "Slug must use only lower-case"),
        ({"name": "Crime", "slug": ""}, "slug", "Slug must not be empty"),
        ({"name": "Crime", "description": 7}, "description", "Description must be text"),
        ({"name": "Crime", "colour": "red"}, "colour", "Unknown field"),
        ({"name": "Crime", "heading": "h" * 10_000}, "heading", "Heading must be 80 characters"),
    ],
)
def test_bad_fields_are_422_with_a_message_each(client, auth, body, field, message):
    error = _error(client.post(TOPICS, json=body, headers=auth), 422)
    assert error["code"] == "invalid_fields"
    assert error["fields"][field].startswith(message)


def test_a_taken_name_or_slug_is_409(client, auth):
    error = _error(client.post(TOPICS, json={"name": "Events"}, headers=auth), 409)
    assert error["code"] == "taken"
    assert (
        error["fields"]["name"] == "There is already a topic called Events: enter a different name"
    )


def test_patch_changes_fields_position_and_a_slug_nobody_uses(app, client, auth):
    response = client.patch(
        f"{TOPICS}/general-news",
        json={"name": "Other news", "heading": "Other", "slug": "other-news", "position": 0},
        headers=auth,
    )
    assert response.status_code == 200, response.get_json()
    topic = response.get_json()
    assert (topic["slug"], topic["name"], topic["position"]) == ("other-news", "Other news", 0)
    assert client.get(f"{TOPICS}/general-news", headers=auth).status_code == 404
    assert client.get(TOPICS, headers=auth).get_json()["items"][0]["slug"] == "other-news"


def test_the_slug_of_a_used_topic_does_not_change(app, client, auth):
    with app.app_context():
        publish_news("Grants", topics=("funding",), at=TODAY)
        db.session.commit()
    error = _error(client.patch(f"{TOPICS}/funding", json={"slug": "grants"}, headers=auth), 409)
    assert "cannot change" in error["message"]
    assert _error(client.patch(f"{TOPICS}/funding", json={"position": -1}, headers=auth), 422)
    assert _error(client.patch(f"{TOPICS}/nope", json={}, headers=auth), 404)["code"] == "not_found"


def test_retire_moves_tells_and_cannot_happen_twice(app, client, auth, smtpd):
    with app.app_context():
        add_readers(2, follows={"events": Frequency.DAILY}, now=TODAY)
        add_readers(
            1,
            follows={"events": Frequency.WEEKLY, "funding": Frequency.DAILY},
            now=TODAY,
            prefix="b",
        )
        db.session.commit()
    unknown = client.post(f"{TOPICS}/events/retire", json={"move_to": "nope"}, headers=auth)
    assert _error(unknown, 422)["fields"] == {
        "move_to": "move_to must be the slug of a current topic"
    }
    itself = client.post(f"{TOPICS}/events/retire", json={"move_to": "events"}, headers=auth)
    assert "move_to" in _error(itself, 409)["fields"]
    assert _error(client.post(f"{TOPICS}/events/retire", json={"tell": "yes"}, headers=auth), 422)

    response = client.post(
        f"{TOPICS}/events/retire", json={"move_to": "funding", "tell": True}, headers=auth
    )
    assert response.status_code == 200
    assert response.get_json()["successor"] == "funding"
    with app.app_context():
        pairs = db.session.execute(select(Subscription.subscriber_id, Subscription.topic_id)).all()
        funding = db.session.scalar(select(Topic.id).where(Topic.slug == "funding"))
        assert {topic_id for _, topic_id in pairs} == {funding}
        assert len(pairs) == 3
        assert len(db.session.scalars(select(Delivery)).all()) == 3
    again = client.post(f"{TOPICS}/events/retire", json={}, headers=auth)
    assert "already been retired" in _error(again, 409)["message"]
    assert send_queued(app).sent == 3
    assert len({mail.rcpt_tos[0] for mail in smtpd.drain()}) == 3
    retired_target = client.post(
        f"{TOPICS}/funding/retire", json={"move_to": "events"}, headers=auth
    )
    assert "retired too" in _error(retired_target, 409)["fields"]["move_to"]


def test_news_cannot_be_filed_under_a_retired_topic(client, auth):
    client.post(f"{TOPICS}/events/retire", headers=auth)
    body = {"title": "Late", "summary": "Too late.", "body": "", "topics": ["events"]}
    error = _error(client.post("/api/v1/news", json=body, headers=auth), 422)
    assert error["fields"] == {"topics": "Events has been retired: choose a current topic"}


def test_an_old_item_under_a_retired_topic_can_still_be_changed(app, client, auth):
    with app.app_context():
        item_id = publish_news("Annual conference", topics=("events",), at=TODAY).id
        db.session.commit()
    client.post(f"{TOPICS}/events/retire", headers=auth)
    changed = client.patch(f"/api/v1/news/{item_id}", json={"title": "Conference"}, headers=auth)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["topics"] == ["events"]
    added = client.patch(
        f"/api/v1/news/{item_id}", json={"topics": ["events", "funding"]}, headers=auth
    )
    assert sorted(added.get_json()["topics"]) == ["events", "funding"]

"""The bulletins API as a client sees it: write, list, send or schedule, the two-person rule,
and bad input answered with clear JSON errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.database import transaction
from mailer.domain import staff
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import Frequency
from mailer.models import StaffRole
from mailer.models import StaffUser
from tests import TODAY
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import make_staff
from tests.helpers import send_queued

BULLETINS = "/api/v1/bulletins"
BULLETIN = {
    "subject": "Winter bulletin",
    "body": "Dear partners,\n\nThe **winter round** is open.",
    "topics": ["funding"],
}


def _key(app, name, owner_email=None):
    with app.app_context(), transaction():
        owner = None
        if owner_email:
            owner = db.session.scalars(
                select(StaffUser).where(StaffUser.email == owner_email)
            ).one()
        made = staff.create_api_key(name, created_by=owner, actor="test", now=clock.now())
    return {"Authorization": f"Bearer {made.plaintext}"}


@pytest.fixture
def auth(app):
    return _key(app, "website-cms")


def error_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()["error"]
    assert set(body) == {"code", "message", "fields"}
    return body


def test_a_bulletin_is_written_sent_and_listed(app, client, auth, smtpd):
    with app.app_context():
        add_readers(2, follows={"funding": Frequency.DAILY}, now=TODAY)
        add_readers(1, follows={"events": Frequency.DAILY}, now=TODAY)
        item_id = publish_news("Safer Streets Fund round 6", at=TODAY).id
        db.session.commit()
    response = client.post(BULLETINS, json=BULLETIN | {"items": [item_id]}, headers=auth)
    assert response.status_code == 201
    made = response.get_json()
    assert response.headers["Location"].endswith(f"{BULLETINS}/{made['id']}")
    assert made | {"id": 0} == {
        "id": 0,
        "slug": "winter-bulletin",
        "state": "draft",
        "subject": "Winter bulletin",
        "body": BULLETIN["body"],
        "everyone": False,
        "topics": ["funding"],
        "items": [item_id],
        "audience": 2,
        "public": True,
        "send_at": None,
        "sent_at": None,
        "submitted_by": None,
        "approved_by": None,
        "run": None,
        "segment": {"nations": [], "pfas": [], "csps": [], "organisation_types": []},
        "url": None,
    }
    sent = client.post(f"{BULLETINS}/{made['id']}/send", headers=auth)
    assert sent.status_code == 200
    body = sent.get_json()
    assert body["state"] == "sent"
    assert body["run"] is not None
    assert body["url"].endswith("/bulletins/winter-bulletin")
    assert send_queued(app).sent == body["audience"] == 2
    listed = client.get(f"{BULLETINS}?per_page=1", headers=auth).get_json()
    assert (listed["total"], listed["pages"], listed["bulletins"][0]["id"]) == (1, 1, made["id"])
    assert client.get(f"{BULLETINS}/{made['id']}", headers=auth).get_json()["state"] == "sent"


def test_no_topics_means_everyone(app, client, auth):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY}, now=TODAY)
        add_readers(2, follows={"events": Frequency.WEEKLY}, now=TODAY)
        db.session.commit()
    made = client.post(BULLETINS, json=BULLETIN | {"topics": []}, headers=auth).get_json()
    assert (made["everyone"], made["audience"]) == (True, 3)


def test_send_with_a_time_schedules(client, auth):
    made = client.post(BULLETINS, json=BULLETIN | {"public": False}, headers=auth).get_json()
    at = (clock.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = client.post(f"{BULLETINS}/{made['id']}/send", json={"at": at}, headers=auth).get_json()
    assert (body["state"], body["send_at"], body["public"]) == ("scheduled", at, False)
    past = client.post(
        f"{BULLETINS}/{made['id']}/send", json={"at": "2001-01-01T00:00:00Z"}, headers=auth
    )
    assert error_of(past, 422)["fields"] == {"at": "The time must be in the future, or send it now"}


def test_the_two_person_rule_over_the_api(app, client):
    app.config["BULLETIN_APPROVAL_REQUIRED"] = True
    make_staff(app, "ann@example.gov.uk", StaffRole.EDITOR, now=TODAY)
    make_staff(app, "bob@example.gov.uk", StaffRole.EDITOR, now=TODAY)
    ann = _key(app, "ann-cms", "ann@example.gov.uk")
    ann_again = _key(app, "ann-laptop", "ann@example.gov.uk")
    bob = _key(app, "bob-cms", "bob@example.gov.uk")
    made = client.post(BULLETINS, json=BULLETIN, headers=ann).get_json()
    path = f"{BULLETINS}/{made['id']}"
    refused = error_of(client.post(f"{path}/send", headers=ann), 409)
    assert refused["code"] == "state_conflict"
    assert "another member of staff must approve this bulletin" in refused["message"]
    assert client.post(f"{path}/submit", headers=ann).get_json()["state"] == "awaiting_approval"
    same = error_of(client.post(f"{path}/approve", headers=ann_again), 409)
    assert same["message"].startswith("You submitted this bulletin, so you cannot approve it too")
    approved = client.post(f"{path}/approve", headers=bob).get_json()
    assert approved["state"] == "approved"
    assert approved["approved_by"].startswith("staff:")
    assert client.post(f"{path}/send", headers=ann).get_json()["state"] == "sent"
    with app.app_context():
        trail = db.session.execute(
            select(AuditEvent.action, AuditEvent.actor)
            .where(AuditEvent.target_type == "Bulletin")
            .order_by(AuditEvent.id)
        ).all()
    assert [action for action, _ in trail] == [
        "bulletin.create",
        "bulletin.submit",
        "bulletin.approve",
        "bulletin.send",
    ]
    assert "(api:" in trail[1][1]
    assert "bob-cms" in trail[2][1]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"subject": "x" * 201}, {"subject": "Subject must be 200 characters or fewer"}),
        (
            {"subject": "Line\nbreak"},
            {"subject": "Subject must not contain control characters or line breaks"},
        ),
        (
            {"subject": "=?utf-8?b?SGk=?="},
            {"subject": "Subject must not contain =?...?= encoded text"},
        ),
        ({"subject": "\ud800"}, {"subject": "Subject must be valid Unicode text"}),
        ({"subject": 7}, {"subject": "Subject must be text"}),
        (
            {"topics": ["nope"]},
            {"topics": "There is no topic 'nope': choose topics from the list"},
        ),
        ({"topics": "funding"}, {"topics": "Topics must be a list of topic slugs"}),
        ({"items": [10**30]}, {"items": f"News item {10**30} is not a published news item"}),
        ({"items": [12345]}, {"items": "News item 12345 is not a published news item"}),
        ({"items": "1"}, {"items": "Items must be a list of news item ids"}),
        ({"items": [1.5]}, {"items": "Items must be a list of news item ids"}),
        ({"public": "yes"}, {"public": "Public must be true or false"}),
        ({"colour": "red"}, {"colour": "Unknown field"}),
    ],
)
def test_bad_input_is_a_422_naming_each_field(client, auth, body, fields):
    error = error_of(client.post(BULLETINS, json=BULLETIN | body, headers=auth), 422)
    assert error["fields"] == fields


def test_a_withdrawn_item_cannot_be_featured(app, client, auth):
    with app.app_context():
        item = publish_news("Gone", at=TODAY)
        item.state = item.state.WITHDRAWN
        db.session.commit()
        item_id = item.id
    error = error_of(
        client.post(BULLETINS, json=BULLETIN | {"items": [item_id]}, headers=auth), 422
    )
    assert error["fields"] == {"items": f"News item {item_id} is not a published news item"}


@pytest.mark.parametrize(
    ("request_args", "status"),
    [
        ({"data": "not json", "content_type": "application/json"}, 400),
        ({"json": [1, 2]}, 400),
        ({"data": "subject=x", "content_type": "application/x-www-form-urlencoded"}, 415),
    ],
)
def test_bodies_that_are_not_json_objects_are_refused(client, auth, request_args, status):
    error_of(client.post(BULLETINS, headers=auth, **request_args), status)


def test_unknown_and_huge_ids_are_404_and_bad_times_422(client, auth):
    assert error_of(client.get(f"{BULLETINS}/99", headers=auth), 404)["code"] == "not_found"
    error_of(client.get(f"{BULLETINS}/{2**70}", headers=auth), 404)
    made = client.post(BULLETINS, json=BULLETIN, headers=auth).get_json()
    bad = client.post(f"{BULLETINS}/{made['id']}/send", json={"at": "tomorrow"}, headers=auth)
    assert "at" in error_of(bad, 422)["fields"]
    assert error_of(client.get(f"{BULLETINS}?page=0", headers=auth), 400)["fields"] == {
        "page": "page must be a whole number from 1 to 100,000"
    }


def test_a_key_is_needed(client):
    assert error_of(client.post(BULLETINS, json=BULLETIN), 401)["code"] == "missing_key"

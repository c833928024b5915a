"""Where a news item applies: set in the staff editor or the API, shown on its page and in
the alert and digest emails as "Applies to …"; for an urgent item, the check page counts only
the readers there, and the worker sends to exactly those."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.domain import practitioners
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import Frequency
from mailer.models import NewsItem
from mailer.models import StaffRole
from mailer.models import Subscriber
from tests import TODAY
from tests.digests.conftest import make_digest
from tests.digests.conftest import make_due
from tests.factories import add_readers
from tests.factories import load_directory
from tests.factories import publish_news
from tests.helpers import EDITOR
from tests.helpers import csrf_token
from tests.helpers import logged_in
from tests.helpers import send_queued
from tests.web.api.test_api import NEWS
from tests.web.api.test_api import auth  # noqa: F401 (a fixture)
from tests.web.api.test_api import create
from tests.web.api.test_api import key  # noqa: F401 (a fixture)

CARDIFF, SWANSEA, BARNET = "W14000015", "W14000011", "E22000187"
GWENT, SOUTH_WALES = "W15000002", "W15000003"


@pytest.fixture(autouse=True)
def directory(app):
    with app.app_context():
        load_directory(now=TODAY)


def _text(response):
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return html.unescape(re.sub(r"\s+", " ", page))


def _write(client, **fields):
    data = {
        "csrf_token": csrf_token(client, "/staff/news/new"),
        "title": "Flooding closes roads",
        "summary": "Several roads are closed.",
        "body": "",
        "topics": ["funding"],
        **fields,
    }
    return client.post("/staff/news/new", data=data)


def _latest(app):
    with app.app_context():
        return db.session.scalar(select(NewsItem.id).order_by(NewsItem.id.desc()))


def test_the_editor_says_where_it_applies_and_the_page_shows_it(app, client):
    logged_in(app, client, EDITOR, StaffRole.EDITOR, now=TODAY)
    form = client.get("/staff/news/new").get_data(as_text=True)
    assert "Where it applies (optional)" in form
    assert 'name="applies_to-nations" type="checkbox" value="wales"' in form
    assert 'name="applies_to-organisation_types"' not in form
    response = _write(client, **{"applies_to-nations": "wales"})
    assert response.status_code == 302
    item_id = _latest(app)
    page = _text(client.get(f"/staff/news/{item_id}/preview"))
    assert "Applies to Wales" in page
    edit = client.get(f"/staff/news/{item_id}/edit").get_data(as_text=True)
    assert 'value="wales" checked' in edit
    token = csrf_token(client, f"/staff/news/{item_id}/edit")
    changed = client.post(
        f"/staff/news/{item_id}/edit",
        data={
            "csrf_token": token,
            "title": "Flooding closes roads",
            "summary": "Several roads are closed.",
            "topics": ["funding"],
            "applies_to-pfas": [GWENT, SOUTH_WALES],
        },
    )
    assert changed.status_code == 302
    assert "Applies to Gwent and South Wales" in _text(client.get(f"/staff/news/{item_id}/preview"))
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "applies to")
        ).all()
    assert actions == [{"applies_to": "Wales"}, {"applies_to": "Gwent and South Wales"}]


def test_an_unknown_place_is_a_400_with_a_message(app, client):
    logged_in(app, client, EDITOR, StaffRole.EDITOR, now=TODAY)
    response = _write(client, **{"applies_to-csps": "W14999999", "title": ""})
    assert response.status_code == 400
    text = _text(response)
    assert "There is no active partnership 'W14999999': choose from the list" in text
    assert '<a href="#title">' in response.get_data(as_text=True)
    assert '<a href="#applies_to-csps">' in response.get_data(as_text=True)
    assert _latest(app) is None


def test_the_alert_and_the_digest_say_where_it_applies(app, smtpd):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.IMMEDIATE}, now=TODAY, prefix="now")
        add_readers(1, follows={"funding": Frequency.DAILY}, now=TODAY, prefix="day")
        item = publish_news("Funding for Welsh partnerships", at=TODAY)
        item.segment = {"nations": ["wales"], "pfas": [], "csps": [CARDIFF]}
        plain = publish_news("Funding everywhere", at=TODAY)
        assert plain.segment == {}
        db.session.commit()
    make_due(app, TODAY + timedelta(minutes=1), frequencies=(Frequency.IMMEDIATE,))
    send_queued(app, now=TODAY + timedelta(minutes=1))
    alerts = {m.message["Subject"]: m for m in smtpd.drain()}
    welsh = alerts["CSP news: Funding for Welsh partnerships"]
    assert "Applies to Wales and Cardiff." in welsh.text
    assert "Applies to Wales and Cardiff." in welsh.html
    assert "Applies to" not in alerts["CSP news: Funding everywhere"].text
    end = TODAY.replace(hour=7) + timedelta(days=1)
    make_digest(app, Frequency.DAILY, end, now=end + timedelta(minutes=1))
    send_queued(app, now=end + timedelta(minutes=1))
    [digest] = smtpd.drain()
    assert digest.text.count("Applies to") == 1
    assert "Applies to Wales and Cardiff." in digest.text
    assert "Applies to Wales and Cardiff" in digest.html


def test_the_api_sets_shows_and_changes_where_it_applies(client, auth):  # noqa: F811
    made = create(client, auth, applies_to={"nations": ["wales"]})
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    assert body["applies_to"] == {"nations": ["wales"], "pfas": [], "csps": []}
    path = f"{NEWS}/{body['id']}"
    changed = client.patch(path, json={"applies_to": {"csps": [SWANSEA]}}, headers=auth)
    assert changed.get_json()["applies_to"] == {"nations": [], "pfas": [], "csps": [SWANSEA]}
    untouched = client.patch(path, json={"summary": "Roads reopen today."}, headers=auth)
    assert untouched.get_json()["applies_to"]["csps"] == [SWANSEA]
    bad = client.patch(
        path,
        json={"applies_to": {"csps": ["W14999999"], "organisation_types": ["police"]}},
        headers=auth,
    )
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"] == {
        "applies_to": "Applies_to must be an object with nations, pfas, csps"
    }
    bad = create(client, auth, applies_to={"pfas": ["W15999999"]}, title="")
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert fields["applies_to.pfas"] == (
        "There is no police force area 'W15999999': choose from the list"
    )
    assert "title" in fields


def test_an_urgent_item_for_some_places_is_counted_and_sent_there_only(app, client, smtpd):
    with app.app_context():
        for count, code, prefix in ((2, CARDIFF, "cdf"), (1, SWANSEA, "swa"), (3, BARNET, "bar")):
            profile = practitioners.parse_profile(None, [code])
            for subscriber_id in add_readers(
                count, follows={"funding": Frequency.WEEKLY}, now=TODAY, prefix=prefix
            ):
                practitioners.apply_profile(db.session.get_one(Subscriber, subscriber_id), profile)
        add_readers(2, follows={"funding": Frequency.DAILY}, now=TODAY, prefix="non")
        db.session.commit()
    logged_in(app, client, EDITOR, StaffRole.EDITOR, now=TODAY)
    _write(client, **{"applies_to-pfas": SOUTH_WALES})
    item_id = _latest(app)
    path = f"/staff/news/{item_id}/publish"
    urgent = {"urgent": "yes", "urgent_reason": "Roads are closed today"}
    token = csrf_token(client, f"/staff/news/{item_id}")
    check = _text(client.post(path, data={"csrf_token": token, **urgent}))
    assert "3 people get an email now" in check
    assert "Applies to South Wales." in check
    assert "people who gave no area are not counted and will not get it" in check
    token = csrf_token(client, f"/staff/news/{item_id}")
    published = client.post(path, data={"csrf_token": token, "confirm": "yes", **urgent})
    assert published.status_code == 302
    # Published just now, by the clock, as the request was.
    now = clock.now()
    make_due(app, now, frequencies=(Frequency.IMMEDIATE,))
    send_queued(app, now=now)
    received = sorted(m.rcpt_tos[0] for m in smtpd.drain())
    assert len(received) == 3
    assert all(r.startswith(("cdf", "swa")) for r in received)


def test_the_api_counts_an_urgent_item_only_where_it_applies(app, client, auth):  # noqa: F811
    with app.app_context():
        profile = practitioners.parse_profile(None, [CARDIFF])
        for subscriber_id in add_readers(2, follows={"funding": Frequency.DAILY}, now=TODAY):
            practitioners.apply_profile(db.session.get_one(Subscriber, subscriber_id), profile)
        add_readers(3, follows={"funding": Frequency.DAILY}, now=TODAY, prefix="non")
        db.session.commit()
    made = create(client, auth, applies_to={"nations": ["wales"]}).get_json()
    audience = f"{NEWS}/{made['id']}/audience"
    urgent = client.get(f"{audience}?urgent=true", headers=auth).get_json()
    assert urgent["at_once"] == 2
    # Not urgent: where it applies changes nothing; the daily readers get it in the digest.
    assert client.get(audience, headers=auth).get_json()["daily"]["count"] == 5

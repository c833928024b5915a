"""The admins' topic pages: the list with counts, add, edit, reorder and retire; and what the
public pages show once a topic is retired."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import Frequency
from mailer.models import NewsState
from mailer.models import StaffRole
from mailer.models import Subscription
from mailer.models import Topic
from tests import TODAY
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import EDITOR
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import logged_in
from tests.helpers import send_queued
from tests.helpers import subscribe

PAGES = (
    "/staff/topics",
    "/staff/topics/new",
    "/staff/topics/events/edit",
    "/staff/topics/events/retire",
)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _post(client, url, data):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def _topic(app, slug):
    with app.app_context():
        topic = db.session.scalars(select(Topic).where(Topic.slug == slug)).one()
        db.session.expunge(topic)
        return topic


def test_editors_are_refused_every_topic_page(app, client):
    editor = logged_in(app, client, EDITOR, StaffRole.EDITOR, now=TODAY)
    for path in PAGES:
        assert editor.get(path).status_code == 403, path
    token = csrf_token(editor, "/staff/")
    for path in ("/staff/topics/new", "/staff/topics/events/move", "/staff/topics/events/retire"):
        response = editor.post(
            path, data={"csrf_token": token, "direction": "up", "fate": "neither"}
        )
        assert response.status_code == 403, path
    assert 'href="/staff/topics"' not in editor.get("/staff/").get_data(as_text=True)
    assert _topic(app, "events").retired_at is None


def test_the_list_shows_counts_by_frequency_and_the_last_news(app, admin):
    with app.app_context():
        add_readers(1204, follows={"events": Frequency.DAILY}, now=TODAY)
        add_readers(3, follows={"events": Frequency.IMMEDIATE}, now=TODAY, prefix="now")
        publish_news("Annual conference", topics=("events",), at=TODAY)
        db.session.commit()
    page = _text(admin.get("/staff/topics"))
    assert 'href="/staff/topics"' in page
    row = re.search(r'<tr class="govuk-table__row" id="topic-events">(.*?)</tr>', page).group(1)
    cells = re.findall(r'<td class="govuk-table__cell[^"]*">(.*?)</td>', row)
    assert cells[:3] == ["3", "1,204", "0"]
    assert "25 November 2026" in cells[3]
    assert "Current" in cells[4]


def test_admin_adds_edits_and_reorders_a_topic(app, admin):
    response = _post(
        admin,
        "/staff/topics/new",
        {
            "name": "Burglary",
            "description": "Break-ins and prevention",
            "slug": "",
            "heading": "Crime types",
        },
    )
    assert response.status_code == 302
    follow = _text(admin.get("/staff/topics"))
    assert "Added the topic Burglary" in follow
    assert "Crime types" in follow
    _post(
        admin, "/staff/topics/new", {"name": "Fraud", "description": "", "heading": "Crime types"}
    )

    edited = _post(
        admin,
        "/staff/topics/burglary/edit",
        {
            "name": "Burglary and theft",
            "description": "Break-ins",
            "slug": "burglary-and-theft",
            "heading": "Crime types",
        },
    )
    assert edited.status_code == 302
    assert _topic(app, "burglary-and-theft").name == "Burglary and theft"

    token = csrf_token(admin, "/staff/topics")
    admin.post("/staff/topics/fraud/move", data={"csrf_token": token, "direction": "up"})
    form = _text(admin.get("/subscribe"))
    assert form.index('value="fraud"') < form.index('value="burglary-and-theft"')
    assert '<h3 class="govuk-heading-s' in form
    assert "Crime types</h3>" in form
    assert "Break-ins</div>" in form
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-4:] == ["created", "created", "edited", "moved"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "Enter a name"),
        ({"name": "x" * 500}, "Name must be 120 characters or fewer"),
        ({"name": "Events\r\nBcc: x@example.com"}, "Name must be on one line"),
        ({"name": "New", "slug": "Not A Slug!"}, "Slug must use only lower-case letters"),
        ({"name": "New", "slug": "funding"}, "There is already a topic with the slug funding"),
        ({"name": "Events", "slug": "more-events"}, "There is already a topic called Events"),
        ({"name": "New", "description": "d" * 5000}, "Description must be 300 characters or fewer"),
    ],
)
def test_bad_input_shows_the_error_summary(app, admin, data, message):
    response = _post(admin, "/staff/topics/new", {"description": "", "heading": "", **data})
    assert response.status_code == 400
    page = _text(response)
    assert "There is a problem" in page
    assert "govuk-form-group--error" in page
    assert message in page


def test_the_slug_of_a_topic_people_follow_cannot_change(app, admin):
    subscribe(admin, "reader@example.com", topics=("events",))
    page = _text(admin.get("/staff/topics/events/edit"))
    assert "It cannot change now" in page
    response = _post(
        admin,
        "/staff/topics/events/edit",
        {"name": "Events", "description": "", "slug": "happenings", "heading": ""},
    )
    assert response.status_code == 400
    assert "The slug of Events cannot change" in _text(response)
    assert _topic(app, "events").slug == "events"


def test_retire_checks_confirms_moves_and_tells(app, admin, smtpd):
    with app.app_context():
        add_readers(2, follows={"events": Frequency.WEEKLY}, now=TODAY)
        add_readers(
            1,
            follows={"events": Frequency.DAILY, "funding": Frequency.IMMEDIATE},
            now=TODAY,
            prefix="both",
        )
        db.session.commit()
    check = _text(admin.get("/staff/topics/events/retire"))
    assert "Events has 3 subscribers" in check
    missing = _post(admin, "/staff/topics/events/retire", {"fate": "move", "move_to": ""})
    assert missing.status_code == 400
    assert "Choose the topic to move the subscribers to" in _text(missing)
    unknown = _post(
        admin, "/staff/topics/events/retire", {"fate": "move", "move_to": "no-such-topic"}
    )
    assert unknown.status_code == 400
    choice = {"fate": "move", "move_to": "funding", "also_tell": "yes"}
    confirm = _post(admin, "/staff/topics/events/retire", choice)
    assert "Are you sure you want to retire Events?" in _text(confirm)
    assert _topic(app, "events").retired_at is None

    done = _post(admin, "/staff/topics/events/retire", {**choice, "confirmed": "yes"})
    assert done.status_code == 302
    assert "Moved 3 subscribers to Funding" in _text(admin.get("/staff/topics"))
    with app.app_context():
        rows = db.session.execute(select(Subscription.subscriber_id, Subscription.topic_id)).all()
        assert len(rows) == len(set(rows)) == 3
    assert send_queued(app).sent == 3
    mails = smtpd.drain()
    assert sorted(m.rcpt_tos[0] for m in mails) == sorted({m.rcpt_tos[0] for m in mails})
    token = csrf_token(admin, "/staff/topics")
    data = {"csrf_token": token, "fate": "neither", "confirmed": "yes"}
    again = admin.post("/staff/topics/events/retire", data=data)
    assert again.status_code == 409
    assert send_queued(app).sent == 0


def test_a_retired_topic_leaves_the_forms_but_its_page_and_feed_stay(app, admin, client):
    with app.app_context():
        publish_news("Annual conference", topics=("events",), at=TODAY)
        db.session.commit()
    choice = {"fate": "move", "move_to": "funding", "confirmed": "yes"}
    _post(admin, "/staff/topics/events/retire", choice)

    assert 'value="events"' not in client.get("/subscribe").get_data(as_text=True)
    assert 'href="/topics/events"' not in client.get("/").get_data(as_text=True)
    assert 'value="events"' not in admin.get("/staff/news/new").get_data(as_text=True)
    stale = subscribe(client, "late@example.com", topics=("events",))
    assert stale.status_code == 400
    topic_page = client.get("/topics/events")
    assert topic_page.status_code == 200
    page = _text(topic_page)
    assert "This topic has been retired." in page
    assert 'href="/topics/funding"' in page
    assert "Annual conference" in page
    feed = client.get("/topics/events/feed.atom")
    assert feed.status_code == 200
    assert b"Annual conference" in feed.data
    item = [line for line in page.split('href="') if line.startswith("/news/")][0].split('"')[0]
    assert 'href="/topics/events"' in client.get(item).get_data(as_text=True)


def test_filing_news_under_a_retired_topic_is_a_field_error(app, admin):
    _post(admin, "/staff/topics/events/retire", {"fate": "neither", "confirmed": "yes"})
    response = _post(
        admin,
        "/staff/news/new",
        {"title": "Late event", "summary": "Too late.", "body": "", "topics": ["events"]},
    )
    assert response.status_code == 400
    assert "Events has been retired: choose a current topic" in _text(response)


def test_the_manage_page_names_ended_topics_and_keeps_working(app, admin, client, smtpd):
    subscribe(client, "kept@example.com", topics=("events", "funding"))
    send_queued(app)
    confirm_path = link(smtpd.get().text, "/confirm/")
    client.post(confirm_path, data={"csrf_token": csrf_token(client, confirm_path)})
    send_queued(app)
    manage_path = link(smtpd.get().text, "/manage/")
    _post(admin, "/staff/topics/events/retire", {"fate": "neither", "confirmed": "yes"})
    page = _text(client.get(manage_path))
    assert "Events has ended" in page
    assert 'value="funding" checked' in page
    assert 'value="events"' not in page
    saved = _post(client, manage_path, {"topics": ["funding"], "frequency": "weekly"})
    assert saved.status_code == 302
    assert "Events has ended" not in _text(client.get(manage_path))


def test_an_old_item_keeps_its_retired_topic_when_edited(app, admin):
    with app.app_context():
        item = publish_news("Annual conference", topics=("events", "funding"), at=TODAY)
        db.session.commit()
        edit = f"/staff/news/{item.id}/edit"
    _post(admin, "/staff/topics/events/retire", {"fate": "neither", "confirmed": "yes"})
    form = _text(admin.get(edit))
    assert "Events (retired)</label>" in form
    saved = _post(
        admin,
        edit,
        {
            "title": "Annual conference 2027",
            "summary": "Book now.",
            "body": "",
            "topics": ["events", "funding"],
        },
    )
    assert saved.status_code == 302
    page = _text(admin.get(f"/news/annual-conference-{int(TODAY.timestamp())}"))
    assert "Annual conference 2027" in page
    assert 'href="/topics/events">Events</a>' in page
    assert 'href="/topics/funding">Funding</a>' in page


def test_retire_page_warns_of_draft_news_under_the_topic(app, admin):
    with app.app_context():
        item = publish_news("Conference next year", topics=("events",), at=TODAY)
        item.state = NewsState.DRAFT
        db.session.commit()
    page = _text(admin.get("/staff/topics/events/retire"))
    assert "1 draft or scheduled news item is filed under Events" in page
    assert "Continue" not in page
    token = csrf_token(admin, "/staff/topics")
    data = {"csrf_token": token, "fate": "neither", "confirmed": "yes"}
    response = admin.post("/staff/topics/events/retire", data=data)
    assert response.status_code == 409
    assert "Edit them to choose another topic" in _text(response)

"""A subscriber's journeys beyond the manage form, through the pages and a real SMTP server:
more topics when signing up again, a new address, fewer emails instead of leaving, and why
they left; and staff changing topics for someone who asks."""

from __future__ import annotations

from sqlalchemy import select

from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import LeavingReason
from mailer.models import StaffRole
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from tests import TODAY
from tests.helpers import ADMIN
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import logged_in
from tests.helpers import send_queued
from tests.helpers import subscribe


def _post(client, path, data=None, form_page=None):
    token = csrf_token(client, form_page or path)
    return client.post(path, data={"csrf_token": token, **(data or {})})


def _active(app, client, smtpd, email="alex@example.com", **options):
    """Sign up and confirm through the pages; return the welcome email."""
    subscribe(client, email, **options)
    send_queued(app)
    confirm = link(smtpd.get().text, "/confirm/")
    _post(client, confirm)
    send_queued(app)
    return smtpd.get()


def _subscriber(app, email="alex@example.com"):
    with app.app_context():
        found = db.session.scalar(
            select(Subscriber).where(Subscriber.email_key == email.casefold())
        )
        if found is not None:
            db.session.expunge(found)
        return found


def _topics(app, email="alex@example.com"):
    with app.app_context():
        found = db.session.scalar(select(Subscriber).where(Subscriber.email_key == email))
        return sorted((s.topic.slug, s.frequency.value) for s in found.subscriptions)


def test_a_topic_page_opens_the_form_with_its_topic_ticked(client):
    page = client.get("/topics/events").get_data(as_text=True)
    assert 'href="/subscribe?topics=events"' in page
    form = client.get("/subscribe?topics=events").get_data(as_text=True)
    assert 'value="events" checked' in form
    assert 'value="funding" checked' not in form


def test_signing_up_again_with_new_topics_asks_to_confirm_adding_them(app, client, smtpd):
    _active(app, client, smtpd, topics=("funding",), frequency="daily")
    subscribe(client, "alex@example.com", topics=("funding", "events"), frequency="weekly")
    send_queued(app)
    email = smtpd.get()
    assert email.message["Subject"] == (
        "Confirm the topics to add to your Community Safety Partnerships news"
    )
    assert "* Events" in email.text
    assert "Funding" not in email.text.split("open this link")[0]
    path = link(email.text, "/change/")
    page = client.get(path).get_data(as_text=True)
    assert "once a week" in page
    assert "Events" in page
    assert _topics(app) == [("funding", "daily")]
    done = _post(client, path)
    assert "Topics added" in done.get_data(as_text=True)
    assert _topics(app) == [("events", "weekly"), ("funding", "daily")]
    again = _post(client, path, form_page="/subscribe")
    assert again.status_code == 400
    assert _topics(app) == [("events", "weekly"), ("funding", "daily")]


def test_signing_up_again_with_nothing_new_sends_a_manage_link(app, client, smtpd):
    _active(app, client, smtpd, topics=("funding",))
    subscribe(client, "alex@example.com", topics=("funding",))
    send_queued(app)
    assert smtpd.get().message["Subject"].startswith("Manage your")


def test_a_new_address_is_confirmed_from_that_address(app, client, smtpd):
    welcome = _active(app, client, smtpd)
    manage = link(welcome.text, "/manage/")
    assert f"{manage}/email" in client.get(manage).get_data(as_text=True)
    asked = _post(client, f"{manage}/email", {"email": "Alex.New@Example.org"})
    assert asked.headers["Location"] == "/check-your-email?reason=email"
    send_queued(app)
    email = smtpd.get()
    assert email.rcpt_tos == ["Alex.New@example.org"]
    assert "Alex.New@example.org" in email.text
    assert _subscriber(app).email == "alex@example.com"
    path = link(email.text, "/change/")
    assert "Alex.New@example.org" in client.get(path).get_data(as_text=True)
    _post(client, path)
    moved = _subscriber(app, "alex.new@example.org")
    assert (moved.email, moved.status) == ("Alex.New@example.org", SubscriberStatus.ACTIVE)
    # Links sent to the old address stop working.
    assert client.get(manage).status_code == 400
    with app.app_context():
        detail = db.session.scalars(
            select(ConsentEvent.detail).where(ConsentEvent.action == ConsentAction.CONFIRMED)
        ).all()
    assert {"email_changed_from": "alex@example.com"}.items() <= detail[-1].items()


def test_a_new_address_must_be_free_valid_and_new(app, client, smtpd):
    _active(app, client, smtpd, "sam@example.com")
    smtpd.drain()
    welcome = _active(app, client, smtpd)
    manage = link(welcome.text, "/manage/")
    same = _post(client, f"{manage}/email", {"email": "ALEX@example.com"})
    assert same.status_code == 400
    assert "already the address of your subscription" in same.get_data(as_text=True)
    for bad in ("not an address", "x@example.org\r\nBcc: y@example.org", "a" * 400 + "@x.org"):
        response = _post(client, f"{manage}/email", {"email": bad})
        assert response.status_code == 400, bad
    taken = _post(client, f"{manage}/email", {"email": "sam@example.com"})
    assert taken.headers["Location"] == "/check-your-email?reason=email"
    assert send_queued(app).sent == 0
    assert _subscriber(app).email == "alex@example.com"


def test_fewer_emails_instead_of_leaving_moves_every_topic_to_weekly(app, client, smtpd):
    welcome = _active(app, client, smtpd, frequency="immediate")
    unsubscribe = link(welcome.text, "/unsubscribe/")
    page = client.get(unsubscribe).get_data(as_text=True)
    assert "Get fewer emails instead" in page
    done = _post(client, f"{unsubscribe}/weekly", form_page=unsubscribe)
    assert "You will get one email a week" in done.get_data(as_text=True)
    assert _topics(app) == [("events", "weekly"), ("funding", "weekly")]
    assert _subscriber(app).status is SubscriberStatus.ACTIVE


def test_people_who_leave_may_say_why_once_and_it_is_not_linked_to_them(app, client, smtpd):
    welcome = _active(app, client, smtpd)
    unsubscribe = link(welcome.text, "/unsubscribe/")
    left = client.post(unsubscribe).get_data(as_text=True)
    assert "Why did you unsubscribe? (optional)" in left
    bad = _post(client, "/unsubscribed/why", {"reason": "bored"}, form_page="/subscribe")
    assert bad.status_code == 400
    assert "Select a reason" in bad.get_data(as_text=True)
    long = _post(
        client, "/unsubscribed/why", {"reason": "other", "comment": "x" * 1001}, "/subscribe"
    )
    assert "1,000 characters or fewer" in long.get_data(as_text=True)
    said = {"reason": "too_many", "comment": "Daily was a lot."}
    assert "Thank you" in _post(client, "/unsubscribed/why", said, "/subscribe").get_data(
        as_text=True
    )
    _post(client, "/unsubscribed/why", said, "/subscribe")
    _post(app.test_client(), "/unsubscribed/why", said, "/subscribe")
    with app.app_context():
        rows = db.session.scalars(select(LeavingReason)).all()
        assert [(r.reason, r.comment) for r in rows] == [("too_many", "Daily was a lot.")]
    staff = logged_in(app, app.test_client(), ADMIN, StaffRole.ADMIN, now=TODAY)
    report = staff.get("/staff/subscribers/leaving-reasons").get_data(as_text=True)
    assert "Too many emails" in report
    assert "Daily was a lot." in report


def test_staff_change_topics_and_send_a_manage_link_for_someone_who_asks(app, client, smtpd):
    _active(app, client, smtpd)
    staff = logged_in(app, app.test_client(), ADMIN, StaffRole.ADMIN, now=TODAY)
    subscriber_id = _subscriber(app).id
    page = f"/staff/subscribers/{subscriber_id}"
    refused = _post(staff, f"{page}/topics", {"topics": [], "frequency": "weekly"}, page)
    assert refused.status_code == 400
    assert "Select at least one topic" in refused.get_data(as_text=True)
    _post(staff, f"{page}/topics", {"topics": ["consultations"], "frequency": "weekly"}, page)
    assert _topics(app) == [("consultations", "weekly")]
    with app.app_context():
        event = db.session.scalars(
            select(ConsentEvent).order_by(ConsentEvent.id.desc()).limit(1)
        ).one()
        assert event.action is ConsentAction.CHANGED
        assert event.detail["method"] == "staff"
        assert event.detail["by"].endswith(ADMIN)
    _post(staff, f"{page}/manage-link", form_page=page)
    with app.app_context():
        asked = db.session.scalars(
            select(ConsentEvent).order_by(ConsentEvent.id.desc()).limit(1)
        ).one()
        assert (asked.action, asked.detail["method"]) == (ConsentAction.REQUESTED, "staff")
    send_queued(app)
    email = smtpd.get()
    assert email.message["Subject"].startswith("Manage your")
    assert client.get(link(email.text, "/manage/")).status_code == 200

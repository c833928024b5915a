"""The staff pages of bulletins: write, check who gets it, preview, test, the two-person rule,
send and schedule."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import Bulletin
from mailer.models import BulletinState
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import StaffRole
from mailer.models import SubscriberStatus
from tests import TODAY
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import EDITOR
from tests.helpers import csrf_token
from tests.helpers import login
from tests.helpers import make_staff
from tests.helpers import send_queued
from tests.helpers import when_fields

OTHER = "other.editor@example.gov.uk"


@pytest.fixture
def editor(app, client):
    make_staff(app, EDITOR, StaffRole.EDITOR, now=TODAY)
    make_staff(app, OTHER, StaffRole.EDITOR, now=TODAY)
    login(client, EDITOR)
    return client


def _post(client, path, data=None, form_page=None):
    token = csrf_token(client, form_page or path)
    return client.post(path, data={"csrf_token": token, **(data or {})})


def _write(client, **fields):
    data = {
        "subject": "Winter bulletin",
        "body": "Dear partners,\n\nThe **winter round** is open.",
        "audience": "topics",
        "topics": ["funding", "events"],
        "public": "yes",
    } | fields
    return _post(client, "/staff/bulletins/new", data)


def _only(app):
    with app.app_context():
        return db.session.scalars(select(Bulletin)).one()


def _text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_check_page_count_is_the_number_of_emails_sent(app, editor, smtpd):
    with app.app_context():
        add_readers(3, follows={"funding": Frequency.IMMEDIATE}, now=TODAY, prefix="a")
        add_readers(2, follows={"events": Frequency.WEEKLY}, now=TODAY, prefix="b")
        add_readers(
            1,
            follows={"funding": Frequency.DAILY, "events": Frequency.DAILY},
            now=TODAY,
            prefix="c",
        )
        add_readers(4, follows={"consultations": Frequency.DAILY}, now=TODAY, prefix="d")
        add_readers(
            2,
            follows={"funding": Frequency.DAILY},
            status=SubscriberStatus.SUPPRESSED,
            now=TODAY,
            prefix="e",
        )
        item_id = publish_news("Safer Streets Fund round 6", at=TODAY).id
        db.session.commit()
    response = _write(editor, items=[str(item_id)])
    assert response.status_code == 302
    bulletin = _only(app)
    check = editor.get(f"/staff/bulletins/{bulletin.id}/send")
    assert "6 people will get this bulletin" in _text(check)
    sent = _post(editor, f"/staff/bulletins/{bulletin.id}/send", {"when": "now"})
    assert sent.status_code == 302
    assert send_queued(app).sent == 6
    received = smtpd.drain()
    assert len(received) == 6
    assert set(Counter(m.rcpt_tos[0] for m in received).values()) == {1}
    page = _text(editor.get(f"/staff/bulletins/{bulletin.id}"))
    assert "6 emails" in page
    assert "Safer Streets Fund round 6" in received[0].text
    listing = _text(editor.get("/staff/bulletins"))
    assert "Winter bulletin" in listing
    assert re.search(r'href="/staff/runs/\d+">Run \d+', listing)
    assert "Bulletin: Winter bulletin" in _text(editor.get("/staff/runs"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"subject": "x" * 201}, "Subject must be 200 characters or fewer"),
        ({"subject": ""}, "Enter a subject"),
        ({"subject": "Two\nlines"}, "Subject must not contain control characters or line breaks"),
        ({"subject": "=?utf-8?q?hi?="}, "Subject must not contain =?...?= encoded text"),
        ({"topics": []}, "Select at least one topic, or send it to everyone"),
        ({"topics": ["nope"]}, "There is no topic &#39;nope&#39;: choose topics from the list"),
        ({"items": ["99999999999999999999"]}, "Items must be a list of news item ids"),
        ({"items": ["12345"]}, "News item 12345 is not a published news item"),
    ],
)
def test_bad_input_shows_the_form_again_with_the_problem(app, editor, fields, message):
    response = _write(editor, **fields)
    assert response.status_code == 400
    page = _text(response)
    assert "There is a problem" in page
    assert message in page
    with app.app_context():
        assert db.session.scalar(select(Bulletin.id)) is None


def test_everyone_ignores_the_topic_boxes(app, editor):
    with app.app_context():
        add_readers(2, follows={"consultations": Frequency.DAILY}, now=TODAY)
        db.session.commit()
    assert _write(editor, audience="everyone").status_code == 302
    bulletin = _only(app)
    assert bulletin.everyone
    assert "2 people will get this bulletin" in _text(
        editor.get(f"/staff/bulletins/{bulletin.id}/send")
    )


def test_the_preview_is_the_email_a_reader_gets(app, editor):
    _write(editor)
    bulletin = _only(app)
    response = editor.get(f"/staff/bulletins/{bulletin.id}/preview")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "List-Unsubscribe-Post" in page
    assert "Winter bulletin" in page
    assert "[Test]" not in page
    assert "<iframe" in page
    assert "sandbox" in page
    assert "because you subscribe to news about one or more of: Funding, Events." in page


def test_send_a_test_to_me_reaches_only_the_staff_address(app, editor, smtpd):
    with app.app_context():
        add_readers(2, follows={"funding": Frequency.DAILY}, now=TODAY)
        db.session.commit()
    _write(editor)
    bulletin = _only(app)
    response = _post(
        editor, f"/staff/bulletins/{bulletin.id}/test", form_page=f"/staff/bulletins/{bulletin.id}"
    )
    assert response.status_code == 302
    assert f"A test was sent to {EDITOR}" in _text(editor.get(response.location))
    [received] = smtpd.drain()
    assert received.rcpt_tos == [EDITOR]
    assert received.message["Subject"] == "[Test] Winter bulletin"
    assert send_queued(app).sent == 0
    with app.app_context():
        assert db.session.scalar(select(Delivery.id)) is None
    assert _only(app).state is BulletinState.DRAFT


def test_the_two_person_rule_on_the_staff_pages(app, client, editor, smtpd):
    app.config["BULLETIN_APPROVAL_REQUIRED"] = True
    _write(editor)
    bulletin = _only(app)
    page = f"/staff/bulletins/{bulletin.id}"
    refused = _post(editor, f"{page}/send", {"when": "now"}, form_page=page)
    assert refused.status_code == 409
    assert "another member of staff must approve this bulletin" in _text(refused)
    assert _post(editor, f"{page}/submit", form_page=page).status_code == 302
    same = _post(editor, f"{page}/approve", form_page=page)
    assert same.status_code == 409
    assert "You submitted this bulletin, so you cannot approve it too" in _text(same)
    editor.post("/staff/logout", data={"csrf_token": csrf_token(editor, page)})
    login(client, OTHER)
    assert _post(client, f"{page}/approve", form_page=page).status_code == 302
    assert _post(client, f"{page}/send", {"when": "now"}, form_page=page).status_code == 302
    assert _only(app).state is BulletinState.SENT
    with app.app_context():
        trail = db.session.execute(
            select(AuditEvent.action, AuditEvent.actor)
            .where(AuditEvent.target_type == "Bulletin")
            .order_by(AuditEvent.id)
        ).all()
    assert [(action, actor.split(" ")[1]) for action, actor in trail] == [
        ("bulletin.create", EDITOR),
        ("bulletin.submit", EDITOR),
        ("bulletin.approve", OTHER),
        ("bulletin.send", OTHER),
    ]
    history = _text(client.get(page))
    assert f"Other Editor ({OTHER}) approved <a" in history
    assert f"Editor ({EDITOR}) asked another member of staff to approve <a" in history


def test_editing_an_approved_bulletin_needs_approval_again(app, client, editor):
    app.config["BULLETIN_APPROVAL_REQUIRED"] = True
    _write(editor)
    bulletin = _only(app)
    page = f"/staff/bulletins/{bulletin.id}"
    _post(editor, f"{page}/submit", form_page=page)
    editor.post("/staff/logout", data={"csrf_token": csrf_token(editor, page)})
    login(client, OTHER)
    _post(client, f"{page}/approve", form_page=page)
    form = client.get(f"{page}/edit")
    assert "goes back to draft" in _text(form)
    response = _post(
        client,
        f"{page}/edit",
        {"subject": "Changed", "audience": "everyone", "body": ""},
        form_page=f"{page}/edit",
    )
    assert response.status_code == 302
    changed = _only(app)
    assert (changed.state, changed.approved_by, changed.subject) == (
        BulletinState.DRAFT,
        None,
        "Changed",
    )


def test_schedule_then_the_job_sends_it_at_its_time(app, editor, runner, smtpd):
    with app.app_context():
        add_readers(2, follows={"events": Frequency.WEEKLY}, now=TODAY)
        db.session.commit()
    _write(editor)
    bulletin = _only(app)
    page = f"/staff/bulletins/{bulletin.id}/send"
    past = _post(editor, page, when_fields("2001-01-01", "9am"))
    assert past.status_code == 400
    assert "The date must be in the future" in _text(past)
    tomorrow = clock.now() + timedelta(days=1)
    response = _post(editor, page, when_fields(tomorrow.date(), "9:30am"))
    assert response.status_code == 302
    assert _only(app).state is BulletinState.SCHEDULED
    assert runner.invoke(args=["send-bulletins"]).output == "Sent 0 scheduled bulletins.\n"
    assert smtpd.drain() == []
    with app.app_context():
        db.session.get(Bulletin, bulletin.id).send_at = clock.now() - timedelta(seconds=1)
        db.session.commit()
    assert runner.invoke(args=["send-bulletins"]).output == "Sent 1 scheduled bulletins.\n"
    assert send_queued(app).sent == 2


def test_a_scheduled_bulletin_can_be_cancelled(app, editor, runner):
    _write(editor)
    bulletin = _only(app)
    tomorrow = clock.now() + timedelta(days=1)
    _post(
        editor,
        f"/staff/bulletins/{bulletin.id}/send",
        when_fields(tomorrow.date(), "9:30am"),
    )
    page = f"/staff/bulletins/{bulletin.id}"
    assert _post(editor, f"{page}/cancel", form_page=page).status_code == 302
    assert _only(app).state is BulletinState.CANCELLED
    assert _post(editor, f"{page}/cancel", form_page=page).status_code == 409


def test_unknown_bulletins_are_404(editor):
    assert editor.get("/staff/bulletins/99").status_code == 404
    assert editor.get(f"/staff/bulletins/{2**70}").status_code == 404


def test_the_bulletin_pages_need_a_login(client):
    response = client.get("/staff/bulletins")
    assert response.status_code == 302
    assert "/staff/login" in response.location

"""Erasing a subscriber from the staff area and the command line."""

from __future__ import annotations

from sqlalchemy import select

from mailer.extensions import db
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from tests.helpers import csrf_token
from tests.privacy.test_erasure import _sign_up_and_confirm
from tests.privacy.test_erasure import _tables_holding

EMAIL = "sam.smith@example.org"


def _subscriber_id(app):
    with app.app_context():
        return db.session.scalar(select(Subscriber.id).where(Subscriber.email == EMAIL))


def test_an_admin_erases_a_subscriber_giving_a_reason(app, admin, smtpd):
    _sign_up_and_confirm(admin, smtpd, app, EMAIL)
    subscriber_id = _subscriber_id(app)
    page = admin.get(f"/staff/subscribers/{subscriber_id}")
    assert f"/staff/subscribers/{subscriber_id}/erase" in page.get_data(as_text=True)
    url = f"/staff/subscribers/{subscriber_id}/erase"

    form = admin.get(url)
    done = admin.post(
        url, data={"csrf_token": csrf_token(admin, url), "reason": "request of 24 Nov"}
    )

    assert form.headers["Cache-Control"] == "private, no-store"
    assert done.status_code == 302
    shown = admin.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Erased subscriber #{subscriber_id}" in shown
    assert EMAIL not in shown
    assert _tables_holding(app, EMAIL) == []


def test_no_reason_means_nothing_is_erased(app, admin, smtpd):
    _sign_up_and_confirm(admin, smtpd, app, EMAIL)
    url = f"/staff/subscribers/{_subscriber_id(app)}/erase"

    response = admin.post(url, data={"csrf_token": csrf_token(admin, url), "reason": " "})

    assert response.status_code == 400
    assert "Say why this subscriber is being erased" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Subscriber.status)) is SubscriberStatus.ACTIVE


def test_erasing_twice_says_so(app, admin, smtpd):
    _sign_up_and_confirm(admin, smtpd, app, EMAIL)
    url = f"/staff/subscribers/{_subscriber_id(app)}/erase"
    admin.post(url, data={"csrf_token": csrf_token(admin, url), "reason": "request"})

    again = admin.post(url, data={"csrf_token": csrf_token(admin, url), "reason": "request"})

    assert again.status_code == 400
    assert "already been erased" in again.get_data(as_text=True)


def test_unknown_subscribers_are_not_found(admin):
    assert admin.get("/staff/subscribers/999/erase").status_code == 404
    assert admin.get("/staff/subscribers/999/data.json").status_code == 404


def test_the_command_erases_after_asking(app, runner, smtpd):
    _sign_up_and_confirm(app.test_client(), smtpd, app, EMAIL)

    declined = runner.invoke(args=["erase-subscriber", EMAIL, "--reason", "asked"], input="n\n")
    done = runner.invoke(args=["erase-subscriber", EMAIL.upper(), "--reason", "asked", "--yes"])
    unknown = runner.invoke(args=["erase-subscriber", EMAIL, "--reason", "asked", "--yes"])

    assert declined.exit_code == 1
    assert done.exit_code == 0, done.output
    assert "only a hash" in done.output
    assert unknown.exit_code == 1
    assert "no subscriber" in unknown.output
    assert _tables_holding(app, EMAIL) == []


def test_the_command_needs_a_reason_and_an_address(runner):
    assert runner.invoke(args=["erase-subscriber", "x@example.org"]).exit_code == 2
    bad = runner.invoke(args=["erase-subscriber", "nope", "--reason", "r", "--yes"])
    assert bad.exit_code == 2
    assert "Enter an email address" in bad.output

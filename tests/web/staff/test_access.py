"""How staff get in: invited by email to set their own password, and an authenticator app's
code as a second factor."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pyotp
import pytest
from sqlalchemy import select

from mailer.domain import staff_access
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import StaffRole
from mailer.models import StaffUser
from tests import TODAY
from tests.helpers import ADMIN
from tests.helpers import PASSWORD
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import login
from tests.helpers import make_staff

NEW = "new.editor@example.gov.uk"


def _post(client, path, data, form_page):
    return client.post(path, data={"csrf_token": csrf_token(client, form_page), **data})


def _invite(client, email=NEW, role="editor"):
    return _post(client, "/staff/users", {"email": email, "role": role}, "/staff/users")


def _set_password(client, path, password=PASSWORD, repeat=None):
    data = {"password": password, "repeat": password if repeat is None else repeat}
    return _post(client, path, data, path)


def test_an_invited_member_sets_their_own_password_once_from_the_email(app, admin, smtpd):
    page = admin.get("/staff/users").get_data(as_text=True)
    assert 'name="password"' not in page
    assert _invite(admin).status_code == 302
    [email] = smtpd.drain()
    assert email.rcpt_tos == [NEW]
    assert email.message["Subject"] == (
        "You are invited to the Community Safety Partnerships news staff area"
    )
    assert "as an editor" in email.text
    path = link(email.text, "/staff/invitation/")
    assert "Invited" in admin.get("/staff/users").get_data(as_text=True)
    # Until a password is set, no password logs in.
    assert login(app.test_client(), NEW, "").status_code == 401

    newcomer = app.test_client()
    short = _set_password(newcomer, path, "short")
    assert short.status_code == 400
    assert "at least 12 characters" in short.get_data(as_text=True)
    differ = _set_password(newcomer, path, repeat=PASSWORD + "x")
    assert "Enter the same password twice" in differ.get_data(as_text=True)
    assert _set_password(newcomer, path).headers["Location"] == "/staff/"
    assert newcomer.get("/staff/").status_code == 200
    used = app.test_client().get(path)
    assert used.status_code == 400
    assert "works once, for 7 days" in used.get_data(as_text=True)
    assert login(app.test_client(), NEW).status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["invited", "sent an invitation", "set a password"]


def test_a_new_invitation_replaces_the_old_link_and_members_cannot_be_invited(app, admin, smtpd):
    _invite(admin)
    first = link(smtpd.drain()[0].text, "/staff/invitation/")
    with app.app_context():
        user_id = db.session.scalar(select(StaffUser.id).where(StaffUser.email == NEW))
    again = _post(admin, f"/staff/users/{user_id}/invitation", {}, "/staff/users")
    assert again.status_code == 302
    second = link(smtpd.drain()[0].text, "/staff/invitation/")
    assert app.test_client().get(first).status_code == 400
    assert app.test_client().get(second).status_code == 200
    member = _invite(admin, ADMIN)
    assert member.status_code == 409
    assert "already has a staff account" in member.get_data(as_text=True)
    assert smtpd.drain() == []


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("not-an-address", "editor", "Enter an email address"),
        ("a@example.gov.uk\r\nBcc: x@example.com", "editor", "Enter an email address"),
        ("a@example.gov.uk", "owner", "Choose editor or admin"),
    ],
)
def test_bad_invitations_are_refused_clearly(admin, smtpd, email, role, message):
    response = _invite(admin, email, role)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert smtpd.drain() == []


def test_tampered_invitation_links_are_refused(app, admin, smtpd):
    _invite(admin)
    path = link(smtpd.drain()[0].text, "/staff/invitation/")
    response = app.test_client().get(path[:-3] + "abc")
    assert response.status_code == 400
    assert "This link is not valid" in response.get_data(as_text=True)


def test_editors_cannot_invite(app, client, smtpd):
    make_staff(app, "ed@example.gov.uk", StaffRole.EDITOR, now=TODAY)
    login(client, "ed@example.gov.uk")
    assert client.get("/staff/users").status_code == 403


def _turn_on(client, app):
    """Set up an authenticator app for the logged-in member; return the app's secret."""
    page = client.get("/staff/account/two-factor").get_data(as_text=True)
    key = page.split('id="setup-key">')[1].split("<")[0].replace(" ", "")
    # The page reads the clock, so the code is made for now, as the person's phone would.
    code = pyotp.TOTP(key).now()
    response = _post(client, "/staff/account/two-factor", {"code": code}, "/staff/login")
    assert response.headers["Location"] == "/staff/account"
    return key


def test_with_an_app_set_up_logging_in_needs_its_code_and_a_code_works_once(app, client):
    make_staff(app, "ann@example.gov.uk", StaffRole.EDITOR, now=TODAY)
    login(client, "ann@example.gov.uk")
    client.get("/staff/account/two-factor")
    wrong = _post(client, "/staff/account/two-factor", {"code": "000000"}, "/staff/news/new")
    assert "Enter the 6-digit code" in wrong.get_data(as_text=True)
    key = _turn_on(client, app)
    browser = app.test_client()
    step = login(browser, "ann@example.gov.uk")
    assert step.headers["Location"].startswith("/staff/login/code")
    assert browser.get("/staff/").status_code == 302
    bad = _post(browser, "/staff/login/code", {"code": "12345x"}, "/staff/login/code")
    assert bad.status_code == 401
    # Turning the app on used up the code of this 30-second step; the phone's next code is
    # one step on, which the service takes (clocks drift by a step).
    with app.app_context():
        last = db.session.scalar(select(StaffUser.totp_last_step).where(StaffUser.id == 1))
    code = pyotp.TOTP(key).at((last + 1) * 30)
    done = _post(browser, "/staff/login/code", {"code": code}, "/staff/login/code")
    assert done.headers["Location"] == "/staff/"
    assert browser.get("/staff/").status_code == 200
    again = app.test_client()
    login(again, "ann@example.gov.uk")
    replay = _post(again, "/staff/login/code", {"code": code}, "/staff/login/code")
    assert replay.status_code == 401


def test_a_code_is_checked_against_its_time_step_and_used_up(app):
    secret = pyotp.random_base32(32)
    now = datetime(2026, 11, 25, 10, 0, 10, tzinfo=UTC)
    totp = pyotp.TOTP(secret)
    with app.app_context():
        make_staff(app, "bo@example.gov.uk", StaffRole.EDITOR, now=TODAY)
        user = db.session.scalars(select(StaffUser)).one()
        staff_access.turn_on(user, secret, totp.at(now), now=now)
        assert not staff_access.check_code(user, totp.at(now), now=now)
        later = now.replace(second=40)
        assert staff_access.check_code(user, totp.at(later), now=later)
        assert not staff_access.check_code(user, totp.at(now.replace(minute=5)), now=later)
        # The wrong codes count as failed logins; the right one in between reset the count.
        assert user.failed_logins == 1


def test_admins_must_set_up_an_app_when_the_setting_says(app, client):
    app.config["STAFF_ADMIN_TOTP_REQUIRED"] = True
    make_staff(app, ADMIN, StaffRole.ADMIN, now=TODAY)
    login(client, ADMIN)
    assert client.get("/staff/").headers["Location"] == "/staff/account/two-factor"
    assert client.get("/staff/users").headers["Location"] == "/staff/account/two-factor"
    _turn_on(client, app)
    assert client.get("/staff/").status_code == 200
    off = _post(client, "/staff/account/two-factor/off", {}, "/staff/users")
    assert off.status_code == 409


def test_an_admin_turns_off_the_code_of_someone_who_lost_their_phone(app, admin, client):
    make_staff(app, "cy@example.gov.uk", StaffRole.EDITOR, now=TODAY)
    with app.app_context():
        user = db.session.scalars(select(StaffUser).where(StaffUser.email == "cy@example.gov.uk"))
        user.one().totp_secret = pyotp.random_base32(32)
        db.session.commit()
        user_id = db.session.scalar(
            select(StaffUser.id).where(StaffUser.email == "cy@example.gov.uk")
        )
    assert (
        login(app.test_client(), "cy@example.gov.uk")
        .headers["Location"]
        .startswith("/staff/login/code")
    )
    _post(admin, f"/staff/users/{user_id}/two-factor/off", {}, "/staff/users")
    assert login(app.test_client(), "cy@example.gov.uk").headers["Location"] == "/staff/"

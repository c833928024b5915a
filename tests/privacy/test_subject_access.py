"""Subject access: everything held about an address as JSON, for staff and on the command
line, following its published schema."""

from __future__ import annotations

import json

import jsonschema_rs
import pytest
from sqlalchemy import select

from mailer.database import transaction
from mailer.domain import suppressions
from mailer.domain.subject_access import SCHEMA_PATH
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import StaffRole
from mailer.models import SuppressionReason
from tests import TODAY
from tests.helpers import ADMIN
from tests.helpers import csrf_token
from tests.helpers import login
from tests.helpers import make_staff
from tests.privacy.test_erasure import _sign_up_and_confirm

EMAIL = "jo.bloggs@example.org"
SCHEMA = jsonschema_rs.validator_for(json.loads(SCHEMA_PATH.read_text()), validate_formats=True)


def _download(client, email):
    token = csrf_token(client, "/staff/subject-access")
    return client.post("/staff/subject-access", data={"csrf_token": token, "email": email})


def test_the_document_holds_subscription_consent_and_emails(app, admin, smtpd):
    _sign_up_and_confirm(admin, smtpd, app, EMAIL)

    response = _download(admin, EMAIL.upper())

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    document = response.get_json()
    SCHEMA.validate(document)
    subscriber = document["subscriber"]
    assert document["address"] == EMAIL
    assert subscriber["status"] == "active"
    assert [s["topic"] for s in subscriber["subscriptions"]] == ["funding", "events"]
    assert [e["action"] for e in subscriber["consent_events"]] == ["requested", "confirmed"]
    requested = subscriber["consent_events"][0]
    assert requested["user_agent"] == "Firefox/140"
    assert requested["notice_url"].endswith(f"/privacy/{requested['notice_version']}")
    assert [(e["kind"], e["status"]) for e in subscriber["emails"]] == [
        ("confirm", "sent"),
        ("welcome", "sent"),
    ]
    assert document["suppression"] is None


def test_a_suppressed_address_with_no_subscriber_is_answered_too(app, admin):
    with app.app_context(), transaction():
        suppressions.suppress(EMAIL, SuppressionReason.MANUAL, actor="t", now=TODAY)

    document = _download(admin, EMAIL).get_json()

    SCHEMA.validate(document)
    assert document["subscriber"] is None
    assert document["suppression"]["reason"] == "manual"


def test_every_download_is_in_the_audit_log(app, admin, smtpd):
    _sign_up_and_confirm(admin, smtpd, app, EMAIL)
    with app.app_context():
        subscriber_id = db.session.scalar(select(AuditEvent.target_id).limit(1))

    _download(admin, EMAIL)
    admin.get(f"/staff/subscribers/{subscriber_id}/data.json")

    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.actor).where(AuditEvent.action == "subscriber.access_export")
        ).all()
    assert len(actions) == 2
    assert all(ADMIN in actor for actor in actions)


@pytest.mark.parametrize("email", ["", "not-an-address", "a@example.org\r\nBcc: x@evil.example"])
def test_a_bad_address_gets_the_form_again(admin, email):
    response = _download(admin, email)

    assert response.status_code == 400
    assert "Enter" in response.get_data(as_text=True)


def test_the_download_needs_an_admin_and_a_csrf_token(app, client):
    make_staff(app, "ed@example.gov.uk", StaffRole.EDITOR, now=TODAY)
    assert client.get("/staff/subject-access").status_code == 302
    login(client, "ed@example.gov.uk")
    assert client.get("/staff/subject-access").status_code == 403


def test_without_a_csrf_token_nothing_is_given(admin):
    response = admin.post("/staff/subject-access", data={"email": EMAIL})

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")


def test_the_command_prints_the_document_and_writes_a_private_file(app, runner, smtpd, tmp_path):
    _sign_up_and_confirm(app.test_client(), smtpd, app, EMAIL)

    printed = runner.invoke(args=["subject-access", EMAIL])
    out = tmp_path / "sar.json"
    written = runner.invoke(args=["subject-access", EMAIL, "--output", str(out)])
    again = runner.invoke(args=["subject-access", EMAIL, "--output", str(out)])

    assert printed.exit_code == 0, printed.output
    SCHEMA.validate(json.loads(printed.stdout))
    assert written.exit_code == 0
    assert json.loads(out.read_text())["address"] == EMAIL
    assert out.stat().st_mode & 0o777 == 0o600
    assert again.exit_code == 2
    assert "exists already" in again.output


def test_the_command_refuses_a_bad_address(runner):
    result = runner.invoke(args=["subject-access", "nobody"])

    assert result.exit_code == 2
    assert "Enter an email address" in result.output

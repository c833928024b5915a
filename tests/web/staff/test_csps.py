"""The staff pages of the CSP directory: the stale filter, editing contact details, and
approving or rejecting the corrections people suggest; every change in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.domain.directory.listing import csp_by_code
from mailer.domain.directory.suggestions import add_suggestion
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import CspSuggestion
from mailer.models import StaffRole
from mailer.models import SuggestionStatus
from tests import TODAY
from tests.factories import load_directory
from tests.helpers import EDITOR
from tests.helpers import csrf_token
from tests.helpers import logged_in


@pytest.fixture
def directory(app):
    # The stale filter counts back from the day of the request, which reads the clock.
    today = clock.now().date()
    with app.app_context():
        load_directory(
            now=TODAY,
            E22000187={"email": "csp@barnet.example.gov.uk", "last_confirmed": today},
            E22000188={"last_confirmed": today - timedelta(days=364)},
            E22000189={"last_confirmed": today - timedelta(days=366)},
        )


@pytest.fixture
def editor(app, client):
    return logged_in(app, client, EDITOR, StaffRole.EDITOR, now=TODAY)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_editors_see_the_directory_in_the_staff_navigation(editor, directory):
    page = text(editor.get("/staff/csps"))
    assert 'href="/staff/csps"' in page
    assert "314 partnerships" in page


def test_the_stale_filter_shows_those_not_confirmed_for_twelve_months(editor, directory):
    page = text(editor.get("/staff/csps?stale=1"))
    # 311 were never confirmed, and Brent was confirmed a year and a day ago.
    assert "312 partnerships not confirmed in the last 12 months" in page
    assert 'href="/staff/csps/E22000189"' in page
    assert 'href="/staff/csps/E22000188"' not in page
    assert 'href="/staff/csps/E22000187"' not in page


def edit(client, code="E22000187", **fields):
    data = {"csrf_token": csrf_token(client, f"/staff/csps/{code}"), **fields}
    return client.post(f"/staff/csps/{code}", data=data)


def test_an_editor_changes_contact_details_and_marks_them_confirmed(app, editor, directory):
    response = edit(
        editor,
        code="E22000190",
        email="CSP@Bromley.example.gov.uk",
        phone="020 8464 3333",
        web="https://www.bromley.gov.uk/csp",
        confirmed="yes",
    )
    assert response.status_code == 302
    public = text(editor.get("/csps/E22000190"))
    assert 'href="mailto:CSP@bromley.example.gov.uk"' in public
    assert "020 8464 3333" in public
    assert "Not confirmed" not in public
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "edit_csp_contact")
        ).one()
        assert event.actor.endswith(EDITOR)
        assert event.detail["after"]["phone"] == "020 8464 3333"
        assert event.detail["confirmed"] is True


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not an address"}, "Enter an email address in the correct format"),
        ({"web": "javascript:alert(1)"}, "Enter a web address that starts with https://"),
        ({"web": "ftp://example.com/"}, "Enter a web address that starts with https://"),
        ({"phone": "call me"}, "Enter a phone number"),
    ],
)
def test_bad_contact_details_are_refused(app, editor, directory, fields, message):
    response = edit(editor, **fields)
    assert response.status_code == 400
    assert message in text(response)
    with app.app_context():
        assert csp_by_code("E22000187").email == "csp@barnet.example.gov.uk"


def suggest(app) -> int:
    with app.app_context():
        made = add_suggestion(
            csp_by_code("E22000187"),
            "The email bounces",
            "Use community.safety@barnet.example.gov.uk",
            "",
            now=TODAY,
        )
        db.session.commit()
        return made.id


def test_approving_shows_the_suggestion_beside_the_form_and_saves_the_edit(app, editor, directory):
    number = suggest(app)
    assert "Suggested corrections (1)" in text(editor.get("/staff/csps"))
    page = text(editor.get(f"/staff/csps/suggestions/{number}"))
    assert "Use community.safety@barnet.example.gov.uk" in page
    assert 'value="csp@barnet.example.gov.uk"' in page
    url = f"/staff/csps/suggestions/{number}"
    response = editor.post(
        url,
        data={
            "csrf_token": csrf_token(editor, url),
            "email": "community.safety@barnet.example.gov.uk",
            "decision": "approve",
        },
    )
    assert response.status_code == 302
    assert "community.safety@barnet.example.gov.uk" in text(editor.get("/csps/E22000187"))
    with app.app_context():
        suggestion = db.session.get(CspSuggestion, number)
        assert suggestion.status is SuggestionStatus.APPROVED
        assert suggestion.decided_by.endswith(EDITOR)
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"approve_csp_suggestion", "edit_csp_contact"} <= actions


def test_rejecting_changes_nothing_and_a_second_decision_is_a_conflict(app, editor, directory):
    number = suggest(app)
    url = f"/staff/csps/suggestions/{number}"
    token = csrf_token(editor, url)
    rejected = editor.post(url, data={"csrf_token": token, "decision": "reject"})
    assert rejected.status_code == 302
    again = editor.post(
        url, data={"csrf_token": token, "decision": "approve", "email": "x@example.com"}
    )
    assert again.status_code == 409
    with app.app_context():
        assert db.session.get(CspSuggestion, number).status is SuggestionStatus.REJECTED
        assert csp_by_code("E22000187").email == "csp@barnet.example.gov.uk"


def test_the_staff_pages_need_a_login(client, directory):
    assert client.get("/staff/csps").status_code == 302
    assert client.get("/staff/csps/E22000187").status_code == 302


def test_unknown_codes_and_suggestions_are_404(editor, directory):
    assert editor.get("/staff/csps/E99999999").status_code == 404
    assert editor.get("/staff/csps/suggestions/999").status_code == 404

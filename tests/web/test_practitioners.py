"""The optional questions about a subscriber's work on the sign-up and manage forms: saved,
changed, recorded with their consent, in their copy of their data and on the staff page, and
bad answers refused with a message, never an error page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.domain.subject_access import subject_access
from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Csp
from mailer.models import CspStatus
from mailer.models import StaffRole
from mailer.models import Subscriber
from tests import TODAY
from tests.factories import load_directory
from tests.helpers import ADMIN
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import logged_in
from tests.helpers import send_queued
from tests.privacy.test_data_copy import SCHEMA

CARDIFF, SWANSEA, BARNET = "W14000015", "W14000011", "E22000187"
EMAIL = "sam@example.org"


@pytest.fixture(autouse=True)
def directory(app):
    with app.app_context():
        load_directory(now=TODAY)


def _text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _sign_up(client, **answers):
    data = {
        "csrf_token": csrf_token(client, "/subscribe"),
        "email": EMAIL,
        "topics": ["funding"],
        "frequency": "daily",
        "profile": "asked",
        **answers,
    }
    return client.post("/subscribe", data=data)


def _confirm_and_manage(app, client, smtpd):
    """Confirm the sign-up from its email; return the manage link of the welcome email."""
    send_queued(app)
    path = link(smtpd.get().text, "/confirm/")
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    send_queued(app)
    return link(smtpd.get().text, "/manage/")


def _subscriber(app):
    with app.app_context():
        found = db.session.scalars(select(Subscriber).where(Subscriber.email == EMAIL)).one()
        return found.organisation_type, [csp.code for csp in found.areas]


def test_the_sign_up_form_asks_both_questions_without_javascript(client):
    page = client.get("/subscribe").get_data(as_text=True)
    assert "What type of organisation do you work for? (optional)" in page
    assert 'name="organisation_type" type="radio" value="fire-and-rescue"' in page
    assert (
        '<select class="govuk-select app-select-multiple" id="areas" name="areas" multiple' in page
    )
    assert '<optgroup label="Wales: South Wales">' in page
    assert f'<option value="{CARDIFF}">Cardiff</option>' in page
    assert "checked" not in page


def test_answers_given_at_sign_up_are_saved_and_recorded_with_the_consent(app, client, smtpd):
    assert _sign_up(client, organisation_type="police", areas=[CARDIFF, SWANSEA]).status_code == 302
    assert _subscriber(app) == ("police", [CARDIFF, SWANSEA])
    with app.app_context():
        event = db.session.scalars(select(ConsentEvent)).one()
        assert event.action is ConsentAction.REQUESTED
        assert event.detail["organisation_type"] == "police"
        assert event.detail["areas"] == [CARDIFF, SWANSEA]


def test_no_answers_are_fine_and_leave_nothing_in_the_consent_record(app, client):
    assert _sign_up(client, organisation_type="").status_code == 302
    assert _subscriber(app) == (None, [])
    with app.app_context():
        detail = db.session.scalars(select(ConsentEvent)).one().detail
        assert "organisation_type" not in detail
        assert "areas" not in detail


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        (
            {"organisation_type": "army"},
            "organisation_type",
            "Select the type of organisation from the list",
        ),
        (
            {"areas": ["W14999999"]},
            "areas",
            "Select Community Safety Partnership areas from the list",
        ),
        (
            {"areas": ["x" * 5000]},
            "areas",
            "Select Community Safety Partnership areas from the list",
        ),
    ],
)
def test_bad_answers_are_a_400_with_a_message_by_the_field(app, client, answers, field, message):
    response = _sign_up(client, **answers)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<a href="#{field}">{message}</a>' in page
    assert f'id="{field}-error"' in page
    with app.app_context():
        assert db.session.scalar(select(Subscriber.id)) is None


def test_an_ended_partnership_cannot_be_chosen(app, client):
    with app.app_context():
        db.session.scalars(select(Csp).where(Csp.code == BARNET)).one().status = CspStatus.ENDED
        db.session.commit()
    response = _sign_up(client, areas=[BARNET])
    assert response.status_code == 400
    assert f'value="{BARNET}"' not in response.get_data(as_text=True)


def test_the_manage_page_shows_changes_and_clears_the_answers(app, client, smtpd):
    _sign_up(client, organisation_type="council", areas=[CARDIFF])
    manage = _confirm_and_manage(app, client, smtpd)
    page = client.get(manage).get_data(as_text=True)
    assert 'value="council" checked' in page
    assert f'<option value="{CARDIFF}" selected>Cardiff</option>' in page

    token = csrf_token(client, manage)
    form = {"csrf_token": token, "topics": ["funding"], "frequency": "daily", "profile": "asked"}
    changed = client.post(
        manage, data=form | {"organisation_type": "health", "areas": [SWANSEA, BARNET]}
    )
    assert changed.status_code == 302
    assert _subscriber(app) == ("health", [BARNET, SWANSEA])
    page = client.get(manage).get_data(as_text=True)
    assert 'value="health" checked' in page
    with app.app_context():
        event = db.session.scalars(
            select(ConsentEvent).where(ConsentEvent.action == ConsentAction.CHANGED)
        ).one()
        assert (event.detail["organisation_type"], event.detail["areas"]) == (
            "health",
            [BARNET, SWANSEA],
        )

    bad = client.post(manage, data=form | {"organisation_type": "spy"})
    assert bad.status_code == 400
    assert "Select the type of organisation from the list" in _text(bad)
    assert _subscriber(app) == ("health", [BARNET, SWANSEA])

    cleared = client.post(manage, data=form | {"organisation_type": ""})
    assert cleared.status_code == 302
    assert _subscriber(app) == (None, [])
    assert (
        'id="organisation_type-none" name="organisation_type" type="radio" value="" checked'
        in client.get(manage).get_data(as_text=True)
    )


def test_the_answers_are_in_the_copy_of_their_data_and_on_the_staff_page(app, client, smtpd):
    _sign_up(client, organisation_type="fire-and-rescue", areas=[CARDIFF])
    _confirm_and_manage(app, client, smtpd)
    with app.app_context():
        document = subject_access(EMAIL, actor="test", now=TODAY)
        subscriber_id = db.session.scalar(select(Subscriber.id))
    SCHEMA.validate(document)
    assert document["subscriber"]["organisation_type"] == "fire-and-rescue"
    assert document["subscriber"]["areas"] == [{"code": CARDIFF, "name": "Cardiff"}]

    logged_in(app, client, ADMIN, StaffRole.ADMIN, now=clock.now())
    text = _text(client.get(f"/staff/subscribers/{subscriber_id}"))
    assert "Organisation type Fire and rescue" in text
    assert "Works in Cardiff (Wales)" in text


def test_a_form_without_the_questions_leaves_the_answers_alone(app, client, smtpd):
    _sign_up(client, organisation_type="probation", areas=[SWANSEA])
    manage = _confirm_and_manage(app, client, smtpd)
    token = csrf_token(client, manage)
    form = {"csrf_token": token, "topics": ["events"], "frequency": "weekly"}
    assert client.post(manage, data=form).status_code == 302
    assert _subscriber(app) == ("probation", [SWANSEA])

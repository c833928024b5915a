"""The bulletins API with a segment: what it accepts, what it answers, and that the audience
it reports is the number of emails then sent."""

from __future__ import annotations

import pytest

from mailer.domain import practitioners
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import Subscriber
from tests import TODAY
from tests.factories import add_readers
from tests.factories import load_directory
from tests.helpers import send_queued
from tests.web.api.test_bulletins import BULLETIN
from tests.web.api.test_bulletins import BULLETINS
from tests.web.api.test_bulletins import _key
from tests.web.api.test_bulletins import error_of

CARDIFF, BARNET = "W14000015", "E22000187"


@pytest.fixture
def auth(app):
    return _key(app, "website-cms")


@pytest.fixture
def readers(app):
    """Two police officers in Cardiff, three council staff in Barnet, one who said nothing."""
    with app.app_context():
        load_directory(now=TODAY)
        for count, kind, code in ((2, "police", CARDIFF), (3, "council", BARNET)):
            profile = practitioners.parse_profile(kind, [code])
            for subscriber_id in add_readers(
                count, follows={"funding": Frequency.DAILY}, now=TODAY, prefix=kind
            ):
                practitioners.apply_profile(db.session.get_one(Subscriber, subscriber_id), profile)
        add_readers(1, follows={"funding": Frequency.DAILY}, now=TODAY, prefix="none")
        db.session.commit()


def test_a_bulletin_to_wales_reports_and_sends_to_the_welsh_readers_only(
    app, client, auth, readers, smtpd
):
    segment = {"nations": ["wales"]}
    response = client.post(BULLETINS, json=BULLETIN | {"segment": segment}, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    made = response.get_json()
    assert made["segment"] == {
        "nations": ["wales"],
        "pfas": [],
        "csps": [],
        "organisation_types": [],
    }
    assert made["audience"] == 2
    sent = client.post(f"{BULLETINS}/{made['id']}/send", headers=auth).get_json()
    assert sent["audience"] == 2
    assert send_queued(app).sent == 2
    assert {m.rcpt_tos[0] for m in smtpd.drain()} == {
        "policereader0@example.org",
        "policereader1@example.org",
    }


def test_areas_and_organisation_types_combine(client, auth, readers):
    segment = {"csps": [BARNET, CARDIFF], "organisation_types": ["council"]}
    made = client.post(BULLETINS, json=BULLETIN | {"segment": segment}, headers=auth).get_json()
    assert made["audience"] == 3
    assert made["segment"]["csps"] == sorted([BARNET, CARDIFF])


@pytest.mark.parametrize(
    ("segment", "fields"),
    [
        (
            {"nations": ["scotland"]},
            {"segment.nations": "There is no nation 'scotland': choose from the list"},
        ),
        (
            {"pfas": ["E23999999"]},
            {"segment.pfas": "There is no police force area 'E23999999': choose from the list"},
        ),
        (
            {"csps": ["W14999999"]},
            {"segment.csps": "There is no active partnership 'W14999999': choose from the list"},
        ),
        (
            {"organisation_types": ["army"]},
            {
                "segment.organisation_types": "There is no organisation type 'army': "
                "choose from the list"
            },
        ),
        ({"nations": "wales"}, {"segment.nations": "nations must be a list of codes"}),
        ({"nations": [1]}, {"segment.nations": "nations must be a list of codes"}),
        (
            {"regions": ["north"]},
            {"segment": "Segment must be an object with nations, pfas, csps, organisation_types"},
        ),
        (
            ["wales"],
            {"segment": "Segment must be an object with nations, pfas, csps, organisation_types"},
        ),
    ],
)
def test_a_bad_segment_is_a_422_naming_the_part(client, auth, segment, fields):
    response = client.post(BULLETINS, json=BULLETIN | {"segment": segment}, headers=auth)
    assert error_of(response, 422)["fields"] == fields

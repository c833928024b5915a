"""What a subscriber says about their work, checked and applied; segments read and named."""

from __future__ import annotations

import pytest

from mailer.domain import practitioners
from mailer.domain import segments
from mailer.errors import FieldErrors
from mailer.extensions import db
from mailer.models import OrganisationType
from tests import TODAY
from tests.factories import load_directory
from tests.factories import make_subscriber

CARDIFF, SWANSEA = "W14000015", "W14000011"


@pytest.fixture
def directory(app):
    with app.app_context():
        load_directory(now=TODAY)
        yield


@pytest.mark.usefixtures("directory")
def test_empty_answers_mean_not_given():
    profile = practitioners.parse_profile("", ["", None])
    assert profile == practitioners.Profile()
    assert practitioners.describe_profile(profile) == {}
    assert practitioners.describe_profile(None) == {}


@pytest.mark.usefixtures("directory")
def test_answers_are_applied_and_described_by_code():
    profile = practitioners.parse_profile("probation", [SWANSEA, CARDIFF, CARDIFF])
    assert profile.organisation_type is OrganisationType.PROBATION
    assert [csp.code for csp in profile.areas] == [CARDIFF, SWANSEA]
    assert practitioners.describe_profile(profile) == {
        "organisation_type": "probation",
        "areas": [CARDIFF, SWANSEA],
    }
    subscriber = make_subscriber(email="jo@example.org", now=TODAY)
    practitioners.apply_profile(subscriber, profile)
    db.session.flush()
    assert practitioners.profile_json(subscriber) == {
        "organisation_type": "probation",
        "areas": [{"code": CARDIFF, "name": "Cardiff"}, {"code": SWANSEA, "name": "Swansea"}],
    }
    assert practitioners.area_words(subscriber) == ["Cardiff (Wales)", "Swansea (Wales)"]
    assert practitioners.organisation_label(subscriber.organisation_type) == "Probation"


@pytest.mark.usefixtures("directory")
@pytest.mark.parametrize(
    ("kind", "codes", "errors"),
    [
        ("army", [], {"organisation_type": "Select the type of organisation from the list"}),
        (["police"], [], {"organisation_type": "Select the type of organisation from the list"}),
        (None, ["W14999999"], {"areas": "Select Community Safety Partnership areas from the list"}),
        (None, [7], {"areas": "Areas must be the codes of Community Safety Partnerships"}),
        (None, [["x"]], {"areas": "Areas must be the codes of Community Safety Partnerships"}),
        (None, [f"W{n:08}" for n in range(51)], {"areas": "Select 50 areas or fewer"}),
    ],
)
def test_bad_answers_are_field_errors(kind, codes, errors):
    with pytest.raises(FieldErrors) as raised:
        practitioners.parse_profile(kind, codes)
    assert raised.value.errors == errors


@pytest.mark.usefixtures("directory")
def test_a_segment_is_named_in_words_and_its_places_in_a_sentence():
    errors: dict[str, str] = {}
    segment = segments.parse(
        errors,
        {
            "nations": ["wales"],
            "pfas": ["W15000003"],
            "csps": [CARDIFF],
            "organisation_types": ["health"],
        },
    )
    assert errors == {}
    assert segments.describe(segment) == ["Wales", "South Wales", "Cardiff", "Health"]
    assert segments.applies_to(segment) == "Wales, South Wales and Cardiff"
    assert segments.applies_to(segments.Segment()) == ""
    assert segments.from_stored(segment.to_json()) == segment

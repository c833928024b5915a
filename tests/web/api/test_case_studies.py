"""Published case studies in the API: public, read-only, filtered and paged like the other
listings, never with the submitter's address."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailer.extensions import db
from mailer.models import CaseStudyRating
from mailer.models import CaseStudyState
from tests import TODAY
from tests.factories import load_directory
from tests.practice_factories import make_case_study


@pytest.fixture
def library(app):
    with app.app_context():
        load_directory(now=TODAY)
        make_case_study(
            "Synthetic example: graffiti wall",
            now=TODAY - timedelta(days=1),
            themes=("anti-social-behaviour",),
            crime_types=("criminal-damage-arson",),
            csp_code="E22000187",
            answers={"problem": "Tags on the library.", "private_notes": "Not for the public"},
        )
        make_case_study(
            "Synthetic example: cycle marking",
            now=TODAY,
            themes=("neighbourhood-crime",),
            crime_types=("bicycle-theft",),
            nation="wales",
            rating=CaseStudyRating.PROMISING,
            contact_consent=False,
        )
        make_case_study("A draft", now=TODAY, state=CaseStudyState.IN_REVIEW)
        db.session.commit()


def test_the_list_needs_no_key_and_holds_only_published_case_studies(client, library):
    response = client.get("/api/v1/case-studies")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["total"], body["page"], body["pages"]) == (2, 1, 1)
    assert [item["title"] for item in body["items"]] == [
        "Synthetic example: cycle marking",
        "Synthetic example: graffiti wall",
    ]
    assert b"submitter@example.org" not in response.data
    assert b"private_notes" not in response.data


def test_an_item_has_the_documented_fields(client, library):
    item = client.get("/api/v1/case-studies/synthetic-example-graffiti-wall").get_json()
    assert item["csp"] == {"code": "E22000187", "name": "Barnet"}
    assert item["themes"] == ["anti-social-behaviour"]
    assert item["crime_types"] == ["criminal-damage-arson"]
    assert item["sections"] == {"problem": "Tags on the library."}
    assert item["rating"] == "worked"
    assert item["url"].endswith("/effective-practice/synthetic-example-graffiti-wall")
    assert item["contact_url"].endswith(
        "/effective-practice/synthetic-example-graffiti-wall/contact"
    )
    assert item["published_at"] == "2026-11-24T10:00:00Z"
    other = client.get("/api/v1/case-studies/synthetic-example-cycle-marking").get_json()
    assert other["contact_url"] is None


def test_the_same_filters_and_search_as_the_library(client, library):
    def titles(query: str) -> list[str]:
        body = client.get(f"/api/v1/case-studies?{query}").get_json()
        return [item["title"] for item in body["items"]]

    assert titles("q=graffiti") == ["Synthetic example: graffiti wall"]
    assert titles("crime_type=bicycle-theft&crime_type=robbery") == [
        "Synthetic example: cycle marking"
    ]
    assert titles("nation=wales&rating=promising&evaluated=no") == [
        "Synthetic example: cycle marking"
    ]
    assert titles("csp=E22000187") == ["Synthetic example: graffiti wall"]
    assert titles("q=synthetic&sort=relevance&theme=neighbourhood-crime") == [
        "Synthetic example: cycle marking"
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("theme=nope", "theme"),
        ("nation=mars", "nation"),
        ("rating=great", "rating"),
        ("csp=Barnet", "csp"),
        ("evaluated=maybe", "evaluated"),
        ("sort=random", "sort"),
        ("page=0", "page"),
        ("page=99999999999", "page"),
        ("q=" + "x" * 201, "q"),
        ("q=a%00b", "q"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_them(client, library, query, field):
    response = client.get(f"/api/v1/case-studies?{query}")
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("slug", ["a-draft", "nothing", "UPPER", "x" * 200])
def test_unknown_or_unpublished_slugs_are_not_found(client, library, slug):
    assert client.get(f"/api/v1/case-studies/{slug}").status_code == 404


def test_the_library_is_read_only(client, library):
    assert client.post("/api/v1/case-studies").status_code == 405
    assert client.delete("/api/v1/case-studies/synthetic-example-graffiti-wall").status_code == 405


def test_the_document_describes_the_library(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["paths"]["/api/v1/case-studies"]["get"]["security"] == []
    assert "/api/v1/case-studies/{slug}" in document["paths"]
    fields = document["components"]["schemas"]["CaseStudy"]["properties"]
    assert "submitter_email" not in fields

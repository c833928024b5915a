"""The CSP directory in the JSON API: public, read-only, the documented shape, and bad input."""

from __future__ import annotations

from datetime import date

import pytest

from tests import TODAY
from tests.factories import load_directory


@pytest.fixture
def directory(app):
    with app.app_context():
        load_directory(
            now=TODAY,
            E22000187={
                "email": "csp@barnet.example.gov.uk",
                "phone": "020 8359 2000",
                "web": "https://www.barnet.gov.uk/csp",
                "last_confirmed": date(2026, 3, 1),
            },
        )


def test_the_list_needs_no_key_and_pages_through_every_partnership(client, directory):
    first = client.get("/api/v1/csps")
    assert first.status_code == 200
    body = first.get_json()
    assert (body["total"], body["page"], body["pages"], len(body["items"])) == (314, 1, 7, 50)
    last = client.get("/api/v1/csps?page=7").get_json()
    assert len(last["items"]) == 14
    assert client.get("/api/v1/csps?page=8").get_json()["items"] == []


def test_an_item_has_the_documented_fields(client, directory):
    body = client.get("/api/v1/csps?q=Barnet").get_json()
    assert body["total"] == 1
    assert body["items"][0] == {
        "code": "E22000187",
        "name": "Barnet",
        "name_cy": None,
        "nation": "england",
        "pfa": {"code": "E23000001", "name": "Metropolitan Police"},
        "councils": [{"code": "E09000003", "name": "Barnet"}],
        "contact": {
            "email": "csp@barnet.example.gov.uk",
            "phone": "020 8359 2000",
            "web": "https://www.barnet.gov.uk/csp",
        },
        "last_confirmed": "2026-03-01",
        "status": "active",
        "successor": None,
    }


def test_filters_by_nation_and_police_force_area(client, directory):
    wales = client.get("/api/v1/csps?nation=wales").get_json()
    assert wales["total"] == 21
    assert {item["nation"] for item in wales["items"]} == {"wales"}
    met = client.get("/api/v1/csps?pfa=E23000001").get_json()
    assert met["total"] == 32


def test_one_partnership_by_code_and_unknown_codes(client, directory):
    assert client.get("/api/v1/csps/W14000001").get_json()["name_cy"] == "Ynys Môn"
    missing = client.get("/api/v1/csps/E22999999")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/csps/nonsense").status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("nation=scotland", "nation"),
        ("pfa=E2300", "pfa"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("q=" + "x" * 101, "q"),
        ("q=%00", "q"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_them(client, directory, query, field):
    response = client.get(f"/api/v1/csps?{query}")
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]


def test_the_directory_is_read_only(client, directory):
    assert client.post("/api/v1/csps", json={}).status_code == 405
    assert client.delete("/api/v1/csps/E22000187").status_code == 405


def test_the_news_api_still_needs_a_key(client, directory):
    assert client.get("/api/v1/news").status_code == 401

"""The public CSP directory: the A to Z, search by partnership or council, filters, each
partnership's page, suggesting a correction, the downloads, and odd input."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from mailer.domain.directory.files import ATTRIBUTION
from mailer.domain.directory.listing import csp_by_code
from mailer.extensions import db
from mailer.models import CspStatus
from mailer.models import CspSuggestion
from mailer.models import SuggestionStatus
from tests import TODAY
from tests.factories import load_directory
from tests.helpers import csrf_token


@pytest.fixture
def directory(app):
    with app.app_context():
        load_directory(
            now=TODAY,
            E22000187={"email": "csp@barnet.example.gov.uk", "last_confirmed": date(2026, 3, 1)},
        )


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_directory_lists_314_partnerships_a_to_z_with_the_attribution(client, directory):
    page = text(client.get("/csps"))
    assert "314 partnerships" in page
    assert page.index(">Adur<") < page.index(">Allerdale<")
    assert ATTRIBUTION.replace("©", "&copy;") in page or ATTRIBUTION in page
    assert 'href="/csps?page=2"' in page
    assert 'href="/csps?letter=B"' in page


def test_searching_a_council_finds_its_partnership(client, directory):
    page = text(client.get("/csps?q=Barnet"))
    assert "1 partnership for" in page
    assert 'href="/csps/E22000187"' in page


def test_a_council_covered_by_two_partnerships_lists_both(client, directory):
    # Bournemouth, Christchurch and Poole (E06000058) is covered by three 2019 partnerships.
    page = text(client.get("/csps?q=Bournemouth%2C+Christchurch"))
    assert "3 partnerships for" in page
    for code in ("E22000063", "E22000067", "E22000367"):
        assert f'href="/csps/{code}"' in page


def test_welsh_names_are_found_and_shown(client, directory):
    page = text(client.get("/csps?q=ynys+m%C3%B4n"))
    assert "1 partnership for" in page
    assert '<span lang="cy">(Ynys Môn)</span>' in page


def test_filters_by_nation_police_force_area_and_letter(client, directory):
    assert "21 partnerships" in text(client.get("/csps?nation=wales"))
    assert "293 partnerships" in text(client.get("/csps?nation=england"))
    met = text(client.get("/csps?pfa=E23000001"))
    assert "32 partnerships" in met
    assert 'href="/csps/E22000187"' in met
    letter = text(client.get("/csps?letter=Z"))
    assert "0 partnerships starting with Z" in letter


def test_a_partnership_page_shows_councils_force_contact_and_confirmation(client, directory):
    page = text(client.get("/csps/E22000187"))
    assert "<h1" in page
    assert "Metropolitan Police" in page
    assert 'href="mailto:csp@barnet.example.gov.uk"' in page
    assert "1 March 2026" in page
    assert "Suggest a correction" in page
    assert "Office for National Statistics" in page
    other = text(client.get("/csps/E22000188"))
    assert "Not confirmed" in other


def test_an_ended_partnership_says_what_replaced_it(app, client, directory):
    with app.app_context():
        old = csp_by_code("E22000188")
        old.status, old.successor_code = CspStatus.ENDED, "E22000187"
        old.valid_to = date(2026, 4, 1)
        db.session.commit()
    page = text(client.get("/csps/E22000188"))
    assert "This partnership ended on 1 April 2026" in page
    assert 'replaced by <a class="govuk-link" href="/csps/E22000187">Barnet</a>' in page
    assert 'href="/csps/E22000188"' not in text(client.get("/csps?q=Bexley"))


@pytest.mark.parametrize(
    "path",
    [
        "/csps/E99999999",
        "/csps/nonsense",
        "/csps/%00",
        "/csps?page=0",
        "/csps?page=99",
        "/csps?page=abc",
        "/csps/E99999999/suggest",
    ],
)
def test_unknown_codes_and_pages_are_404(client, directory, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "q=%00%01",
        "q=" + "x" * 5000,
        "q=%25_%5C",
        "nation=scotland",
        "pfa=%27%3B--",
        "letter=%C3%A9",
        "q[]=1&nation=&pfa=",
        "q=%F0%9F%98%80",
    ],
)
def test_odd_query_input_is_never_a_server_error(client, directory, query):
    assert client.get(f"/csps?{query}").status_code == 200


def suggest(client, code="E22000187", **fields):
    data = {
        "csrf_token": csrf_token(client, f"/csps/{code}/suggest"),
        "problem": "The email address bounces",
        "correction": "It is now community.safety@barnet.example.gov.uk",
        **fields,
    }
    return client.post(f"/csps/{code}/suggest", data=data, **fields.pop("options", {}))


def test_a_suggestion_is_kept_for_staff_and_not_published(app, client, directory):
    response = suggest(client, email="Someone@Example.com")
    assert response.status_code == 302
    thanks = text(client.get(response.headers["Location"]))
    assert "We have your suggestion" in thanks
    assert "community.safety@barnet" not in text(client.get("/csps/E22000187"))
    with app.app_context():
        kept = db.session.scalars(select(CspSuggestion)).one()
        assert kept.status is SuggestionStatus.PENDING
        assert kept.email == "Someone@example.com"
        assert kept.csp.email == "csp@barnet.example.gov.uk"


def test_every_suggestion_gets_the_same_answer(client, directory):
    with_email = suggest(client, email="known@example.com")
    without = suggest(client)
    assert with_email.status_code == without.status_code == 302
    assert with_email.headers["Location"] == without.headers["Location"]


def test_bad_suggestions_are_refused_with_messages(app, client, directory):
    too_long = suggest(client, problem="x" * 1001, email="not an address\r\nBcc: x@y.z")
    page = text(too_long)
    assert too_long.status_code == 400
    assert "must be 1,000 characters or fewer" in page
    assert "Enter an email address in the correct format" in page
    blank = suggest(client, problem="", correction="")
    assert "Enter what is wrong" in text(blank)
    with app.app_context():
        assert db.session.scalars(select(CspSuggestion)).all() == []


def test_a_suggestion_without_a_csrf_token_is_refused(client, directory):
    response = client.post("/csps/E22000187/suggest", data={"problem": "a", "correction": "b"})
    assert response.status_code == 400


def test_the_csv_download_guards_formulas_and_carries_the_attribution(app, client, directory):
    with app.app_context():
        csp_by_code("E22000187").phone = "=HYPERLINK(1)"
        db.session.commit()
    response = client.get("/csps/directory.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(text(response).lstrip("\ufeff"))))
    assert len(rows) == 314
    barnet = next(row for row in rows if row["code"] == "E22000187")
    assert barnet["phone"] == "'=HYPERLINK(1)"
    assert barnet["source"] == ATTRIBUTION
    assert barnet["council_names"] == "Barnet"


def test_the_json_download_has_every_partnership_and_the_attribution(client, directory):
    document = client.get("/csps/directory.json").get_json()
    assert document["attribution"] == ATTRIBUTION
    assert len(document["items"]) == 314
    anglesey = next(item for item in document["items"] if item["code"] == "W14000001")
    assert anglesey["name_cy"] == "Ynys Môn"
    assert anglesey["nation"] == "wales"


def test_the_home_page_and_navigation_link_the_directory(client, directory):
    assert 'href="/csps"' in text(client.get("/"))
    assert 'href="/csps"' in text(client.get("/news"))

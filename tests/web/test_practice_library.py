"""The public library of effective practice: the list with its search, filters, sort and
pages, each case study's page, the feed, and odd input."""

from __future__ import annotations

import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest

from mailer.extensions import db
from mailer.models import CaseStudyAttachment
from mailer.models import CaseStudyRating
from mailer.models import CaseStudyState
from tests import TODAY
from tests.factories import load_directory
from tests.practice_factories import make_case_study

ATOM = "{http://www.w3.org/2005/Atom}"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def library(app):
    with app.app_context():
        load_directory(now=TODAY)
        make_case_study(
            "Synthetic example: bus stop wardens",
            now=TODAY - timedelta(days=3),
            summary="Wardens at bus stops after school.",
            themes=("youth-crime",),
            crime_types=("robbery",),
            csp_code="E22000187",
            partners="Northtown Buses",
            answers={
                "problem": "Robberies at bus stops.",
                "what_was_done": "Wardens stood at six stops.\n\nThey wore bright coats.",
                "lessons": "Start in the autumn.",
            },
        )
        make_case_study(
            "Synthetic example: late night text alerts",
            now=TODAY,
            summary="Texts to venues about trouble nearby.",
            themes=("anti-social-behaviour",),
            nation="wales",
            rating=CaseStudyRating.DID_NOT_WORK,
            contact_consent=False,
            answers={"problem": "Fights at closing time, and the wardens were far away."},
        )
        make_case_study("Draft not shown", now=TODAY, state=CaseStudyState.SUBMITTED)
        db.session.commit()


def test_the_library_lists_published_case_studies_newest_first(client, library):
    page = text(client.get("/effective-practice"))
    assert "2 case studies" in page
    assert page.index("late night text alerts") < page.index("bus stop wardens")
    assert "Draft not shown" not in page
    assert "Did not work" in page
    assert "Barnet" in page
    assert 'rel="alternate" type="application/atom+xml"' in page
    assert 'href="/effective-practice/feed.atom"' in page


def test_search_and_filters_narrow_the_list_and_are_kept_in_the_form(client, library):
    page = text(client.get("/effective-practice?q=wardens&sort=relevance"))
    assert "2 case studies" in page
    assert page.index("bus stop wardens") < page.index("late night text alerts")
    assert 'value="relevance" selected' in page
    page = text(client.get("/effective-practice?theme=youth-crime"))
    assert "1 case study" in page
    assert "late night" not in page
    assert re.search(r'id="theme-youth-crime"[^>]*checked', page)
    page = text(client.get("/effective-practice?nation=wales&rating=did_not_work"))
    assert "1 case study" in page
    assert "bus stop" not in page
    page = text(client.get("/effective-practice?csp=E22000187&evaluated=no"))
    assert "1 case study" in page
    assert "bus stop wardens" in page
    assert '<option value="E22000187" selected>' in page


@pytest.mark.parametrize(
    "query",
    [
        "theme=not-a-theme",
        "nation=mars&rating=excellent&evaluated=maybe&sort=random",
        "csp=<script>",
        "q=" + "x" * 5000,
        "q=%22%28%28%28",
        "q=%00%01",
        "theme=" + "&theme=".join(["youth-crime"] * 500),
    ],
)
def test_unknown_filter_values_are_ignored(client, library, query):
    response = client.get(f"/effective-practice?{query}")
    assert response.status_code == 200
    assert "case stud" in text(response)


@pytest.mark.parametrize("page", ["0", "-1", "x", "99999999999999999999", "3"])
def test_a_page_that_does_not_exist_is_not_found(client, library, page):
    assert client.get(f"/effective-practice?page={page}").status_code == 404


def test_pages_link_to_the_next_keeping_the_filters(app, client):
    with app.app_context():
        for day in range(25):
            make_case_study(f"Scheme {day}", now=TODAY - timedelta(days=day), themes=("prevent",))
        db.session.commit()
    page = text(client.get("/effective-practice?theme=prevent"))
    assert "25 case studies" in page
    assert 'href="/effective-practice?page=2&amp;theme=prevent"' in page
    second = text(client.get("/effective-practice?theme=prevent&page=2"))
    assert "Scheme 24" in second
    assert "Scheme 0<" not in second


def test_the_case_study_page_shows_every_answered_section(app, client, library):
    with app.app_context():
        from mailer.domain.practice_library import published

        case = published("synthetic-example-bus-stop-wardens")
        case.attachments.append(
            CaseStudyAttachment(
                filename="evaluation.pdf",
                content_type="application/pdf",
                size=2048,
                sha256="0" * 64,
                storage_key="k1",
                uploaded_at=TODAY,
            )
        )
        db.session.commit()
        attachment_id = case.attachments[0].id
    page = text(client.get("/effective-practice/synthetic-example-bus-stop-wardens"))
    for heading in ("The problem", "What was done", "Lessons learned"):
        assert f">{heading}</h2>" in page
    assert "Why it should work" not in page
    assert "They wore bright coats." in page
    assert 'href="/csps/E22000187"' in page
    assert 'href="/effective-practice?theme=youth-crime"' in page
    assert 'href="/effective-practice?crime_type=robbery"' in page
    assert "Northtown Buses" in page
    assert (
        f'href="/effective-practice/synthetic-example-bus-stop-wardens/attachments/{attachment_id}"'
        in page
    )
    assert 'href="/effective-practice/synthetic-example-bus-stop-wardens/contact"' in page
    assert "submitter@example.org" not in page
    assert "what did not work as well as what did" in page


def test_a_case_study_without_consent_has_no_contact_form(client, library):
    page = text(client.get("/effective-practice/synthetic-example-late-night-text-alerts"))
    assert "/contact" not in page.split("<main")[1].split("</main>")[0]
    assert "submitter@example.org" not in page


@pytest.mark.parametrize("slug", ["draft-not-shown", "nothing-here", "x" * 500])
def test_a_case_study_that_is_not_published_is_not_found(client, library, slug):
    assert client.get(f"/effective-practice/{slug}").status_code == 404


def test_the_pages_fit_a_narrow_screen(client, library):
    for url in ("/effective-practice", "/effective-practice/synthetic-example-bus-stop-wardens"):
        page = text(client.get(url))
        assert 'name="viewport"' in page
        assert "govuk-grid-column" in page
        # No fixed widths that would overflow 375 px.
        assert not re.search(r'style="[^"]*width:\s*\d{3,}px', page)


def test_the_feed_lists_the_newest_published_case_studies(client, library):
    response = client.get("/effective-practice/feed.atom")
    assert response.mimetype == "application/atom+xml"
    feed = ElementTree.fromstring(response.data)
    titles = [entry.findtext(f"{ATOM}title") for entry in feed.iter(f"{ATOM}entry")]
    assert titles == [
        "Synthetic example: late night text alerts",
        "Synthetic example: bus stop wardens",
    ]
    ids = [entry.findtext(f"{ATOM}id") for entry in feed.iter(f"{ATOM}entry")]
    assert ids[0].endswith("/effective-practice/synthetic-example-late-night-text-alerts")
    assert b"submitter@example.org" not in response.data


def test_the_service_navigation_links_to_the_library(client):
    page = text(client.get("/csps"))
    assert re.search(r'href="/effective-practice">Effective practice</a>', page)


def test_welsh_pages_show_the_welsh_title_or_mark_the_english(app, client):
    with app.app_context():
        make_case_study("Street lighting", now=TODAY, title_cy="Goleuadau stryd")
        make_case_study("Bus wardens", now=TODAY - timedelta(days=1), summary="x " * 400)
        db.session.commit()
    page = text(client.get("/cy/effective-practice"))
    assert "Goleuadau stryd" in page
    assert '<span lang="en">Bus wardens</span>' in page
    assert "x x…" in page
    assert "Goleuadau stryd" in text(client.get("/cy/effective-practice/street-lighting"))

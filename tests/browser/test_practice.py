"""The effective practice library in Chromium at desktop and phone widths: no axe violations,
nothing wider than the screen, and a visitor finds a case study by a filter and by search and
opens it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailer.extensions import db
from mailer.models import CaseStudyRating
from tests import TODAY
from tests.factories import load_directory
from tests.practice_factories import make_case_study

WIDTHS = (1280, 375)


@pytest.fixture
def library(app):
    with app.app_context():
        load_directory(now=TODAY)
        make_case_study(
            "Synthetic example: bus stop wardens",
            now=TODAY - timedelta(days=2),
            themes=("youth-crime",),
            crime_types=("robbery",),
            csp_code="E22000187",
            answers={"problem": "Robberies at bus stops.", "lessons": "Start in the autumn."},
        )
        make_case_study(
            "Synthetic example: alley gating",
            now=TODAY,
            themes=("neighbourhood-crime",),
            crime_types=("burglary",),
            nation="wales",
            rating=CaseStudyRating.DID_NOT_WORK,
            answers={"problem": "Burglaries from back alleys."},
        )
        db.session.commit()


def _check(page, axe, screenshots, name, width):
    serious = axe.check(page, f"practice-{name}-{width}")
    assert serious == [], f"{name} at {width}px: {serious}"
    wider = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not wider, f"{name} scrolls sideways at {width}px"
    page.screenshot(path=str(screenshots / f"practice-{name}-{width}.png"), full_page=True)


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_a_visitor_finds_a_case_study_by_filter_and_by_search(
    live_server, browser, library, axe, screenshots, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/effective-practice", wait_until="load")
        assert "2 case studies" in page.inner_text(".app-results-count")
        _check(page, axe, screenshots, "library", width)

        page.click("summary:has-text('Theme')")
        page.check("#theme-youth-crime")
        with page.expect_navigation(wait_until="load"):
            page.click("button:has-text('Apply filters')")
        assert "1 case study" in page.inner_text(".app-results-count")
        _check(page, axe, screenshots, "library-filtered", width)

        page.goto(f"{live_server}/effective-practice", wait_until="load")
        page.fill("#q", "alleys")
        page.select_option("#sort", "relevance")
        with page.expect_navigation(wait_until="load"):
            page.click("button:has-text('Apply filters')")
        assert "1 case study" in page.inner_text(".app-results-count")
        with page.expect_navigation(wait_until="load"):
            page.click("text=Synthetic example: alley gating")
        assert "Did not work" in page.inner_text("main")
        assert "Burglaries from back alleys." in page.inner_text("main")
        _check(page, axe, screenshots, "case-study", width)

        with page.expect_navigation(wait_until="load"):
            page.click("text=Send a message to the contact for this case study")
        with page.expect_navigation(wait_until="load"):
            page.click("button:has-text('Send message')")
        assert "Enter your name" in page.inner_text(".govuk-error-summary")
        _check(page, axe, screenshots, "contact-errors", width)
    finally:
        context.close()

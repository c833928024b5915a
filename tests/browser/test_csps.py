"""The CSP directory in Chromium at desktop and phone widths: no axe violations, nothing wider
than the screen, and search, filters and a partnership's page work as a visitor uses them."""

from __future__ import annotations

from datetime import date

import pytest

from tests import TODAY
from tests.factories import load_directory

WIDTHS = (1280, 375)


@pytest.fixture
def directory(app):
    with app.app_context():
        load_directory(
            now=TODAY,
            E22000187={
                "email": "community.safety.partnership@barnet.example.gov.uk",
                "phone": "020 8359 2000",
                "web": "https://www.barnet.gov.uk/community-safety/community-safety-partnership",
                "last_confirmed": date(2026, 3, 1),
            },
        )


def _check(page, axe, screenshots, name, width):
    serious = axe.check(page, f"{name}-{width}")
    assert serious == [], f"{name} at {width}px: {serious}"
    wider = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not wider, f"{name} scrolls sideways at {width}px"
    page.screenshot(path=str(screenshots / f"csps-{name}-{width}.png"), full_page=True)


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_the_directory_and_a_partnership_page_at_desktop_and_phone_widths(
    live_server, browser, directory, axe, screenshots, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/csps", wait_until="load")
        assert "314 partnerships" in page.inner_text(".app-results-count")
        _check(page, axe, screenshots, "directory", width)

        page.fill("#q", "Barnet")
        with page.expect_navigation(wait_until="load"):
            page.click("form[role=search] button")
        assert "1 partnership for" in page.inner_text(".app-results-count")

        page.goto(f"{live_server}/csps?nation=wales&letter=C", wait_until="load")
        assert page.locator("#nation").input_value() == "wales"
        _check(page, axe, screenshots, "directory-wales-c", width)

        page.goto(f"{live_server}/csps/E22000187", wait_until="load")
        assert "1 March 2026" in page.inner_text("main")
        assert "Office for National Statistics" in page.inner_text("main")
        _check(page, axe, screenshots, "partnership", width)

        with page.expect_navigation(wait_until="load"):
            page.click("text=Suggest a correction")
        with page.expect_navigation(wait_until="load"):
            page.click("button:has-text('Send suggestion')")
        assert "Enter what is wrong" in page.inner_text(".govuk-error-summary")
        _check(page, axe, screenshots, "suggest-errors", width)
    finally:
        context.close()

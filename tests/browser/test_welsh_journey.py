"""The public journey in Welsh and in English, in Chromium at desktop and phone widths: the
home page, the sign-up form with an error, a news item and a partnership's page, each with no
axe violations and nothing wider than the screen (Welsh words are longer); the language switch
moves between the two."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest

from mailer.extensions import db
from tests.factories import load_directory
from tests.factories import publish_news

WIDTHS = (1280, 375)
PUBLISHED = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def content(app):
    """A news item with its Welsh, one without, and the directory."""
    with app.app_context():
        item = publish_news("Funding round opens for community safety partnerships", at=PUBLISHED)
        item.title_cy = "Cylch cyllido yn agor i bartneriaethau diogelwch cymunedol"
        item.summary_cy = "Gall partneriaethau wneud cais am arian ar gyfer prosiectau lleol."
        item.body_html_cy = "<p>Darllenwch y canllawiau cyn gwneud cais.</p>"
        publish_news("Events this spring", at=PUBLISHED)
        db.session.commit()
        load_directory(now=PUBLISHED)
        return item.slug


def _check(page, axe, screenshots, name, width):
    serious = axe.check(page, f"{name}-{width}")
    assert serious == [], f"{name} at {width}px: {serious}"
    wider = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not wider, f"{name} scrolls sideways at {width}px"
    page.screenshot(path=str(screenshots / f"welsh-{name}-{width}.png"), full_page=True)


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("prefix", ["/cy", ""])
def test_the_public_journey_in_each_language(
    live_server, browser, content, axe, screenshots, width, prefix
):
    welsh = prefix == "/cy"
    name = "cy" if welsh else "en"
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server}{prefix}/", wait_until="load")
        assert page.get_attribute("html", "lang") == name
        heading = "Newyddion diweddaraf" if welsh else "Latest news"
        assert heading in page.inner_text("main")
        _check(page, axe, screenshots, f"home-{name}", width)

        page.goto(f"{live_server}{prefix}/subscribe", wait_until="load")
        with page.expect_navigation(wait_until="load"):
            page.click("form button[type=submit]")
        summary = page.inner_text(".govuk-error-summary")
        assert ("Mae problem wedi codi" if welsh else "There is a problem") in summary
        assert ("Rhowch eich cyfeiriad e-bost" if welsh else "Enter your email address") in (
            summary
        )
        _check(page, axe, screenshots, f"subscribe-error-{name}", width)

        page.goto(f"{live_server}{prefix}/news/{content}", wait_until="load")
        title = "Cylch cyllido yn agor" if welsh else "Funding round opens"
        assert title in page.inner_text("h1")
        assert ("6 Mawrth 2026" if welsh else "6 March 2026") in page.inner_text("main")
        _check(page, axe, screenshots, f"item-{name}", width)

        page.goto(f"{live_server}{prefix}/csps/W14000015", wait_until="load")
        assert ("Caerdydd" if welsh else "Cardiff") in page.inner_text("h1")
        _check(page, axe, screenshots, f"partnership-{name}", width)

        other = "English" if welsh else "Cymraeg"
        with page.expect_navigation(wait_until="load"):
            page.click(f".app-language-switch a:has-text('{other}')")
        expected = "/csps/W14000015" if welsh else "/cy/csps/W14000015"
        assert page.url == f"{live_server}{expected}"
    finally:
        context.close()

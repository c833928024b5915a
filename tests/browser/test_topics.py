"""End to end in Chromium: an admin adds, edits, orders and retires topics, at a desktop and a
phone width; every page passes axe and nothing runs off the side of a phone's screen."""

from __future__ import annotations

import pytest

from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import StaffRole
from tests import TODAY
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import ADMIN
from tests.helpers import PASSWORD
from tests.helpers import make_staff


def _follow(page, selector):
    """Click something that loads a new page, and wait until that page has loaded."""
    with page.expect_navigation(wait_until="load"):
        page.click(selector)


def _checked(page, axe, screenshots, name, width):
    """The page passes axe, and at a phone's width nothing is wider than the screen."""
    label = f"topics-{name}-{width}"
    page.screenshot(path=str(screenshots / f"{label}.png"), full_page=True)
    serious = axe.check(page, label)
    assert serious == [], f"{label}: {serious}"
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{label}: the page is {overflow}px wide"


def _row_names(page, caption):
    table = page.locator("table", has=page.locator(f"caption:text-is('{caption}')"))
    return table.locator("tbody th a").all_inner_texts()


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 375])
def test_admin_adds_edits_orders_and_retires_topics(
    app, live_server, browser, screenshots, axe, width
):
    make_staff(app, ADMIN, StaffRole.ADMIN, now=TODAY)
    with app.app_context():
        add_readers(3, follows={"events": Frequency.DAILY}, now=TODAY)
        publish_news("Annual conference", topics=("events",), at=TODAY)
        db.session.commit()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    base = live_server
    page.goto(f"{base}/staff/login")
    page.fill("#email", ADMIN)
    page.fill("#password", PASSWORD)
    _follow(page, "button:has-text('Sign in')")

    _follow(page, ".app-sub-navigation >> text=Topics")
    assert page.url == f"{base}/staff/topics"
    _checked(page, axe, screenshots, "list", width)

    for name, description in (("Burglary", "Break-ins and prevention"), ("Fraud", "Scams")):
        _follow(page, "text=Add a topic")
        page.fill("#name", name)
        page.fill("#description", description)
        page.fill("#heading", "Crime types")
        _follow(page, "button:has-text('Add topic')")
        assert f"Added the topic {name}" in page.inner_text("main")

    _follow(page, "text=Add a topic")
    _follow(page, "button:has-text('Add topic')")
    assert "Enter a name" in page.inner_text(".govuk-error-summary")
    _checked(page, axe, screenshots, "add-error", width)
    _follow(page, "text=Cancel")

    _follow(page, "a:has-text('Edit Burglary')")
    _checked(page, axe, screenshots, "edit", width)
    page.fill("#description", "Break-ins, and how to prevent them")
    _follow(page, "button:has-text('Save changes')")
    assert _row_names(page, "Crime types") == ["Burglary", "Fraud"]

    _follow(page, "button:has-text('Move up Fraud')")
    assert _row_names(page, "Crime types") == ["Fraud", "Burglary"]

    _follow(page, "a:has-text('Retire Events')")
    assert "Events has 3 subscribers" in page.inner_text("h1")
    _checked(page, axe, screenshots, "retire", width)
    page.check("#fate")
    page.select_option("#move_to", "funding")
    page.check("#also_tell")
    _follow(page, "button:has-text('Continue')")
    assert "Are you sure you want to retire Events?" in page.inner_text("h1")
    _checked(page, axe, screenshots, "retire-confirm", width)
    _follow(page, "button:has-text('Retire Events')")
    assert "Moved 3 subscribers to Funding" in page.inner_text("main")
    assert _row_names(page, "Retired topics") == ["Events"]
    _checked(page, axe, screenshots, "list-after", width)

    page.goto(f"{base}/subscribe")
    form = page.inner_text("main")
    assert "Events" not in form
    assert "Crime types" in form
    assert "Break-ins, and how to prevent them" in form
    _checked(page, axe, screenshots, "subscribe", width)

    page.goto(f"{base}/topics/events")
    assert "This topic has been retired." in page.inner_text("main")
    assert "Annual conference" in page.inner_text("main")
    _follow(page, "main >> a:has-text('Funding')")
    assert page.url == f"{base}/topics/funding"
    context.close()

"""A subscriber's journeys in Chromium, at a desktop width and a phone's: a topic page's
sign-up link, more topics by signing up again, a new address, fewer emails instead of leaving,
and why they left. axe checks each page, no page is wider than a 375 px screen, and the
screenshots stay in .test-results/screenshots/."""

from __future__ import annotations

import re

import pytest

from tests.helpers import send_queued

WIDTHS = {"desktop": 1280, "phone": 375}


def _follow(page, selector):
    """Click something that loads a new page, and wait until that page has loaded."""
    with page.expect_navigation(wait_until="load"):
        page.click(selector)


def _look(page, axe, screenshots, name):
    """axe finds nothing serious, nothing is wider than the screen; keep a screenshot."""
    serious = axe.check(page, name)
    assert serious == [], f"{name}: {serious}"
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0, f"{name} is {wide}px wider than the screen"
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def _link(smtpd, path):
    return re.search(re.escape(path) + r"\S+", smtpd.get().text).group(0)


@pytest.mark.slow
@pytest.mark.parametrize("width", list(WIDTHS))
def test_subscriber_journeys(app, live_server, browser, smtpd, screenshots, axe, width):
    context = browser.new_context(viewport={"width": WIDTHS[width], "height": 900})
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    base = live_server

    page.goto(f"{base}/topics/events")
    _follow(page, "#subscribe-topic")
    assert page.locator("input[value='events']").is_checked()
    assert not page.locator("input[value='funding']").is_checked()
    _look(page, axe, screenshots, f"journey-subscribe-from-topic-{width}")
    page.fill("#email", "sam@example.org")
    page.check("input[value='daily']")
    _follow(page, "button:has-text('Subscribe')")
    send_queued(app)
    page.goto(base + _link(smtpd, "/confirm/"))
    _follow(page, "button:has-text('Confirm subscription')")
    send_queued(app)
    smtpd.get()  # the welcome email

    page.goto(f"{base}/subscribe?topics=funding")
    page.fill("#email", "sam@example.org")
    page.check("input[value='weekly']")
    _follow(page, "button:has-text('Subscribe')")
    send_queued(app)
    page.goto(base + _link(smtpd, "/change/"))
    assert "Events" not in page.locator("main ul").inner_text()
    _look(page, axe, screenshots, f"journey-add-topics-{width}")
    _follow(page, "button:has-text('Add these topics')")
    assert page.locator("h1").inner_text() == "Topics added"
    manage = page.locator("a:has-text('Change your topics')").get_attribute("href")

    page.goto(base + manage)
    _follow(page, "a:has-text('Change your email address')")
    _look(page, axe, screenshots, f"journey-new-address-{width}")
    page.fill("#email", "sam.new@example.org")
    _follow(page, "button:has-text('Send the link')")
    send_queued(app)
    page.goto(base + _link(smtpd, "/change/"))
    _follow(page, "button:has-text('Confirm this address')")
    assert "sam.new@example.org" in page.locator(".govuk-panel").inner_text()
    _look(page, axe, screenshots, f"journey-address-changed-{width}")

    page.goto(base + page.locator("a:has-text('Change your topics')").get_attribute("href"))
    unsubscribe = page.locator("a:has-text('Unsubscribe from all')").get_attribute("href")
    page.goto(base + unsubscribe)
    _look(page, axe, screenshots, f"journey-unsubscribe-{width}")
    _follow(page, "button:has-text('Get one email a week')")
    assert page.locator("h1").inner_text() == "You will get one email a week"
    page.goto(base + unsubscribe)
    _follow(page, "button:has-text('Unsubscribe')")
    _look(page, axe, screenshots, f"journey-why-{width}")
    page.check("input[value='too_many']")
    page.fill("#comment", "Too much at once.")
    _follow(page, "button:has-text('Send')")
    assert page.locator("h1").inner_text() == "Thank you"
    context.close()
    assert refused == [], "the Content-Security-Policy refused something"

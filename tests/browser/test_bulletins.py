"""End to end in Chromium: a bulletin from draft to sent, at desktop and phone widths, every
page passing axe, none wider than a 375-pixel screen; then readers get it and the archive
shows it."""

from __future__ import annotations

import pytest

from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import StaffRole
from tests import TODAY
from tests.browser.test_publishing import _accessible
from tests.browser.test_publishing import _follow
from tests.browser.test_publishing import _log_in
from tests.browser.test_publishing import _shot
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import EDITOR
from tests.helpers import make_staff
from tests.helpers import send_queued

SUBJECT = "Winter bulletin: funding, events and a new guide for partnerships"
INTRODUCTION = """Dear partners,

The **winter funding round** is open until 15 January. Read the
[guidance on GOV.UK](https://www.gov.uk/) before you apply.
"""


def _fits(page, name):
    """Nothing on the page is wider than the screen."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{name} overflows: {widths}"


def _check(page, axe, screenshots, name, width):
    label = f"bulletin-{name}-{width}"
    _accessible(page, axe, label)
    if width == 375:
        _fits(page, label)
    _shot(page, screenshots, label)


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 375])
def test_a_bulletin_from_draft_to_sent(app, live_server, browser, smtpd, screenshots, axe, width):
    make_staff(app, EDITOR, StaffRole.EDITOR, now=TODAY)
    with app.app_context():
        add_readers(2, follows={"funding": Frequency.DAILY}, now=TODAY)
        add_readers(1, follows={"events": Frequency.WEEKLY}, now=TODAY)
        add_readers(1, follows={"consultations": Frequency.IMMEDIATE}, now=TODAY)
        publish_news("Safer Streets Fund round 6 opens", at=TODAY)
        db.session.commit()
    base = live_server
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    _log_in(page, base, EDITOR)

    page.goto(f"{base}/staff/bulletins")
    _check(page, axe, screenshots, "list-empty", width)
    _follow(page, "text=Write a bulletin")
    _follow(page, "button:has-text('Save')")
    assert page.locator(".govuk-error-summary").is_visible()
    assert "Enter a subject" in page.locator(".govuk-error-summary").inner_text()
    _check(page, axe, screenshots, "form-errors", width)

    page.fill("#subject", SUBJECT)
    page.fill("#body", INTRODUCTION)
    page.check("#audience-topics")
    page.check("input[name='topics'][value='funding']")
    page.check("input[name='topics'][value='events']")
    page.check("label:has-text('Safer Streets Fund round 6 opens')")
    _check(page, axe, screenshots, "form", width)
    _follow(page, "button:has-text('Save')")
    assert "Draft saved" in page.locator(".govuk-notification-banner").inner_text()
    _check(page, axe, screenshots, "draft", width)
    bulletin_url = page.url

    _follow(page, "text=Preview the email")
    assert SUBJECT in page.locator("pre.outbox-text").inner_text()
    html_part = page.frame_locator("iframe.outbox-html")
    assert html_part.locator("strong:has-text('winter funding round')").count() == 1
    assert html_part.locator("a:has-text('Unsubscribe')").count() == 1
    _check(page, axe, screenshots, "preview", width)

    page.goto(bulletin_url)
    _follow(page, "button:has-text('Send a test to me')")
    assert f"A test was sent to {EDITOR}" in page.locator(".govuk-notification-banner").inner_text()
    test_copy = smtpd.get()
    assert test_copy.rcpt_tos == [EDITOR]
    assert test_copy.message["Subject"] == f"[Test] {SUBJECT}"

    _follow(page, "text=Send or schedule")
    assert "3 people will get this bulletin" in page.locator("#audience-count").inner_text()
    _check(page, axe, screenshots, "check", width)
    _follow(page, "button:has-text('Send the bulletin')")
    assert "Sent" in page.locator(".govuk-notification-banner").inner_text()
    _check(page, axe, screenshots, "sent", width)

    assert send_queued(app).sent == 3
    readers = sorted(message.rcpt_tos[0] for message in smtpd.drain())
    assert len(readers) == 3
    assert EDITOR not in readers

    page.goto(f"{base}/staff/bulletins")
    assert page.locator("td a[href^='/staff/runs/']").count() == 1
    _check(page, axe, screenshots, "list", width)

    visitor = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    visitor.goto(f"{base}/bulletins")
    _check(visitor, axe, screenshots, "archive", width)
    _follow(visitor, f"a:has-text('{SUBJECT}')")
    assert visitor.locator("h1").inner_text() == SUBJECT
    assert visitor.locator("a:has-text('Safer Streets Fund round 6 opens')").count() == 1
    _check(visitor, axe, screenshots, "public-page", width)
    visitor.context.close()
    context.close()

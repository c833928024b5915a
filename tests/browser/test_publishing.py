"""End to end in Chromium: staff publish an item, visitors find it; every page passes axe."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import StaffRole
from mailer.tokens import Purpose
from mailer.tokens import subscriber_token
from tests import TODAY
from tests.factories import load_directory
from tests.helpers import ADMIN
from tests.helpers import PASSWORD
from tests.helpers import make_staff
from tests.helpers import send_queued

ATOM = "{http://www.w3.org/2005/Atom}"
BODY = """## What the fund covers

Up to **£150,000** for reviews started in *2012-2013*.

- one review
- more than one review

Read the [criteria on GOV.UK](https://www.gov.uk/).

<script>document.title = "hacked"</script>
"""


@pytest.fixture
def admin(app):
    make_staff(app, ADMIN, StaffRole.ADMIN, now=TODAY)
    return ADMIN


def _follow(page, selector):
    """Click something that loads a new page, and wait until that page has loaded."""
    with page.expect_navigation(wait_until="load"):
        page.click(selector)


def _shot(page, screenshots, name):
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def _accessible(page, axe, name):
    serious = axe.check(page, name)
    assert serious == [], f"{name}: {serious}"
    # GOV.UK Frontend ran, from the site's own script files: the page says so, and the skip
    # link was set up.
    classes = page.evaluate("document.body.className")
    assert "js-enabled govuk-frontend-supported" in classes, name
    page.wait_for_selector(".govuk-skip-link[data-govuk-skip-link-init]", state="attached")


def _log_in(page, base, email):
    page.goto(f"{base}/staff/")
    assert page.url.startswith(f"{base}/staff/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    _follow(page, "button:has-text('Sign in')")
    assert page.url == f"{base}/staff/"


@pytest.mark.slow
def test_staff_write_preview_publish_and_visitors_find_it(
    app, live_server, page, admin, screenshots, axe
):
    base = live_server
    _log_in(page, base, admin)
    _accessible(page, axe, "staff-dashboard")

    _follow(page, "text=Write news")
    page.fill("#title", "Domestic Homicide Review: funding available")
    page.fill("#summary", "Up to £150,000 to support CSPs in their duty to hold reviews.")
    page.fill("#body", BODY)
    page.check("input[value='domestic-homicide-reviews']")
    page.check("input[value='funding']")
    _accessible(page, axe, "staff-write")
    _shot(page, screenshots, "staff-write")
    _follow(page, "button:has-text('Save')")
    assert page.locator(".govuk-notification-banner").inner_text().strip().endswith("Draft saved")
    _accessible(page, axe, "staff-item")
    item_url = page.url

    _follow(page, "text=Preview the page")
    assert page.locator("h1").first.inner_text() == "Domestic Homicide Review: funding available"
    assert page.locator("strong:has-text('£150,000')").count() == 1
    assert page.title() != "hacked"
    _accessible(page, axe, "staff-preview-page")
    _shot(page, screenshots, "staff-preview-page")

    page.goto(item_url)
    _follow(page, "text=Preview the email")
    text_part = page.locator("pre.outbox-text").inner_text()
    assert "Domestic Homicide Review: funding available" in text_part
    assert "/news/domestic-homicide-review-funding-available" in text_part
    html_part = page.frame_locator("iframe.outbox-html")
    assert html_part.locator("h1").inner_text() == "Domestic Homicide Review: funding available"
    assert html_part.locator("a:has-text('Unsubscribe')").count() == 1
    _accessible(page, axe, "staff-preview-email")
    _shot(page, screenshots, "staff-preview-email")

    page.goto(item_url)
    assert page.locator("#urgent_reason").is_hidden()
    page.check("#urgent")
    assert page.locator("#urgent_reason").is_visible()
    page.uncheck("#urgent")
    _follow(page, "button:has-text('Continue')")
    assert page.locator("h1").inner_text() == "Check who will get it"
    assert "0 people get an email now" in page.locator("#reach").inner_text()
    _accessible(page, axe, "staff-publish-check")
    _shot(page, screenshots, "staff-publish-check")
    _follow(page, "button:has-text('Publish now')")
    assert "Published" in page.locator(".govuk-notification-banner").inner_text()

    visitor = page.context.browser.new_context().new_page()
    for name, path in (
        ("home", "/"),
        ("topic", "/topics/domestic-homicide-reviews"),
        ("archive", "/news"),
        ("search", "/news?q=homicide"),
    ):
        visitor.goto(base + path)
        link = visitor.locator("a:has-text('Domestic Homicide Review: funding available')")
        assert link.count() >= 1, path
        _accessible(visitor, axe, f"public-{name}")
        _shot(visitor, screenshots, f"public-{name}")
    _follow(visitor, "a:has-text('Domestic Homicide Review: funding available')")
    assert visitor.url == f"{base}/news/domestic-homicide-review-funding-available"
    assert visitor.locator("li:has-text('more than one review')").count() == 1
    assert visitor.locator("a[href='https://www.gov.uk/']").count() == 1
    assert visitor.title() != "hacked"
    _accessible(visitor, axe, "public-item")
    _shot(visitor, screenshots, "public-item")

    feed_link = visitor.locator("link[rel='alternate'][type='application/atom+xml']")
    assert feed_link.count() >= 1
    feed = visitor.request.get(base + "/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    titles = [e.findtext(f"{ATOM}title") for e in ET.fromstring(feed.body()).iter(f"{ATOM}entry")]
    assert "Domestic Homicide Review: funding available" in titles

    page.goto(item_url)
    page.fill("#reason", "The funding round has closed early.")
    _follow(page, "button:has-text('Withdraw')")
    visitor.goto(f"{base}/news/domestic-homicide-review-funding-available")
    notice = visitor.locator("#withdrawn-notice").inner_text()
    assert notice.endswith("because the funding round has closed early.")
    _accessible(visitor, axe, "public-withdrawn-item")
    _shot(visitor, screenshots, "public-withdrawn-item")
    visitor.context.close()


@pytest.mark.slow
def test_subscription_pages_and_staff_admin_pages_pass_axe(
    app, live_server, page, admin, smtpd, screenshots, axe
):
    base = live_server
    with app.app_context():
        load_directory(now=TODAY)
    page.goto(f"{base}/subscribe")
    _follow(page, "button:has-text('Subscribe')")
    assert page.locator(".govuk-error-summary").is_visible()
    _accessible(page, axe, "subscribe-errors")
    _shot(page, screenshots, "subscribe-errors")
    page.fill("#email", "practitioner@example.org")
    page.check("input[value='funding']")
    page.check("input[value='weekly']")
    page.check("input[value='voluntary-sector']")
    page.select_option("#areas", ["W14000015", "W14000011"])
    _accessible(page, axe, "subscribe")
    _follow(page, "button:has-text('Subscribe')")
    assert page.locator("h1").inner_text() == "Check your email"
    _accessible(page, axe, "check-email")

    send_queued(app)
    confirm = re.search(r"/confirm/\S+", smtpd.get().text).group(0)
    page.goto(base + confirm)
    _accessible(page, axe, "confirm")
    _follow(page, "button:has-text('Confirm subscription')")
    assert page.locator("h1").inner_text() == "Subscription confirmed"
    _accessible(page, axe, "confirmed")
    _shot(page, screenshots, "confirmed")

    with app.app_context():
        from mailer.models import Subscriber

        subscriber = db.session.scalar(select(Subscriber))
        manage = subscriber_token(Purpose.MANAGE, subscriber)
        unsubscribe = subscriber_token(Purpose.UNSUBSCRIBE, subscriber)
    for name, path in (
        ("manage", f"/manage/{manage}"),
        ("manage-request", "/manage"),
        ("privacy", "/privacy"),
        ("unsubscribe", f"/unsubscribe/{unsubscribe}"),
        ("not-found", "/no-such-page"),
        ("bad-link", "/confirm/nonsense"),
    ):
        page.goto(base + path)
        _accessible(page, axe, name)
    _download_my_data(app, page, base, manage, smtpd, axe)
    page.goto(f"{base}/unsubscribe/{unsubscribe}")
    _follow(page, "button:has-text('Unsubscribe')")
    assert page.locator("h1").inner_text() == "You have unsubscribed"
    _accessible(page, axe, "unsubscribed")

    _log_in(page, base, admin)
    for name, path in (
        ("staff-api-keys", "/staff/api-keys"),
        ("staff-users", "/staff/users"),
        ("staff-audit", "/staff/audit"),
        ("staff-subscribers", "/staff/subscribers?status=active"),
        ("staff-subscriber", f"/staff/subscribers/{subscriber.id}"),
        ("staff-erase", f"/staff/subscribers/{subscriber.id}/erase"),
        ("staff-subject-access", "/staff/subject-access"),
        ("staff-import", "/staff/subscribers/import"),
    ):
        page.goto(base + path)
        _accessible(page, axe, name)
        _shot(page, screenshots, name)
    listing = (
        b"email,topics,consent_source,consent_date\r\n"
        b"new@example.org,funding,paper form,2026-01-02\r\nbad,funding,,\r\n"
    )
    page.set_input_files(
        "#file", files=[{"name": "list.csv", "mimeType": "text/csv", "buffer": listing}]
    )
    _follow(page, "button:has-text('Check the file')")
    assert page.locator("h1").inner_text() == "Import of list.csv"
    _accessible(page, axe, "staff-import-report")
    _shot(page, screenshots, "staff-import-report")


def _download_my_data(app, page, base, manage, smtpd, axe):
    """Ask for a copy from the manage page, download it once from the emailed link."""
    page.goto(f"{base}/my-data")
    _accessible(page, axe, "data-copy-request")
    page.goto(f"{base}/manage/{manage}")
    _follow(page, "button:has-text('Email me a copy of my data')")
    assert "We have emailed you a link" in page.locator(".govuk-notification-banner").inner_text()
    send_queued(app)
    # The welcome email went out with it, in either order.
    (url,) = re.findall(r"/my-data/\S+", "\n".join(m.text for m in smtpd.drain()))
    page.goto(base + url)
    _accessible(page, axe, "data-copy")
    with page.expect_download() as download:
        page.click("button:has-text('Download my data')")
    document = json.loads(Path(download.value.path()).read_text())
    assert document["address"] == "practitioner@example.org"
    assert document["subscriber"]["status"] == "active"
    page.goto(base + url)
    assert page.locator("h1").inner_text() == "This link is not valid"
    _accessible(page, axe, "data-copy-used")

"""End to end in Chromium: the staff area at a desktop and a phone width. Every page visited
passes axe, nothing is wider than a 375 px screen, and no page asks for a GDS Transport font
file while the GOV.UK brand is off."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailer.domain import audit
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import Frequency
from mailer.models import StaffRole
from tests import TODAY
from tests.factories import add_consent
from tests.factories import add_readers
from tests.factories import make_subscriber
from tests.factories import publish_news
from tests.helpers import ADMIN
from tests.helpers import PASSWORD
from tests.helpers import make_staff

WIDTHS = [1280, 375]
GUEST = "sam.jones@example.org"


class Visit:
    """A browser tab at one width that checks every page it shows and remembers font requests."""

    def __init__(self, browser, base, width, axe, screenshots):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.base, self.width, self.axe, self.screenshots = base, width, axe, screenshots
        self.fonts: list[str] = []
        self.refused: list[str] = []
        self.page.on("request", self._request)
        self.page.on("console", self._console)

    def _request(self, request):
        if "/assets/fonts/" in request.url:
            self.fonts.append(request.url)

    def _console(self, message):
        if "Content Security Policy" in message.text:
            self.refused.append(message.text)

    def go(self, path):
        self.page.goto(f"{self.base}{path}", wait_until="load")

    def follow(self, selector):
        """Click something that loads a new page, and wait until that page has loaded."""
        with self.page.expect_navigation(wait_until="load"):
            self.page.click(selector)

    def check(self, name):
        """Keep a screenshot; the page passes axe and fits a phone's screen; no font loaded."""
        label = f"staff-{name}-{self.width}"
        self.page.screenshot(path=str(self.screenshots / f"{label}.png"), full_page=True)
        serious = self.axe.check(self.page, label)
        assert serious == [], f"{label}: {serious}"
        fits_the_screen(self.page, label)
        assert self.fonts == [], f"{label} asked for font files: {self.fonts}"
        assert self.refused == [], f"{label}: the Content-Security-Policy refused something"

    def sign_in(self, email=ADMIN, password=PASSWORD):
        self.go("/staff/")
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.follow("button:has-text('Sign in')")

    def close(self):
        self.context.close()


def fits_the_screen(page, label):
    """Nothing on the page is wider than the window (no sideways scrolling)."""
    wide, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= window, f"{label}: the page is {wide}px wide in a {window}px window"


@pytest.fixture
def visit(browser, live_server, axe, screenshots):
    opened = []

    def open_at(width):
        tab = Visit(browser, live_server, width, axe, screenshots)
        opened.append(tab)
        return tab

    yield open_at
    for tab in opened:
        tab.close()


@pytest.fixture
def content(app):
    """An admin, readers, published news, a subscriber with consent history and audit events."""
    make_staff(app, ADMIN, StaffRole.ADMIN, now=TODAY)
    with app.app_context():
        add_readers(3, follows={"funding": Frequency.DAILY}, now=TODAY)
        item = publish_news("Serious violence duty guidance", at=TODAY)
        audit.record("staff:1 ann@example.gov.uk", "published", item, now=TODAY)
        guest = make_subscriber(email=GUEST, now=TODAY)
        detail = {"method": "form", "topics": ["funding"]}
        add_consent(guest.id, ConsentAction.REQUESTED, at=TODAY, detail=detail)
        add_consent(
            guest.id,
            ConsentAction.CONFIRMED,
            at=TODAY + timedelta(hours=1),
            detail={"method": "link"},
        )
        db.session.commit()
        return {"subscriber": guest.id}


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_sign_in_the_dashboard_and_each_group_of_the_navigation(visit, content, width):
    tab = visit(width)
    tab.go("/staff/login")
    tab.check("sign-in")
    tab.sign_in()
    assert tab.page.url == f"{tab.base}/staff/"
    header = tab.page.locator("header").inner_text()
    assert ADMIN in header
    assert "Sign out" in header
    cards = tab.page.locator(".govuk-summary-card__title").all_inner_texts()
    assert cards == ["Subscribers", "News items", "Emails"]
    tab.check("dashboard")

    landing = {
        "Content": ("/staff/", "News"),
        "Subscribers": ("/staff/subscribers", "Subscribers"),
        "Sending": ("/staff/runs", "Send runs"),
        "Admin": ("/staff/users", "Staff accounts"),
    }
    for group, (path, first) in landing.items():
        if width == 375:
            # On a phone the groups are behind GOV.UK's Menu button.
            tab.page.click(".govuk-service-navigation__toggle")
        tab.follow(f".govuk-service-navigation__list >> text={group}")
        assert tab.page.url == f"{tab.base}{path}"
        current = tab.page.locator(".govuk-service-navigation__link[aria-current]").inner_text()
        assert current.strip() == group
        sub = tab.page.locator(".app-sub-navigation [aria-current='page']").inner_text()
        assert sub == first
        tab.check(f"group-{group.lower()}")


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_the_audit_log_reads_in_words_with_technical_details(visit, content, width):
    tab = visit(width)
    tab.sign_in()
    tab.go("/staff/audit")
    main = tab.page.inner_text("main")
    assert "Ann (ann@example.gov.uk) published Serious violence duty guidance" in main
    assert "NewsItem" not in main  # closed "Technical details" hide the raw record
    tab.page.locator("summary:has-text('Technical details')").first.click()
    tab.check("audit-log")
    tab.follow("main >> a:has-text('Serious violence duty guidance')")
    assert "/staff/news/" in tab.page.url


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_scheduling_news_with_the_date_input(visit, content, width):
    tab = visit(width)
    tab.sign_in()
    tab.follow("text=Write news")
    tab.page.fill("#title", "Funding round opens")
    tab.page.fill("#summary", "Apply by 6 February.")
    tab.page.fill("#body", "Read the guidance.")
    tab.page.check("input[value='funding']")
    tab.follow("button:has-text('Save')")
    tab.page.check("#when-later")
    tab.page.fill("#date-day", "31")
    tab.page.fill("#date-month", "2")
    tab.page.fill("#date-year", "2030")
    tab.page.fill("#time", "9:30am")
    tab.follow("button:has-text('Continue')")
    assert "Enter a real date" in tab.page.inner_text(".govuk-error-summary")
    tab.check("schedule-error")

    tab.page.fill("#date-day", "2")
    tab.page.fill("#date-month", "12")
    tab.follow("button:has-text('Continue')")
    assert "It will be published on 2 December 2030 at 9:30am" in tab.page.inner_text("main")
    tab.check("schedule-check")
    tab.follow("button:has-text('Schedule')")
    assert "To be published" in tab.page.inner_text("main")
    tab.check("schedule-done")


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_the_subscriber_page_and_the_staff_accounts_with_the_invitation_form(
    visit, content, smtpd, width
):
    tab = visit(width)
    tab.sign_in()
    tab.go(f"/staff/subscribers/{content['subscriber']}")
    consents = tab.page.inner_text("#consents")
    assert "Asked to subscribe using the form on this website." in consents
    tab.check("subscriber")

    tab.go("/staff/users")
    tab.page.fill("#email", "new.editor@example.gov.uk")
    tab.page.check("input[name='role'][value='editor']")
    tab.check("staff-accounts")
    tab.follow("button:has-text('Send invitation')")
    assert "Invited new.editor@example.gov.uk" in tab.page.inner_text("main")
    tab.check("staff-accounts-invited")
    assert len(smtpd.drain()) == 1


@pytest.mark.slow
def test_no_font_file_is_asked_for_on_pages_with_an_error_summary(visit, content):
    tab = visit(1280)
    tab.sign_in(password="not the password")
    assert tab.page.locator(".govuk-error-summary a").count() == 1
    tab.check("sign-in-error")
    tab.go("/subscribe")
    tab.follow("main button[type=submit]")
    assert tab.page.locator(".govuk-error-summary a").count() >= 1
    tab.check("sign-up-error")
    assert tab.fonts == []


@pytest.mark.slow
def test_the_news_search_fits_a_phone(visit, content):
    tab = visit(375)
    tab.go("/news")
    tab.check("news-search")
    tab.page.fill("#q", "serious violence duty guidance")
    tab.follow("button:has-text('Search')")
    assert "1 result" in tab.page.inner_text("main")
    tab.check("news-search-results")


def _staff_pages(app, content):
    """Every staff page a GET with no arguments reaches, and the pages of one of each thing."""
    plain = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/staff")
        and "GET" in rule.methods
        and not rule.arguments
        and rule.endpoint not in ("staff.logout", "staff.subscribers.export_subscribers")
        and not rule.rule.endswith((".csv", ".json"))
    )
    things = [
        f"/staff/news/{content['item']}",
        f"/staff/news/{content['item']}/preview-email",
        f"/staff/subscribers/{content['subscriber']}",
        f"/staff/subscribers/{content['subscriber']}/topics",
        f"/staff/runs/{content['run']}",
    ]
    return plain + things


@pytest.mark.slow
def test_no_staff_page_is_wider_than_a_phone(app, visit, content):
    with app.app_context():
        item = publish_news("A second item with a rather long title for a phone", at=TODAY)
        run, _ = send_runs.make_alert_run(item, actor="scheduler", now=TODAY)
        db.session.commit()
        content = {**content, "item": item.id, "run": run.id}
    tab = visit(375)
    tab.sign_in()
    checked, too_wide = [], {}
    for path in _staff_pages(app, content):
        tab.go(path)
        if tab.page.url.startswith(f"{tab.base}/staff/login"):
            continue
        checked.append(path)
        wide = tab.page.evaluate("document.documentElement.scrollWidth")
        if wide > tab.page.evaluate("window.innerWidth"):
            too_wide[path] = wide
    assert too_wide == {}
    assert len(checked) > 20, checked
    assert tab.fonts == []

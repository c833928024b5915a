"""End to end in Chromium at a desktop and a phone width: a message sent through /contact is
answered from the staff area and the reply reaches the writer's mailbox; the contact, the
accessibility, the cookies and the about pages pass axe and fit the screen."""

from __future__ import annotations

import pytest

from mailer.models import StaffRole
from tests import TODAY
from tests.factories import load_directory
from tests.helpers import EDITOR
from tests.helpers import PASSWORD
from tests.helpers import make_staff
from tests.helpers import send_queued

WIDTHS = (1280, 375)


@pytest.fixture
def directory(app):
    with app.app_context():
        load_directory(now=TODAY)


class Tab:
    """A browser tab at one width that checks each page it shows."""

    def __init__(self, browser, base, width, axe, screenshots):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.base, self.width, self.axe, self.screenshots = base, width, axe, screenshots
        self.refused: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.refused.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )

    def go(self, path):
        self.page.goto(f"{self.base}{path}", wait_until="load")

    def follow(self, selector):
        with self.page.expect_navigation(wait_until="load"):
            self.page.click(selector)

    def check(self, name):
        label = f"contact-{name}-{self.width}"
        self.page.screenshot(path=str(self.screenshots / f"{label}.png"), full_page=True)
        serious = self.axe.check(self.page, label)
        assert serious == [], f"{label}: {serious}"
        wider = self.page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not wider, f"{label} scrolls sideways"
        assert self.refused == [], f"{label}: the Content-Security-Policy refused something"


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_a_message_sent_through_contact_is_answered_from_the_staff_area(
    app, live_server, browser, axe, screenshots, smtpd, directory, width
):
    make_staff(app, EDITOR, StaffRole.EDITOR, now=TODAY)
    public = Tab(browser, live_server, width, axe, screenshots)
    staff = Tab(browser, live_server, width, axe, screenshots)
    try:
        for path, name in (
            ("/accessibility", "accessibility"),
            ("/cookies", "cookies"),
            ("/about-csps", "about-csps"),
        ):
            public.go(path)
            public.check(name)
        assert "314 current partnerships" in public.page.inner_text("#csp-counts")

        # The banner's feedback link opens the form with feedback chosen.
        public.go("/")
        public.follow(".govuk-phase-banner a")
        assert public.page.is_checked("input[value=feedback]")
        public.check("form")
        public.follow("button:has-text('Send message')")
        assert "There is a problem" in public.page.inner_text(".govuk-error-summary")
        public.check("form-errors")
        public.page.fill("#name", "Sam Patel")
        public.page.fill("#email", "sam.patel@example.org")
        public.page.fill("#message", "The directory search is very useful.\nThank you.")
        assert not public.page.is_visible("#website")
        public.follow("button:has-text('Send message')")
        assert "Message sent" in public.page.inner_text("h1")
        public.check("sent")

        staff.go("/staff/")
        staff.page.fill("#email", EDITOR)
        staff.page.fill("#password", PASSWORD)
        staff.follow("button:has-text('Sign in')")
        staff.go("/staff/contact")
        staff.check("inbox")
        staff.follow("#messages tbody a")
        assert "The directory search is very useful." in staff.page.inner_text("#original")
        staff.check("message")
        staff.page.fill("#reply", "Thank you, Sam. We are glad it helps.")
        staff.follow("button:has-text('Send reply')")
        assert "Answered" in staff.page.inner_text("#status")
        assert "We are glad it helps." in staff.page.inner_text("#conversation")
        staff.check("answered")
    finally:
        public.context.close()
        staff.context.close()

    assert send_queued(app).sent == 1
    received = smtpd.get()
    assert received.rcpt_tos == ["sam.patel@example.org"]
    assert received.message["Subject"] == "Re: Feedback about this website"
    assert "Thank you, Sam. We are glad it helps." in received.text

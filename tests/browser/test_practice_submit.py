"""A case study from start to publication in Chromium, at desktop and phone widths: a
practitioner gets the link from the email, fills the task list, attaches a PDF and submits;
staff ask for changes; the practitioner edits from the new link and resubmits; staff publish
with news for the topic, whose immediate subscriber gets the alert. No axe violations and
nothing wider than the screen on the way."""

from __future__ import annotations

import pytest

from mailer import jobs
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import StaffRole
from tests import TODAY
from tests.factories import add_readers
from tests.factories import load_directory
from tests.helpers import EDITOR
from tests.helpers import PASSWORD
from tests.helpers import link
from tests.helpers import make_staff
from tests.helpers import send_queued
from tests.practice import ANSWERS
from tests.practice import SUBMITTER
from tests.practice import pdf_bytes

WIDTHS = (1280, 375)


@pytest.fixture
def ready(app):
    with app.app_context():
        load_directory(now=TODAY)
        add_readers(1, follows={"effective-practice": Frequency.IMMEDIATE}, now=TODAY)
        db.session.commit()
    make_staff(app, EDITOR, StaffRole.EDITOR, now=TODAY)


def _follow(page, selector):
    with page.expect_navigation(wait_until="load"):
        page.click(selector)


def _check(page, axe, screenshots, name, width):
    serious = axe.check(page, f"practice-{name}-{width}")
    assert serious == [], f"{name} at {width}px: {serious}"
    wider = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not wider, f"{name} scrolls sideways at {width}px"
    page.screenshot(path=str(screenshots / f"practice-{name}-{width}.png"), full_page=True)


def _fill_section(page, data):
    for name, value in data.items():
        if isinstance(value, list):
            for code in value:
                page.check(f"input[name={name}][value={code}]")
        elif name == "csp":
            page.select_option("#csp", value)
        elif name in ("nation", "evaluated", "rating"):
            page.check(f"input[name={name}][value={value}]")
        elif name in ("contact_consent", "declaration"):
            page.check(f"#{name}")
        elif value:
            page.fill(f"[name='{name}']", value)
    page.check("#completed")
    _follow(page, "button:has-text('Save and continue')")


def _open_emailed_link(app, smtpd, page, base):
    send_queued(app)
    received = smtpd.get()
    assert received.rcpt_tos == [SUBMITTER]
    page.goto(base + link(received.text, "/effective-practice/submit/link/"), wait_until="load")
    _follow(page, "button:has-text('Continue')")
    return received


def _practitioner_submits(app, smtpd, page, base, axe, screenshots, width):
    page.goto(f"{base}/effective-practice/submit", wait_until="load")
    _check(page, axe, screenshots, "start", width)
    _follow(page, "text=Start now")
    page.fill("#email", SUBMITTER)
    _follow(page, "button:has-text('Continue')")
    assert "Check your email" in page.inner_text("h1")
    _open_emailed_link(app, smtpd, page, base)
    draft_url = page.url
    _check(page, axe, screenshots, "task-list", width)
    _follow(page, "text=The case study")
    page.check("#completed")
    _follow(page, "button:has-text('Save and continue')")
    assert "Enter an answer to ‘Title’" in page.inner_text(".govuk-error-summary")
    _check(page, axe, screenshots, "section-errors", width)
    # GOV.UK's character count counts words as they are typed.
    page.fill("#summary", "Brighter lights on two estates")
    page.wait_for_selector(".govuk-character-count__status:has-text('395 words remaining')")
    for key, data in ANSWERS.items():
        if key != "case-study":
            page.goto(f"{draft_url}/{key}", wait_until="load")
        _fill_section(page, data)
    _follow(page, "text=Attachments (optional)")
    page.set_input_files(
        "#file",
        files=[{"name": "evaluation.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}],
    )
    _follow(page, "button:has-text('Upload file')")
    assert "evaluation.pdf" in page.inner_text("#attachments")
    _check(page, axe, screenshots, "attachments", width)
    _follow(page, "text=Back to your case study")
    assert "You have completed 13 of 13 sections" in page.inner_text("#progress")
    _follow(page, "text=Check your answers and submit")
    _check(page, axe, screenshots, "check-answers", width)
    _follow(page, "button:has-text('Send case study')")
    assert "Case study sent" in page.inner_text("h1")


def _staff_log_in(page, base):
    page.goto(f"{base}/staff/login", wait_until="load")
    page.fill("#email", EDITOR)
    page.fill("#password", PASSWORD)
    _follow(page, "button:has-text('Sign in')")


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_a_case_study_from_start_to_publication(
    app, live_server, browser, smtpd, ready, axe, screenshots, width
):
    base = live_server
    practitioner = browser.new_context(viewport={"width": width, "height": 900})
    staff = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = practitioner.new_page()
        _practitioner_submits(app, smtpd, page, base, axe, screenshots, width)

        desk = staff.new_page()
        _staff_log_in(desk, base)
        desk.goto(f"{base}/staff/case-studies", wait_until="load")
        _check(desk, axe, screenshots, "staff-queue", width)
        _follow(desk, "text=Safer streets through street lighting")
        _check(desk, axe, screenshots, "staff-case-study", width)
        desk.fill("#notes", "Please give the cost per street.")
        _follow(desk, "button:has-text('Ask for changes')")

        changes = _open_emailed_link(app, smtpd, page, base)
        assert "Please give the cost per street." in changes.text
        assert "We asked you to make changes" in page.inner_text("main")
        _follow(page, "text=Cost and funding")
        page.fill("#cost", "£120,000, or £6,000 per street")
        page.check("#completed")
        _follow(page, "button:has-text('Save and continue')")
        _follow(page, "text=Check your answers and submit")
        _follow(page, "button:has-text('Send case study')")

        desk.reload(wait_until="load")
        assert "Changed since version 1: Cost." in desk.inner_text("#changed-2")
        desk.check("#alert")
        _follow(desk, "button:has-text('Publish')")
        assert desk.inner_text("#state") == "Published"
        assert "/effective-practice/safer-streets-through-street-lighting" in desk.inner_text(
            "#address"
        )
        _check(desk, axe, screenshots, "staff-published", width)

        send_queued(app)
        assert jobs.send_alerts(app) == 1
        send_queued(app)
        received = {message.rcpt_tos[0]: message for message in smtpd.drain()}
        assert received[SUBMITTER].message["Subject"] == "Your case study is published"
        alert = received["reader0@example.org"]
        assert "Safer streets through street lighting" in alert.message["Subject"]
        # The alert is the news item, whose page introduces the case study and links to it.
        page.goto(base + link(alert.text, "/news/"), wait_until="load")
        case_study = "a[href$='/effective-practice/safer-streets-through-street-lighting']"
        assert page.locator(case_study).count() == 1
        _check(page, axe, screenshots, "news-item", width)
    finally:
        practitioner.close()
        staff.close()

"""The pages a public service must have (accessibility statement, cookies, contact), the
phase banner and footer links on every public page, and what CSPs are, with the counts of
the directory as it stands."""

from __future__ import annotations

import pytest

from mailer.extensions import db
from mailer.models import Csp
from mailer.models import CspStatus
from tests import TODAY
from tests.factories import load_directory

PUBLIC_PAGES = (
    "/",
    "/news",
    "/csps",
    "/subscribe",
    "/contact",
    "/privacy",
    "/accessibility",
    "/cookies",
    "/about-csps",
)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def directory(app):
    with app.app_context():
        load_directory(now=TODAY)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_has_the_beta_banner_and_the_footer_links(client, path):
    page = text(client.get(path))
    assert '<strong class="govuk-tag govuk-phase-banner__content__tag">Beta</strong>' in page
    assert 'href="/contact?subject=feedback">give your feedback</a>' in page
    footer = page[page.index("<footer") :]
    for href, label in (
        ("/privacy", "Privacy"),
        ("/accessibility", "Accessibility"),
        ("/cookies", "Cookies"),
        ("/contact", "Contact"),
        ("/about-csps", "About CSPs"),
    ):
        assert f'href="{href}">{label}</a>' in footer


def test_the_staff_area_has_no_phase_banner(admin):
    assert "govuk-phase-banner" not in text(admin.get("/staff/contact"))


def test_the_accessibility_statement_follows_the_model_with_a_fixed_date(client):
    page = text(client.get("/accessibility"))
    for heading in (
        "How accessible this website is",
        "What to do if you cannot access parts of this website",
        "Reporting accessibility problems with this website",
        "Enforcement procedure",
        "Technical information about this website’s accessibility",
        "Compliance status",
        "Preparation of this accessibility statement",
    ):
        assert heading in page
    assert "Equality and Human Rights Commission (EHRC)" in page
    assert "Equality Commission for Northern Ireland (ECNI)" in page
    assert 'href="/contact?subject=feedback"' in page
    assert "This statement was prepared on 6 December 2026." in page
    assert "1,280 pixels" in page
    assert "375 pixels" in page
    assert "keyboard" in page


def test_the_cookies_page_lists_the_one_essential_cookie_and_needs_no_banner(client):
    page = text(client.get("/cookies"))
    assert "<code>session</code>" in page
    assert "When you close your browser" in page
    assert "8 hours after signing in" in page
    assert "We do not use analytics" in page
    assert "there is no cookie banner" in page


def test_the_only_cookie_a_visitor_gets_is_the_one_the_cookies_page_names(app, client):
    client.get("/contact")
    names = {cookie.key for cookie in client._cookies.values()}
    assert names == {app.config["SESSION_COOKIE_NAME"]}


def test_the_about_page_counts_the_current_partnerships_from_the_directory(app, client, directory):
    page = text(client.get("/about-csps"))
    assert "lists 314 current partnerships: 293 in England and 21 in Wales" in page
    assert "The Home Office page about CSPs gives an older count of 332 partnerships" in page
    assert "sections 5 to 7 of the Crime and Disorder Act 1998" in page
    assert "integrated care board" in page
    assert "Probation Service" in page
    assert "Police Reform and Social Responsibility Act 2011" in page
    with app.app_context():
        db.session.scalars(
            db.select(Csp).where(Csp.code == "E22000187")
        ).one().status = CspStatus.ENDED
        db.session.commit()
    page = text(client.get("/about-csps"))
    assert "lists 313 current partnerships: 292 in England and 21 in Wales" in page


def test_the_home_page_gives_the_counts_and_links_to_the_about_page(client, directory):
    page = text(client.get("/"))
    assert "lists 314 current partnerships: 293 in England and 21 in Wales" in page
    assert 'href="/about-csps">Read more about community safety partnerships</a>' in page
    assert "332" not in page


def test_without_a_directory_the_pages_say_it_is_not_loaded(client):
    for path in ("/", "/about-csps"):
        page = text(client.get(path))
        assert "The CSP directory has not been loaded yet" in page
        assert "0 current partnerships" not in page


def test_the_new_pages_answer_in_welsh_and_keep_the_reader_there(client):
    for path in ("/cy/contact", "/cy/accessibility", "/cy/cookies", "/cy/about-csps"):
        page = text(client.get(path))
        assert 'href="/cy/contact?subject=feedback"' in page
    assert 'action="/cy/contact"' in text(client.get("/cy/contact"))

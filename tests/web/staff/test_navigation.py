"""The staff navigation: four groups in the page header, the pages of the current group under
it, the signed-in account and "Sign out" in the header; editors see only what they can use."""

from __future__ import annotations

import re

import pytest

from mailer.models import StaffRole
from tests import TODAY
from tests.helpers import EDITOR
from tests.helpers import csrf_token
from tests.helpers import login
from tests.helpers import make_staff


@pytest.fixture
def editor(app, client):
    make_staff(app, EDITOR, StaffRole.EDITOR, now=TODAY)
    login(client, EDITOR)
    return client


def _groups(page):
    nav = re.search(r'<nav aria-label="Staff area".*?</nav>', page, re.S).group(0)
    return re.findall(r"<a [^>]*>\s*(?:<strong[^>]*>)?([^<]+)", nav)


def _sub_navigation(page):
    found = re.search(
        r'<nav class="app-sub-navigation" aria-label="([^"]+)">(.*?)</nav>', page, re.S
    )
    if found is None:
        return None, []
    return found.group(1), re.findall(r"<a [^>]*>([^<]+)</a>", found.group(2))


def test_admins_see_four_groups_and_the_pages_of_the_current_one(admin):
    page = admin.get("/staff/audit").get_data(as_text=True)
    assert _groups(page) == ["Content", "Subscribers", "Sending", "Admin"]
    assert re.search(
        r'href="/staff/users" aria-current="true">\s*<strong[^>]*>Admin</strong>', page
    )
    assert _sub_navigation(page) == ("Admin", ["Staff accounts", "API keys", "Audit log"])
    assert 'href="/staff/audit" aria-current="page">Audit log</a>' in page


def test_each_group_opens_its_first_page_with_its_sub_navigation(admin):
    expected = {
        "/staff/": ("Content", ["News", "Bulletins", "Topics", "CSP directory", "Case studies"]),
        "/staff/subscribers": (
            "Subscribers",
            [
                "Subscribers",
                "Import",
                "Why people unsubscribe",
                "Suppression list",
                "Contact messages",
            ],
        ),
        "/staff/runs": ("Sending", ["Send runs", "Deliverability", "Unreadable mail"]),
        "/staff/users": ("Admin", ["Staff accounts", "API keys", "Audit log"]),
    }
    for path, navigation in expected.items():
        page = admin.get(path).get_data(as_text=True)
        assert _sub_navigation(page) == navigation, path


def test_editors_see_only_the_pages_they_can_use(editor):
    page = editor.get("/staff/").get_data(as_text=True)
    assert _groups(page) == ["Content", "Subscribers", "Sending"]
    assert _sub_navigation(page) == (
        "Content",
        ["News", "Bulletins", "CSP directory", "Case studies"],
    )
    assert "/staff/users" not in page
    assert "/staff/subscribers" not in page


def test_the_header_shows_the_account_and_a_sign_out_button(admin):
    page = admin.get("/staff/").get_data(as_text=True)
    header = re.search(r"<header.*?</header>", page, re.S).group(0)
    assert re.search(
        r'href="/staff/account"><span class="govuk-visually-hidden">Your account: ', header
    )
    assert 'action="/staff/logout"' in header
    assert ">Sign out</button>" in header
    assert "Log out" not in page


def test_signing_out_says_so_and_the_sign_in_page_has_no_staff_navigation(admin):
    token = csrf_token(admin, "/staff/")
    response = admin.post("/staff/logout", data={"csrf_token": token}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "You have signed out" in page
    assert ">Sign in</button>" in page
    assert 'aria-label="Staff area"' not in page
    assert "Sign out" not in page


def test_public_pages_keep_the_public_navigation(client):
    page = client.get("/news").get_data(as_text=True)
    assert "Manage your subscription" in page
    assert "Sign out" not in page


@pytest.fixture
def govuk_brand(app_settings):
    """Turn GOVUK_BRAND on for the app built after this fixture."""
    app_settings["GOVUK_BRAND"] = True


def test_with_the_govuk_brand_the_account_is_in_the_govuk_header(govuk_brand, admin):
    page = admin.get("/staff/").get_data(as_text=True)
    header = re.search(r'<div class="govuk-header">.*?</header>', page, re.S).group(0)
    assert 'class="govuk-header__logotype"' in header
    assert ">Sign out</button>" in header
    assert 'aria-label="Staff area"' in header

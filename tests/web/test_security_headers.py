"""Headers every answer carries: a Content-Security-Policy that lets no inline script run (and
pages that need none), and HSTS when the service is served over HTTPS."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest

from mailer import clock
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import StaffRole
from mailer.models import Subscriber
from mailer.paths import open_outbox
from mailer.tokens import Purpose
from mailer.tokens import subscriber_token
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import ADMIN
from tests.helpers import logged_in

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
# Pages that show an email, whose own HTML is styled inline, in a sandboxed frame.
EMAIL_PREVIEWS = {"staff.news.preview_email", "outbox.show"}


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, response.request.path
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def _keep_in_outbox(app) -> str:
    """Put an email in the development outbox; return its key."""
    message = EmailMessage()
    message["Subject"] = "Confirm your subscription"
    message["To"] = "someone@example.com"
    message.set_content("Hello")
    message.add_alternative('<p style="color: #0b0c0c">Hello</p>', subtype="html")
    return str(open_outbox(app.config["OUTBOX_DIR"]).add(message))


def _pages(app, client) -> dict[str, str]:
    """A URL of every page that takes GET, as an admin sees it, by endpoint."""
    now = clock.now()
    with app.app_context():
        [reader_id] = add_readers(1, follows={"funding": Frequency.DAILY}, now=now)
        reader = db.session.get(Subscriber, reader_id)
        item = publish_news("Fund news", at=now)
        values = {
            "token": subscriber_token(Purpose.MANAGE, reader),
            "slug": item.slug,
            "item_id": item.id,
            "subscriber_id": reader_id,
            "key": _keep_in_outbox(app),
        }
        db.session.commit()
    logged_in(app, client, ADMIN, StaffRole.ADMIN, now=now)
    pages = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or not set(rule.arguments) <= set(values):
            continue
        if rule.endpoint in {"static", "news.asset"} or rule.rule.endswith((".json", ".csv")):
            continue
        with app.test_request_context():
            pages[rule.endpoint] = app.url_map.bind("localhost").build(
                rule.endpoint, {name: values[name] for name in rule.arguments}
            )
    return pages


def test_every_page_has_a_policy_that_runs_only_scripts_from_the_site(app, client):
    pages = _pages(app, client)
    assert {"news.home", "public.manage", "staff.dashboard", *EMAIL_PREVIEWS} <= set(pages)
    for endpoint, url in [*pages.items(), ("not found", "/no-such-page")]:
        response = client.get(url)
        policy = _policy(response)
        assert policy["default-src"] == ["'self'"], url
        assert policy["script-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"], url
        assert policy["base-uri"] == ["'none'"], url
        assert policy["frame-ancestors"] == ["'none'"], url
        assert policy["form-action"] == ["'self'"], url
        styles = ["'self'", "'unsafe-inline'"] if endpoint in EMAIL_PREVIEWS else ["'self'"]
        assert policy["style-src"] == styles, url
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            assert not INLINE_SCRIPT.search(html), url
            # An email preview's own HTML sits, escaped, in a sandboxed frame's srcdoc.
            if endpoint not in EMAIL_PREVIEWS:
                assert not EVENT_HANDLER.search(html), url
                assert not STYLE_ATTRIBUTE.search(html), url


def test_feeds_and_the_api_carry_the_policy_too(app, client):
    assert _policy(client.get("/feed.atom"))["default-src"] == ["'self'"]
    assert _policy(client.get("/api/v1/news"))["default-src"] == ["'self'"]


def test_the_scripts_that_start_govuk_frontend_are_files_of_the_site(client):
    html = client.get("/").get_data(as_text=True)
    assert '<script src="/static/js-enabled.js"></script>' in html
    assert (
        '<script type="module" src="/static/govuk-frontend-init.js" '
        'data-govuk-frontend="/assets/govuk-frontend.min.js?v=6.6.0"></script>'
    ) in html
    with client.get("/static/js-enabled.js") as response:
        assert "javascript" in response.content_type
        assert "govuk-frontend-supported" in response.get_data(as_text=True)
    with client.get("/static/govuk-frontend-init.js") as response:
        assert "javascript" in response.content_type
        assert "initAll()" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("base_url", "hsts"),
    [("https://news.example.gov.uk", "max-age=31536000"), ("http://127.0.0.1:5000", None)],
)
def test_hsts_is_sent_when_the_service_is_served_over_https(app_settings, base_url, hsts):
    from config import TestingConfig
    from mailer.app import create_app

    app = create_app(TestingConfig, {**app_settings, "BASE_URL": base_url})
    try:
        for url in ("/", "/staff/login", "/feed.atom", "/no-such-page"):
            response = app.test_client().get(url)
            assert response.headers.get("Strict-Transport-Security") == hsts, url
    finally:
        with app.app_context():
            db.engine.dispose()

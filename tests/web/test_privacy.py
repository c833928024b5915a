"""The privacy notice: each version worded, and stating the facts it declares, exactly as it was
published whatever the settings say now; settings that contradict it refused in production; the
version a person was shown recorded with their consent."""

from __future__ import annotations

import json
import re

import pytest
from jinja2 import ChoiceLoader
from jinja2 import FileSystemLoader
from sqlalchemy import select

from config import ConfigError
from config import DevelopmentConfig
from config import ProductionConfig
from config import TestingConfig
from mailer import privacy_notices
from mailer.app import create_app
from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import send_queued
from tests.test_config import GOOD_PRODUCTION
from tests.test_config import _run

CURRENT = "2026-11-v2"
NEXT = "2027-01-v1"
NEXT_NOTICE = """{% extends "privacy/layout.html" %}
{% block notice %}<p class="govuk-body">The January 2027 wording: {{ notice.controller }} erases
your address {{ notice.unsubscribed_retention_days }} days after you unsubscribe.</p>{% endblock %}
"""
# What NEXT states: a new controller and a shorter retention period than CURRENT.
NEXT_FACTS = {
    "published": "2027-01-04",
    "controller": "Example Directorate, Safer Streets Team",
    "contact": "data-requests@example.gov.uk",
    "unconfirmed_retention_days": 7,
    "unsubscribed_retention_days": 30,
    "delivery_retention_days": 400,
}
NEXT_SETTINGS = {
    "PRIVACY_CONTROLLER": "Example Directorate, Safer Streets Team",
    "PRIVACY_CONTACT": "data-requests@example.gov.uk",
    "UNSUBSCRIBED_RETENTION_DAYS": 30,
}
# Settings unlike everything the current notice states.
CHANGED = {
    "UNCONFIRMED_RETENTION_DAYS": 5,
    "UNSUBSCRIBED_RETENTION_DAYS": 1,
    "DELIVERY_RETENTION_DAYS": 365,
    "PRIVACY_CONTROLLER": "Someone Else",
    "PRIVACY_CONTACT": "someone@example.org",
}
PUBLISH = "publish a new notice version (templates/privacy/) and set MAILER_PRIVACY_NOTICE_VERSION"


@pytest.fixture
def notices(tmp_path, monkeypatch):
    """A folder of notices holding the real one and a newer one, NEXT, each with its facts."""
    folder = tmp_path / "templates"
    (folder / "privacy").mkdir(parents=True)
    (folder / "privacy" / f"{NEXT}.html").write_text(NEXT_NOTICE)
    (folder / "privacy" / f"{NEXT}.json").write_text(json.dumps(NEXT_FACTS))
    for name in (f"{CURRENT}.html", f"{CURRENT}.json"):
        (folder / "privacy" / name).write_text((privacy_notices.NOTICES / name).read_text())
    monkeypatch.setattr(privacy_notices, "NOTICES", folder / "privacy")
    return folder


@pytest.fixture
def app_with(app, app_settings, notices):
    """app_with(version, **settings): an app whose templates include NEXT, with `version` in
    force."""
    made = []

    def make(version, **settings):
        chosen = {**app_settings, **settings, "PRIVACY_NOTICE_VERSION": version}
        other = create_app(TestingConfig, chosen)
        loaders = [FileSystemLoader(notices), other.jinja_env.loader]
        other.jinja_env.loader = ChoiceLoader(loaders)
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


def _text(page):
    """The words of the main content, tags dropped and spaces made single."""
    main = page.split('id="main-content">', 1)[1].split("</main>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def _signup(client, **fields):
    form = client.get("/subscribe").get_data(as_text=True)
    shown = re.search(r'name="notice_version" value="([^"]+)"', form)
    data = {
        "csrf_token": csrf_token(client, "/subscribe"),
        "email": "alex@example.com",
        "topics": ["funding"],
        "frequency": "weekly",
        "notice_version": shown.group(1) if shown else None,
        **fields,
    }
    return client.post("/subscribe", data={k: v for k, v in data.items() if v is not None})


def _consent_versions(app):
    with app.app_context():
        events = db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))
        return [(event.action, event.notice_version) for event in events]


def test_the_notice_says_who_what_why_how_long_and_how_to_ask(client):
    response = client.get("/privacy")
    assert response.status_code == 200
    text = _text(response.get_data(as_text=True))
    assert "Privacy notice" in text
    assert f"Version {CURRENT}" in text
    assert "Published 25 November 2026" in text
    assert "Home Office, Crime and Antisocial Behaviour Reduction Unit is the controller" in text
    assert "UK GDPR Article 6(1)(a)" in text
    assert "we delete your sign-up after 7 days" in text
    assert "records of your consent 90 days after you unsubscribe" in text
    assert "We keep the record of each email we sent for 400 days" in text
    assert "one-way hash" in text
    assert "If you subscribe again yourself and confirm your email address" in text
    assert "We will reply within one month" in text
    page = response.get_data(as_text=True)
    assert page.count('href="mailto:privacy@csp-news.localhost"') == 2
    assert 'href="https://ico.org.uk/make-a-complaint/"' in page
    assert 'href="/manage"' in page
    assert 'href="/my-data"' in page
    assert "This is an earlier version" not in text


def test_the_current_notice_can_also_be_read_by_its_version(client):
    by_version = client.get(f"/privacy/{CURRENT}")
    assert by_version.status_code == 200
    assert _text(by_version.get_data(as_text=True)) == _text(
        client.get("/privacy").get_data(as_text=True)
    )


@pytest.mark.parametrize(
    "version",
    [
        "2025-01-v1",
        NEXT,
        "layout",
        "base",
        "../base",
        "..%2Fbase",
        "..%2F..%2Fconfig.py",
        f"{CURRENT}.html",
        f"{CURRENT}%00",
        "%2e%2e",
        "2026-11-v2%2F..%2F..%2Fbase",
        "9" * 300,
    ],
)
def test_an_unknown_or_hostile_version_is_not_found(client, version):
    response = client.get(f"/privacy/{version}")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_a_published_version_does_not_change_when_the_settings_do(client, app_with):
    published = _text(client.get(f"/privacy/{CURRENT}").get_data(as_text=True))
    changed = app_with(CURRENT, **CHANGED).test_client()
    for path in ("/privacy", f"/privacy/{CURRENT}"):
        page = changed.get(path).get_data(as_text=True)
        assert _text(page) == published, path
        assert "Someone Else" not in page
        assert "someone@example.org" not in page
        assert "1 day after you unsubscribe" not in page


def test_an_earlier_version_is_shown_word_for_word_with_a_pointer_to_the_current_one(
    client, app_with
):
    published = _text(client.get(f"/privacy/{CURRENT}").get_data(as_text=True))
    client = app_with(NEXT, **NEXT_SETTINGS).test_client()
    current = _text(client.get("/privacy").get_data(as_text=True))
    assert f"Version {NEXT}" in current
    assert "Published 4 January 2027" in current
    assert (
        "The January 2027 wording: Example Directorate, Safer Streets Team erases your address "
        "30 days after you unsubscribe."
    ) in current
    earlier = client.get(f"/privacy/{CURRENT}")
    assert earlier.status_code == 200
    text = _text(earlier.get_data(as_text=True))
    assert text.startswith("Important This is an earlier version of our privacy notice")
    assert text.endswith(published)
    assert "Published 25 November 2026" in text
    assert "records of your consent 90 days after you unsubscribe" in text
    assert "Home Office, Crime and Antisocial Behaviour Reduction Unit is the controller" in text
    assert 'href="/privacy">Read the current privacy notice' in earlier.get_data(as_text=True)


def test_a_notice_drafted_ahead_of_its_time_is_not_public(app_with):
    client = app_with(CURRENT).test_client()
    assert client.get(f"/privacy/{NEXT}").status_code == 404
    assert f"Version {CURRENT}" in _text(client.get("/privacy").get_data(as_text=True))


def test_the_form_and_every_footer_link_to_the_notice(client):
    form = client.get("/subscribe").get_data(as_text=True)
    assert f'<input type="hidden" name="notice_version" value="{CURRENT}">' in form
    assert re.search(
        r'<a class="govuk-link" href="/privacy" rel="noreferrer noopener" target="_blank">'
        r"Read our privacy notice \(opens in new tab\)</a>",
        form,
    )
    for path in ("/", "/news", "/subscribe", "/manage", "/privacy"):
        footer = client.get(path).get_data(as_text=True).split("govuk-footer", 1)[1]
        assert '<a class="govuk-footer__link" href="/privacy">Privacy</a>' in footer, path


def test_a_sign_up_records_the_notice_shown_and_confirming_the_current_one(app, client, smtpd):
    assert _signup(client).status_code == 302
    send_queued(app)
    path = link(smtpd.get().text, "/confirm/")
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert _consent_versions(app) == [
        (ConsentAction.REQUESTED, CURRENT),
        (ConsentAction.CONFIRMED, CURRENT),
    ]
    send_queued(app)
    smtpd.drain()


@pytest.mark.parametrize(
    "tampered", ["2025-01-v1", "../base", "x" * 500, "", "2026-11-v2 OR 1=1", NEXT]
)
def test_a_tampered_notice_version_records_the_current_one(app, client, tampered):
    assert _signup(client, notice_version=tampered).status_code == 302
    assert _consent_versions(app) == [(ConsentAction.REQUESTED, CURRENT)]


def test_a_form_shown_before_a_new_notice_records_the_earlier_version(app, app_with):
    client = app_with(NEXT, **NEXT_SETTINGS).test_client()
    assert _signup(client, notice_version=CURRENT).status_code == 302
    assert _signup(client, notice_version=None, email="sam@example.com").status_code == 302
    assert _consent_versions(app) == [
        (ConsentAction.REQUESTED, CURRENT),
        (ConsentAction.REQUESTED, NEXT),
    ]


@pytest.mark.parametrize("version", ["2030-01-v1", "../base", "layout", ""])
def test_a_notice_version_without_its_notice_stops_the_app(app_settings, version):
    with pytest.raises(ConfigError, match="MAILER_PRIVACY_NOTICE_VERSION"):
        create_app(TestingConfig, {**app_settings, "PRIVACY_NOTICE_VERSION": version})


@pytest.mark.parametrize(
    ("setting", "value", "complaint"),
    [
        (
            "UNSUBSCRIBED_RETENTION_DAYS",
            30,
            "MAILER_UNSUBSCRIBED_RETENTION_DAYS is 30 but privacy notice 2026-11-v2 tells "
            "people 90",
        ),
        (
            "UNCONFIRMED_RETENTION_DAYS",
            14,
            "MAILER_UNCONFIRMED_RETENTION_DAYS is 14 but privacy notice 2026-11-v2 tells people 7",
        ),
        (
            "DELIVERY_RETENTION_DAYS",
            365,
            "MAILER_DELIVERY_RETENTION_DAYS is 365 but privacy notice 2026-11-v2 tells people 400",
        ),
        (
            "PRIVACY_CONTROLLER",
            "Someone Else",
            "MAILER_PRIVACY_CONTROLLER is 'Someone Else' but privacy notice 2026-11-v2 tells "
            "people 'Home Office, Crime and Antisocial Behaviour Reduction Unit'",
        ),
        (
            "PRIVACY_CONTACT",
            "dpo@example.gov.uk",
            "MAILER_PRIVACY_CONTACT is 'dpo@example.gov.uk' but privacy notice 2026-11-v2 tells "
            "people 'privacy@csp-news.localhost'",
        ),
    ],
)
def test_production_refuses_settings_that_contradict_the_notice(setting, value, complaint):
    with pytest.raises(ConfigError) as raised:
        create_app(ProductionConfig, {**GOOD_PRODUCTION, setting: value})
    assert str(raised.value) == (
        f"refusing to start in production mode:\n  - {complaint}: {PUBLISH}"
    )


def test_the_command_names_every_contradiction_and_how_to_resolve_it():
    settings = {**GOOD_PRODUCTION, "OUTBOX_ENABLED": "false", **CHANGED}
    result = _run("worker", "--once", MAILER_ENV="production", **_environment(settings))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    listed = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert listed == [
        "  - MAILER_PRIVACY_CONTROLLER is 'Someone Else' but privacy notice 2026-11-v2 tells "
        f"people 'Home Office, Crime and Antisocial Behaviour Reduction Unit': {PUBLISH}",
        "  - MAILER_PRIVACY_CONTACT is 'someone@example.org' but privacy notice 2026-11-v2 tells "
        f"people 'privacy@csp-news.localhost': {PUBLISH}",
        "  - MAILER_UNCONFIRMED_RETENTION_DAYS is 5 but privacy notice 2026-11-v2 tells people 7: "
        f"{PUBLISH}",
        "  - MAILER_UNSUBSCRIBED_RETENTION_DAYS is 1 but privacy notice 2026-11-v2 tells people "
        f"90: {PUBLISH}",
        "  - MAILER_DELIVERY_RETENTION_DAYS is 365 but privacy notice 2026-11-v2 tells people "
        f"400: {PUBLISH}",
    ]


def test_production_starts_once_a_new_notice_states_the_new_settings(notices):
    app = create_app(
        ProductionConfig, {**GOOD_PRODUCTION, **NEXT_SETTINGS, "PRIVACY_NOTICE_VERSION": NEXT}
    )
    assert app.config["UNSUBSCRIBED_RETENTION_DAYS"] == 30


def test_development_starts_with_contradicting_settings_but_says_so():
    result = _run("--help", MAILER_UNSUBSCRIBED_RETENTION_DAYS="30")
    assert result.returncode == 0
    assert (
        f"MAILER_UNSUBSCRIBED_RETENTION_DAYS is 30 but privacy notice {CURRENT} tells people 90: "
        f"{PUBLISH}"
    ) in result.stderr


@pytest.mark.parametrize(
    ("declaration", "complaint"),
    [
        (
            None,
            f"privacy notice {CURRENT} declares no facts: add templates/privacy/{CURRENT}.json "
            "giving the published, controller, contact, unconfirmed_retention_days, "
            "unsubscribed_retention_days, delivery_retention_days it states",
        ),
        ('{"published": "2026-11-01",', f"templates/privacy/{CURRENT}.json is not readable JSON"),
        (b"\xff\xfe", f"templates/privacy/{CURRENT}.json is not readable JSON"),
        ("[]", f"templates/privacy/{CURRENT}.json must be a JSON object with exactly the keys"),
        (
            {**NEXT_FACTS, "unsubscribe_retention_days": 30},
            f"templates/privacy/{CURRENT}.json must be a JSON object with exactly the keys "
            "published, controller, contact, unconfirmed_retention_days, "
            "unsubscribed_retention_days, delivery_retention_days",
        ),
        (
            {**NEXT_FACTS, "published": "1 November 2026", "contact": " ", "controller": None},
            f"templates/privacy/{CURRENT}.json: controller must be a non-empty string; "
            "contact must be a non-empty string; published must be a date, YYYY-MM-DD",
        ),
        (
            {**NEXT_FACTS, "delivery_retention_days": "400", "unconfirmed_retention_days": True},
            f"templates/privacy/{CURRENT}.json: unconfirmed_retention_days must be a whole "
            "number of days, at least 1; delivery_retention_days must be a whole number of "
            "days, at least 1",
        ),
    ],
)
@pytest.mark.parametrize("mode", [DevelopmentConfig, TestingConfig, ProductionConfig])
def test_a_notice_without_a_sound_declaration_stops_the_app(notices, mode, declaration, complaint):
    _declare(CURRENT, declaration)
    with pytest.raises(ConfigError) as raised:
        create_app(mode, GOOD_PRODUCTION)
    assert complaint in str(raised.value)


def test_an_earlier_notice_without_a_sound_declaration_stops_the_app(app_settings, notices):
    _declare(CURRENT, None)
    with pytest.raises(ConfigError, match=f"privacy notice {CURRENT} declares no facts"):
        create_app(TestingConfig, {**app_settings, "PRIVACY_NOTICE_VERSION": NEXT})


def test_a_draft_notice_needs_no_declaration_until_it_is_in_force(app_settings, notices):
    _declare(NEXT, "not yet")
    assert create_app(TestingConfig, app_settings).config["PRIVACY_NOTICE_VERSION"] == CURRENT


def _declare(version, declaration):
    """Write (None: delete) the declaration of `version` in the notices folder."""
    path = privacy_notices.NOTICES / f"{version}.json"
    if declaration is None:
        path.unlink()
    elif isinstance(declaration, bytes):
        path.write_bytes(declaration)
    else:
        text = declaration if isinstance(declaration, str) else json.dumps(declaration)
        path.write_text(text)


def _environment(settings):
    """Settings as the MAILER_* variables that give them."""
    return {f"MAILER_{name}": str(value) for name, value in settings.items()}

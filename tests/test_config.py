"""Settings: environment variables, modes, and production's refusal to run unsafely."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError
from config import DevelopmentConfig
from config import ProductionConfig
from mailer.app import create_app

MAILER = str(Path(sys.executable).parent / "mailer")
GOOD_PRODUCTION = {
    "SECRET_KEY": "q8WnT3vZr0Lk6YbE2uXa9HsJd5PcF1mG",
    "SUPPRESSION_KEY": "7fK2pR9xVb4NcT1wZe6HjL0sQa3YmD8u",
    "BASE_URL": "https://news.example.gov.uk",
    "SMTP_HOST": "relay.example.gov.uk",
    "OUTBOX_ENABLED": False,
    "MAIL_FROM": "CSP news <news@news.example.gov.uk>",
    "LIST_ID": "CSP news <news.lists.example.gov.uk>",
    "UNSUBSCRIBE_MAILTO": "unsubscribe@news.example.gov.uk",
}


def test_development_defaults_work_with_nothing_set(monkeypatch, tmp_path):
    for name in ("MAILER_DATABASE_URL", "MAILER_SMTP_PORT", "MAILER_BASE_URL", "MAILER_ENV"):
        monkeypatch.delenv(name, raising=False)
    app = create_app()
    assert app.config["ENV_NAME"] == "development"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///mailer.sqlite"
    assert (app.config["SMTP_HOST"], app.config["SMTP_PORT"]) == ("127.0.0.1", 8025)
    assert app.config["BASE_URL"] == "http://127.0.0.1:5000"
    assert "outbox" in app.blueprints


def test_every_setting_can_come_from_a_mailer_variable(monkeypatch):
    monkeypatch.setenv("MAILER_SMTP_PORT", "2525")
    monkeypatch.setenv("MAILER_SMTP_STARTTLS", "true")
    monkeypatch.setenv("MAILER_SMTP_USERNAME", "relay-user")
    monkeypatch.setenv("MAILER_MAIL_FROM", "News <news@example.gov.uk>")
    monkeypatch.setenv("MAILER_DATABASE_URL", "postgresql://u@db.example/mailer")
    monkeypatch.setenv("MAILER_BASE_URL", "https://news.example.gov.uk/")
    app = create_app(DevelopmentConfig)
    assert app.config["SMTP_PORT"] == 2525
    assert app.config["SMTP_STARTTLS"] is True
    assert app.config["SMTP_USERNAME"] == "relay-user"
    assert app.config["MAIL_FROM"] == "News <news@example.gov.uk>"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/mailer"
    assert app.config["BASE_URL"] == "https://news.example.gov.uk"
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"SECRET_KEY": None}, "MAILER_SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "MAILER_SECRET_KEY"),
        ({"SECRET_KEY": "dev-secret-not-for-production" * 2}, "MAILER_SECRET_KEY"),
        ({"SUPPRESSION_KEY": None}, "MAILER_SUPPRESSION_KEY"),
        ({"SUPPRESSION_KEY": "short"}, "MAILER_SUPPRESSION_KEY"),
        ({"SUPPRESSION_KEY": GOOD_PRODUCTION["SECRET_KEY"]}, "MAILER_SUPPRESSION_KEY must differ"),
        ({"BASE_URL": "http://news.example.gov.uk"}, "MAILER_BASE_URL"),
        ({"SMTP_HOST": ""}, "MAILER_SMTP_HOST"),
        ({"OUTBOX_ENABLED": True}, "MAILER_OUTBOX_ENABLED"),
        ({"SMTP_USERNAME": "relay", "SMTP_PASSWORD": "pw"}, "MAILER_SMTP_STARTTLS"),
        ({"MAIL_FROM": "CSP news <news@csp-news.localhost>"}, "MAILER_MAIL_FROM"),
        ({"PASSWORD_HASH_PROFILE": "CHEAPEST"}, "MAILER_PASSWORD_HASH_PROFILE"),
        ({"PASSWORD_HASH_PROFILE": "PRE_21_2"}, "MAILER_PASSWORD_HASH_PROFILE"),
    ],
)
def test_production_refuses_unsafe_settings(override, complaint):
    with pytest.raises(ConfigError, match=complaint):
        create_app(ProductionConfig, {**GOOD_PRODUCTION, **override})


# Keys as long as the rule asks, but with next to nothing random in them.
LOW_ENTROPY = ("a" * 36, "ab" * 18, "password" * 4, "0123456789abcdef" * 2, "k" * 40)
OLD_KEY = "Vd3mQ9sLx2Rk7TbW0nYc5FhJ8pZa1GeU"


@pytest.mark.parametrize("key", LOW_ENTROPY)
@pytest.mark.parametrize("name", ["SECRET_KEY", "SUPPRESSION_KEY"])
def test_production_refuses_keys_with_little_randomness_in_them(name, key):
    with pytest.raises(ConfigError, match=f"MAILER_{name} must be a random value"):
        create_app(ProductionConfig, {**GOOD_PRODUCTION, name: key})


# A short run repeated, with a character added or the last repeat cut short: the frequencies
# of its characters look random enough, the repetition is all there is.
NEAR_REPEATS = (
    "password" * 4 + "1",
    ("change-me-" * 4)[:-1],
    "x" + "Vd3mQ9sLx2Rk" * 3,
)


@pytest.mark.parametrize("key", NEAR_REPEATS)
@pytest.mark.parametrize("name", ["SECRET_KEY", "SUPPRESSION_KEY", "SECRET_KEY_FALLBACKS"])
def test_production_refuses_a_short_run_repeated_with_a_character_more_or_less(name, key):
    value = [key] if name == "SECRET_KEY_FALLBACKS" else key
    with pytest.raises(ConfigError, match=f"MAILER_{name}"):
        create_app(ProductionConfig, {**GOOD_PRODUCTION, name: value})


@pytest.mark.parametrize(
    ("fallbacks", "complaint"),
    [
        (["dev-secret-not-for-production"], "key 1 of MAILER_SECRET_KEY_FALLBACKS"),
        (["testing-secret-not-for-production"], "key 1 of MAILER_SECRET_KEY_FALLBACKS"),
        ([OLD_KEY, "a" * 36], "key 2 of MAILER_SECRET_KEY_FALLBACKS"),
        ([OLD_KEY, "short"], "key 2 of MAILER_SECRET_KEY_FALLBACKS"),
        (OLD_KEY, "MAILER_SECRET_KEY_FALLBACKS must be a JSON list"),
        ([OLD_KEY, 12345], "MAILER_SECRET_KEY_FALLBACKS must be a JSON list"),
        ([GOOD_PRODUCTION["SUPPRESSION_KEY"]], "MAILER_SUPPRESSION_KEY must differ"),
    ],
)
def test_production_holds_every_fallback_key_to_the_secret_key_rules(fallbacks, complaint):
    with pytest.raises(ConfigError, match=complaint):
        create_app(ProductionConfig, {**GOOD_PRODUCTION, "SECRET_KEY_FALLBACKS": fallbacks})


def test_production_will_not_start_with_the_development_key_as_a_fallback(monkeypatch):
    # Flask checks session cookies against the fallbacks too: with the public development
    # key among them, anyone could sign themselves an admin session.
    monkeypatch.setenv("MAILER_SECRET_KEY_FALLBACKS", '["dev-secret-not-for-production"]')
    with pytest.raises(ConfigError, match="key 1 of MAILER_SECRET_KEY_FALLBACKS"):
        create_app(ProductionConfig, GOOD_PRODUCTION)


def test_production_accepts_random_keys_and_random_fallbacks():
    app = create_app(
        ProductionConfig,
        {
            **GOOD_PRODUCTION,
            "SECRET_KEY": secrets.token_hex(16),
            "SUPPRESSION_KEY": secrets.token_urlsafe(24),
            "SECRET_KEY_FALLBACKS": [OLD_KEY, secrets.token_hex(32)],
        },
    )
    assert app.config["SECRET_KEY_FALLBACKS"][0] == OLD_KEY


def test_production_accepts_a_login_over_tls_or_to_a_local_relay():
    create_app(ProductionConfig, {**GOOD_PRODUCTION, "SMTP_USERNAME": "u", "SMTP_STARTTLS": True})
    create_app(
        ProductionConfig, {**GOOD_PRODUCTION, "SMTP_USERNAME": "u", "SMTP_HOST": "127.0.0.1"}
    )


def test_production_never_serves_the_outbox(tmp_path):
    app = create_app(
        ProductionConfig, {**GOOD_PRODUCTION, "DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite"}
    )
    assert "outbox" not in app.blueprints
    assert app.test_client().get("/outbox/").status_code == 404


def _run(*args, **env):
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), **env}
    return subprocess.run([MAILER, *args], env=clean, capture_output=True, text=True, timeout=60)


def test_the_command_says_why_it_will_not_start_in_production():
    result = _run("worker", "--once", MAILER_ENV="production")
    assert result.returncode == 2
    assert "refusing to start in production mode" in result.stderr
    assert "MAILER_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_password_hashing_must_name_one_of_argon2s_profiles(tmp_path):
    with pytest.raises(ConfigError, match="MAILER_PASSWORD_HASH_PROFILE must name one of"):
        create_app(DevelopmentConfig, {"PASSWORD_HASH_PROFILE": "bcrypt"})
    app = create_app(DevelopmentConfig, {"PASSWORD_HASH_PROFILE": "RFC_9106_HIGH_MEMORY"})
    assert app.config["PASSWORD_HASH_PROFILE"] == "RFC_9106_HIGH_MEMORY"


def test_an_unknown_mode_is_a_clear_error():
    result = _run("--help", MAILER_ENV="staging")
    assert result.returncode == 2
    assert "MAILER_ENV='staging' is not one of" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_every_command():
    result = _run("--help")
    assert result.returncode == 0
    for command in (
        "db",
        "dev",
        "outbox",
        "run",
        "worker",
        "scheduler",
        "seed-topics",
        "purge-unconfirmed",
        "release-leases",
    ):
        assert f"  {command} " in result.stdout, command


@pytest.mark.parametrize(
    "name", ["mail.example.gov.uk", "mail", "[192.0.2.1]", "[IPv6:2001:db8::1]", None, ""]
)
def test_an_ehlo_name_may_be_a_host_name_or_an_address_literal(name):
    app = create_app(DevelopmentConfig, {"SMTP_EHLO_NAME": name})
    assert app.config["SMTP_EHLO_NAME"] == name


@pytest.mark.parametrize(
    "name", ["mail.example.gov.uk\r\nRSET", "mail example", "-mail.example", "a." * 127 + "uk"]
)
def test_an_ehlo_name_that_is_no_host_name_is_refused(name):
    with pytest.raises(ConfigError, match="MAILER_SMTP_EHLO_NAME must be a host name"):
        create_app(DevelopmentConfig, {"SMTP_EHLO_NAME": name})

"""Settings classes; every value can be overridden by a MAILER_* environment variable."""

from __future__ import annotations

import logging
import os
import re
from typing import Any
from typing import ClassVar

from argon2 import Parameters
from argon2 import profiles

from mailer import privacy_notices
from mailer.keys import key_problems

# What EHLO may name (RFC 5321 4.1.1.1): a domain of letter-digit-hyphen labels, or an address
# literal in brackets.
EHLO_NAME = (
    r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*"
    r"|\[(IPv6:)?[0-9A-Fa-f:.]+\]"
)

# The argon2 parameters production accepts for staff passwords.
STRONG_PASSWORD_HASHES = frozenset({"RFC_9106_LOW_MEMORY", "RFC_9106_HIGH_MEMORY"})

logger = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """Raised when the settings are unsafe or incomplete for the chosen mode."""


class Config:
    """Defaults shared by every mode. Secrets are None here on purpose."""

    # Name of the mode, chosen by MAILER_ENV (development, testing, production).
    ENV_NAME = "base"
    # Signs sessions, CSRF tokens and every link token. Required in production.
    SECRET_KEY: str | None = None
    # Older secret keys, oldest first; links signed with them still verify.
    SECRET_KEY_FALLBACKS: ClassVar[list[str]] = []
    # Key of the HMAC-SHA-256 that suppressed addresses are stored under (an erased address
    # lives on only as this hash). Keep it apart from SECRET_KEY and never change it: entries
    # made under another key stop matching. Required in production.
    SUPPRESSION_KEY: str | None = None
    # SQLAlchemy URL. A relative SQLite path lives in the instance folder.
    DATABASE_URL = "sqlite:///mailer.sqlite"
    # Public origin used to build every link in pages and emails (no trailing slash).
    BASE_URL = "http://127.0.0.1:5000"
    # From header of every email: "Display name <address>".
    MAIL_FROM = "CSP news <news@csp-news.localhost>"
    # Reply-To header; None sends no Reply-To.
    MAIL_REPLY_TO: str | None = None
    # List-Id header value (RFC 2919): "Description <identifier>".
    LIST_ID = "CSP news <news.csp-news.localhost>"
    # Address that unsubscribes whoever mails it (mailto: in List-Unsubscribe).
    UNSUBSCRIBE_MAILTO = "unsubscribe@csp-news.localhost"
    # Domain of the VERP return path, bounces+TOKEN@BOUNCE_DOMAIN, which the bounce inbox
    # receives (its MX must point there).
    BOUNCE_DOMAIN = "bounces.csp-news.localhost"
    # Where `mailer bounce-inbox` listens.
    BOUNCE_INBOX_HOST = "127.0.0.1"
    BOUNCE_INBOX_PORT = 8026
    # Soft bounces (mailbox full, greylisting gone wrong) that suppress an address, and the
    # number of days they are counted over.
    SOFT_BOUNCE_LIMIT = 3
    SOFT_BOUNCE_DAYS = 14
    # Bytes kept of each message the bounce inbox cannot act on (mail to postmaster, reports
    # that name no email of ours): its headers, then as much of the body as fits; the rest is
    # dropped, and the kept message says how much there was.
    INBOUND_KEEP_BYTES = 128 * 1024
    # Messages kept for staff from one IPv4 address or IPv6 /64 per hour; past that the inbox
    # answers 451, so the sending server tries again later and one client cannot fill the disk.
    INBOUND_KEPT_PER_HOUR = 20
    # The sender part of Feedback-ID (Gmail's feedback loop groups complaints by it).
    FEEDBACK_ID_SENDER = "cspnews"
    # Postal address printed in every email footer (PECR, CAN-SPAM).
    POSTAL_ADDRESS = "Crime and Antisocial Behaviour Reduction Unit, 2 Marsham Street, London"
    # DKIM: path of the PEM file of the RSA private key (2048 bits or more) that signs every
    # email; None sends mail unsigned. `mailer dkim-keygen` makes one and prints its DNS record.
    DKIM_KEY_FILE: str | None = None
    # Selector the RSA public key is published under: SELECTOR._domainkey.DOMAIN.
    DKIM_SELECTOR: str | None = None
    # Signing domain (d=): the From domain or a parent of it, so that DMARC aligns;
    # None uses the domain of MAIL_FROM.
    DKIM_DOMAIN: str | None = None
    # Path of a PEM Ed25519 private key that adds a second signature (RFC 8463) under its own
    # selector; needs DKIM_KEY_FILE too, since not every receiver checks Ed25519.
    DKIM_ED25519_KEY_FILE: str | None = None
    DKIM_ED25519_SELECTOR: str | None = None

    # SMTP relay host and port.
    SMTP_HOST = "127.0.0.1"
    SMTP_PORT = 8025
    # SMTP AUTH credentials; None skips login.
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    # Require STARTTLS (verified certificate) before sending.
    SMTP_STARTTLS = False
    # Connect with implicit TLS (port 465 style) instead of plain SMTP.
    SMTP_SSL = False
    # Seconds to wait for the SMTP server on connect and on each command.
    SMTP_TIMEOUT = 30.0
    # Messages sent over one SMTP session before it is closed and reopened.
    SMTP_MAX_MESSAGES_PER_CONNECTION = 500
    # Name the worker gives in EHLO: the sending host's public name, whose address maps back
    # to it (receivers check this). None uses the machine's own name.
    SMTP_EHLO_NAME: str | None = None

    # Deliveries claimed by a worker at once.
    WORKER_BATCH_SIZE = 500
    # SMTP connections a worker keeps busy at once (`mailer worker --concurrency`).
    WORKER_CONCURRENCY = 4
    # Messages sent between two lease renewals (and two commits); at most these can go twice
    # if a worker dies while sending them.
    WORKER_CHUNK_SIZE = 250
    # Most messages per second one worker sends (a token bucket); 0 means no cap.
    SEND_RATE = 0.0
    # Seconds a claimed delivery stays leased; after that another worker may claim it.
    WORKER_LEASE_SECONDS = 300
    # Seconds a worker waits between polls when the queue is empty.
    WORKER_POLL_SECONDS = 2.0
    # Attempts (including the first) before a temporarily failing delivery is marked failed.
    DELIVERY_MAX_ATTEMPTS = 8
    # Seconds before the first retry; doubled after each attempt.
    DELIVERY_RETRY_BASE_SECONDS = 60
    # Longest wait between two attempts, in seconds.
    DELIVERY_RETRY_MAX_SECONDS = 3600

    # Seconds a confirmation link stays valid (7 days).
    CONFIRM_TOKEN_MAX_AGE = 7 * 24 * 3600
    # Seconds a manage-subscription link stays valid (30 days).
    MANAGE_TOKEN_MAX_AGE = 30 * 24 * 3600
    # Seconds a link to download a copy of one's data stays valid; it also works only once.
    DATA_COPY_TOKEN_MAX_AGE = 3600
    # Seconds the link in an invitation to the staff area stays valid (7 days); it works once.
    STAFF_INVITE_TOKEN_MAX_AGE = 7 * 24 * 3600
    # argon2's parameters for staff passwords, by their name in argon2.profiles:
    # RFC_9106_LOW_MEMORY (64 MiB, 3 passes; argon2-cffi's default) or, where each login may
    # take 2 GiB, RFC_9106_HIGH_MEMORY. A password kept under other parameters is hashed again
    # under these at its next login.
    PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"
    # Whether admins must use an authenticator app (a second factor) to log in.
    STAFF_ADMIN_TOTP_REQUIRED = False
    # Seconds the link a partnership is sent to confirm its directory entry stays valid (14
    # days); it also works only once.
    CSP_LINK_TOKEN_MAX_AGE = 14 * 24 * 3600
    # Seconds the emailed link to a case study's draft stays valid (7 days); it works once.
    CASE_STUDY_LINK_TOKEN_MAX_AGE = 7 * 24 * 3600
    # Where case study attachments are kept, outside the web root; None means
    # "case-study-files" in the instance folder.
    CASE_STUDY_FILES_DIR: str | None = None
    # Largest attachment, in bytes, and how many one case study may have.
    CASE_STUDY_MAX_FILE_BYTES = 10 * 1024 * 1024
    CASE_STUDY_MAX_FILES = 5
    # Confirmation, manage-link and data-copy emails one mailbox may be sent per hour; the
    # name+tag@ forms of an address count as name@.
    ADDRESS_EMAILS_PER_HOUR = 3
    # Flask-Limiter limit on sign-up and manage-link requests per client IP.
    SUBSCRIBE_RATE_LIMIT = "60 per hour"
    # Flask-Limiter limit on messages sent through the contact form per client IP.
    CONTACT_RATE_LIMIT = "10 per hour"
    # The unit's shared mailbox, told of each new contact-form message (with a link to the
    # staff area, none of the writer's words); None tells no one.
    CONTACT_UNIT_EMAIL: str | None = None
    # Messages to case studies' contacts: per client IP, and per case study from everyone.
    ENQUIRY_RATE_LIMIT = "10 per hour"
    ENQUIRY_CASE_STUDY_RATE_LIMIT = "30 per day"
    # Flask-Limiter storage; use redis://... when several web processes run.
    RATELIMIT_STORAGE_URI = "memory://"
    # Days after which sign-ups that were never confirmed are deleted.
    UNCONFIRMED_RETENTION_DAYS = 7
    # Days after unsubscribing after which a subscriber's address and consent records are
    # erased (a tombstone row and a hashed suppression stay). At least 1.
    UNSUBSCRIBED_RETENTION_DAYS = 90
    # Days after which delivery records (sent, failed, cancelled, bounced) are summarised into
    # daily counts and deleted. At least 31: the deliverability page charts the last 30 days.
    DELIVERY_RETENTION_DAYS = 400
    # Days after which the messages the bounce inbox kept for staff are deleted, handled or
    # not. At least 1.
    INBOUND_RETENTION_DAYS = 90
    # Days after staff answered or closed a contact-form message after which it is deleted,
    # with the replies. At least 1.
    CONTACT_RETENTION_DAYS = 365
    # Version of the consent wording shown on the subscribe form, stored with each consent event.
    CONSENT_WORDING_VERSION = "2026-11-subscribe-v1"
    # Version of the privacy notice shown at /privacy and linked from the subscribe form; it
    # names templates/privacy/<version>.html and is stored with each consent event. Publish a
    # change as a new version (a new template), never by editing one already published.
    # templates/privacy/<version>.json declares the facts the notice states (controller,
    # contact, retention days); production refuses to start when the settings differ.
    PRIVACY_NOTICE_VERSION = "2026-11-v2"
    # Who is responsible for the subscribers' personal data (the controller). The notice
    # names them: a change needs a new notice version.
    PRIVACY_CONTROLLER = "Home Office, Crime and Antisocial Behaviour Reduction Unit"
    # Email address for requests about personal data (a copy of it, erasure, questions). The
    # notice gives it: a change needs a new notice version.
    PRIVACY_CONTACT = "privacy@csp-news.localhost"
    # Time zone for schedules and dates shown to people.
    TIMEZONE = "Europe/London"
    # Local time (HH:MM) at which each daily digest period ends and its digest is sent.
    DIGEST_DAILY_AT = "07:00"
    # Day (mon..sun) and local time at which each weekly digest period ends.
    DIGEST_WEEKLY_DAY = "mon"
    DIGEST_WEEKLY_AT = "07:00"
    # Most items one digest lists; the rest are behind a link to the site.
    DIGEST_MAX_ITEMS = 20
    # Days back in which digests missed while the scheduler was down are still made.
    DIGEST_RECOVERY_DAYS = 7
    # Hours after publication in which a news item's immediate alert is still sent.
    ALERT_WITHIN_HOURS = 24
    # The two-person rule for bulletins: a bulletin is sent or scheduled only once a second
    # member of staff, not the one who submitted it, has approved it.
    BULLETIN_APPROVAL_REQUIRED = False
    # Show the GOV.UK header with the crown, the crown in the footer and the GDS Transport
    # typeface. They are for services on gov.uk domains only; off, pages use system fonts.
    GOVUK_BRAND = False

    # Serve /outbox, the development viewer of the local outbox. Never in production.
    OUTBOX_ENABLED = False
    # Maildir of the local outbox; None means "outbox" in the instance folder.
    OUTBOX_DIR: str | None = None
    # Seconds browsers and CDNs may keep a public page or feed (Cache-Control max-age).
    PUBLIC_CACHE_MAX_AGE = 300
    # Seconds a web process trusts what it last read of when the public pages changed.
    PUBLIC_FRESHNESS_SECONDS = 1.0
    # Bearer token /metrics asks for; None serves /metrics to loopback clients only.
    METRICS_TOKEN: str | None = None
    # Number of proxies in front of the app whose X-Forwarded-For is trusted.
    PROXY_FIX_X_FOR = 0
    # Most data rows one subscriber import file (CSV) may have.
    IMPORT_MAX_ROWS = 200_000
    # Largest subscriber import file, in bytes; the upload page accepts a request this large.
    IMPORT_MAX_BYTES = 20 * 1024 * 1024
    # Largest request body accepted, in bytes.
    MAX_CONTENT_LENGTH = 64 * 1024
    MAX_FORM_MEMORY_SIZE = 64 * 1024

    # Staff sessions last a working day; logging out ends them everywhere at once.
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    # A form's CSRF token lasts as long as the session, so a long edit can still be saved.
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}

    @classmethod
    def validate(cls, settings: dict[str, Any]) -> None:
        """Refuse settings that are unsafe in this mode."""
        # Tests and development change retention settings freely, so here a contradiction
        # of the privacy notice is only a warning; production refuses it.
        for difference in privacy_notices.differences(settings):
            logger.warning("%s", difference)
        problems = _common_problems(settings)
        if problems:
            listed = "\n  - ".join(problems)
            raise ConfigError(f"refusing to start:\n  - {listed}")


class DevelopmentConfig(Config):
    """Local development: visibly fake secret, local outbox, /outbox page."""

    ENV_NAME = "development"
    SECRET_KEY = "dev-secret-not-for-production"
    SUPPRESSION_KEY = "dev-suppression-key-not-for-production"
    OUTBOX_ENABLED = True


class TestingConfig(Config):
    """The test suite: fixtures override the database and SMTP settings."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-not-for-production"
    SUPPRESSION_KEY = "testing-suppression-key-not-for-production"
    OUTBOX_ENABLED = True
    # Each change shows at once.
    PUBLIC_FRESHNESS_SECONDS = 0.0
    # Nothing listens here: a test that forgets its SMTP fixture fails loudly.
    SMTP_PORT = 9
    # argon2's cheapest parameters, for tests only: a login takes microseconds, not a third of
    # a second. Production refuses them.
    PASSWORD_HASH_PROFILE = "CHEAPEST"


class ProductionConfig(Config):
    """Production: refuses to start without real secrets and an HTTPS origin."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True

    @classmethod
    def validate(cls, settings: dict[str, Any]) -> None:
        """Raise ConfigError naming every missing or unsafe setting."""
        problems = (
            _common_problems(settings)
            + key_problems(settings)
            + privacy_notices.differences(settings)
        )
        if not str(settings.get("BASE_URL", "")).startswith("https://"):
            problems.append("MAILER_BASE_URL must be the public https:// origin of the service")
        if not settings.get("SMTP_HOST"):
            problems.append("MAILER_SMTP_HOST must name the SMTP relay")
        if settings.get("OUTBOX_ENABLED"):
            problems.append("MAILER_OUTBOX_ENABLED must be false: /outbox is for development only")
        if settings.get("PASSWORD_HASH_PROFILE") not in STRONG_PASSWORD_HASHES:
            problems.append(
                "MAILER_PASSWORD_HASH_PROFILE must be RFC_9106_LOW_MEMORY or RFC_9106_HIGH_MEMORY"
            )
        loopback = settings.get("SMTP_HOST") in ("127.0.0.1", "::1", "localhost")
        encrypted = settings.get("SMTP_STARTTLS") or settings.get("SMTP_SSL")
        if settings.get("SMTP_USERNAME") and not (encrypted or loopback):
            problems.append(
                "MAILER_SMTP_STARTTLS or MAILER_SMTP_SSL must be on: the SMTP password would "
                "cross the network in plain text"
            )
        for name in ("MAIL_FROM", "LIST_ID", "UNSUBSCRIBE_MAILTO"):
            if ".localhost" in str(settings.get(name, "")):
                problems.append(f"MAILER_{name} must use the service's real mail domain")
        if problems:
            listed = "\n  - ".join(problems)
            raise ConfigError(f"refusing to start in production mode:\n  - {listed}")


# The shortest retention periods allowed, in days, and why.
RETENTION_MINIMUMS = {
    "UNSUBSCRIBED_RETENTION_DAYS": (1, ""),
    "DELIVERY_RETENTION_DAYS": (31, ": the deliverability page charts the last 30 days"),
    "INBOUND_RETENTION_DAYS": (1, ""),
    "CONTACT_RETENTION_DAYS": (1, ""),
}


def _common_problems(settings: dict[str, Any]) -> list[str]:
    """Settings that are wrong in every mode: retention periods and the privacy notice."""
    problems = []
    for name, (least, why) in RETENTION_MINIMUMS.items():
        value = settings.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            problems.append(f"MAILER_{name} must be a whole number of days, at least {least}{why}")
    data_copy_age = settings.get("DATA_COPY_TOKEN_MAX_AGE")
    if (
        isinstance(data_copy_age, bool)
        or not isinstance(data_copy_age, int)
        or data_copy_age not in range(60, 3601, 60)
    ):
        problems.append(
            "MAILER_DATA_COPY_TOKEN_MAX_AGE must be whole minutes, in seconds, from 60 to 3600: "
            "a link to someone's data works for an hour at most"
        )
    problems += _ehlo_name_problems(settings)
    problems += privacy_notices.problems(settings)
    if not isinstance(
        getattr(profiles, str(settings.get("PASSWORD_HASH_PROFILE")), None), Parameters
    ):
        problems.append(
            "MAILER_PASSWORD_HASH_PROFILE must name one of argon2's profiles, such as "
            "RFC_9106_LOW_MEMORY"
        )
    return problems


def _ehlo_name_problems(settings: dict[str, Any]) -> list[str]:
    """An EHLO name, if set, must be one an SMTP server takes (and holds no line break)."""
    name = str(settings.get("SMTP_EHLO_NAME") or "")
    if not name or (len(name) <= 253 and re.fullmatch(EHLO_NAME, name)):
        return []
    return [
        "MAILER_SMTP_EHLO_NAME must be a host name (mail.example.gov.uk) or an address "
        "literal ([192.0.2.1])"
    ]


MODES: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for_environment() -> type[Config]:
    """Pick the settings class named by MAILER_ENV (default: development)."""
    name = os.environ.get("MAILER_ENV", "development")
    try:
        return MODES[name]
    except KeyError:
        raise ConfigError(f"MAILER_ENV={name!r} is not one of: {', '.join(MODES)}") from None

"""Suppressed addresses are stored under a keyed hash: a copy of the database alone cannot
test whether an address is on the list, and rotating the link secret changes nothing."""

from __future__ import annotations

import hashlib

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from config import TestingConfig
from mailer.app import create_app
from mailer.database import transaction
from mailer.domain import suppressions
from mailer.extensions import db
from mailer.models import Suppression
from mailer.models import SuppressionReason
from tests import TODAY

EMAIL = "kim@example.org"


def _suppress(app):
    with app.app_context(), transaction():
        suppressions.suppress(EMAIL, SuppressionReason.MANUAL, actor="t", now=TODAY)


def test_the_stored_hash_is_keyed_not_a_plain_digest(app):
    _suppress(app)

    with app.app_context():
        stored = db.session.scalar(db.select(Suppression.address_hash))
    assert stored != hashlib.sha256(EMAIL.encode()).hexdigest()
    assert stored == suppressions.keyed_hash(app.config["SUPPRESSION_KEY"], EMAIL.upper())


@pytest.mark.parametrize(
    ("setting", "value", "matched"),
    [
        pytest.param(
            "SECRET_KEY",
            "a-new-secret-key-for-testing-rotation-0123",
            True,
            id="new-link-secret-still-matches",
        ),
        pytest.param(
            "SUPPRESSION_KEY",
            "another-key-another-key-another-key",
            False,
            id="other-suppression-key-matches-nothing",
        ),
    ],
)
def test_only_the_suppression_key_decides_what_the_list_matches(app, setting, value, matched):
    _suppress(app)

    app.config[setting] = value

    with app.app_context():
        assert suppressions.is_suppressed(EMAIL) is matched


def test_the_migration_rehashes_entries_made_under_the_plain_digest(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    app = create_app(TestingConfig, {"DATABASE_URL": url})
    with app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO suppressions (address_hash, email, reason, detail, created_by,"
                    " created_at) VALUES (:hash, :email, 'manual', '', 't', '2026-11-01 09:00')"
                ),
                {"hash": hashlib.sha256(EMAIL.encode()).hexdigest(), "email": EMAIL},
            )
        upgrade()
        assert suppressions.is_suppressed(EMAIL)
        db.engine.dispose()

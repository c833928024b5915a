"""The migrations build exactly the schema the models describe, and step back without loss."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade
from flask_migrate import upgrade
from sqlalchemy import text

from config import TestingConfig
from mailer.app import create_app
from mailer.extensions import db


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_stepping_back_from_data_copies_keeps_every_delivery(tmp_path):
    """Undoing 0007 drops one column in place: rebuilding the subscribers table on SQLite
    would delete, by cascade, the deliveries and consent events that point at it."""
    app = create_app(TestingConfig, {"DATABASE_URL": f"sqlite:///{tmp_path}/steps.sqlite"})
    with app.app_context():
        upgrade()
        db.session.execute(
            text(
                "INSERT INTO subscribers (email, email_key, status, token_version, generation, "
                "created_at, updated_at) "
                "VALUES ('a@example.org', 'a@example.org', 'active', 1, 0, :at, :at)"
            ),
            {"at": "2026-11-01 00:00:00"},
        )
        _add_sent_welcome()
        db.session.commit()
        db.session.remove()

        downgrade(revision="0006")
        assert db.session.scalar(text("SELECT count(*) FROM deliveries")) == 1
        db.session.remove()
        upgrade()
        assert db.session.scalar(text("SELECT data_copies FROM subscribers")) == 0
        db.session.remove()
        db.engine.dispose()


def test_deliveries_made_before_return_keys_keep_none_and_stepping_back_keeps_them(tmp_path):
    """0008 adds the return path key: deliveries already sent have none (their return
    paths name the id alone); undoing it drops the column in place."""
    app = create_app(TestingConfig, {"DATABASE_URL": f"sqlite:///{tmp_path}/keys.sqlite"})
    with app.app_context():
        upgrade(revision="0007")
        _add_subscriber()
        _add_sent_welcome()
        db.session.commit()
        db.session.remove()

        upgrade()
        assert db.session.scalar(text("SELECT return_key FROM deliveries")) is None
        db.session.remove()
        downgrade(revision="0007")
        assert db.session.scalar(text("SELECT count(*) FROM deliveries")) == 1
        db.session.remove()
        db.engine.dispose()


def _add_subscriber() -> None:
    """Subscriber 1, active, written as the schema of any revision from 0007 on takes it."""
    db.session.execute(
        text(
            "INSERT INTO subscribers (email, email_key, status, token_version, generation, "
            "created_at, updated_at, data_copies) "
            "VALUES ('a@example.org', 'a@example.org', 'active', 1, 0, :at, :at, 0)"
        ),
        {"at": "2026-11-01 00:00:00"},
    )


def _add_sent_welcome() -> None:
    """A welcome email sent to subscriber 1, written as the schema of any revision takes it."""
    db.session.execute(
        text(
            "INSERT INTO deliveries (kind, subscriber_id, status, attempts, next_attempt_at, "
            "created_at, updated_at) VALUES ('welcome', 1, 'sent', 1, :at, :at, :at)"
        ),
        {"at": "2026-11-01 00:00:00"},
    )


def test_deliveries_to_partnerships_come_and_go_with_0012_and_keep_the_others(tmp_path):
    """0012 lets a delivery name a partnership instead of a subscriber; on SQLite by rewriting
    the stored CREATE TABLE, never by rebuilding the table (which would delete, by cascade,
    the bounce events of its deliveries). Undoing it drops only the partnership emails."""
    app = create_app(TestingConfig, {"DATABASE_URL": f"sqlite:///{tmp_path}/csps.sqlite"})
    with app.app_context():
        upgrade()
        _add_subscriber()
        _add_sent_welcome()
        db.session.execute(
            text(
                "INSERT INTO deliveries (kind, csp_id, status, attempts, next_attempt_at, "
                "created_at, updated_at) VALUES ('csp_link', 7, 'sent', 1, :at, :at, :at)"
            ),
            {"at": "2026-11-01 00:00:00"},
        )
        db.session.execute(
            text(
                "INSERT INTO bounce_events (kind, received_at, delivery_id, status, diagnostic) "
                "VALUES ('hard', :at, 1, '5.1.1', '')"
            ),
            {"at": "2026-11-02 00:00:00"},
        )
        db.session.commit()
        db.session.remove()

        downgrade(revision="0011")
        assert db.session.execute(text("SELECT id, kind FROM deliveries")).all() == [(1, "welcome")]
        assert db.session.scalar(text("SELECT delivery_id FROM bounce_events")) == 1
        stored = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name='deliveries'"))
        assert "subscriber_id INTEGER NOT NULL," in stored
        assert "csp_id" not in stored
        db.session.remove()
        upgrade()
        assert db.session.scalar(text("SELECT count(*) FROM deliveries")) == 1
        db.session.remove()
        db.engine.dispose()


def test_0013_adds_and_drops_practitioners_answers_and_segments_keeping_every_delivery(tmp_path):
    """0013 adds columns and a table in place; stepping back drops them, never rebuilding the
    subscribers table (which would delete, by cascade, what points at it)."""
    app = create_app(TestingConfig, {"DATABASE_URL": f"sqlite:///{tmp_path}/areas.sqlite"})
    with app.app_context():
        upgrade()
        db.session.execute(
            text(
                "INSERT INTO subscribers (email, email_key, status, token_version, generation, "
                "created_at, updated_at, data_copies, organisation_type) "
                "VALUES ('a@example.org', 'a@example.org', 'active', 1, 0, :at, :at, 0, 'police')"
            ),
            {"at": "2026-11-01 00:00:00"},
        )
        _add_sent_welcome()
        db.session.execute(
            text(
                "INSERT INTO csps (id, code, name, name_cy, nation, status, email, phone, web, "
                "links_used, created_at, updated_at) VALUES (1, 'W14000015', 'Cardiff', "
                "'Caerdydd', 'wales', 'active', '', '', '', 0, :at, :at)"
            ),
            {"at": "2026-11-01 00:00:00"},
        )
        db.session.execute(text("INSERT INTO subscriber_areas VALUES (1, 1)"))
        db.session.commit()
        db.session.remove()

        downgrade(revision="0012")
        assert db.session.scalar(text("SELECT count(*) FROM deliveries")) == 1
        assert db.session.scalar(text("SELECT count(*) FROM subscribers")) == 1
        db.session.remove()
        upgrade()
        assert db.session.scalar(text("SELECT organisation_type FROM subscribers")) is None
        assert db.session.scalar(text("SELECT count(*) FROM subscriber_areas")) == 0
        db.session.remove()
        db.engine.dispose()


def test_0020_gives_every_subscriber_english_and_stepping_back_keeps_every_delivery(tmp_path):
    """0020 adds the language in place (English for everyone there already); stepping back
    drops it without rebuilding the subscribers table."""
    app = create_app(TestingConfig, {"DATABASE_URL": f"sqlite:///{tmp_path}/language.sqlite"})
    with app.app_context():
        upgrade(revision="0014")
        db.session.execute(
            text(
                "INSERT INTO subscribers (email, email_key, status, token_version, generation, "
                "created_at, updated_at, data_copies) "
                "VALUES ('a@example.org', 'a@example.org', 'active', 1, 0, :at, :at, 0)"
            ),
            {"at": "2026-11-01 00:00:00"},
        )
        _add_sent_welcome()
        db.session.commit()
        db.session.remove()
        upgrade()
        assert db.session.scalar(text("SELECT language FROM subscribers")) == "en"
        db.session.remove()
        downgrade(revision="0014")
        assert db.session.scalar(text("SELECT count(*) FROM deliveries")) == 1
        assert db.session.scalar(text("SELECT count(*) FROM subscribers")) == 1
        db.session.remove()
        db.engine.dispose()

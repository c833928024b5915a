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
        opts = {"compare_type": True, "include_name": _not_search_index}
        context = MigrationContext.configure(connection, opts=opts)
        assert compare_metadata(context, db.metadata) == []


def _not_search_index(name: str | None, type_: str, parent_names: object) -> bool:
    """The full-text index of case studies (on SQLite an FTS5 table and its shadow tables, on
    PostgreSQL a generated column and its index) is made by migration 0016 alone, not by the
    models."""
    if type_ in ("index", "column"):
        return name not in ("ix_case_studies_search", "search_vector")
    return not (type_ == "table" and (name or "").startswith("case_studies_fts"))


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


def test_0017_counts_the_deliveries_held_and_stepping_back_keeps_them(tmp_path):
    """0017 adds the counts kept on runs and the tallies of mail sent, and counts them from
    what is held: deliveries, complaints and retention's summaries. Stepping back drops them
    in place, never rebuilding `send_runs` (which would delete its deliveries by cascade)."""
    app = create_app(TestingConfig, {"DATABASE_URL": f"sqlite:///{tmp_path}/counts.sqlite"})
    with app.app_context():
        upgrade(revision="0013")
        _add_subscriber()
        _add_sent_welcome()
        at = {"made": "2026-11-25 07:01:00", "sent": "2026-11-25 07:02:05.250000"}
        db.session.execute(
            text(
                "INSERT INTO send_runs (id, key, frequency, state, recipients, created_by, "
                "created_at, updated_at) VALUES (1, 'daily:x', 'daily', 'done', 9, 'test', "
                ":made, :made)"
            ),
            at,
        )
        for status, sent in (("sent", at["sent"]), ("bounced", at["sent"]), ("failed", None)):
            db.session.execute(
                text(
                    "INSERT INTO deliveries (kind, run_id, subscriber_id, status, attempts, "
                    "next_attempt_at, sent_at, created_at, updated_at) VALUES ('digest', 1, "
                    "NULL, :status, 1, :made, :sent_at, :made, :made)"
                ),
                {**at, "status": status, "sent_at": sent},
            )
        db.session.execute(
            text(
                "INSERT INTO bounce_events (kind, received_at, delivery_id, status, diagnostic) "
                "VALUES ('complaint', :made, 2, '', ''), ('complaint', :made, 2, '', '')"
            ),
            at,
        )
        db.session.execute(
            text(
                "INSERT INTO delivery_summaries (day, run_id, kind, status, count, "
                "summarised_at) VALUES ('2026-11-24', 1, 'digest', 'sent', 6, :made)"
            ),
            at,
        )
        db.session.commit()
        db.session.remove()

        upgrade()
        counts = db.session.execute(
            text(
                "SELECT sent, failed, cancelled, bounced, complained, first_sent_at, "
                "last_sent_at FROM send_runs"
            )
        ).one()
        assert tuple(counts[:5]) == (7, 1, 0, 1, 1)
        assert counts[5] == counts[6] == "2026-11-25 07:02:05.250000"
        assert db.session.execute(text("SELECT run_id, bucket, count FROM run_sends")).all() == [
            (1, 1795590120, 2)
        ]
        hours = db.session.execute(text("SELECT hour, kind, count FROM hourly_sends")).all()
        # The six summarised at the start of their day, the two sent in the hour from 07:00
        # (the welcome has no time it was sent).
        assert sorted(hours) == [(1795478400, "digest", 6), (1795590000, "digest", 2)]
        db.session.remove()

        downgrade(revision="0013")
        assert db.session.scalar(text("SELECT count(*) FROM deliveries")) == 4
        assert db.session.scalar(text("SELECT count(*) FROM send_runs")) == 1
        db.session.remove()
        db.engine.dispose()


def test_0019_adds_and_drops_the_welsh_texts_keeping_topics_and_their_subscribers(tmp_path):
    """0019 adds the Welsh columns empty and drops them in place: the topics, the items and
    the subscriptions to them stay."""
    app = create_app(TestingConfig, {"DATABASE_URL": f"sqlite:///{tmp_path}/welsh.sqlite"})
    with app.app_context():
        upgrade(revision="0014")
        _add_subscriber()
        db.session.execute(
            text(
                "INSERT INTO topics (id, slug, name, description, position, heading) "
                "VALUES (1, 'funding', 'Funding', '', 0, '')"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO subscriptions (subscriber_id, topic_id, frequency, created_at) "
                "VALUES (1, 1, 'daily', :at)"
            ),
            {"at": "2026-11-01 00:00:00"},
        )
        db.session.commit()
        db.session.remove()

        upgrade()
        assert db.session.scalar(text("SELECT count(*) FROM topics WHERE name_cy = ''")) > 0
        db.session.remove()
        downgrade(revision="0014")
        assert db.session.scalar(text("SELECT count(*) FROM subscriptions")) == 1
        db.session.remove()
        db.engine.dispose()


def test_0020_gives_every_subscriber_english_and_stepping_back_keeps_every_delivery(tmp_path):
    """0020 adds the language in place (English for everyone there already); stepping back
    drops it without rebuilding the subscribers table."""
    app = create_app(TestingConfig, {"DATABASE_URL": f"sqlite:///{tmp_path}/language.sqlite"})
    with app.app_context():
        upgrade(revision="0014")
        _add_subscriber()
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

"""0016 indexes the case studies already there for full-text search, and steps back cleanly."""

from __future__ import annotations

from flask_migrate import downgrade
from flask_migrate import upgrade
from sqlalchemy import text

from config import TestingConfig
from mailer.app import create_app
from mailer.extensions import db


def _found(word: str) -> list[int]:
    return list(
        db.session.scalars(
            text("SELECT rowid FROM case_studies_fts WHERE case_studies_fts MATCH :word"),
            {"word": word},
        )
    )


def test_case_studies_made_before_0016_are_found_and_stepping_back_drops_the_index(tmp_path):
    app = create_app(TestingConfig, {"DATABASE_URL": f"sqlite:///{tmp_path}/fts.sqlite"})
    with app.app_context():
        upgrade(revision="0014")
        db.session.execute(
            text(
                "INSERT INTO case_studies (state, title, submitter_email, search_text, "
                "created_at, updated_at) VALUES ('published', 'Lighting', 'a@example.org', "
                "'Lighting the alleys', :at, :at)"
            ),
            {"at": "2026-11-01 00:00:00"},
        )
        db.session.commit()
        upgrade()
        assert _found("alleys") == [1]
        db.session.execute(text("UPDATE case_studies SET search_text = 'Gating the lanes'"))
        assert _found("alleys") == []
        assert _found("lanes") == [1]
        db.session.commit()
        db.session.remove()

        downgrade(revision="0014")
        tables = db.session.scalars(text("SELECT name FROM sqlite_master WHERE name LIKE '%fts%'"))
        assert list(tables) == []
        db.session.remove()
        upgrade()
        assert _found("lanes") == [1]
        db.session.remove()
        db.engine.dispose()

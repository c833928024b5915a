"""create_app(): wires settings, extensions, blueprints, error pages and commands together."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config
from config import config_for_environment
from mailer import cli
from mailer import database
from mailer import errors
from mailer import formatting
from mailer import i18n
from mailer.domain import segments
from mailer.extensions import csrf
from mailer.extensions import limiter
from mailer.paths import STATIC
from mailer.paths import TEMPLATES
from mailer.web import about
from mailer.web import api
from mailer.web import bulletins
from mailer.web import caching
from mailer.web import changes
from mailer.web import contact
from mailer.web import converters
from mailer.web import csps
from mailer.web import data_copy  # noqa: F401  (adds the data-copy pages to public.bp)
from mailer.web import news
from mailer.web import operations
from mailer.web import outbox_viewer
from mailer.web import practice
from mailer.web import public
from mailer.web import security
from mailer.web import staff
from mailer.web.practice import attachments as practice_attachments
from mailer.web.practice import submit as practice_submit


def create_app(
    config: type[Config] | None = None, overrides: Mapping[str, Any] | None = None
) -> Flask:
    """Build the app: settings class, then MAILER_* variables, then `overrides`.

    :raises config.ConfigError: the settings are unsafe for the chosen mode.
    """
    app = Flask("mailer", template_folder=str(TEMPLATES), static_folder=str(STATIC))
    settings_class = config or config_for_environment()
    app.config.from_object(settings_class)
    app.config.from_prefixed_env("MAILER")
    app.config.update(overrides or {})
    _derive_settings(app)
    settings_class.validate(dict(app.config))
    database.init_app(app)
    converters.init_app(app)
    # Before CSRF protection, which reads (and so size-checks) the form first.
    app.before_request(staff.news_pages.allow_long_forms)
    app.before_request(staff.bulletin_pages.allow_long_forms)
    app.before_request(practice_submit.allow_long_forms)
    app.before_request(practice_attachments.allow_uploads)
    csrf.init_app(app)
    limiter.init_app(app)
    _register_pages(app)
    errors.register_error_handlers(app)
    formatting.init_app(app)
    i18n.init_app(app)
    # "Applies to Wales": on item pages and in the emails that carry the item.
    app.jinja_env.filters["applies_to"] = segments.applies_to_stored
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    security.init_app(app)
    caching.init_app(app)
    cli.init_app(app)
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"]))  # type: ignore[method-assign]
    return app


def _register_pages(app: Flask) -> None:
    """The blueprints: public pages, news, the staff area, the API and (in development) the
    outbox viewer."""
    app.register_blueprint(public.bp)
    app.register_blueprint(changes.bp)
    app.register_blueprint(news.bp)
    app.register_blueprint(bulletins.bp)
    app.register_blueprint(csps.bp)
    app.register_blueprint(contact.bp)
    app.register_blueprint(about.bp)
    app.register_blueprint(practice.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(api.bp)
    operations.init_app(app)
    # The API authenticates with bearer keys, not cookies, so CSRF tokens do not apply: to it
    # and to the blueprints nested in it (Flask-WTF looks up each by its dotted name).
    for name, blueprint in app.blueprints.items():
        if name == api.bp.name or name.startswith(f"{api.bp.name}."):
            csrf.exempt(blueprint)
    if app.config["OUTBOX_ENABLED"]:
        app.register_blueprint(outbox_viewer.bp)


def main(args: Sequence[str] | None = None) -> None:
    """The `mailer` console script (and `python scheduler.py`): the CLI on this app factory."""
    cli.run(create_app, args)


def _derive_settings(app: Flask) -> None:
    """Fill in the settings that follow from others."""
    url = str(app.config["DATABASE_URL"])
    # SQLAlchemy's default PostgreSQL driver is psycopg2; this project ships psycopg 3.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url.removeprefix(prefix)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["BASE_URL"] = str(app.config["BASE_URL"]).rstrip("/")
    if not app.config.get("OUTBOX_DIR"):
        app.config["OUTBOX_DIR"] = str(Path(app.instance_path) / "outbox")
    if not app.config.get("CASE_STUDY_FILES_DIR"):
        app.config["CASE_STUDY_FILES_DIR"] = str(Path(app.instance_path) / "case-study-files")
    if str(app.config["BASE_URL"]).startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True

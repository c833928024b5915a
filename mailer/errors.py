"""Errors of the domain and the handlers that turn them into pages and JSON."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask
from flask import Response
from flask import jsonify
from flask import render_template
from flask import request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)


class MailerError(Exception):
    """Base of every error the service raises on purpose."""


class InvalidInput(MailerError):
    """A field failed validation; `field` names it for the error summary."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class FieldErrors(MailerError):
    """Several fields failed validation: `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class Conflict(MailerError):
    """The change cannot be made in the state things are in now: a 409, a page or JSON.

    `hint` (a sentence) tells a person on the page what to do next.
    """

    hint = ""


class InvalidToken(MailerError):
    """A link token is tampered with, meant for another purpose, or revoked."""


class ExpiredToken(InvalidToken):
    """A link token was genuine but is too old."""


TITLES = {
    400: _l("There is a problem with your request"),
    403: _l("You do not have permission to see this page"),
    404: _l("Page not found"),
    405: _l("This address does not accept that request"),
    409: _l("That change is not possible"),
    413: _l("What you sent is too large"),
    429: _l("Too many requests"),
    500: _l("Sorry, there is a problem with the service"),
}


def _error_page(status: int, message: str | None = None) -> tuple[str, int]:
    """Render the shared error page for `status`."""
    title = TITLES.get(status) or gettext("There is a problem")
    return render_template("error.html", title=title, message=message, status=status), status


def json_error(
    status: int, code: str, message: str, *, fields: Mapping[str, str] | None = None
) -> Response:
    """The API's error body: `{"error": {"code", "message", "fields"}}`."""
    response = jsonify(error={"code": code, "message": message, "fields": dict(fields or {})})
    response.status_code = status
    return response


def conflict_json(error: Conflict) -> Response:
    """A conflict as the API's JSON error (the API's own handler, as it answers every error)."""
    return json_error(409, "state_conflict", str(error).capitalize())


def http_error_json(error: HTTPException) -> Response:
    """An HTTP error as the API's JSON error, keeping headers such as `Allow`."""
    code = (error.name or "error").lower().replace(" ", "_")
    response = json_error(error.code or 500, code, error.description or error.name)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Turn every error into a page with a clear message, never a traceback."""

    @app.errorhandler(InvalidToken)
    def invalid_token(error: InvalidToken) -> tuple[str, int]:
        expired = isinstance(error, ExpiredToken)
        return render_template("token_error.html", expired=expired), 400

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return _error_page(
            400,
            gettext(
                "The form had expired or was not sent from this site. Go back, reload the "
                "page and try again."
            ),
        )

    @app.errorhandler(Conflict)
    def conflict(error: Conflict) -> tuple[str, int]:
        reason = str(error)
        sentence = f"{reason[:1].upper()}{reason[1:]}"
        return _error_page(409, f"{sentence}. {error.hint}" if error.hint else sentence)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int, dict[str, str]] | Response:
        # Unknown addresses and methods under /api/ never reach the API blueprint's handlers.
        if request.path.startswith("/api/"):
            return http_error_json(error)
        # Only a conflict carries a message of ours; the others have standard wording.
        message = error.description if error.code == 409 else None
        # A 405 keeps its Allow header (RFC 9110), as the JSON errors do.
        allow = {name: value for name, value in error.get_headers() if name.lower() == "allow"}
        return (*_error_page(error.code or 500, message), allow)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return _error_page(500, gettext("Try again later."))

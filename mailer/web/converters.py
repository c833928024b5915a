"""URL converters: a whole number in a URL names a row by its id."""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from mailer.domain.news import MAX_ID


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: an id, 1 to MAX_ID (ids are 32-bit on PostgreSQL, and
    SQLite fails past 2**63). Any other number is not found, whatever the method: it never
    reaches a view or the database."""

    # More digits than any id has: no route matches, so the answer is a 404.
    regex = r"[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            # Not a ValidationError, which would let another method's rule of the same path
            # answer 405 Method Not Allowed.
            raise NotFound()
        return number


def init_app(app: Flask) -> None:
    """Make `int` the id converter; call before any blueprint is registered."""
    app.url_map.converters["int"] = IdConverter

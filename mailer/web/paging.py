"""The page number a listing was asked for."""

from __future__ import annotations

from flask import request

# Past this, a page number is nonsense whatever the listing.
MAX_PAGE = 10_000


def requested_page() -> int | None:
    """The `page` query value (1 when absent), or None when it is no sensible page number."""
    value = request.args.get("page", "1")
    if not (value.isascii() and value.isdigit() and len(value) < 7):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_PAGE else None

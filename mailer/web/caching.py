"""Public pages a browser or a CDN may keep: Cache-Control, an ETag and Last-Modified worked
out before the page is, and 304 Not Modified to a conditional request while nothing changed.

Only pages the same for everyone use this: never a form (its CSRF token is personal), a
subscriber's page or the staff area.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from functools import wraps
from typing import Any
from typing import TypeVar

from flask import Flask
from flask import Response
from flask import current_app
from flask import make_response
from flask import request
from flask import session
from werkzeug.http import is_resource_modified

from mailer.domain.freshness import Freshness
from mailer.paths import TEMPLATES

View = TypeVar("View", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    app.after_request(_not_stored_by_default)


def _not_stored_by_default(response: Response) -> Response:
    """What no view chose to make cacheable is kept by no cache: forms carry a personal CSRF
    token, and a subscriber's pages their address."""
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def public(freshness: Callable[[], Freshness]) -> Callable[[View], View]:
    """Cache the page of the decorated view for MAILER_PUBLIC_CACHE_MAX_AGE seconds, with
    validators from `freshness` (what the page shows) and the page's address."""

    def decorate(view: View) -> View:
        @wraps(view)
        def cached(*args: Any, **kwargs: Any) -> Response:
            found = freshness()
            etag = _etag(found)
            if not is_resource_modified(request.environ, etag=etag, last_modified=found.changed_at):
                return _with_validators(Response(status=304), etag, found)
            response = make_response(view(*args, **kwargs))
            # A page that showed a one-off message (a flash) is that reader's alone.
            if response.status_code == 200 and not session.modified:
                _with_validators(response, etag, found)
            return response

        return cached  # type: ignore[return-value]

    return decorate


def _with_validators(response: Response, etag: str, found: Freshness) -> Response:
    max_age = int(current_app.config["PUBLIC_CACHE_MAX_AGE"])
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.set_etag(etag)
    if found.changed_at is not None:
        response.last_modified = found.changed_at
    return response


def _etag(found: Freshness) -> str:
    """What the page is made of: the data it shows, its address, and the code and templates
    that render it (so that a release changes every ETag)."""
    key = f"{found.tag}|{request.full_path}|{_release()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@cache
def _release() -> str:
    """A digest of the templates and the installed version, read once per process."""
    from importlib.metadata import version

    digest = hashlib.sha256(version("csp-news-mailer").encode())
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()

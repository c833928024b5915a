"""Public pages a browser or a CDN may keep: Cache-Control, an ETag and Last-Modified worked
out before the page is, and 304 Not Modified to a conditional request while nothing changed.

Only pages the same for everyone use this: never a form (its CSRF token is personal), a
subscriber's page or the staff area.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Mapping
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

from mailer.database import read_only
from mailer.domain.freshness import Freshness
from mailer.paths import TEMPLATES

View = TypeVar("View", bound=Callable[..., Any])
# Settings left out of the release digest.
SECRET = re.compile("KEY|SECRET|PASSWORD|TOKEN")


def init_app(app: Flask) -> None:
    app.after_request(_not_stored_by_default)


def _not_stored_by_default(response: Response) -> Response:
    """What no view chose to make cacheable is kept by no cache: forms carry a personal CSRF
    token, and a subscriber's pages their address."""
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def public(freshness: Callable[[], Freshness]) -> Callable[[View], View]:
    """Cache the page of the decorated view for MAILER_PUBLIC_CACHE_MAX_AGE seconds, with
    validators from `freshness` (what the page shows) and the page's address. The page is
    read in a read-only transaction, and kept in this process until what it shows changes."""

    def decorate(view: View) -> View:
        @wraps(view)
        def cached(*args: Any, **kwargs: Any) -> Response:
            if "_flashes" in session:
                # A one-off message for this reader alone: the page is made for them.
                with read_only():
                    return make_response(view(*args, **kwargs))
            kept = _kept()
            found = kept.recent(freshness)
            etag = _etag(found, kept.release)
            if not is_resource_modified(request.environ, etag=etag, last_modified=found.changed_at):
                return _with_validators(Response(status=304), etag, found)
            page = kept.pages.get(etag)
            if page is not None:
                return _with_validators(Response(page[0], content_type=page[1]), etag, found)
            with read_only():
                response = make_response(view(*args, **kwargs))
            if response.status_code == 200:
                kept.pages.put(etag, (response.get_data(), response.content_type))
                _with_validators(response, etag, found)
            return response

        return cached  # type: ignore[return-value]

    return decorate


class Pages:
    """The latest pages made in this process, by ETag; the oldest go first past `size`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pages: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, etag: str) -> tuple[bytes, str] | None:
        with self.lock:
            page = self.pages.get(etag)
            if page is not None:
                self.pages.move_to_end(etag)
            return page

    def put(self, etag: str, page: tuple[bytes, str]) -> None:
        with self.lock:
            self.pages[etag] = page
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


class Kept:
    """What one app keeps in this process: its latest pages (some 30 KB each, so a few
    megabytes), what it last read of when they changed, and its release digest."""

    def __init__(self, app: Flask) -> None:
        self.pages = Pages(size=200)
        self.read: dict[Callable[[], Freshness], tuple[float, Freshness]] = {}
        self.seconds = float(app.config["PUBLIC_FRESHNESS_SECONDS"])
        self.release = _release(app.config)

    def recent(self, freshness: Callable[[], Freshness]) -> Freshness:
        """What `freshness` said at most MAILER_PUBLIC_FRESHNESS_SECONDS ago, or says now:
        under a burst of clicks the database is asked once a second, not once a request."""
        asked = time.monotonic()
        last = self.read.get(freshness)
        if last is not None and asked - last[0] < self.seconds:
            return last[1]
        with read_only():
            found = freshness()
        self.read[freshness] = (asked, found)
        return found


def _kept() -> Kept:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    kept = app.extensions.get("public_pages")
    if kept is None or kept.seconds != float(app.config["PUBLIC_FRESHNESS_SECONDS"]):
        kept = app.extensions["public_pages"] = Kept(app)
    return kept  # type: ignore[no-any-return]


def _with_validators(response: Response, etag: str, found: Freshness) -> Response:
    max_age = int(current_app.config["PUBLIC_CACHE_MAX_AGE"])
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.set_etag(etag)
    if found.changed_at is not None:
        response.last_modified = found.changed_at
    return response


def _etag(found: Freshness, release: str) -> str:
    """What the page is made of: the data it shows, its address, and the code, templates and
    settings that render it (so that a release or a change of settings changes every ETag)."""
    # The script root holds the language (`/cy`): the Welsh page is another page.
    key = f"{found.tag}|{request.script_root}{request.full_path}|{release}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _release(config: Mapping[str, Any]) -> str:
    """A digest of the installed version, the templates and the settings (secrets aside)."""
    digest = hashlib.sha256(_code())
    for name in sorted(config):
        if not SECRET.search(name):
            digest.update(f"{name}={config[name]!r}".encode())
    return digest.hexdigest()


@cache
def _code() -> bytes:
    """A digest of the installed version and the templates, read once per process."""
    from importlib.metadata import version

    digest = hashlib.sha256(version("csp-news-mailer").encode())
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.digest()

"""Languages: English and Welsh (Cymraeg), with gettext catalogues under translations/.

Every public page answers at its own path and, in Welsh, at the same path under `/cy`
(`/subscribe`, `/cy/subscribe`). `WelshPaths` moves the `/cy` prefix from the path into the
script root, so the pages need no routes of their own, `url_for` keeps a reader in Welsh, and
`page_language` reads the language back from the script root.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from flask import Flask
from flask import has_request_context
from flask import redirect
from flask import request
from flask_babel import Babel
from flask_babel import gettext

from mailer.paths import TRANSLATIONS

ENGLISH = "en"
WELSH = "cy"
LANGUAGES = (ENGLISH, WELSH)
WELSH_PREFIX = "/cy"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WelshPaths:
    """WSGI middleware: `/cy/…` is the page at `/…`, with `/cy` added to SCRIPT_NAME."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == WELSH_PREFIX or path.startswith(WELSH_PREFIX + "/"):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + WELSH_PREFIX
            environ["PATH_INFO"] = path[len(WELSH_PREFIX) :] or "/"
        return self.app(environ, start_response)


def page_language() -> str:
    """The language of the page being answered: Welsh under `/cy`, else English."""
    if has_request_context() and request.script_root.endswith(WELSH_PREFIX):
        return WELSH
    return ENGLISH


def init_app(app: Flask) -> None:
    """Install gettext in the templates and serve the Welsh pages under `/cy`."""
    Babel(
        app,
        locale_selector=page_language,
        default_translation_directories=str(TRANSLATIONS),
    )
    app.wsgi_app = WelshPaths(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(_english_only_parts)
    # Globals, not a context processor, so that imported macros see them too.
    app.jinja_env.globals.update(
        page_language=page_language,
        language_urls=language_urls,
        localised=localised,
        translated=translated,
    )


def localised(thing: object, field: str, language: str) -> tuple[str, bool]:
    """A text field of a news item, bulletin, topic or case study in `language`, and whether
    it fell back to English: the Welsh is in `<field>_cy`, and an empty one falls back."""
    english = str(getattr(thing, field, "") or "")
    if language != WELSH:
        return english, False
    welsh = str(getattr(thing, f"{field}_cy", "") or "")
    return (welsh, False) if welsh.strip() else (english, bool(english))


def language_urls() -> dict[str, str]:
    """The page being answered in each language, its query string kept: `{"en": "/news?q=x",
    "cy": "/cy/news?q=x"}`, for the language switch and the `hreflang` alternates."""
    base = request.script_root.removesuffix(WELSH_PREFIX)
    query = request.query_string.decode("latin-1")
    tail = request.path + (f"?{query}" if query else "")
    return {ENGLISH: base + tail, WELSH: base + WELSH_PREFIX + tail}


# The parts that stay in English: a Welsh address of one of them goes to the English one.
ENGLISH_ONLY = ("staff", "api", "outbox")


def _english_only_parts() -> Any:
    """Send `/cy/staff/…` (and the API and outbox) to the English address, method and all."""
    blueprint = (request.blueprint or "").split(".")[0]
    if page_language() == WELSH and blueprint in ENGLISH_ONLY:
        return redirect(language_urls()[ENGLISH], code=308)
    return None


def N_(text: str) -> str:
    """Mark a text for the catalogue where it is defined outside a request (a domain error,
    a label); the page translates it where it shows it, with `translated`."""
    return text


def translated(text: str) -> str:
    """A text marked with `N_` (or any message) in the page's language; "" stays ""."""
    return gettext(text) if text else text

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
from flask import request
from flask_babel import Babel

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


def localised(thing: object, field: str, language: str) -> tuple[str, bool]:
    """A text field of a news item, bulletin, topic or case study in `language`, and whether
    it fell back to English: the Welsh is in `<field>_cy`, and an empty one falls back."""
    english = str(getattr(thing, field, "") or "")
    if language != WELSH:
        return english, False
    welsh = str(getattr(thing, f"{field}_cy", "") or "")
    return (welsh, False) if welsh.strip() else (english, bool(english))

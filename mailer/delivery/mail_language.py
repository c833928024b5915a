"""The language of an email: English or Welsh, the subscriber's choice.

An email is rendered under `flask_babel.force_locale(language)`, so every text of its
templates and the words made here come from the catalogue of that language; its links open
the pages in that language (the Welsh ones under `/cy`), and the Welsh content of news items,
bulletins and topics is used where there is some, else the English with a note.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import unescape
from typing import Any

import nh3
from flask_babel import gettext as _

from mailer.formatting import govuk_date
from mailer.formatting import govuk_datetime
from mailer.i18n import WELSH
from mailer.i18n import WELSH_PREFIX
from mailer.i18n import localised


def page_root(base_url: str, language: str) -> str:
    """Where the pages in `language` start: the site, or its Welsh pages under `/cy`."""
    return f"{base_url}{WELSH_PREFIX}" if language == WELSH else base_url


def frequency_words(frequency: str | None) -> str:
    """How often a frequency sends, in the words of the current locale."""
    words: dict[str, str] = {
        "immediate": _("as soon as news is published"),
        "daily": _("once a day"),
        "weekly": _("once a week"),
    }
    return words.get(frequency or "") or str(_("at the frequencies you chose"))


def names(things: Iterable[Any], language: str) -> list[str]:
    """The names of topics in `language` (English where a topic has no Welsh name)."""
    return [localised(thing, "name", language)[0] for thing in things]


def span(start: datetime, end: datetime, *, zone: str, language: str) -> str:
    """The time a digest covers, in the current locale."""
    # TRANSLATORS: check: "a" or "ac" before the date as it is read aloud
    words: str = _("published between %(start)s and %(end)s")
    return words % {
        "start": govuk_datetime(start, zone, language),
        "end": govuk_datetime(end, zone, language),
    }


def language_context(language: str, zone: str) -> dict[str, Any]:
    """What every email template may use to write in `language`: the language itself (for
    `<html lang>`), `local(thing, field)` for a content field, `fell_back(thing)` when an
    item has no Welsh to show (the template then adds a note), and `mail_date(value)`."""

    def fell_back(thing: object, field: str = "title") -> bool:
        return localised(thing, field, language)[1]

    return {
        "language": language,
        "local": lambda thing, field: localised(thing, field, language)[0],
        "fell_back": fell_back,
        "mail_date": lambda value: govuk_date(value, zone, language),
        "titles": lambda items: [localised(item, "title", language)[0] for item in items],
    }


def bulletin_text(bulletin: object, language: str) -> str:
    """A bulletin's body for the text part in `language`: its Markdown, or, where it has a
    Welsh body only in HTML, the text of that."""
    text, fell_back = localised(bulletin, "body_markdown", language)
    if fell_back:
        html, html_fell_back = localised(bulletin, "body_html", language)
        if not html_fell_back:
            return unescape(nh3.clean(html, tags=set())).strip()
    return text

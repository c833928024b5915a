"""How dates and reasons are shown to people: GOV.UK style, in the service's time zone."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import get_locale

from mailer.clock import as_utc
from mailer.i18n import N_

# How often each frequency sends, in the words of emails and pages.
FREQUENCY_WORDS = {
    "immediate": N_("as soon as news is published"),
    "daily": N_("once a day"),
    "weekly": N_("once a week"),
}


# The months in Welsh, as GOV.UK writes dates in Welsh: '6 Mawrth 2013'.
WELSH_MONTHS = (
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
)


def govuk_date(value: datetime | None, zone: str = "Europe/London", language: str = "en") -> str:
    """'6 March 2013', in Welsh '6 Mawrth 2013'."""
    if value is None:
        return ""
    local = as_utc(value).astimezone(ZoneInfo(zone))
    if language == "cy":
        return f"{local.day} {WELSH_MONTHS[local.month - 1]} {local.year}"
    return f"{local.day} {local:%B %Y}"


def govuk_day(value: date | None, language: str = "en") -> str:
    """A calendar date (no time or zone): '6 March 2013', in Welsh '6 Mawrth 2013'."""
    if value is None:
        return ""
    month = WELSH_MONTHS[value.month - 1] if language == "cy" else f"{value:%B}"
    return f"{value.day} {month} {value.year}"


def govuk_datetime(
    value: datetime | None, zone: str = "Europe/London", language: str = "en"
) -> str:
    """'6 March 2013 at 9:05am', in Welsh '6 Mawrth 2013 am 9:05yb'."""
    if value is None:
        return ""
    local = as_utc(value).astimezone(ZoneInfo(zone))
    hour = local.hour % 12 or 12
    day = govuk_date(value, zone, language)
    if language == "cy":
        return f"{day} am {hour}:{local:%M}{'yb' if local.hour < 12 else 'yh'}"
    return f"{day} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def current_language() -> str:
    """The language being rendered in: the page's, or the one `flask_babel.force_locale` set."""
    locale = get_locale()
    return locale.language if locale is not None else "en"


def as_clause(reason: str) -> str:
    """A reason written as a sentence, made to follow "because": 'The round closed.' becomes
    'the round closed'; a word in capitals ('NHS funding ended') keeps them."""
    reason = reason.strip().rstrip(".")
    if reason[:1].isupper() and not reason[1:2].isupper():
        return reason[:1].lower() + reason[1:]
    return reason


def init_app(app: Flask) -> None:
    """Make the date formats available to every template, in the configured zone."""
    zone = app.config["TIMEZONE"]
    app.jinja_env.filters["govuk_date"] = lambda value: govuk_date(value, zone, current_language())
    app.jinja_env.filters["govuk_datetime"] = lambda value: govuk_datetime(
        value, zone, current_language()
    )
    app.jinja_env.filters["govuk_day"] = lambda value: govuk_day(value, current_language())
    app.jinja_env.filters["as_clause"] = as_clause

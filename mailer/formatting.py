"""How dates and reasons are shown to people: GOV.UK style, in the service's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from mailer.clock import as_utc

# How often each frequency sends, in the words of emails and pages.
FREQUENCY_WORDS = {
    "immediate": "as soon as news is published",
    "daily": "once a day",
    "weekly": "once a week",
}


# The months in Welsh, January first ("6 Mawrth 2013").
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
    """'6 March 2013'; in Welsh ("cy") '6 Mawrth 2013'."""
    if value is None:
        return ""
    local = as_utc(value).astimezone(ZoneInfo(zone))
    if language == "cy":
        return f"{local.day} {WELSH_MONTHS[local.month - 1]} {local.year}"
    return f"{local.day} {local:%B %Y}"


def govuk_datetime(
    value: datetime | None, zone: str = "Europe/London", language: str = "en"
) -> str:
    """'6 March 2013 at 9:05am'; in Welsh ("cy") '6 Mawrth 2013 am 9:05yb'."""
    if value is None:
        return ""
    local = as_utc(value).astimezone(ZoneInfo(zone))
    hour = local.hour % 12 or 12
    date = govuk_date(value, zone, language)
    if language == "cy":
        return f"{date} am {hour}:{local:%M}{'yb' if local.hour < 12 else 'yh'}"
    return f"{date} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


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
    app.jinja_env.filters["govuk_date"] = lambda value: govuk_date(value, zone)
    app.jinja_env.filters["govuk_datetime"] = lambda value: govuk_datetime(value, zone)
    app.jinja_env.filters["as_clause"] = as_clause

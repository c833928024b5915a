"""The "now or at a date and time" choice of the publish and send forms: GOV.UK's date input
(day, month, year) and a time typed as people write it ("9:30am", "14:30", "9am")."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from mailer.errors import InvalidInput

DATE_FIELDS = ("date-day", "date-month", "date-year")
# "9:30am", "9.30 pm", "9am", "14:30", "0930" is not taken: it reads as a number, not a time.
TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?m?\.?$|^(\d{1,2})[:.](\d{2})$", re.I)
TIME_HELP = "Enter a time like 9:30am or 14:30"


def scheduled_time(
    form: MultiDict[str, str], *, zone: str, now: datetime, verb: str = "publish"
) -> datetime | None:
    """None for "now", or the moment (in the service's zone) the form chose.

    :raises InvalidInput: on field "date-day" or "time", in GOV.UK's words; a time the clocks
        skip or pass twice (the end of March and of October) is refused, and so is the past.
    """
    if form.get("when") != "later":
        return None
    day = read_date(form, verb=verb)
    clock_time = read_time(form.get("time", ""), verb=verb)
    naive = datetime.combine(day, clock_time)
    place = ZoneInfo(zone)
    local = naive.replace(tzinfo=place)
    if local.utcoffset() != naive.replace(tzinfo=place, fold=1).utcoffset() or (
        local.astimezone(UTC).astimezone(place).replace(tzinfo=None) != naive
    ):
        raise InvalidInput("time", "The clocks change at that time: choose another time")
    if local <= now:
        if day < now.astimezone(place).date():
            raise InvalidInput("date-day", "The date must be in the future")
        raise InvalidInput("time", "The time must be in the future")
    return local


def read_date(form: MultiDict[str, str], *, verb: str) -> date:
    """The day of GOV.UK's date input (date-day, date-month, date-year)."""
    parts = {name: form.get(name, "").strip() for name in DATE_FIELDS}
    missing = [name.removeprefix("date-") for name, value in parts.items() if not value]
    if len(missing) == len(DATE_FIELDS):
        raise InvalidInput("date-day", f"Enter the date to {verb} it")
    if missing:
        raise InvalidInput("date-day", f"The date must include a {' and '.join(missing)}")
    try:
        day, month, year = (int(parts[name]) for name in DATE_FIELDS)
        if year < 1000:
            raise ValueError(year)
        return date(year, month, day)
    except ValueError:
        raise InvalidInput("date-day", "Enter a real date") from None


def read_time(text: str, *, verb: str) -> time:
    """A time of day as people write it: "9:30am", "9am", "12pm" (noon), "14:30"."""
    text = text.strip()
    if not text:
        raise InvalidInput("time", f"Enter the time to {verb} it, like 9:30am or 14:30")
    found = TIME.match(text.replace(" ", "") if text[-1:].isalpha() else text)
    if found is None:
        raise InvalidInput("time", TIME_HELP)
    hour_12, minute_12, half, hour_24, minute_24 = found.groups()
    if half:
        hour, minute = int(hour_12), int(minute_12 or 0)
        if not 1 <= hour <= 12:
            raise InvalidInput("time", TIME_HELP)
        hour = hour % 12 + (12 if half.lower() == "p" else 0)
    else:
        hour, minute = int(hour_24), int(minute_24)
    if hour > 23 or minute > 59:
        raise InvalidInput("time", TIME_HELP)
    return time(hour, minute)

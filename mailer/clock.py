"""The one place that reads the wall clock; everything else takes `now` as a parameter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from datetime import datetime


def now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return `value` as aware UTC; naive values (as SQLite returns them) are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """A half-open span of time, [start, end), in UTC."""

    start: datetime
    end: datetime

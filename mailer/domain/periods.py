"""Digest periods: when they end, in the configured zone, and the key of each period's run.

Periods are half-open, [start, end), and computed in the configured zone from local dates, so a
clock change neither skips nor doubles a digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mailer.clock import Period
from mailer.errors import InvalidInput
from mailer.models import Frequency

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIGESTS = (Frequency.DAILY, Frequency.WEEKLY)
# A period's digest is made this long after it ends, so that an item published just before
# the end, whose transaction commits just after, is in it.
SETTLE = timedelta(minutes=1)


@dataclass(frozen=True)
class Schedule:
    """When digest periods end, in local time; built from the app config by the caller."""

    zone: ZoneInfo
    daily_at: time
    weekly_day: int
    weekly_at: time

    @classmethod
    def from_config(cls, config: Any) -> Schedule:
        """Read MAILER_TIMEZONE and the MAILER_DIGEST_* times."""
        day = str(config["DIGEST_WEEKLY_DAY"]).lower()[:3]
        if day not in WEEKDAYS:
            raise ValueError(f"MAILER_DIGEST_WEEKLY_DAY must be one of {', '.join(WEEKDAYS)}")
        return cls(
            zone=ZoneInfo(config["TIMEZONE"]),
            daily_at=time.fromisoformat(config["DIGEST_DAILY_AT"]),
            weekly_day=WEEKDAYS.index(day),
            weekly_at=time.fromisoformat(config["DIGEST_WEEKLY_AT"]),
        )

    def describe(self, frequency: Frequency) -> str:
        """Say in words when periods of `frequency` end."""
        if frequency is Frequency.WEEKLY:
            return f"{WEEKDAYS[self.weekly_day]} {self.weekly_at:%H:%M} {self.zone.key}"
        return f"{self.daily_at:%H:%M} {self.zone.key}"

    def end_on(self, frequency: Frequency, day: date) -> datetime | None:
        """The end of the period of `frequency` that ends on local `day`, in UTC, if any."""
        if frequency is Frequency.WEEKLY:
            if day.weekday() != self.weekly_day:
                return None
            at = self.weekly_at
        else:
            at = self.daily_at
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)

    def ends_between(self, frequency: Frequency, after: datetime, upto: datetime) -> list[datetime]:
        """Scheduled period ends in (after, upto], oldest first."""
        day = after.astimezone(self.zone).date() - timedelta(days=1)
        last = upto.astimezone(self.zone).date() + timedelta(days=1)
        ends = []
        while day <= last:
            end = self.end_on(frequency, day)
            if end is not None and after < end <= upto:
                ends.append(end)
            day += timedelta(days=1)
        return ends

    def latest_end(self, frequency: Frequency, now: datetime) -> datetime:
        """The most recent scheduled period end at or before `now`."""
        return self.ends_between(frequency, now - timedelta(days=8), now)[-1]

    def next_end(self, frequency: Frequency, after: datetime) -> datetime:
        """The first scheduled period end after `after`: the digest an item published at
        `after` goes out in (periods are half-open)."""
        return self.ends_between(frequency, after, after + timedelta(days=8))[0]

    def period_ending(self, frequency: Frequency, end: datetime) -> Period:
        """The period of `frequency` that ends at `end`.

        :raises InvalidInput: `end` is not a scheduled end of such a period.
        """
        try:
            day = end.astimezone(self.zone).date()
        except OverflowError:
            raise InvalidInput("period_end", f"{end.isoformat()} is out of range") from None
        if frequency not in DIGESTS or self.end_on(frequency, day) != end:
            raise InvalidInput(
                "period_end",
                f"{end.isoformat()} is not when a {frequency.value} digest period ends "
                f"(they end at {self.describe(frequency)})",
            )
        step = timedelta(days=7 if frequency is Frequency.WEEKLY else 1)
        try:
            start = self.end_on(frequency, day - step)
        except OverflowError:
            start = None
        if start is None:
            raise InvalidInput("period_end", f"{end.isoformat()} has no period before it")
        return Period(start, end)


def digest_key(frequency: Frequency, end: datetime) -> str:
    """The unique name of the digest run of the period ending at `end`."""
    return f"{frequency.value}:{end.astimezone(UTC).isoformat()}"

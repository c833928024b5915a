"""Digest periods: when they end in London, how they tile across clock changes, boundaries."""

from __future__ import annotations

import calendar
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from config import TestingConfig
from mailer.domain.periods import Schedule
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import Frequency
from tests.digests.conftest import make_digest
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import send_queued

LONDON = ZoneInfo("Europe/London")
HOUR = timedelta(hours=1)
# The default settings: daily at 07:00, weekly on Monday at 07:00, in Europe/London.
SCHEDULE = Schedule.from_config(
    {name: getattr(TestingConfig, name) for name in dir(TestingConfig) if name.isupper()}
)
# Clocks go forward on Sunday 29 March 2026 and back on Sunday 25 October 2026.
SPRING = date(2026, 3, 29)
AUTUMN = date(2026, 10, 25)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_periods_end_at_seven_in_london_in_winter_and_in_summer():
    assert SCHEDULE.end_on(Frequency.DAILY, date(2026, 11, 25)) == _utc(2026, 11, 25, 7)
    assert SCHEDULE.end_on(Frequency.DAILY, date(2026, 7, 1)) == _utc(2026, 7, 1, 6)


def test_weekly_periods_end_on_monday_at_seven_in_london():
    assert SCHEDULE.end_on(Frequency.WEEKLY, date(2026, 11, 30)) == _utc(2026, 11, 30, 7)
    assert SCHEDULE.end_on(Frequency.WEEKLY, date(2026, 6, 29)) == _utc(2026, 6, 29, 6)
    assert SCHEDULE.end_on(Frequency.WEEKLY, date(2026, 12, 1)) is None


@pytest.mark.parametrize(
    ("frequency", "change", "length"),
    [
        (Frequency.DAILY, SPRING, timedelta(hours=23)),
        (Frequency.DAILY, AUTUMN, timedelta(hours=25)),
        (Frequency.WEEKLY, SPRING, timedelta(days=7) - HOUR),
        (Frequency.WEEKLY, AUTUMN, timedelta(days=7) + HOUR),
    ],
)
def test_periods_tile_across_a_clock_change_and_the_one_holding_it_is_an_hour_off(
    frequency, change, length
):
    middle = datetime.combine(change, time(12), tzinfo=LONDON)
    ends = SCHEDULE.ends_between(
        frequency, middle - timedelta(days=22), middle + timedelta(days=22)
    )
    periods = [SCHEDULE.period_ending(frequency, end) for end in ends]
    for before, after in zip(periods, periods[1:], strict=False):
        assert before.end == after.start
    normal = timedelta(days=7 if frequency is Frequency.WEEKLY else 1)
    lengths = {
        period.end.astimezone(LONDON).date(): period.end - period.start for period in periods
    }
    holding = next(day for day in sorted(lengths) if day >= change)
    assert lengths.pop(holding) == length
    assert set(lengths.values()) == {normal}
    assert {period.end.astimezone(LONDON).time() for period in periods} == {time(7)}


@pytest.mark.parametrize(("year", "month"), [(2026, 3), (2026, 10), (2026, 11)])
def test_a_month_has_exactly_one_daily_end_per_day(year, month):
    days = calendar.monthrange(year, month)[1]
    first = datetime(year, month, 1, tzinfo=LONDON)
    ends = SCHEDULE.ends_between(Frequency.DAILY, first, first.replace(day=days, hour=23))
    local = [end.astimezone(LONDON) for end in ends]
    assert [end.date() for end in local] == [date(year, month, day) for day in range(1, days + 1)]
    assert {end.time() for end in local} == {time(7)}


def test_ends_between_excludes_its_start_and_includes_its_end():
    end = _utc(2026, 11, 25, 7)
    assert SCHEDULE.ends_between(Frequency.DAILY, end, end + timedelta(days=1)) == [
        end + timedelta(days=1)
    ]


def test_the_latest_end_is_the_one_at_or_before_now():
    end = _utc(2026, 11, 25, 7)
    assert SCHEDULE.latest_end(Frequency.DAILY, end) == end
    assert SCHEDULE.latest_end(Frequency.DAILY, end - timedelta(seconds=1)) == end - timedelta(1)
    assert SCHEDULE.latest_end(Frequency.WEEKLY, end) == _utc(2026, 11, 23, 7)
    assert SCHEDULE.latest_end(Frequency.DAILY, _utc(2026, 3, 29, 6, 30)) == _utc(2026, 3, 29, 6)


@pytest.mark.parametrize(
    ("frequency", "end"),
    [
        # 08:00 in London on a summer day.
        (Frequency.DAILY, _utc(2026, 7, 1, 7)),
        (Frequency.DAILY, _utc(2026, 11, 25, 7, 0, 1)),
        # A Wednesday.
        (Frequency.WEEKLY, _utc(2026, 11, 25, 7)),
        (Frequency.IMMEDIATE, _utc(2026, 11, 25, 7)),
    ],
)
def test_a_time_that_is_not_a_scheduled_end_is_refused(frequency, end):
    with pytest.raises(InvalidInput, match=f"is not when a {frequency.value} digest period ends"):
        SCHEDULE.period_ending(frequency, end)


def test_an_end_given_with_a_summer_offset_is_the_same_end():
    period = SCHEDULE.period_ending(
        Frequency.DAILY, datetime(2026, 7, 1, 7, tzinfo=ZoneInfo("Europe/London"))
    )
    assert (period.start, period.end) == (_utc(2026, 6, 30, 6), _utc(2026, 7, 1, 6))


# The second pair of periods is 23 hours long: the clocks go forward in it.
@pytest.mark.parametrize("end", [_utc(2026, 11, 25, 7), _utc(2026, 3, 28, 7)])
def test_an_item_published_exactly_at_a_boundary_is_in_the_next_digest_only(app, smtpd, end):
    following = SCHEDULE.ends_between(Frequency.DAILY, end, end + timedelta(days=2))[0]
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY}, now=end)
        publish_news("Before the boundary", at=end - timedelta(microseconds=1))
        publish_news("On the boundary", at=end)
        publish_news("Before the next boundary", at=following - timedelta(microseconds=1))
        publish_news("On the next boundary", at=following)
        db.session.commit()
    make_digest(app, end=end, now=end)
    make_digest(app, end=following, now=following)
    assert send_queued(app, now=following).sent == 2
    received = {m.message["Subject"]: m.text for m in smtpd.drain()}
    day, next_day = (f"{e.astimezone(LONDON):%-d %B %Y}" for e in (end, following))
    first = received.pop(f"CSP news: 1 update (daily, {day})")
    second = received.pop(f"CSP news: 2 updates (daily, {next_day})")
    assert received == {}
    assert "Before the boundary" in first
    assert "On the boundary" not in first
    assert "On the boundary" in second
    assert "Before the next boundary" in second
    assert "Before the boundary" not in second
    assert "On the next boundary" not in second

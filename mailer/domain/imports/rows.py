"""Checking each row of a subscriber list: its address, topics, frequency and consent."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime

from mailer.clock import as_utc
from mailer.domain.imports.files import Layout
from mailer.domain.imports.files import Record
from mailer.domain.imports.files import shown
from mailer.domain.subscriptions import CONTROL_CHARACTERS
from mailer.domain.subscriptions import normalise_address
from mailer.errors import InvalidInput
from mailer.i18n import LANGUAGES
from mailer.models import Frequency

MAX_SOURCE = 200


class Reason(enum.StrEnum):
    """Why a row was rejected, in the order reports list them."""

    INVALID_ADDRESS = "invalid address"
    NO_TOPICS = "no topics"
    UNKNOWN_TOPIC = "unknown topic"
    INVALID_FREQUENCY = "invalid frequency"
    INVALID_CONSENT_SOURCE = "invalid consent source"
    INVALID_CONSENT_DATE = "invalid consent date"
    INVALID_LANGUAGE = "invalid language"
    DUPLICATE = "duplicate"
    SUPPRESSED = "suppressed"
    EXISTING = "already a subscriber"
    UNSUBSCRIBED = "unsubscribed"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that is not imported, and why, in words a person understands."""

    line: int
    address: str
    reason: Reason
    message: str
    cells: tuple[str, ...]

    @property
    def shown_address(self) -> str:
        """The address as given, with control characters made visible and cut short."""
        return shown(self.address)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A row whose fields are all valid: a subscriber to add unless the database says no."""

    record: Record
    given: str
    email: str
    topics: tuple[str, ...]
    frequency: Frequency
    source: str | None
    consent_date: str | None
    confirmed_at: datetime | None
    # The case-folded address, as subscribers are keyed.
    key: str
    # The language of their emails: en, or cy for Welsh.
    language: str = "en"

    def reject(self, reason: Reason, message: str) -> Rejection:
        """This row, refused after all (by the database checks)."""
        return Rejection(self.record.line, self.given, reason, message, self.record.cells)


class _Refused(Exception):
    """A field of the row is wrong (internal: becomes a Rejection)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class RowChecker:
    """Checks the fields of each row in turn, remembering the addresses seen so far (and the
    topic lists, so that rows naming the same topics share one tuple: the apply holds every
    row in memory)."""

    def __init__(self, layout: Layout, topics: frozenset[str], *, now: datetime) -> None:
        self.layout = layout
        self.topics = topics
        self.now = now
        self.seen: dict[str, int] = {}
        self.topic_lists: dict[str, tuple[str, ...]] = {}

    def check(self, record: Record) -> Candidate | Rejection:
        """The row as a candidate subscriber, or why it is rejected."""
        given = self.layout.cell(record, "email")
        try:
            email, key = self._address(given, record.line)
            source, consent_date, confirmed_at = self._consent(record)
            return Candidate(
                record=record,
                given=given,
                email=email,
                topics=self._topics(self.layout.cell(record, "topics")),
                frequency=_frequency(self.layout.cell(record, "frequency")),
                source=source,
                consent_date=consent_date,
                confirmed_at=confirmed_at,
                key=key,
                language=_language(self.layout.cell(record, "language")),
            )
        except _Refused as refused:
            return Rejection(record.line, given, refused.reason, refused.message, record.cells)

    def _address(self, given: str, line: int) -> tuple[str, str]:
        """The normalised address and its case-folded key, unless it is invalid or appeared on
        an earlier line."""
        if not given.strip():
            raise _Refused(Reason.INVALID_ADDRESS, "no email address")
        if CONTROL_CHARACTERS.search(given):
            raise _Refused(
                Reason.INVALID_ADDRESS, "the address contains line breaks or control characters"
            )
        try:
            email = normalise_address(given)
        except InvalidInput:
            raise _Refused(Reason.INVALID_ADDRESS, "not a valid email address") from None
        key = email.casefold()
        key = email if key == email else key
        first = self.seen.setdefault(key, line)
        if first != line:
            raise _Refused(Reason.DUPLICATE, f"the same address is on line {first}")
        return email, key

    def _topics(self, value: str) -> tuple[str, ...]:
        """The topic slugs of the row, each one known."""
        if value in self.topic_lists:
            return self.topic_lists[value]
        slugs = tuple(
            dict.fromkeys(s for s in (p.strip().casefold() for p in value.split(";")) if s)
        )
        if not slugs:
            raise _Refused(Reason.NO_TOPICS, "no topics: name at least one, like funding;events")
        unknown = [slug for slug in slugs if slug not in self.topics]
        if unknown:
            named = ", ".join(f"“{shown(slug)}”" for slug in unknown[:5])
            plural = "s" if len(unknown) > 1 else ""
            raise _Refused(Reason.UNKNOWN_TOPIC, f"unknown topic{plural} {named}")
        self.topic_lists[value] = slugs
        return slugs

    def _consent(self, record: Record) -> tuple[str | None, str | None, datetime | None]:
        """The consent source, the consent date as recorded, and when to say they confirmed."""
        source = self.layout.cell(record, "consent_source").strip()
        given = self.layout.cell(record, "consent_date").strip()
        if CONTROL_CHARACTERS.search(source):
            raise _Refused(
                Reason.INVALID_CONSENT_SOURCE,
                "the consent source contains line breaks or control characters",
            )
        if len(source) > MAX_SOURCE:
            raise _Refused(
                Reason.INVALID_CONSENT_SOURCE,
                f"the consent source is longer than {MAX_SOURCE} characters",
            )
        if source and not given:
            raise _Refused(
                Reason.INVALID_CONSENT_DATE, "no consent date: it is needed with a consent source"
            )
        if not given:
            return None, None, None
        at, recorded = _consent_date(given, now=self.now)
        return source or None, recorded, at if source else None


def _frequency(value: str) -> Frequency:
    """The frequency named, daily when blank."""
    try:
        return Frequency(value.strip().casefold() or Frequency.DAILY)
    except ValueError:
        raise _Refused(
            Reason.INVALID_FREQUENCY,
            f"frequency “{shown(value.strip())}” is not immediate, daily or weekly",
        ) from None


def _language(value: str) -> str:
    """The language of a row's emails, English when blank."""
    language = value.strip().casefold() or "en"
    if language not in LANGUAGES:
        raise _Refused(
            Reason.INVALID_LANGUAGE,
            f"language “{shown(value.strip())}” is not en (English) or cy (Welsh)",
        )
    return language


def _consent_date(value: str, *, now: datetime) -> tuple[datetime, str]:
    """When consent was given (a date is taken as midnight UTC) and its ISO form."""
    try:
        try:
            day = date.fromisoformat(value)
            at, recorded = datetime(day.year, day.month, day.day, tzinfo=UTC), day.isoformat()
        except ValueError:
            at = as_utc(datetime.fromisoformat(value))
            recorded = at.isoformat()
    except (ValueError, OverflowError):
        raise _Refused(
            Reason.INVALID_CONSENT_DATE,
            f"consent date “{shown(value)}” is not a date like 2025-03-14 "
            "or a date and time like 2025-03-14T09:30:00Z",
        ) from None
    if at > now:
        raise _Refused(Reason.INVALID_CONSENT_DATE, f"consent date {recorded} is in the future")
    return at, recorded

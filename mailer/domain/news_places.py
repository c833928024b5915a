"""Where a news item applies ("Applies to Wales"): nations, police force areas or
partnerships. It is shown on the item's page and in emails; it changes who gets the email
only for an urgent item, whose alert then goes only to readers who work there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailer.domain import audit
from mailer.domain import segments
from mailer.domain.segments import PLACES
from mailer.domain.segments import Segment
from mailer.errors import FieldErrors
from mailer.models import NewsItem

FIELD = "applies_to"


def validate_places(value: Any, *, sep: str = ".") -> Segment:
    """Check the places an item applies to ({"nations", "pfas", "csps"}, each optional).

    :raises FieldErrors: under `applies_to` or `applies_to<sep>dimension`.
    """
    errors: dict[str, str] = {}
    segment = segments.parse(errors, value, field=FIELD, sep=sep, dimensions=PLACES)
    if errors:
        raise FieldErrors(errors)
    return segment


def set_places(item: NewsItem, segment: Segment, *, actor: str, now: datetime) -> None:
    """Say where the item applies; record a change in the audit log."""
    stored = segment.to_json()
    if segments.from_stored(item.segment) == segment:
        return
    item.segment = stored
    item.updated_at = now
    words = segments.applies_to(segment) or "everywhere"
    audit.record(actor, "applies to", item, now=now, detail={"applies_to": words})


def places_of(item: NewsItem) -> Segment:
    """Where the item applies (empty: everywhere)."""
    return segments.from_stored(item.segment)

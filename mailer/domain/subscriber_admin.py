"""The admins' view of subscribers: counts, a filtered list, and one subscriber's records."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlalchemy.orm import selectinload

from mailer.database import escape_like
from mailer.domain.paging import Page
from mailer.domain.subscriptions import SLUG
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import BounceEvent
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from mailer.models import Topic

MAX_ID = 2**31 - 1
MAX_QUERY = 320
# How many of a subscriber's emails and bounces their page lists, newest first.
SHOWN_DELIVERIES = 100
SHOWN_BOUNCES = 100
# PostgreSQL refuses NUL in text, and no address holds a control character.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

E = TypeVar("E", bound=enum.Enum)
Statement = TypeVar("Statement", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class Filters:
    """Which subscribers a list or an export is about; None or "" means any."""

    # Part of the address, in any case; LIKE wildcards in it are taken literally.
    q: str = ""
    status: SubscriberStatus | None = None
    # A topic slug: subscribers who follow it.
    topic: str | None = None
    # Subscribers with a subscription of this frequency (of `topic`, when both are given).
    frequency: Frequency | None = None

    def as_args(self) -> dict[str, str]:
        """The filters set, as the query string of the list page carries them."""
        values = {
            "q": self.q,
            "status": self.status.value if self.status else "",
            "topic": self.topic or "",
            "frequency": self.frequency.value if self.frequency else "",
        }
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class SubscriberDetail:
    """One subscriber with their consent history, latest emails and bounces."""

    subscriber: Subscriber
    consents: Sequence[ConsentEvent]
    deliveries: Sequence[Delivery]
    delivery_total: int
    bounces: Sequence[BounceEvent]


def parse_filters(values: Mapping[str, str | None]) -> Filters:
    """Read filters from request arguments or command options named q, status, topic and
    frequency; a missing or empty value means any.

    :raises InvalidInput: a value is not one of those allowed (`field` names it).
    """
    return Filters(
        q=_query(values.get("q") or ""),
        status=_choice(SubscriberStatus, values.get("status"), "status", "a status"),
        topic=_topic(values.get("topic") or None),
        frequency=_choice(Frequency, values.get("frequency"), "frequency", "a frequency"),
    )


def counts() -> dict[str, int]:
    """How many subscribers there are in all and in each status (zero where none)."""
    rows = db.session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status))
    found = {SubscriberStatus(status): int(count) for status, count in rows}
    by_status = {status.value: found.get(status, 0) for status in SubscriberStatus}
    return {"total": sum(by_status.values()), **by_status}


def page(filters: Filters, *, page: int, per_page: int) -> Page[Subscriber]:
    """A page of the matching subscribers, newest first, with their subscriptions and topics
    loaded (three statements, whatever the page size)."""
    total = count_matching(filters)
    page = max(1, min(page, math.ceil(total / per_page) or 1))
    statement = (
        matching(select(Subscriber), filters)
        .options(selectinload(Subscriber.subscriptions))
        .order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(db.session.scalars(statement).all(), total, page, per_page)


def count_matching(filters: Filters, *, erased: bool = True) -> int:
    """How many subscribers match (leaving out the erased ones unless `erased`)."""
    statement = matching(select(func.count()).select_from(Subscriber), filters)
    if not erased:
        statement = statement.where(Subscriber.status != SubscriberStatus.ERASED)
    return int(db.session.scalar(statement) or 0)


def matching(statement: Statement, filters: Filters) -> Statement:
    """`statement` (over subscribers) narrowed to those the filters match."""
    if filters.q:
        pattern = f"%{escape_like(filters.q.casefold())}%"
        # An erased subscriber has no address left to match, only a placeholder key.
        statement = statement.where(
            Subscriber.email_key.like(pattern, escape="\\"),
            Subscriber.status != SubscriberStatus.ERASED,
        )
    if filters.status:
        statement = statement.where(Subscriber.status == filters.status)
    if filters.topic or filters.frequency:
        statement = statement.where(_follows(filters.topic, filters.frequency))
    return statement


def find(subscriber_id: int, *, lock: bool = False) -> Subscriber | None:
    """The subscriber with this id (none for ids no database column holds)."""
    if not 1 <= subscriber_id < 2**31:
        return None
    return db.session.get(Subscriber, subscriber_id, with_for_update=lock)


def subscriber_detail(subscriber_id: int) -> SubscriberDetail | None:
    """A subscriber and their records, newest first; None if there is no such subscriber."""
    if not 0 < subscriber_id <= MAX_ID:
        return None
    subscriber = db.session.get(
        Subscriber, subscriber_id, options=[selectinload(Subscriber.subscriptions)]
    )
    if subscriber is None:
        return None
    return SubscriberDetail(
        subscriber=subscriber,
        consents=_newest(ConsentEvent, ConsentEvent.at, subscriber_id),
        deliveries=_newest(Delivery, Delivery.created_at, subscriber_id, SHOWN_DELIVERIES),
        delivery_total=_count(Delivery, subscriber_id),
        bounces=_newest(BounceEvent, BounceEvent.received_at, subscriber_id, SHOWN_BOUNCES),
    )


def _newest(model: Any, at: Any, subscriber_id: int, limit: int | None = None) -> Sequence[Any]:
    """The subscriber's rows of `model`, newest first by `at`, then by id."""
    statement = (
        select(model)
        .where(model.subscriber_id == subscriber_id)
        .order_by(at.desc(), model.id.desc())
        .limit(limit)
    )
    return db.session.scalars(statement).all()


def _count(model: Any, subscriber_id: int) -> int:
    statement = select(func.count()).select_from(model).where(model.subscriber_id == subscriber_id)
    return int(db.session.scalar(statement) or 0)


def _follows(topic: str | None, frequency: Frequency | None) -> Any:
    """EXISTS a subscription of the subscriber to `topic`, at `frequency`, either optional.

    Correlated to the subscriber only, so that it also works in statements that select
    from subscriptions themselves.
    """
    chosen = aliased(Subscription)
    statement = select(chosen.id).where(chosen.subscriber_id == Subscriber.id)
    if topic:
        statement = statement.where(
            chosen.topic_id.in_(select(Topic.id).where(Topic.slug == topic))
        )
    if frequency:
        statement = statement.where(chosen.frequency == frequency)
    return statement.correlate(Subscriber).exists()


def _query(raw: str) -> str:
    """The search text, trimmed.

    :raises InvalidInput: too long, or it holds control characters.
    """
    text = raw.strip()
    if len(text) > MAX_QUERY:
        raise InvalidInput("q", f"Search text must be {MAX_QUERY} characters or fewer")
    if CONTROL.search(text):
        raise InvalidInput("q", "Search text must not contain control characters")
    return text


def _choice(kind: type[E], raw: str | None, field: str, what: str) -> E | None:
    """The member of the enum `kind` whose value is `raw`; None when `raw` is empty."""
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(field, f"Choose {what} from the list ({allowed})") from None


def _topic(slug: str | None) -> str | None:
    """A topic slug that exists; None when none is given."""
    if slug is None:
        return None
    found = None
    # Only a slug's characters reach the database (PostgreSQL refuses a NUL with an error).
    if SLUG.fullmatch(slug):
        found = db.session.scalar(select(Topic.slug).where(Topic.slug == slug))
    if found is None:
        raise InvalidInput("topic", f"There is no topic {slug[:60]!r}; choose one from the list")
    return found

"""Test data: keyword-only factories with sensible defaults."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

from mailer.domain.slugs import slugify
from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from mailer.models import Topic


def make_subscriber(
    *,
    email: str = "sam@example.com",
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    now: datetime,
) -> Subscriber:
    """Add one subscriber, made at `now` (flushed, not committed)."""
    subscriber = Subscriber(
        email=email,
        email_key=email.casefold(),
        status=status,
        created_at=now,
        updated_at=now,
        confirmed_at=now if status is SubscriberStatus.ACTIVE else None,
    )
    db.session.add(subscriber)
    db.session.flush()
    return subscriber


def add_consent(
    subscriber_id: int, action: ConsentAction, *, at: datetime, detail: dict[str, Any]
) -> None:
    """Add a consent event of the subscriber, on wording version "v1" (not committed)."""
    db.session.add(
        ConsentEvent(
            subscriber_id=subscriber_id,
            action=action,
            at=at,
            wording_version="v1",
            detail=detail,
        )
    )


def queue_emails(
    count: int,
    *,
    kind: MessageKind = MessageKind.MANAGE,
    now: datetime,
    domain: str = "example.com",
) -> list[int]:
    """Add `count` active subscribers with one email each queued at `now`, in bulk; return
    delivery ids."""
    db.session.execute(
        insert(Subscriber),
        [
            {
                "email": f"reader{n}@{domain}",
                "email_key": f"reader{n}@{domain}",
                "status": SubscriberStatus.ACTIVE,
                "token_version": 1,
                "generation": 0,
                "created_at": now,
                "updated_at": now,
                "confirmed_at": now,
            }
            for n in range(count)
        ],
    )
    ids = db.session.scalars(select(Subscriber.id).where(Subscriber.email.like(f"%@{domain}")))
    db.session.execute(
        insert(Delivery),
        [
            {
                "kind": kind,
                "subscriber_id": subscriber_id,
                "status": DeliveryStatus.QUEUED,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for subscriber_id in ids
        ],
    )
    db.session.commit()
    return list(db.session.scalars(select(Delivery.id).order_by(Delivery.id)))


def add_readers(
    count: int,
    *,
    follows: dict[str, Frequency],
    domain: str = "example.org",
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    now: datetime,
    prefix: str = "",
    language: str = "en",
) -> list[int]:
    """Add `count` subscribers, made at `now`, who each follow the topics (by slug) at the
    frequencies given and read their emails in `language`, in bulk; return their ids. Topics
    must exist (seed_topics)."""
    start = db.session.scalar(select(func.count()).select_from(Subscriber)) or 0
    emails = [f"{prefix}reader{start + n}@{domain}" for n in range(count)]
    db.session.execute(
        insert(Subscriber),
        [
            {
                "email": email,
                "email_key": email,
                "status": status,
                "token_version": 1,
                "generation": 0,
                "created_at": now,
                "updated_at": now,
                "confirmed_at": now,
                "language": language,
            }
            for email in emails
        ],
    )
    ids = list(db.session.scalars(select(Subscriber.id).where(Subscriber.email.in_(emails))))
    topics = {row.slug: row.id for row in db.session.execute(select(Topic.slug, Topic.id))}
    db.session.execute(
        insert(Subscription),
        [
            {
                "subscriber_id": subscriber_id,
                "topic_id": topics[slug],
                "frequency": frequency,
                "created_at": now,
            }
            for subscriber_id in ids
            for slug, frequency in follows.items()
        ],
    )
    return ids


def publish_news(
    title: str,
    *,
    topics: tuple[str, ...] = ("funding",),
    at: datetime,
    summary: str = "A summary of the news.",
) -> NewsItem:
    """Add a news item published at `at` (flushed, not committed)."""
    found = db.session.scalars(select(Topic).where(Topic.slug.in_(topics))).all()
    item = NewsItem(
        slug=f"{slugify(title)}-{int(at.timestamp())}",
        title=title,
        summary=summary,
        body_markdown=summary,
        body_html=f"<p>{summary}</p>",
        state=NewsState.PUBLISHED,
        published_at=at,
        created_at=at,
        updated_at=at,
        topics=list(found),
    )
    db.session.add(item)
    db.session.flush()
    return item


def load_directory(*, now: datetime, **contacts: dict[str, Any]) -> None:
    """Load the shipped ONS files into the directory, then give the partnerships named by
    code the contact details given (email, phone, web, last_confirmed), and commit."""
    from mailer.domain.directory.files import read_vintage
    from mailer.domain.directory.listing import csp_by_code
    from mailer.domain.directory.loading import apply_load

    apply_load(read_vintage(), actor="test", now=now)
    for code, values in contacts.items():
        csp = csp_by_code(code)
        assert csp is not None
        for name, value in values.items():
            setattr(csp, name, value)
    db.session.commit()


def add_contact_message(
    *,
    now: datetime,
    name: str = "Sam Patel",
    email: str = "sam.patel@example.org",
    subject_area: str = "directory",
    message: str = "The Barnet entry lists an old phone number.",
    tell_unit: bool = False,
) -> Any:
    """A message sent through the contact form at `now` (flushed, not committed); with
    `tell_unit`, the note to the unit's mailbox is queued too."""
    from mailer.domain import contact

    written = contact.Contact(name, email, subject_area, message)
    return contact.receive(written, now=now, tell_unit=tell_unit)

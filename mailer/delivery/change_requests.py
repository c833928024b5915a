"""The emails that carry out a subscriber's request: confirm adding topics (to their address)
and confirm a new address (to that new address). What was asked is the consent event that
recorded it, the latest of its kind made before the email was queued; its link names it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from mailer.delivery.mail_language import frequency_words
from mailer.delivery.mail_language import names
from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import MessageKind
from mailer.models import Topic
from mailer.tokens import change_token

# The key of the consent event's detail each kind of email carries out.
REQUESTS = {MessageKind.ADD_TOPICS: "add_topics", MessageKind.EMAIL_CHANGE: "new_email"}


def request_parts(
    delivery: Delivery, base_url: str, language: str = "en"
) -> tuple[dict[str, Any], str]:
    """What the email of a request adds to the template's context, and whom it goes to;
    `base_url` is where the pages in the subscriber's `language` start.

    :raises ValueError: no request of the kind was recorded before the email was queued.
    """
    key = REQUESTS[delivery.kind]
    subscriber = delivery.subscriber
    if subscriber is None:
        raise ValueError("a request email goes to a subscriber")
    events = db.session.scalars(
        select(ConsentEvent)
        .where(
            ConsentEvent.subscriber_id == delivery.subscriber_id,
            ConsentEvent.action == ConsentAction.REQUESTED,
            ConsentEvent.at <= delivery.created_at,
        )
        .order_by(ConsentEvent.id.desc())
        .limit(20)
    )
    event = next((event for event in events if key in event.detail), None)
    if event is None:
        raise ValueError(f"no {key} request was recorded for this email")
    link = f"{base_url}/change/{change_token(subscriber, event.id)}"
    if delivery.kind is MessageKind.EMAIL_CHANGE:
        new_email = str(event.detail[key])
        return {"change_url": link, "new_email": new_email}, new_email
    slugs = [str(slug) for slug in event.detail[key]]
    topics = db.session.scalars(select(Topic).where(Topic.slug.in_(slugs))).all()
    ordered = sorted(topics, key=lambda topic: (topic.position, topic.id))
    words = frequency_words(str(event.detail.get("frequency")))
    return {
        "change_url": link,
        "new_topics": names(ordered, language),
        "new_frequency": words,
    }, subscriber.email

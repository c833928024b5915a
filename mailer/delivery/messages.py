"""The transactional and list emails of the subscription lifecycle, composed per delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailer.delivery.compose import Outgoing
from mailer.delivery.compose import Rendered
from mailer.delivery.compose import build_message
from mailer.delivery.compose import list_headers
from mailer.delivery.compose import new_message_id
from mailer.delivery.compose import recipient_header
from mailer.delivery.compose import render_email
from mailer.delivery.compose import serialise
from mailer.delivery.compose import unsubscribe_mailto
from mailer.formatting import govuk_date
from mailer.models import Delivery
from mailer.models import MessageKind
from mailer.models import NewsItem
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.tokens import Purpose
from mailer.tokens import subscriber_token

FREQUENCY_WORDS = {
    "immediate": "as soon as news is published",
    "daily": "once a day",
    "weekly": "once a week",
}

# Which subscriber status each kind of email still makes sense for when it is sent.
SENDABLE_TO = {
    MessageKind.CONFIRM: SubscriberStatus.PENDING,
    MessageKind.MANAGE: SubscriberStatus.ACTIVE,
    MessageKind.WELCOME: SubscriberStatus.ACTIVE,
}

# List mail carries the one-click unsubscribe headers; transactional mail does not.
LIST_KINDS = frozenset({MessageKind.WELCOME})


@dataclass(frozen=True)
class MailSettings:
    """The settings that shape every email; built from the app config by the caller."""

    base_url: str
    mail_from: str
    reply_to: str | None
    list_id: str
    unsubscribe_address: str
    postal_address: str
    confirm_days: int
    manage_days: int

    @classmethod
    def from_config(cls, config: Any) -> MailSettings:
        """Read the mail settings from a Flask config mapping."""
        return cls(
            base_url=str(config["BASE_URL"]).rstrip("/"),
            mail_from=config["MAIL_FROM"],
            reply_to=config.get("MAIL_REPLY_TO"),
            list_id=config["LIST_ID"],
            unsubscribe_address=config["UNSUBSCRIBE_MAILTO"],
            postal_address=config["POSTAL_ADDRESS"],
            confirm_days=int(config["CONFIRM_TOKEN_MAX_AGE"]) // 86400,
            manage_days=int(config["MANAGE_TOKEN_MAX_AGE"]) // 86400,
        )


def why_not_send(delivery: Delivery) -> str | None:
    """Return why a queued email no longer applies to its subscriber, or None to send it."""
    status = delivery.subscriber.status
    if status is not SENDABLE_TO[delivery.kind]:
        return f"subscriber is {status.value}"
    return None


def subscriber_links(subscriber: Subscriber, base_url: str) -> dict[str, str]:
    """Return the confirm, manage and unsubscribe URLs of one subscriber."""
    unsubscribe = subscriber_token(Purpose.UNSUBSCRIBE, subscriber)
    return {
        "confirm_url": f"{base_url}/confirm/{subscriber_token(Purpose.CONFIRM, subscriber)}",
        "manage_url": f"{base_url}/manage/{subscriber_token(Purpose.MANAGE, subscriber)}",
        "unsubscribe_url": f"{base_url}/unsubscribe/{unsubscribe}",
        "unsubscribe_token": unsubscribe,
    }


def compose_delivery(delivery: Delivery, settings: MailSettings, *, now: datetime) -> Outgoing:
    """Render and serialise the email of one delivery.

    :raises ValueError: the message cannot be built (for example a malformed address).
    """
    subscriber = delivery.subscriber
    links = subscriber_links(subscriber, settings.base_url)
    rendered = render_email(delivery.kind.value, _context(subscriber, settings, links))
    headers = {}
    if delivery.kind in LIST_KINDS:
        headers = list_headers(
            list_id=settings.list_id,
            unsubscribe_url=links["unsubscribe_url"],
            unsubscribe_mailto=unsubscribe_mailto(
                settings.unsubscribe_address, links["unsubscribe_token"]
            ),
        )
    return _outgoing(rendered, subscriber.email, settings, headers, now=now)


def compose_alert(
    item: NewsItem,
    *,
    to: str,
    links: dict[str, str],
    settings: MailSettings,
    zone: str,
    now: datetime,
) -> Outgoing:
    """Build the email that tells an immediate subscriber about one news item."""
    context = {
        **links,
        "item": item,
        "item_url": f"{settings.base_url}/news/{item.slug}",
        "published": govuk_date(item.published_at or now, zone),
        "topics": [topic.name for topic in item.topics],
        "frequency": FREQUENCY_WORDS["immediate"],
        "postal_address": settings.postal_address,
    }
    headers = list_headers(
        list_id=settings.list_id,
        unsubscribe_url=links["unsubscribe_url"],
        unsubscribe_mailto=unsubscribe_mailto(
            settings.unsubscribe_address, links["unsubscribe_token"]
        ),
    )
    return _outgoing(render_email("alert", context), to, settings, headers, now=now)


def preview_links(base_url: str) -> dict[str, str]:
    """Links that look like a subscriber's but name nobody, for previews."""
    return {
        "manage_url": f"{base_url}/manage/PREVIEW",
        "unsubscribe_url": f"{base_url}/unsubscribe/PREVIEW",
        "unsubscribe_token": "PREVIEW",
    }


def _outgoing(
    rendered: Rendered, to: str, settings: MailSettings, headers: dict[str, str], *, now: datetime
) -> Outgoing:
    """Build and serialise a message to one recipient."""
    message_id = new_message_id(settings.mail_from)
    message = build_message(
        rendered,
        sender=settings.mail_from,
        to=recipient_header(to),
        now=now,
        message_id=message_id,
        reply_to=settings.reply_to,
        headers=headers,
    )
    envelope_from = str(message["From"].addresses[0].addr_spec)
    return Outgoing(envelope_from, to, serialise(message), message_id)


def _context(
    subscriber: Subscriber, settings: MailSettings, links: dict[str, str]
) -> dict[str, Any]:
    """Everything the email templates may use; no free text the person typed."""
    frequencies = {s.frequency.value for s in subscriber.subscriptions}
    frequency = frequencies.pop() if len(frequencies) == 1 else None
    return {
        **links,
        "base_url": settings.base_url,
        "topics": [s.topic.name for s in subscriber.subscriptions],
        "frequency": FREQUENCY_WORDS.get(frequency or "", "at the frequencies you chose"),
        "confirm_days": settings.confirm_days,
        "manage_days": settings.manage_days,
        "postal_address": settings.postal_address,
    }

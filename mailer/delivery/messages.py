"""The transactional and list emails of the subscription lifecycle, composed per delivery."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from mailer.clock import Period
from mailer.delivery.change_requests import REQUESTS
from mailer.delivery.change_requests import request_parts
from mailer.delivery.compose import Outgoing
from mailer.delivery.compose import Rendered
from mailer.delivery.compose import feedback_id
from mailer.delivery.compose import list_headers
from mailer.delivery.compose import render_email
from mailer.delivery.compose import unsubscribe_mailto
from mailer.delivery.content import Digest
from mailer.delivery.envelope import MailSettings as MailSettings
from mailer.delivery.envelope import outgoing_to as outgoing_to
from mailer.delivery.fanout import Filler
from mailer.delivery.fanout import Marks
from mailer.delivery.fanout import Prototype
from mailer.delivery.fanout import Recipient
from mailer.delivery.fanout import prototype
from mailer.delivery.mail_language import bulletin_text
from mailer.delivery.mail_language import frequency_words
from mailer.delivery.mail_language import language_context
from mailer.delivery.mail_language import names
from mailer.delivery.mail_language import page_root
from mailer.delivery.mail_language import span
from mailer.delivery.other_recipients import compose_other
from mailer.delivery.other_recipients import not_to_a_subscriber
from mailer.delivery.other_recipients import why_not_send_other
from mailer.delivery.topic_notices import ended_topics
from mailer.formatting import govuk_date
from mailer.i18n import ENGLISH
from mailer.models import DATA_COPY_RECIPIENTS
from mailer.models import Bulletin
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import NewsItem
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.tokens import Purpose
from mailer.tokens import data_copy_token
from mailer.tokens import subscriber_token

_PENDING = frozenset({SubscriberStatus.PENDING})
_ACTIVE = frozenset({SubscriberStatus.ACTIVE})
# Which subscriber statuses each kind of email still makes sense for when it is sent.
SENDABLE_TO: dict[MessageKind, frozenset[SubscriberStatus]] = {
    MessageKind.CONFIRM: _PENDING,
    MessageKind.INVITE: _PENDING,
    MessageKind.MANAGE: _ACTIVE,
    MessageKind.DATA_COPY: DATA_COPY_RECIPIENTS,
    MessageKind.WELCOME: _ACTIVE,
    MessageKind.ADD_TOPICS: _ACTIVE,
    MessageKind.EMAIL_CHANGE: _ACTIVE,
    MessageKind.ALERT: _ACTIVE,
    MessageKind.DIGEST: _ACTIVE,
    MessageKind.TOPIC_ENDED: _ACTIVE,
    MessageKind.BULLETIN: _ACTIVE,
}

# List mail carries the one-click unsubscribe headers; transactional mail does not.
LIST_KINDS = frozenset({MessageKind.WELCOME, MessageKind.TOPIC_ENDED})


def why_not_send(delivery: Delivery) -> str | None:
    """Return why a queued email no longer applies to its subscriber (or partnership), or None
    to send it."""
    subscriber = delivery.subscriber
    if subscriber is None or not_to_a_subscriber(delivery):
        return why_not_send_other(delivery)
    if subscriber.status not in SENDABLE_TO[delivery.kind]:
        return f"subscriber is {subscriber.status.value}"
    if delivery.kind is MessageKind.TOPIC_ENDED and not ended_topics(
        subscriber.id, at=delivery.created_at
    ):
        return "no longer follows the topic that ended"
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
    if subscriber is None or not_to_a_subscriber(delivery):
        return compose_other(delivery, settings, now=now)
    # Its links open the pages in the subscriber's language.
    language = subscriber.language
    pages = page_root(settings.base_url, language)
    links = subscriber_links(subscriber, pages)
    if delivery.kind is MessageKind.DATA_COPY:
        links["data_copy_url"] = f"{pages}/my-data/{data_copy_token(subscriber)}"
    with force_locale(language):
        context, to = _context(subscriber, settings, links, pages), subscriber.email
        if delivery.kind in REQUESTS:
            extra, to = request_parts(delivery, pages, language)
            context |= extra
    if delivery.kind is MessageKind.TOPIC_ENDED:
        context["ended"] = ended_topics(subscriber.id, at=delivery.created_at)
    rendered = render_email(delivery.kind.value, context, language)
    headers = {}
    if delivery.kind in LIST_KINDS:
        # The one-click URL is for mail programs, which POST to it: the same in every language.
        unsubscribe_url = f"{settings.base_url}/unsubscribe/{links['unsubscribe_token']}"
        headers = list_headers(
            list_id=settings.list_id,
            unsubscribe_url=unsubscribe_url,
            unsubscribe_mailto=unsubscribe_mailto(
                settings.unsubscribe_address, links["unsubscribe_token"]
            ),
            feedback_id=feedback_id(delivery.kind.value, "lifecycle", settings.feedback_sender),
        )
    return outgoing_to(rendered, to, settings, headers, now=now)


def item_link(base_url: str, item: NewsItem, frequency: str) -> str:
    """The link to an item from an email, tagged so the site can tell which email it came from."""
    return (
        f"{base_url}/news/{item.slug}?utm_source=csp-news&utm_medium=email&utm_campaign={frequency}"
    )


def render_alert(
    item: NewsItem,
    *,
    links: dict[str, str],
    settings: MailSettings,
    now: datetime,
    language: str = ENGLISH,
) -> Rendered:
    """Render the email that tells an immediate subscriber about one news item."""
    with force_locale(language):
        frequency = frequency_words("immediate")
    context = {
        **links,
        **language_context(language, settings.zone),
        "item": item,
        "item_url": item_link(page_root(settings.base_url, language), item, "immediate"),
        "published": govuk_date(item.published_at or now, settings.zone, language),
        "topics": names(item.topics, language),
        "frequency": frequency,
        "postal_address": settings.postal_address,
    }
    return render_email("alert", context, language)


def render_digest(
    digest: Digest,
    *,
    frequency: Frequency,
    period: Period,
    links: dict[str, str],
    settings: MailSettings,
    language: str = ENGLISH,
) -> Rendered:
    """Render one recipient's digest of a period: their items under their topics."""
    base, zone = page_root(settings.base_url, language), settings.zone
    with force_locale(language):
        covered = span(period.start, period.end, zone=zone, language=language)
        frequency_word = {"daily": _("daily"), "weekly": _("weekly")}.get(frequency.value, "")
    context = {
        **links,
        **language_context(language, zone),
        "count": digest.count,
        "groups": digest.groups,
        "more": digest.more,
        "more_url": f"{base}/news",
        "item_url": lambda item: item_link(base, item, frequency.value),
        "frequency": frequency_word or frequency.value,
        "sent_on": govuk_date(period.end, zone, language),
        "span": covered,
        "followed": names((t for t in digest.topics if t.retired_at is None), language),
        "postal_address": settings.postal_address,
    }
    return render_email("digest", context, language)


def compose_alert(item: NewsItem, *, to: str, settings: MailSettings, now: datetime) -> Outgoing:
    """Build the alert of one news item to one address exactly as the worker would, with
    links that name nobody (the staff preview)."""
    marks = Marks.new()
    rendered = render_alert(item, links=marks.links(settings.base_url), settings=settings, now=now)
    filler = Filler(
        manage_token=lambda *_: "PREVIEW",
        unsubscribe_token=lambda *_: "PREVIEW",
        date=format_datetime(now),
    )
    proto = run_prototype(rendered, settings, Frequency.IMMEDIATE, marks)
    return filler.fill(proto, Recipient(to, 0, 0))


def render_bulletin(
    bulletin: Bulletin,
    items: list[NewsItem],
    *,
    links: dict[str, str],
    settings: MailSettings,
    test: bool = False,
    language: str = ENGLISH,
) -> Rendered:
    """Render a bulletin: one message for all its readers, who get it for the same reason
    (they follow one of its topics, or it goes to everyone)."""
    base = page_root(settings.base_url, language)
    context = {
        **links,
        **language_context(language, settings.zone),
        "bulletin": bulletin,
        "body_text": bulletin_text(bulletin, language),
        "items": items,
        "item_url": lambda item: item_link(base, item, "bulletin"),
        "topics": names(bulletin.topics, language),
        "test": test,
        "postal_address": settings.postal_address,
    }
    return render_email("bulletin", context, language)


def compose_bulletin(
    bulletin: Bulletin,
    items: list[NewsItem],
    *,
    to: str,
    settings: MailSettings,
    now: datetime,
    test: bool = False,
) -> Outgoing:
    """Build a bulletin to one address as the worker would, with links that name nobody (the
    staff preview; with `test`, marked as a test in its subject, the copy sent to staff)."""
    marks = Marks.new()
    links = marks.links(settings.base_url)
    rendered = render_bulletin(bulletin, items, links=links, settings=settings, test=test)
    filler = Filler(
        manage_token=lambda *_: "PREVIEW",
        unsubscribe_token=lambda *_: "PREVIEW",
        date=format_datetime(now),
    )
    proto = run_prototype(rendered, settings, Frequency.IMMEDIATE, marks, kind="bulletin")
    return filler.fill(proto, Recipient(to, 0, 0))


def run_prototype(
    rendered: Rendered,
    settings: MailSettings,
    frequency: Frequency,
    marks: Marks,
    *,
    kind: str | None = None,
) -> Prototype:
    """Lay out a message of a send run, rendered with `marks.links`, once for every recipient
    who reads the same."""
    kind = kind or ("alert" if frequency is Frequency.IMMEDIATE else "digest")
    return prototype(
        rendered,
        marks=marks,
        sender=settings.mail_from,
        reply_to=settings.reply_to,
        list_id=settings.list_id,
        base_url=settings.base_url,
        unsubscribe_address=settings.unsubscribe_address,
        feedback_id=feedback_id(frequency.value, kind, settings.feedback_sender),
    )


def _context(
    subscriber: Subscriber, settings: MailSettings, links: dict[str, str], pages: str
) -> dict[str, Any]:
    """Everything the email templates may use; no free text the person typed. `pages` is
    where the pages in the subscriber's language start."""
    frequencies = {s.frequency.value for s in subscriber.subscriptions}
    frequency = frequencies.pop() if len(frequencies) == 1 else None
    current = [s.topic for s in subscriber.subscriptions if s.topic.retired_at is None]
    return {
        **links,
        **language_context(subscriber.language, settings.zone),
        "base_url": pages,
        "topics": names(current, subscriber.language),
        "frequency": frequency_words(frequency),
        "confirm_days": settings.confirm_days,
        "manage_days": settings.manage_days,
        "data_copy_minutes": settings.data_copy_minutes,
        "postal_address": settings.postal_address,
    }

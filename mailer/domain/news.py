"""News items: draft, schedule, publish, withdraw, and the queries the site and API need.

Functions flush; the caller owns the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from mailer.database import escape_like
from mailer.domain import audit
from mailer.domain.paging import Page
from mailer.domain.paging import page_of
from mailer.domain.slugs import insert_with_unique_slug
from mailer.domain.slugs import slugify
from mailer.domain.subscriptions import parse_topics
from mailer.domain.topics import refuse_retired
from mailer.errors import Conflict
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.models import Topic
from mailer.tokens import LINK_MARK

MAX_TITLE = 200
MAX_SUMMARY = 600
MAX_BODY = 50_000
MAX_QUERY = 200
MAX_REASON = 300
# Ids are 32-bit on PostgreSQL: a larger number in a URL is simply not found.
MAX_ID = 2**31 - 1
ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?")
# What a title or summary must not hold: control characters (line breaks included), and the
# non-characters U+FFFE and U+FFFF, which XML cannot carry (the Atom feeds would break).
NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f\ufffe\uffff]")
# In a body pasted from a word processor a vertical tab is a line break and a form feed a page
# break: both become line ends. The other characters XML cannot carry are dropped, except NUL,
# which is refused.
PASTED_BREAKS = re.compile("[\x0b\x0c]")
PASTED_JUNK = re.compile("[\x01-\x08\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_MARKDOWN = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")

# What a news body may contain once sanitised: text structure and links, nothing active.
ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "blockquote",
        "br",
        "code",
        "em",
        "h2",
        "h3",
        "h4",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})


class StateError(Conflict):
    """The item is not in a state that allows this change."""


@dataclass(frozen=True)
class Draft:
    """Validated content of a news item."""

    title: str
    summary: str
    body: str
    topics: tuple[Topic, ...]


def render_markdown(body: str) -> str:
    """Render Markdown to HTML and sanitise it: no scripts, handlers, or javascript: links."""
    html = _MARKDOWN.render(body)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def validate_draft(
    *, title: Any, summary: Any, body: Any, topic_slugs: Any, keep: Collection[Topic] = ()
) -> Draft:
    """Check every field of a news item at once; of retired topics, only those in `keep` (the
    item's own) may stay.

    :raises FieldErrors: with a message per bad field.
    """
    errors: dict[str, str] = {}
    clean_title = _text(errors, "title", title, MAX_TITLE, required=True)
    if "title" not in errors and ENCODED_WORD.search(clean_title):
        # The title is the subject of alerts: a MIME encoded word in it is never news, and
        # older email packages decode one into a line break in the header.
        errors["title"] = "Title must not contain =?...?= encoded text"
    clean_summary = _text(errors, "summary", summary, MAX_SUMMARY, required=True)
    clean_body = _text(errors, "body", body, MAX_BODY, required=False, multiline=True)
    topics: tuple[Topic, ...] = ()
    if not isinstance(topic_slugs, list | tuple) or not all(
        isinstance(s, str) for s in topic_slugs
    ):
        errors["topics"] = "Topics must be a list of topic slugs"
    else:
        try:
            topics = parse_topics(topic_slugs, allow_retired=True)
            refuse_retired(topics, keep=keep)
        except InvalidInput as error:
            errors["topics"] = error.message
    if errors:
        raise FieldErrors(errors)
    return Draft(clean_title, clean_summary, clean_body, topics)


def _text(
    errors: dict[str, str],
    field: str,
    value: Any,
    limit: int,
    *,
    required: bool,
    multiline: bool = False,
    label: str = "",
) -> str:
    """Validate one text field, recording a message in `errors` if it is bad."""
    label = label or field.capitalize()
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = f"{label} must be text"
        return ""
    value = value.replace("\r\n", "\n")
    if multiline:
        value = PASTED_JUNK.sub("", PASTED_BREAKS.sub("\n", value))
    value = value.strip()
    if required and not value:
        errors[field] = f"Enter a {field}"
    elif len(value) > limit:
        errors[field] = f"{label} must be {limit:,} characters or fewer"
    elif "\x00" in value or (not multiline and NOT_ONE_LINE.search(value)):
        errors[field] = f"{label} must not contain control characters or line breaks"
    elif mark := LINK_MARK.search(value):
        errors[field] = (
            f"{label} must not contain {mark.group()}, which marks readers' own links in emails"
        )
    return str(value)


def check_text(
    errors: dict[str, str], field: str, value: Any, limit: int, *, multiline: bool, label: str
) -> str:
    """An optional text field checked as the item's own are (the Welsh texts use it)."""
    return _text(errors, field, value, limit, required=False, multiline=multiline, label=label)


def create_item(draft: Draft, *, actor: str, now: datetime) -> NewsItem:
    """Add a draft item with a unique slug made from its title."""
    item = NewsItem(state=NewsState.DRAFT, created_at=now, updated_at=now)
    _apply(item, draft)
    insert_with_unique_slug(item, slugify(draft.title))
    audit.record(actor, "created", item, now=now, detail={"title": item.title})
    return item


def update_item(item: NewsItem, draft: Draft, *, actor: str, now: datetime) -> None:
    """Change an item's content; its slug, and so its address, stays the same."""
    if item.state is NewsState.WITHDRAWN:
        raise StateError("a withdrawn item cannot be edited; publish it again first")
    _apply(item, draft)
    item.updated_at = now
    audit.record(actor, "edited", item, now=now, detail={"title": item.title})


@dataclass(frozen=True)
class Urgency:
    """Whether an item overrides its readers' frequencies and goes to all of them at once, and
    why (GOV.UK's urgent override)."""

    urgent: bool = False
    reason: str = ""


NOT_URGENT = Urgency()


def validate_urgency(urgent: Any, reason: Any) -> Urgency:
    """Check the urgent flag and its reason, which an urgent item must give.

    :raises FieldErrors: with a message per bad field.
    """
    errors: dict[str, str] = {}
    if not isinstance(urgent, bool):
        raise FieldErrors({"urgent": "Urgent must be true or false"})
    clean = _text(errors, "urgent_reason", reason, MAX_REASON, required=urgent, label="The reason")
    if urgent and "urgent_reason" in errors and not clean:
        errors["urgent_reason"] = "Say why this news cannot wait for the digests"
    if errors:
        raise FieldErrors(errors)
    return Urgency(urgent, clean if urgent else "")


def validate_reason(reason: Any) -> str:
    """Check the reason given for withdrawing an item, which readers of its page will see.

    :raises FieldErrors: the reason is missing or bad.
    """
    errors: dict[str, str] = {}
    clean = _text(errors, "reason", reason, MAX_REASON, required=True, label="The reason")
    if errors:
        if not clean and "reason" in errors:
            errors["reason"] = "Say why the news is withdrawn: readers of its page will see it"
        raise FieldErrors(errors)
    return clean


def publish_item(
    item: NewsItem,
    *,
    actor: str,
    now: datetime,
    at: datetime | None = None,
    urgency: Urgency = NOT_URGENT,
) -> None:
    """Publish now, or schedule for `at` if that is in the future; an urgent item goes to
    every reader of its topics at once, whatever their frequency."""
    if item.state is NewsState.PUBLISHED:
        raise StateError("the item is already published")
    item.urgent, item.urgent_reason = urgency.urgent, urgency.reason
    detail = {"urgent": urgency.reason} if urgency.urgent else {}
    if at is not None and at > now:
        item.state = NewsState.SCHEDULED
        item.publish_at = at
        detail["publish_at"] = at.isoformat()
        audit.record(actor, "scheduled", item, now=now, detail=detail)
    else:
        item.state = NewsState.PUBLISHED
        item.publish_at = None
        item.published_at = now
        item.withdrawn_at = None
        item.withdrawn_reason = ""
        audit.record(actor, "published", item, now=now, detail=detail or None)
    item.updated_at = now


def withdraw_item(item: NewsItem, *, reason: str, actor: str, now: datetime) -> None:
    """Take an item out of the site's lists and every digest not yet sent; its page stays,
    saying when and why it was withdrawn, and the feeds say so too."""
    if item.state not in (NewsState.PUBLISHED, NewsState.SCHEDULED):
        raise StateError(f"only a published or scheduled item can be withdrawn, not a {item.state}")
    item.state = NewsState.WITHDRAWN
    item.withdrawn_at = now
    item.withdrawn_reason = reason
    item.updated_at = now
    audit.record(actor, "withdrew", item, now=now, detail={"reason": reason})


def publish_due(*, now: datetime) -> int:
    """Publish every scheduled item whose time has come; return how many."""
    due = db.session.scalars(
        select(NewsItem)
        .where(NewsItem.state == NewsState.SCHEDULED, NewsItem.publish_at <= now)
        .with_for_update(skip_locked=True)
    ).all()
    for item in due:
        urgency = Urgency(item.urgent, item.urgent_reason)
        publish_item(item, actor="scheduler", now=now, urgency=urgency)
    return len(due)


def item_by_id(item_id: int, *, lock: bool = False) -> NewsItem | None:
    """The item with this id; with `lock`, concurrent state changes wait for each other."""
    if not 1 <= item_id <= MAX_ID:
        return None
    return db.session.get(NewsItem, item_id, with_for_update=lock)


def item_by_slug(slug: str) -> NewsItem | None:
    return db.session.scalar(select(NewsItem).where(NewsItem.slug == slug))


def published_page(
    *, page: int = 1, per_page: int = 20, topic: Topic | None = None, query: str | None = None
) -> Page[NewsItem]:
    """Published items, newest first, optionally of one topic or matching words."""
    statement = select(NewsItem).where(NewsItem.state == NewsState.PUBLISHED)
    if topic is not None:
        statement = statement.where(NewsItem.topics.any(Topic.id == topic.id))
    for word in (query or "").split()[:10]:
        pattern = f"%{escape_like(word.lower())}%"
        statement = statement.where(
            or_(
                func.lower(NewsItem.title).like(pattern, escape="\\"),
                func.lower(NewsItem.summary).like(pattern, escape="\\"),
            )
        )
    return page_of(
        statement.order_by(NewsItem.published_at.desc(), NewsItem.id.desc()), page, per_page
    )


def feed_items(*, limit: int, topic: Topic | None = None) -> list[NewsItem]:
    """The latest items the site has published, newest first, with those withdrawn since: a
    feed says that they were withdrawn rather than dropping them silently."""
    statement = select(NewsItem).where(
        NewsItem.state.in_((NewsState.PUBLISHED, NewsState.WITHDRAWN)),
        NewsItem.published_at.is_not(None),
    )
    if topic is not None:
        statement = statement.where(NewsItem.topics.any(Topic.id == topic.id))
    statement = statement.order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
    return list(db.session.scalars(statement.limit(limit)))


def items_page(
    *,
    page: int = 1,
    per_page: int = 20,
    state: NewsState | None = None,
    topic: Topic | None = None,
) -> Page[NewsItem]:
    """Items in any state, most recently changed first: the staff's and the API's list."""
    statement = select(NewsItem)
    if state is not None:
        statement = statement.where(NewsItem.state == state)
    if topic is not None:
        statement = statement.where(NewsItem.topics.any(Topic.id == topic.id))
    return page_of(
        statement.order_by(NewsItem.updated_at.desc(), NewsItem.id.desc()), page, per_page
    )


def _apply(item: NewsItem, draft: Draft) -> None:
    item.title = draft.title
    item.summary = draft.summary
    item.body_markdown = draft.body
    item.body_html = render_markdown(draft.body)
    item.topics = list(draft.topics)

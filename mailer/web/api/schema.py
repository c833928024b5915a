"""Reading API requests and writing API responses: JSON bodies, query strings, news items."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict

from mailer.domain import news
from mailer.domain.audience import Reach
from mailer.domain.news_places import places_of
from mailer.domain.paging import Page
from mailer.domain.segments import PLACES
from mailer.domain.subscriptions import parse_topics
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.models import Topic

MAX_PER_PAGE = 100
MAX_PAGE = 100_000
MAX_ID = news.MAX_ID

# The same expressions go into the OpenAPI document, so what it promises is what is checked.
# A title or summary: no control characters nor U+FFFE and U+FFFF (which XML cannot carry),
# and something other than white space (the characters str.strip() removes, listed in full so
# every regular expression engine agrees).
_LINE_CHAR = r"[^\u0000-\u001f\u007f\ufffe\uffff]"
_VISIBLE_CHAR = (
    r"[^\u0000-\u0020\u007f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)
LINE_PATTERN = rf"{_LINE_CHAR}*{_VISIBLE_CHAR}{_LINE_CHAR}*"
OPTIONAL_LINE_PATTERN = rf"{_LINE_CHAR}*"  # a Welsh title or summary: empty for none
BODY_PATTERN = r"[^\u0000]*"
# An RFC 3339 date-time, which always has an offset.
TIMESTAMP_PATTERN = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)
# Bounds on the year of publish_at. Near year 1 or 9999 a timestamp can fall outside what Python
# can read back in some database time zones, and no one schedules news for those years.
MIN_YEAR = 2000
MAX_YEAR = 2999

TEXT_FIELDS = {
    "title": (news.MAX_TITLE, LINE_PATTERN),
    "summary": (news.MAX_SUMMARY, LINE_PATTERN),
    "body": (news.MAX_BODY, BODY_PATTERN),
}
CONTENT_FIELDS = frozenset({*TEXT_FIELDS, "topics"})
URGENT_FIELDS = frozenset({"urgent", "urgent_reason"})
CREATE_FIELDS = CONTENT_FIELDS | {"publish", "publish_at", "applies_to"} | URGENT_FIELDS
PUBLISH_FIELDS = frozenset({"publish_at"}) | URGENT_FIELDS
WITHDRAW_FIELDS = frozenset({"reason"})


class RequestError(Exception):
    """A request the API cannot read: its status, error code, message and field messages."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class NewItem:
    """A validated request to create an item, and whether to publish or schedule it."""

    draft: news.Draft
    publish: bool
    publish_at: datetime | None
    urgency: news.Urgency = news.NOT_URGENT


@dataclass(frozen=True)
class Publishing:
    """A validated request to publish: when (None for now), and whether it is urgent."""

    at: datetime | None
    urgency: news.Urgency


@dataclass(frozen=True)
class ListQuery:
    """The validated query string of the news list."""

    page: int
    per_page: int
    state: NewsState | None
    topic: Topic | None


def read_object(*, required: bool) -> dict[str, Any]:
    """Return the request's JSON object; an empty body is `{}` unless `required`.

    :raises RequestError: 415 for another content type, 400 for anything but a JSON object.
    """
    raw = request.get_data(cache=False)
    if not raw and not required:
        return {}
    if not request.is_json:
        raise RequestError(
            415, "unsupported_media_type", "Send JSON with Content-Type: application/json"
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise RequestError(400, "invalid_json", "The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise RequestError(400, "invalid_json", "The request body must be a JSON object")
    return data


def parse_new_item(data: dict[str, Any]) -> NewItem:
    """Validate a create request: content, `publish` and `publish_at`, all errors at once.

    :raises FieldErrors: a message per bad field.
    """
    errors = _unknown_fields(data, CREATE_FIELDS)
    publish = data.get("publish", False)
    if not isinstance(publish, bool):
        errors["publish"] = "Publish must be true or false"
    publish_at = _timestamp(errors, data.get("publish_at"))
    if publish_at is not None and publish is not True:
        errors.setdefault("publish_at", "Set publish to true to schedule an item")
    urgency = _urgency(errors, data)
    if urgency.urgent and publish is not True:
        errors.setdefault("urgent", "Set publish to true to publish an urgent item")
    draft = _draft(errors, {field: data.get(field) for field in CONTENT_FIELDS}, data)
    if errors or draft is None:
        raise FieldErrors(errors)
    return NewItem(draft, publish is True, publish_at, urgency)


def parse_changes(data: dict[str, Any], item: NewsItem) -> news.Draft:
    """Validate a partial update; fields left out keep the item's current values.

    :raises FieldErrors: a message per bad field.
    """
    errors = _unknown_fields(data, CONTENT_FIELDS | {"applies_to"})
    current = {
        "title": item.title,
        "summary": item.summary,
        "body": item.body_markdown,
        "topics": [topic.slug for topic in item.topics],
    }
    changed = current | {k: v for k, v in data.items() if k in CONTENT_FIELDS}
    draft = _draft(errors, changed, data, keep=item.topics)
    if errors or draft is None:
        raise FieldErrors(errors)
    return draft


def parse_publish(data: dict[str, Any]) -> Publishing:
    """Validate a publish request: when to publish (None for now), and whether it is urgent.

    :raises FieldErrors: a message per bad field.
    """
    errors = _unknown_fields(data, PUBLISH_FIELDS)
    publish_at = _timestamp(errors, data.get("publish_at"))
    urgency = _urgency(errors, data)
    if errors:
        raise FieldErrors(errors)
    return Publishing(publish_at, urgency)


def parse_withdraw(data: dict[str, Any]) -> str:
    """Validate a withdraw request: the reason readers of the item's page will see.

    :raises FieldErrors: a message per bad field.
    """
    errors = _unknown_fields(data, WITHDRAW_FIELDS)
    reason = ""
    try:
        reason = news.validate_reason(data.get("reason"))
    except FieldErrors as error:
        errors.update(error.errors)
    _check_reason(errors, data, "reason")
    if errors:
        raise FieldErrors(errors)
    return reason


def parse_audience_query(args: MultiDict[str, str]) -> Publishing:
    """Validate the audience query: `urgent` (true or false) and an optional `publish_at`.

    :raises RequestError: 400 with a message per bad parameter.
    """
    errors = {name: "Unknown parameter" for name in args if name not in ("urgent", "publish_at")}
    urgent = args.get("urgent", "false")
    if urgent not in ("true", "false"):
        errors["urgent"] = "urgent must be true or false"
    publish_at = _timestamp(errors, args.get("publish_at"))
    if errors:
        raise RequestError(400, "invalid_query", "Check the query parameters", fields=errors)
    return Publishing(publish_at, news.Urgency(urgent == "true", ""))


def reach_json(reach: Reach) -> dict[str, Any]:
    """How many people an item reaches: at once, and in the next daily and weekly digests."""
    return {
        "at_once": reach.at_once,
        "daily": {"count": reach.daily, "at": _iso(reach.daily_at)},
        "weekly": {"count": reach.weekly, "at": _iso(reach.weekly_at)},
        "urgent": reach.urgent,
        "total": reach.total,
    }


def _urgency(errors: dict[str, str], data: dict[str, Any]) -> news.Urgency:
    """Read `urgent` and `urgent_reason`, recording what is wrong with them in `errors`."""
    urgency = news.NOT_URGENT
    try:
        urgency = news.validate_urgency(data.get("urgent", False), data.get("urgent_reason"))
    except FieldErrors as error:
        errors.update(error.errors)
    _check_reason(errors, data, "urgent_reason")
    return urgency


def _check_reason(errors: dict[str, str], data: dict[str, Any], field: str) -> None:
    """Hold a reason as sent to the documented limits, before white space is stripped."""
    value = data.get(field)
    if (
        field not in errors
        and value is not None
        and (message := _raw_text_error(field, value, news.MAX_REASON, LINE_PATTERN))
    ):
        errors[field] = message.replace(field.capitalize(), "The reason", 1)


def parse_list_query(args: MultiDict[str, str]) -> ListQuery:
    """Validate the list's page, per_page, state and topic parameters.

    :raises RequestError: 400 with a message per bad parameter.
    """
    errors: dict[str, str] = {}
    page = _whole_number(errors, args, "page", default=1, limit=MAX_PAGE)
    per_page = _whole_number(errors, args, "per_page", default=20, limit=MAX_PER_PAGE)
    state = None
    if "state" in args:
        try:
            state = NewsState(args["state"])
        except ValueError:
            errors["state"] = f"state must be one of {', '.join(NewsState)}"
    topic = None
    if "topic" in args:
        try:
            topic = parse_topics([args["topic"]], allow_retired=True)[0]
        except InvalidInput:
            errors["topic"] = "topic must be the slug of a topic"
    if errors:
        raise RequestError(400, "invalid_query", "Check the query parameters", fields=errors)
    return ListQuery(page, per_page, state, topic)


def item_json(item: NewsItem, *, base_url: str) -> dict[str, Any]:
    """The API's view of a news item, with the address of its public page."""
    return {
        "id": item.id,
        "slug": item.slug,
        "title": item.title,
        "summary": item.summary,
        "body": item.body_markdown,
        "body_html": item.body_html,
        "topics": [topic.slug for topic in item.topics],
        "state": item.state.value,
        "publish_at": _iso(item.publish_at),
        "published_at": _iso(item.published_at),
        "withdrawn_at": _iso(item.withdrawn_at),
        "withdrawn_reason": item.withdrawn_reason or None,
        "urgent": item.urgent,
        "urgent_reason": item.urgent_reason or None,
        "applies_to": {k: v for k, v in places_of(item).to_json().items() if k in PLACES},
        "created_at": _iso(item.created_at),
        "updated_at": _iso(item.updated_at),
        "url": f"{base_url}/news/{item.slug}",
    }


def page_json(page: Page[NewsItem], *, base_url: str) -> dict[str, Any]:
    """One page of the list, with the numbers a client needs to fetch the others."""
    return {
        "items": [item_json(item, base_url=base_url) for item in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _unknown_fields(data: dict[str, Any], allowed: frozenset[str]) -> dict[str, str]:
    return {name: "Unknown field" for name in data if name not in allowed}


def _draft(
    errors: dict[str, str],
    values: dict[str, Any],
    sent: dict[str, Any],
    *,
    keep: Sequence[Topic] = (),
) -> news.Draft | None:
    """Validate content with the domain's rules, and the value of each text field as sent.

    The domain strips white space before it checks lengths and characters; the API checks the
    unstripped value too, so that the documented limits hold for the JSON itself.
    """
    draft = None
    try:
        draft = news.validate_draft(
            title=values["title"],
            summary=values["summary"],
            body=values["body"],
            topic_slugs=values["topics"],
            keep=keep,
        )
    except FieldErrors as error:
        errors.update(error.errors)
    for field, (limit, pattern) in TEXT_FIELDS.items():
        if field in sent and (message := _raw_text_error(field, sent[field], limit, pattern)):
            errors[field] = message
    return draft


def _raw_text_error(field: str, value: Any, limit: int, pattern: str) -> str | None:
    label = field.capitalize()
    if not isinstance(value, str):
        return f"{label} must be text"
    if len(value) > limit:
        return f"{label} must be {limit:,} characters or fewer"
    # JSON's \ud800 escapes can make lone surrogates, which no database can store.
    if re.search("[\ud800-\udfff]", value):
        return f"{label} must be valid Unicode text"
    if re.fullmatch(pattern, value) is None:
        if field == "body":
            return f"{label} must not contain NUL characters"
        if value.strip():
            return f"{label} must not contain control characters or line breaks"
        return f"Enter a {field}"
    return None


def _timestamp(errors: dict[str, str], value: Any) -> datetime | None:
    """Read an optional RFC 3339 date-time with an offset, as UTC."""
    if value is None:
        return None
    parsed = None
    if isinstance(value, str) and re.fullmatch(TIMESTAMP_PATTERN, value):
        try:
            parsed = datetime.fromisoformat(value.upper())
        except ValueError:
            parsed = None
    if parsed is None:
        errors["publish_at"] = (
            "Enter publish_at as a date and time with an offset, like 2026-03-06T09:30:00Z"
        )
        return None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        errors["publish_at"] = f"Enter publish_at in the years {MIN_YEAR} to {MAX_YEAR}"
        return None
    return parsed.astimezone(UTC)


def _whole_number(
    errors: dict[str, str], args: MultiDict[str, str], name: str, *, default: int, limit: int
) -> int:
    value = args.get(name)
    if value is None:
        return default
    if re.fullmatch(r"[0-9]{1,7}", value) is None or not 1 <= int(value) <= limit:
        errors[name] = f"{name} must be a whole number from 1 to {limit:,}"
        return default
    return int(value)

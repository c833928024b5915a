"""The parts of the OpenAPI document that describe news items: the item, its content, the
requests to publish and withdraw it, and who it reaches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mailer.domain import news
from mailer.models import NewsState
from mailer.web.api import schema as api_schema
from mailer.web.api import segments_openapi

URGENT = {"required": ["urgent"], "properties": {"urgent": {"const": True}}}
# An urgent item says why it cannot wait.
URGENT_NEEDS_REASON = {
    "if": URGENT,
    "then": {"required": ["urgent_reason"], "properties": {"urgent_reason": {"type": "string"}}},
}


def news_item() -> dict[str, Any]:
    timestamp = {"type": "string", "format": "date-time"}
    optional_timestamp = {"type": ["string", "null"], "format": "date-time"}
    return {
        "type": "object",
        "required": [
            "id",
            "slug",
            "title",
            "summary",
            "body",
            "body_html",
            "topics",
            "state",
            "publish_at",
            "published_at",
            "withdrawn_at",
            "withdrawn_reason",
            "urgent",
            "urgent_reason",
            "applies_to",
            "created_at",
            "updated_at",
            "url",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "body": {"type": "string", "description": "Markdown"},
            "body_html": {"type": "string", "description": "The body as sanitised HTML"},
            "topics": {"type": "array", "items": {"type": "string"}},
            "state": {"type": "string", "enum": [state.value for state in NewsState]},
            "publish_at": {**optional_timestamp, "description": "When a scheduled item goes out"},
            "published_at": optional_timestamp,
            "withdrawn_at": optional_timestamp,
            "withdrawn_reason": {"type": ["string", "null"]},
            "urgent": {"type": "boolean"},
            "urgent_reason": {"type": ["string", "null"]},
            "applies_to": {
                **segments_openapi.stored(places_only=True),
                "description": "Where it applies; empty lists for everywhere",
            },
            "created_at": timestamp,
            "updated_at": timestamp,
            "url": {"type": "string", "format": "uri", "description": "The public page"},
            **WELSH_TEXTS,
            "body_html_cy": {"type": "string", "description": "The Welsh body as sanitised HTML"},
        },
    }


# The Welsh (Cymraeg) texts: "" where there is none, and the Welsh pages show the English.
WELSH_TEXTS: dict[str, Any] = {
    "title_cy": {"type": "string", "description": "The title in Welsh; empty for none"},
    "summary_cy": {"type": "string", "description": "The summary in Welsh; empty for none"},
    "body_cy": {"type": "string", "description": "The body in Welsh, Markdown; empty for none"},
}


def content_properties(topic_slugs: Sequence[str]) -> dict[str, Any]:
    def text(limit: int, pattern: str, description: str) -> dict[str, Any]:
        return {
            "type": "string",
            "maxLength": limit,
            "pattern": f"^{pattern}$",
            "description": description,
        }

    welsh = "In Welsh (Cymraeg); empty for none. Left out: unchanged (none when new)"
    return {
        "title_cy": text(news.MAX_TITLE, api_schema.OPTIONAL_LINE_PATTERN, f"One line. {welsh}"),
        "summary_cy": text(
            news.MAX_SUMMARY, api_schema.OPTIONAL_LINE_PATTERN, f"One line. {welsh}"
        ),
        "body_cy": text(news.MAX_BODY, api_schema.BODY_PATTERN, f"Markdown. {welsh}"),
        "title": text(news.MAX_TITLE, api_schema.LINE_PATTERN, "One line, not blank"),
        "summary": text(news.MAX_SUMMARY, api_schema.LINE_PATTERN, "One line, not blank"),
        "body": text(
            news.MAX_BODY,
            api_schema.BODY_PATTERN,
            "Markdown; HTML in it is sanitised. Vertical tabs and form feeds become line "
            "breaks; other control characters but tab and line breaks, and U+FFFE and U+FFFF, "
            "are removed",
        ),
        "topics": {
            "type": "array",
            "minItems": 1,
            "items": topic_slug(topic_slugs),
            "description": "Slugs of the item's topics",
        },
        "applies_to": {
            **segments_openapi.segment(places_only=True),
            "description": (
                'Where it applies, shown as "Applies to …"; an urgent item\'s email goes only '
                "to readers who said they work there. Left out: unchanged (none when new)"
            ),
        },
    }


def new_news_item(content: dict[str, Any], topic_slugs: Sequence[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["title", "summary", "topics"],
        "additionalProperties": False,
        "properties": {
            **content,
            "publish": {
                "type": "boolean",
                "default": False,
                "description": "Publish now, or at publish_at if that is in the future",
            },
            "publish_at": publish_at(),
            **urgency(),
        },
        "allOf": [
            # A publish time, or urgency, only makes sense for an item that is to be published.
            {
                "if": {
                    "required": ["publish_at"],
                    "properties": {"publish_at": {"type": "string"}},
                },
                "then": {"required": ["publish"], "properties": {"publish": {"const": True}}},
            },
            {
                "if": URGENT,
                "then": {"required": ["publish"], "properties": {"publish": {"const": True}}},
            },
            URGENT_NEEDS_REASON,
        ],
    }
    if topic_slugs:
        schema["examples"] = [
            {
                "title": "Funding round opens for partnerships",
                "summary": "Bids are invited for local projects that reduce reoffending.",
                "body": "Read the **guidance** before you apply.",
                "topics": [topic_slugs[0]],
                "publish": True,
            }
        ]
    return schema


def publish_at() -> dict[str, Any]:
    return {
        "type": ["string", "null"],
        "format": "date-time",
        # The year as written must be 2000 to 2999.
        "pattern": "^2[0-9]{3}-",
        "description": (
            "RFC 3339 date and time with an offset, in the years "
            f"{api_schema.MIN_YEAR} to {api_schema.MAX_YEAR}; a time in the past publishes now"
        ),
    }


def urgency() -> dict[str, Any]:
    return {
        "urgent": {"type": "boolean", "default": False, "description": "Email every reader now"},
        "urgent_reason": {
            **reason("Why it cannot wait; required when urgent"),
            "type": ["string", "null"],
        },
    }


def reason(description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "maxLength": news.MAX_REASON,
        "pattern": f"^{api_schema.LINE_PATTERN}$",
        "description": description,
    }


def audience() -> dict[str, Any]:
    digest = {
        "type": "object",
        "required": ["count", "at"],
        "additionalProperties": False,
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "at": {"type": "string", "format": "date-time", "description": "When it goes"},
        },
    }
    return {
        "type": "object",
        "required": ["at_once", "daily", "weekly", "urgent", "total"],
        "additionalProperties": False,
        "properties": {
            "at_once": {"type": "integer", "minimum": 0, "description": "Emailed at once"},
            "daily": digest,
            "weekly": digest,
            "urgent": {"type": "boolean"},
            "total": {"type": "integer", "minimum": 0},
        },
    }


def topic_slug(topic_slugs: Sequence[str]) -> dict[str, Any]:
    if topic_slugs:
        return {"type": "string", "enum": list(topic_slugs)}
    return {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}

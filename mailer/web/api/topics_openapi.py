"""The topics part of the OpenAPI document, built from the limits the domain checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mailer.domain import topics
from mailer.models import Frequency
from mailer.web.api import schema as api_schema
from mailer.web.api.openapi_parts import JSON
from mailer.web.api.openapi_parts import errors as _shared
from mailer.web.api.openapi_parts import json_response as _json
from mailer.web.api.openapi_parts import ref as _ref

PREFIX = "/api/v1/topics"
SLUG_PATTERN = "^[a-z0-9-]+$"
# One line: no control characters nor the two non-characters XML cannot carry.
TEXT_PATTERN = r"^[^\u0000-\u001f\u007f\ufffe\uffff]*$"


def paths(topic_slugs: Sequence[str]) -> dict[str, Any]:
    """The operations on topics."""
    slug = [
        {
            "name": "slug",
            "in": "path",
            "required": True,
            "schema": _slug(topic_slugs),
            "example": topic_slugs[0] if topic_slugs else "funding",
        }
    ]
    return {
        PREFIX: {
            "get": {
                "operationId": "listTopics",
                "summary": "List every topic in display order, retired topics last",
                "parameters": [
                    {
                        "name": "retired",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["true", "false"], "default": "true"},
                        "description": "`false` leaves retired topics out",
                    }
                ],
                "responses": {
                    "200": _json("The topics", _ref("TopicList")),
                    **_shared(400, 401, 403),
                },
            },
            "post": {
                "operationId": "createTopic",
                "summary": "Add a topic at the end of the list",
                "requestBody": _body(_ref("NewTopic")),
                "responses": {
                    "201": {
                        **_json("The new topic", _ref("Topic")),
                        "headers": {
                            "Location": {
                                "description": "The topic's address in the API",
                                "required": True,
                                "schema": {"type": "string", "format": "uri"},
                            }
                        },
                    },
                    **_shared(400, 401, 403, 413, 415, 422),
                    "409": _error("Another topic has this name or slug; `fields` says which"),
                },
            },
        },
        f"{PREFIX}/{{slug}}": {
            "parameters": slug,
            "get": {
                "operationId": "getTopic",
                "summary": "One topic, retired or not",
                "responses": {
                    "200": _json("The topic", _ref("Topic")),
                    **_shared(401, 403),
                    "404": _not_found(),
                },
            },
            "patch": {
                "operationId": "updateTopic",
                "summary": "Change some of a topic; fields left out stay as they are",
                "description": (
                    "The slug can change only while nobody has subscribed to the topic and no "
                    "news is filed under it (409 otherwise). `position` counts from 0 among "
                    "the current topics; a retired topic has none (409)."
                ),
                "requestBody": _body(_ref("TopicChanges")),
                "responses": {
                    "200": _json("The changed topic", _ref("Topic")),
                    **_shared(400, 401, 403, 413, 415, 422),
                    "404": _not_found(),
                    "409": _error("The name or slug is taken, or the change is not possible now"),
                },
            },
        },
        f"{PREFIX}/{{slug}}/retire": {
            "parameters": slug,
            "post": {
                "operationId": "retireTopic",
                "summary": "Retire a topic: it leaves the sign-up form, its page and feed stay",
                "description": (
                    "With `move_to`, every subscriber moves to that topic at the frequency they "
                    "had; anyone who already follows it keeps what they have. With `tell`, each "
                    "active subscriber is emailed once that the topic has ended."
                ),
                "requestBody": {"required": False, "content": {JSON: {"schema": _ref("Retire")}}},
                "responses": {
                    "200": _json("The retired topic", _ref("Topic")),
                    **_shared(400, 401, 403, 413, 415, 422),
                    "404": _not_found(),
                    "409": _error(
                        "The topic is retired already, draft or scheduled news is filed under "
                        "it, or move_to is this topic or a retired one"
                    ),
                },
            },
        },
    }


def schemas(topic_slugs: Sequence[str]) -> dict[str, Any]:
    """The topic, the list of topics and the request bodies."""
    by_frequency = {
        "type": "object",
        "required": [f.value for f in Frequency],
        "additionalProperties": False,
        "properties": {f.value: {"type": "integer", "minimum": 0} for f in Frequency},
    }
    timestamp = {"type": ["string", "null"], "format": "date-time"}
    topic = {
        "type": "object",
        "required": [
            "slug",
            "name",
            "description",
            "heading",
            "position",
            "url",
            "subscribers",
            "subscribers_by_frequency",
            "retired_at",
            "successor",
            "last_item_at",
        ],  # fmt: skip
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string", "description": "The hint on the sign-up form"},
            "heading": {"type": "string", "description": "The group heading (empty for none)"},
            "position": {"type": "integer"},
            "url": {"type": "string", "format": "uri", "description": "Its public page"},
            "subscribers": {"type": "integer", "minimum": 0, "description": "Active ones"},
            "subscribers_by_frequency": by_frequency,
            "retired_at": timestamp,
            "successor": {"type": ["string", "null"], "description": "Where they were moved"},
            "last_item_at": {**timestamp, "description": "The latest published item's time"},
        },
    }
    return {
        "Topic": topic,
        "TopicList": {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": _ref("Topic")}},
        },
        "NewTopic": _fields(required=["name"]),
        "TopicChanges": _fields(
            position={"type": "integer", "minimum": 0, "maximum": 10_000}, required=[]
        ),
        "Retire": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "move_to": _nullable(_slug(topic_slugs)),
                "tell": {"type": "boolean", "default": False},
            },
        },
    }


def _fields(*, required: list[str], **extra: Any) -> dict[str, Any]:
    def text(limit: int, description: str, pattern: str = TEXT_PATTERN) -> dict[str, Any]:
        return {
            "type": "string",
            "maxLength": limit,
            "pattern": pattern,
            "description": description,
        }

    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": {
            "name": text(
                topics.MAX_NAME, "Shown on the sign-up form", f"^{api_schema.LINE_PATTERN}$"
            ),
            "description": text(topics.MAX_DESCRIPTION, "The hint under the name"),
            "slug": {
                **text(topics.MAX_SLUG, "Its address; left out, made from the name", SLUG_PATTERN),
                "minLength": 1,
            },
            "heading": text(topics.MAX_HEADING, "The group it is listed under"),
            **extra,
        },
    }


def _slug(topic_slugs: Sequence[str]) -> dict[str, Any]:
    if topic_slugs:
        return {"type": "string", "enum": list(topic_slugs)}
    return {"type": "string", "pattern": SLUG_PATTERN, "maxLength": topics.MAX_SLUG}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema:
        return {**schema, "type": ["string", "null"], "enum": [*schema["enum"], None]}
    return {**schema, "type": ["string", "null"]}


def _not_found() -> dict[str, Any]:
    return _error("There is no topic with this slug")


def _error(description: str) -> dict[str, Any]:
    return _json(description, _ref("Error"))


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": schema}}}

"""The OpenAPI 3.1 description of the JSON API, built from the same limits the API checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mailer.models import NewsState
from mailer.web.api import bulletins_openapi
from mailer.web.api import case_studies_openapi
from mailer.web.api import openapi_csps
from mailer.web.api import openapi_news
from mailer.web.api import schema as api_schema
from mailer.web.api import topics_openapi
from mailer.web.api.openapi_parts import errors as _errors
from mailer.web.api.openapi_parts import json_body as _json_body
from mailer.web.api.openapi_parts import json_response as _json_response
from mailer.web.api.openapi_parts import ref as _ref

PREFIX = "/api/v1"

DESCRIPTION = """\
News items, topics and bulletins of the Community Safety Partnerships news service, and its
CSP directory.

Every operation except this document and the CSP directory needs an API key, sent as
`Authorization: Bearer <key>`. Admins make keys in the staff area or with
`mailer create-api-key NAME`. A missing or unknown key is answered 401, a revoked key 403.

Errors are always JSON: `{"error": {"code", "message", "fields"}}`, where `fields` maps each
bad field or query parameter to a message. Request bodies are JSON objects of at most 1 MiB.
"""

ERROR_CODES = """\
`invalid_json` and `invalid_query` (400), `missing_key` and `invalid_key` (401), `revoked_key`
(403), `not_found` (404), `method_not_allowed` (405), `state_conflict` and `taken` (409),
`request_entity_too_large` (413), `unsupported_media_type` (415), `invalid_fields` (422).
"""


def build_document(*, base_url: str, topic_slugs: Sequence[str]) -> dict[str, Any]:
    """Describe every operation, parameter, body, response and schema of the API."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "CSP news API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": base_url}],
        "security": [{"bearerAuth": []}],
        "paths": {
            **_paths(),
            **topics_openapi.paths(topic_slugs),
            **bulletins_openapi.paths(),
            **openapi_csps.paths(),
            **case_studies_openapi.paths(),
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key made by an admin.",
                }
            },
            "schemas": {
                **_schemas(topic_slugs),
                **topics_openapi.schemas(topic_slugs),
                **bulletins_openapi.schemas(topic_slugs),
                **openapi_csps.schemas(),
                **case_studies_openapi.schemas(),
            },
            "parameters": {
                **_parameters(topic_slugs),
                **bulletins_openapi.parameters(),
                **openapi_csps.parameters(),
                **case_studies_openapi.parameters(),
            },
            "responses": _responses(),
        },
    }


def _paths() -> dict[str, Any]:
    item_id = [{"$ref": "#/components/parameters/ItemId"}]
    return {
        f"{PREFIX}/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "summary": "This document",
                "security": [],
                "responses": {"200": _json_response("The OpenAPI document", {"type": "object"})},
            }
        },
        f"{PREFIX}/news": {
            "get": {
                "operationId": "listNews",
                "summary": "List news items in any state, most recently changed first",
                "description": "Query parameters other than these four are ignored.",
                "parameters": [
                    {"$ref": f"#/components/parameters/{name}"}
                    for name in ("Page", "PerPage", "State", "Topic")
                ],
                "responses": {
                    "200": _json_response("One page of items", _ref("NewsList")),
                    **_errors(400, 401, 403),
                },
            },
            "post": {
                "operationId": "createNews",
                "summary": "Add a news item as a draft, or publish or schedule it",
                "requestBody": _json_body(_ref("NewNewsItem"), required=True),
                "responses": {
                    "201": {
                        **_json_response("The new item", _ref("NewsItem")),
                        "headers": {
                            "Location": {
                                "description": "The item's address in the API",
                                "required": True,
                                "schema": {"type": "string", "format": "uri"},
                            }
                        },
                    },
                    **_errors(400, 401, 403, 413, 415, 422),
                },
            },
        },
        f"{PREFIX}/news/{{item_id}}": {
            "parameters": item_id,
            "get": {
                "operationId": "getNews",
                "summary": "One news item",
                "responses": {"200": _item_response("The item"), **_errors(401, 403, 404)},
            },
            "patch": {
                "operationId": "updateNews",
                "summary": "Change some of an item's content; fields left out stay as they are",
                "description": "A withdrawn item cannot be edited (409); its slug never changes.",
                "requestBody": _json_body(_ref("NewsChanges"), required=True),
                "responses": {
                    "200": _item_response("The changed item"),
                    **_errors(400, 401, 403, 404, 409, 413, 415, 422),
                },
            },
        },
        f"{PREFIX}/news/{{item_id}}/publish": {
            "parameters": item_id,
            "post": {
                "operationId": "publishNews",
                "summary": "Publish an item now, or schedule it for a future publish_at",
                "description": (
                    "An item that is already published cannot be published (409). An urgent "
                    "item goes at once to every subscriber of its topics, digest readers too."
                ),
                "requestBody": _json_body(_ref("PublishRequest"), required=False),
                "responses": {
                    "200": _item_response("The published or scheduled item"),
                    **_errors(400, 401, 403, 404, 409, 413, 415, 422),
                },
            },
        },
        f"{PREFIX}/news/{{item_id}}/withdraw": {
            "parameters": item_id,
            "post": {
                "operationId": "withdrawNews",
                "summary": "Take an item off the site, the feeds and every digest not yet sent",
                "description": (
                    "Only a published or scheduled item can be withdrawn (409). Its page stays, "
                    "saying when and why, and the feeds say so."
                ),
                "requestBody": _json_body(_ref("WithdrawRequest"), required=True),
                "responses": {
                    "200": _item_response("The withdrawn item"),
                    **_errors(400, 401, 403, 404, 409, 413, 415, 422),
                },
            },
        },
        f"{PREFIX}/news/{{item_id}}/audience": {
            "parameters": item_id,
            "get": {
                "operationId": "getNewsAudience",
                "summary": "Who the item would reach if published now, or at publish_at",
                "description": "Counted by the same query that queues the emails.",
                "parameters": [
                    {"$ref": f"#/components/parameters/{name}"} for name in ("Urgent", "PublishAt")
                ],
                "responses": {
                    "200": _json_response("How many people it reaches", _ref("Audience")),
                    **_errors(400, 401, 403, 404),
                },
            },
        },
    }


def _schemas(topic_slugs: Sequence[str]) -> dict[str, Any]:
    content = openapi_news.content_properties(topic_slugs)
    return {
        "NewsItem": openapi_news.news_item(),
        "NewsList": {
            "type": "object",
            "required": ["items", "page", "per_page", "total", "pages"],
            "additionalProperties": False,
            "properties": {
                "items": {"type": "array", "items": _ref("NewsItem")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": api_schema.MAX_PER_PAGE},
                "total": {"type": "integer", "minimum": 0},
                "pages": {"type": "integer", "minimum": 1},
            },
        },
        "NewNewsItem": openapi_news.new_news_item(content, topic_slugs),
        "NewsChanges": {
            "type": "object",
            "additionalProperties": False,
            "properties": content,
            "examples": [{"summary": "Applications now close on 30 April."}],
        },
        "PublishRequest": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"publish_at": openapi_news.publish_at(), **openapi_news.urgency()},
            **openapi_news.URGENT_NEEDS_REASON,
            "examples": [
                {"publish_at": "2030-03-06T09:30:00Z"},
                {"urgent": True, "urgent_reason": "The deadline moved to tomorrow"},
            ],
        },
        "WithdrawRequest": {
            "type": "object",
            "required": ["reason"],
            "additionalProperties": False,
            "properties": {
                "reason": openapi_news.reason("Why it is withdrawn; its page shows this")
            },
        },
        "Audience": openapi_news.audience(),
        "Error": {
            "type": "object",
            "required": ["error"],
            "additionalProperties": False,
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "fields"],
                    "additionalProperties": False,
                    "properties": {
                        "code": {"type": "string", "description": ERROR_CODES},
                        "message": {"type": "string"},
                        "fields": {
                            "type": "object",
                            "description": "A message for each bad field or query parameter",
                            "additionalProperties": {"type": "string"},
                        },
                    },
                }
            },
        },
    }


def _parameters(topic_slugs: Sequence[str]) -> dict[str, Any]:
    def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "schema": schema, "description": description}

    return {
        "ItemId": {
            "name": "item_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": api_schema.MAX_ID},
            "example": 1,
        },
        "Page": query(
            "page",
            {"type": "integer", "minimum": 1, "maximum": api_schema.MAX_PAGE, "default": 1},
            "Page number; past the last page, the list is empty",
        ),
        "PerPage": query(
            "per_page",
            {"type": "integer", "minimum": 1, "maximum": api_schema.MAX_PER_PAGE, "default": 20},
            "Items per page",
        ),
        "State": query(
            "state",
            {"type": "string", "enum": [state.value for state in NewsState]},
            "Only items in this state",
        ),
        "Topic": query(
            "topic", openapi_news.topic_slug(topic_slugs), "Only items of the topic with this slug"
        ),
        "Urgent": query("urgent", {"type": "string", "enum": ["true", "false"]}, "Urgent or not"),
        "PublishAt": query("publish_at", openapi_news.publish_at(), "When it would be published"),
    }


def _responses() -> dict[str, Any]:
    def error(description: str, **extra: Any) -> dict[str, Any]:
        return {**_json_response(description, _ref("Error")), **extra}

    return {
        "400": error("The body is not a JSON object, or a query parameter is bad"),
        "401": error(
            "No API key, or one that is not recognised",
            headers={
                "WWW-Authenticate": {
                    "description": "`Bearer`",
                    "required": True,
                    "schema": {"type": "string"},
                }
            },
        ),
        "403": error("The API key has been revoked"),
        "404": error("There is no item with this id"),
        "409": error("The item's state does not allow this change"),
        "413": error("The body is larger than 1 MiB"),
        "415": error("The body is not sent as application/json"),
        "422": error("Some fields are bad; `fields` says why"),
    }


def _item_response(description: str) -> dict[str, Any]:
    return _json_response(description, _ref("NewsItem"))

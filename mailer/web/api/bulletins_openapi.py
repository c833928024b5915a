"""The bulletins' part of the OpenAPI document: their paths, schemas and parameter, which
`openapi.build_document` merges into the whole."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mailer.domain import bulletins
from mailer.models import BulletinState
from mailer.web.api import schema as api_schema
from mailer.web.api import segments_openapi
from mailer.web.api.openapi_parts import errors as _errors
from mailer.web.api.openapi_parts import json_body as _json_body
from mailer.web.api.openapi_parts import json_response as _json_response
from mailer.web.api.openapi_parts import ref as _ref

PREFIX = "/api/v1"


def paths() -> dict[str, Any]:
    """The operations on bulletins."""
    bulletin_id = [{"$ref": "#/components/parameters/BulletinId"}]
    return {
        f"{PREFIX}/bulletins": {
            "get": {
                "operationId": "listBulletins",
                "summary": "List bulletins in any state, most recently changed first",
                "parameters": [
                    {"$ref": f"#/components/parameters/{name}"} for name in ("Page", "PerPage")
                ],
                "responses": {
                    "200": _json_response("One page of bulletins", _ref("BulletinList")),
                    **_errors(400, 401, 403),
                },
            },
            "post": {
                "operationId": "createBulletin",
                "summary": "Write a draft bulletin",
                "requestBody": _json_body(_ref("NewBulletin"), required=True),
                "responses": {
                    "201": {
                        **_bulletin_response("The new bulletin"),
                        "headers": {
                            "Location": {
                                "description": "The bulletin's address in the API",
                                "required": True,
                                "schema": {"type": "string", "format": "uri"},
                            }
                        },
                    },
                    **_errors(400, 401, 403, 413, 415, 422),
                },
            },
        },
        f"{PREFIX}/bulletins/{{bulletin_id}}": {
            "parameters": bulletin_id,
            "get": {
                "operationId": "getBulletin",
                "summary": "One bulletin, with how many readers it reaches now",
                "responses": {
                    "200": _bulletin_response("The bulletin"),
                    **_errors(401, 403, 404),
                },
            },
        },
        f"{PREFIX}/bulletins/{{bulletin_id}}/send": {
            "parameters": bulletin_id,
            "post": {
                "operationId": "sendBulletin",
                "summary": "Send a bulletin now, or schedule it for a future `at`",
                "description": (
                    "Under the two-person rule a bulletin that is not approved is refused "
                    "(409), and so is one already sent or cancelled."
                ),
                "requestBody": _json_body(_ref("SendRequest"), required=False),
                "responses": {
                    "200": _bulletin_response("The sent or scheduled bulletin"),
                    **_errors(400, 401, 403, 404, 409, 413, 415, 422),
                },
            },
        },
        **_move("submit", "submitBulletin", "Ask another member of staff to approve a draft"),
        **_move(
            "approve",
            "approveBulletin",
            "Approve a bulletin someone else submitted (the key acts as the staff member who "
            "made it)",
        ),
    }


def _move(action: str, operation: str, summary: str) -> dict[str, Any]:
    return {
        f"{PREFIX}/bulletins/{{bulletin_id}}/{action}": {
            "parameters": [{"$ref": "#/components/parameters/BulletinId"}],
            "post": {
                "operationId": operation,
                "summary": summary,
                "responses": {
                    "200": _bulletin_response("The bulletin"),
                    **_errors(401, 403, 404, 409),
                },
            },
        }
    }


def schemas(topic_slugs: Sequence[str]) -> dict[str, Any]:
    """The bodies of bulletin requests and answers."""
    topic: dict[str, Any] = (
        {"type": "string", "enum": list(topic_slugs)}
        if topic_slugs
        else {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}
    )
    item_id = {"type": "integer", "minimum": 1, "maximum": api_schema.MAX_ID}
    return {
        "Bulletin": _bulletin(item_id),
        "BulletinList": {
            "type": "object",
            "required": ["bulletins", "page", "per_page", "total", "pages"],
            "additionalProperties": False,
            "properties": {
                "bulletins": {"type": "array", "items": _ref("Bulletin")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": api_schema.MAX_PER_PAGE},
                "total": {"type": "integer", "minimum": 0},
                "pages": {"type": "integer", "minimum": 1},
            },
        },
        "NewBulletin": {
            "type": "object",
            "required": ["subject", "topics"],
            "additionalProperties": False,
            "properties": {
                "subject": {
                    "type": "string",
                    "maxLength": bulletins.MAX_SUBJECT,
                    "pattern": f"^{api_schema.LINE_PATTERN}$",
                    "description": "One line, the Subject of the email",
                },
                "body": {
                    "type": "string",
                    "maxLength": bulletins.MAX_BODY,
                    "pattern": f"^{api_schema.BODY_PATTERN}$",
                    "description": "The introduction, in Markdown",
                },
                "topics": {
                    "type": "array",
                    "items": topic,
                    "description": "Slugs of the topics whose readers get it; empty for everyone",
                },
                "items": {
                    "type": "array",
                    "items": item_id,
                    "maxItems": bulletins.MAX_ITEMS,
                    "description": "Ids of published news items to feature, in order",
                },
                "public": {"type": "boolean", "default": True},
                "segment": segments_openapi.segment(),
            },
            "examples": [
                {
                    "subject": "Winter bulletin",
                    "body": "Dear partners,\n\nThe **winter round** is open.",
                    "topics": ["funding"],
                }
            ],
        },
        "SendRequest": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "at": {
                    "type": ["string", "null"],
                    "format": "date-time",
                    "pattern": "^2[0-9]{3}-",
                    "description": "When to send it (RFC 3339, in the future); leave out for now",
                }
            },
        },
    }


def _bulletin(item_id: dict[str, Any]) -> dict[str, Any]:
    timestamp = {"type": ["string", "null"], "format": "date-time"}
    actor = {"type": ["string", "null"]}
    properties = {
        "id": {"type": "integer"},
        "slug": {"type": "string"},
        "state": {"type": "string", "enum": [state.value for state in BulletinState]},
        "subject": {"type": "string"},
        "body": {"type": "string"},
        "everyone": {"type": "boolean"},
        "topics": {"type": "array", "items": {"type": "string"}},
        "items": {"type": "array", "items": item_id},
        "audience": {
            "type": "integer",
            "minimum": 0,
            "description": "How many readers it reaches now; once sent, how many it was sent to",
        },
        "public": {"type": "boolean"},
        "segment": segments_openapi.stored(),
        "send_at": timestamp,
        "sent_at": timestamp,
        "submitted_by": actor,
        "approved_by": actor,
        "run": {"type": ["integer", "null"], "description": "The id of its send run"},
        "url": {
            "type": ["string", "null"],
            "format": "uri",
            "description": "Its page in the public archive, once sent (public bulletins only)",
        },
    }
    return {
        "type": "object",
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
    }


def parameters() -> dict[str, Any]:
    """The bulletin id in paths."""
    return {
        "BulletinId": {
            "name": "bulletin_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": api_schema.MAX_ID},
            "example": 1,
        }
    }


def _bulletin_response(description: str) -> dict[str, Any]:
    return _json_response(description, _ref("Bulletin"))

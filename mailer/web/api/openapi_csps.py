"""The CSP directory's part of the OpenAPI document: public, read-only, no key."""

from __future__ import annotations

from typing import Any

from mailer.domain.directory import listing
from mailer.domain.directory.files import ATTRIBUTION
from mailer.domain.directory.presenting import CSV_COLUMNS
from mailer.models import CspStatus
from mailer.models import Nation
from mailer.web.api.openapi_parts import JSON
from mailer.web.api.openapi_parts import json_response as _json
from mailer.web.api.openapi_parts import ref as _ref
from mailer.web.api.schema import MAX_PAGE

PREFIX = "/api/v1"
CODE = {"type": "string", "pattern": "^[EW][0-9]{8}$", "examples": ["E22000187"]}
NO_CONTROL = "^[^\\u0000-\\u001f\\u007f]*$"


def paths() -> dict[str, Any]:
    """The directory's operations; none needs a key."""
    return {
        f"{PREFIX}/csps": {
            "get": {
                "operationId": "listCsps",
                "summary": "Community Safety Partnerships A to Z, active and ended",
                "description": "Public, no key needed. " + ATTRIBUTION,
                "security": [],
                "parameters": [
                    {"$ref": f"#/components/parameters/{name}"}
                    for name in ("CspQuery", "Nation", "Pfa", "CspPage")
                ],
                "responses": {
                    "200": _json("One page of partnerships", _ref("CspList")),
                    "400": _json("A query parameter is bad", _ref("Error")),
                },
            }
        },
        f"{PREFIX}/csps/{{code}}": {
            "get": {
                "operationId": "getCsp",
                "summary": "One partnership by its ONS code",
                "security": [],
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": CODE}],
                "responses": {
                    "200": _json("The partnership", _ref("Csp")),
                    "404": _json("There is no partnership with this code", _ref("Error")),
                },
            }
        },
        "/csps/directory.json": _download("JSON", JSON, _ref("CspDirectory")),
        "/csps/directory.csv": _download("CSV", "text/csv", {"type": "string"}),
    }


def schemas() -> dict[str, Any]:
    nullable = {"type": ["string", "null"]}
    return {
        "Csp": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "code",
                "name",
                "name_cy",
                "nation",
                "pfa",
                "councils",
                "contact",
                "last_confirmed",
                "status",
                "successor",
            ],
            "properties": {
                "code": CODE,
                "name": {"type": "string"},
                "name_cy": {**nullable, "description": "The Welsh name, in Wales"},
                "nation": {"type": "string", "enum": [n.value for n in Nation]},
                "pfa": {"oneOf": [_ref("Place"), {"type": "null"}]},
                "councils": {"type": "array", "items": _ref("Place")},
                "contact": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["email", "phone", "web"],
                    "properties": {"email": nullable, "phone": nullable, "web": nullable},
                },
                "last_confirmed": {"type": ["string", "null"], "format": "date"},
                "status": {"type": "string", "enum": [s.value for s in CspStatus]},
                "successor": {**nullable, "description": "The code that replaced it"},
            },
        },
        "Place": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "name"],
            "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
        },
        "CspList": {
            "type": "object",
            "additionalProperties": False,
            "required": ["items", "total", "page", "pages"],
            "properties": {
                "items": {"type": "array", "items": _ref("Csp")},
                "total": {"type": "integer", "minimum": 0},
                "page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
            },
        },
        "CspDirectory": {
            "type": "object",
            "additionalProperties": False,
            "required": ["attribution", "licence", "items"],
            "properties": {
                "attribution": {"type": "string", "const": ATTRIBUTION},
                "licence": {"type": "string"},
                "items": {"type": "array", "items": _ref("Csp")},
            },
        },
    }


def parameters() -> dict[str, Any]:
    def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "schema": schema, "description": description}

    return {
        "CspQuery": query(
            "q",
            {"type": "string", "maxLength": listing.MAX_QUERY, "pattern": NO_CONTROL},
            "Words in the partnership's English or Welsh name, or in a council's name",
        ),
        "Nation": query(
            "nation", {"type": "string", "enum": [n.value for n in Nation]}, "Only this nation"
        ),
        "Pfa": query(
            "pfa",
            {"type": "string", "pattern": "^(E23|W15)[0-9]{6}$"},
            "Only partnerships in the police force area with this code",
        ),
        "CspPage": query(
            "page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            "Page number",
        ),
    }


def _download(what: str, media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": f"downloadCspDirectory{what.capitalize()}",
            "summary": f"The whole directory as {what}, with the ONS attribution",
            "description": (
                f"CSV columns: {', '.join(CSV_COLUMNS)}; cells that a spreadsheet would run "
                "as a formula start with an apostrophe."
                if what == "CSV"
                else "Every partnership, active and ended."
            ),
            "security": [],
            "responses": {
                "200": {"description": "The download", "content": {media_type: {"schema": schema}}}
            },
        }
    }

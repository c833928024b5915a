"""The small pieces every part of the OpenAPI document is built from: references to shared
schemas and responses, and JSON bodies and responses."""

from __future__ import annotations

from typing import Any

JSON = "application/json"


def errors(*statuses: int) -> dict[str, Any]:
    """References to the shared error responses of these statuses."""
    return {str(status): {"$ref": f"#/components/responses/{status}"} for status in statuses}


def ref(name: str) -> dict[str, str]:
    """A reference to the shared schema `name`."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A response with a JSON body of `schema`."""
    return {"description": description, "content": {JSON: {"schema": schema}}}


def json_body(schema: dict[str, Any], *, required: bool) -> dict[str, Any]:
    """A request body of JSON of `schema`."""
    return {"required": required, "content": {JSON: {"schema": schema}}}

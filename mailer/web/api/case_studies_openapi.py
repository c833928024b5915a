"""The effective practice library's part of the OpenAPI document: public, read-only, no key."""

from __future__ import annotations

from typing import Any

from mailer.domain import practice_terms
from mailer.domain.practice_library import Sort
from mailer.domain.practice_search import MAX_QUERY
from mailer.models import CaseStudyRating
from mailer.models import Nation
from mailer.web.api.openapi_parts import json_response as _json
from mailer.web.api.openapi_parts import ref as _ref
from mailer.web.api.schema import MAX_PAGE
from mailer.web.practice.filters import MAX_VALUES

PREFIX = "/api/v1"
NO_CONTROL = "^[^\\u0000-\\u001f\\u007f]*$"
SLUG = {"type": "string", "pattern": "^[a-z0-9-]{1,120}$", "maxLength": 120}
NULLABLE = {"type": ["string", "null"]}


def paths() -> dict[str, Any]:
    """The library's operations; none needs a key."""
    return {
        f"{PREFIX}/case-studies": {
            "get": {
                "operationId": "listCaseStudies",
                "summary": "Published case studies of effective practice",
                "description": "Public, no key needed. Filters are OR within one, AND between.",
                "security": [],
                "parameters": [
                    {"$ref": f"#/components/parameters/{name}"}
                    for name in (
                        "CaseStudyQuery",
                        "CaseStudyTheme",
                        "CaseStudyCrimeType",
                        "CaseStudyNation",
                        "CaseStudyCsp",
                        "CaseStudyRating",
                        "CaseStudyEvaluated",
                        "CaseStudySort",
                        "CaseStudyPage",
                    )
                ],
                "responses": {
                    "200": _json("One page of case studies", _ref("CaseStudyList")),
                    "400": _json("A query parameter is bad", _ref("Error")),
                },
            }
        },
        f"{PREFIX}/case-studies/{{slug}}": {
            "get": {
                "operationId": "getCaseStudy",
                "summary": "One published case study by its slug",
                "security": [],
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": SLUG}],
                "responses": {
                    "200": _json("The case study", _ref("CaseStudy")),
                    "404": _json("There is no published case study with this slug", _ref("Error")),
                },
            }
        },
    }


def schemas() -> dict[str, Any]:
    return {
        "CaseStudy": {
            "type": "object",
            "additionalProperties": False,
            "required": list(_case_study_properties()),
            "properties": _case_study_properties(),
        },
        "CaseStudyList": {
            "type": "object",
            "additionalProperties": False,
            "required": ["items", "total", "page", "pages"],
            "properties": {
                "items": {"type": "array", "items": _ref("CaseStudy")},
                "total": {"type": "integer", "minimum": 0},
                "page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
            },
        },
    }


def _case_study_properties() -> dict[str, Any]:
    def codes(vocabulary: dict[str, str]) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string", "enum": list(vocabulary)}}

    return {
        "slug": SLUG,
        "title": {"type": "string"},
        "summary": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "csp": {
            "oneOf": [
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["code", "name"],
                    "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
                },
                {"type": "null"},
            ]
        },
        "partners": {"type": "string"},
        "themes": codes(practice_terms.THEMES),
        "crime_types": codes(practice_terms.CRIME_TYPES),
        "nation": {"type": ["string", "null"], "enum": [*(n.value for n in Nation), None]},
        "area": {"type": "string"},
        "rating": {
            "type": ["string", "null"],
            "enum": [*(r.value for r in CaseStudyRating), None],
        },
        "evaluated": {"type": "boolean"},
        "started_on": {"type": ["string", "null"], "format": "date"},
        "ended_on": {"type": ["string", "null"], "format": "date"},
        "sections": {
            "type": "object",
            "additionalProperties": False,
            "description": "Each answered section, by key: "
            + "; ".join(f"{k} ({v})" for k, v in practice_terms.SECTIONS.items()),
            "properties": {key: {"type": "string"} for key in practice_terms.SECTIONS},
        },
        "attachments": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["filename", "content_type", "size", "url"],
                "properties": {
                    "filename": {"type": "string"},
                    "content_type": {"type": "string"},
                    "size": {"type": "integer", "minimum": 0},
                    "url": {"type": "string"},
                },
            },
        },
        "contact_url": {
            **NULLABLE,
            "description": "The form that relays a message to the case study's contact",
        },
        "published_at": {"type": ["string", "null"], "format": "date-time"},
    }


def parameters() -> dict[str, Any]:
    def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "schema": schema, "description": description}

    def many(name: str, values: list[str], description: str) -> dict[str, Any]:
        items = {"type": "string", "enum": values}
        schema = {"type": "array", "items": items, "maxItems": MAX_VALUES}
        return {**query(name, schema, description), "style": "form", "explode": True}

    return {
        "CaseStudyQuery": query(
            "q",
            {"type": "string", "maxLength": MAX_QUERY, "pattern": NO_CONTROL},
            'Words to find (all of them); "a phrase" in double quotes',
        ),
        "CaseStudyTheme": many("theme", list(practice_terms.THEMES), "Any of these themes"),
        "CaseStudyCrimeType": many(
            "crime_type", list(practice_terms.CRIME_TYPES), "Any of these crime types"
        ),
        "CaseStudyNation": many("nation", [n.value for n in Nation], "Any of these nations"),
        "CaseStudyCsp": query(
            "csp",
            {"type": "string", "pattern": "^[EW][0-9]{8}$"},
            "Only the case studies of the partnership with this ONS code",
        ),
        "CaseStudyRating": many(
            "rating", [r.value for r in CaseStudyRating], "Any of these ratings"
        ),
        "CaseStudyEvaluated": query(
            "evaluated", {"type": "string", "enum": ["yes", "no"]}, "Evaluated or not"
        ),
        "CaseStudySort": query(
            "sort",
            {"type": "string", "enum": [s.value for s in Sort], "default": Sort.NEWEST.value},
            "Newest first, or the best matches first (only with q)",
        ),
        "CaseStudyPage": query(
            "page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            "Page number",
        ),
    }

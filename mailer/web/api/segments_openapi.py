"""The OpenAPI part for segments: the areas and organisation types a bulletin or an urgent
news item is sent to, or a news item applies to."""

from __future__ import annotations

from typing import Any

from mailer.domain import segments
from mailer.models import Nation
from mailer.models import OrganisationType

# ONS codes: E23/W15 police force areas, E22/W22 partnerships.
CODE = "^[EW][0-9]{8}$"


def segment(*, places_only: bool = False) -> dict[str, Any]:
    """A segment: lists of codes, each optional; AND between lists, OR within one."""

    def codes(description: str, items: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "array",
            "items": items,
            "maxItems": segments.MAX_CODES,
            "description": f"{description}; repeats count once",
        }

    properties = {
        "nations": codes("england or wales", {"type": "string", "enum": list(Nation)}),
        "pfas": codes("ONS codes of police force areas", {"type": "string", "pattern": CODE}),
        "csps": codes("ONS codes of active partnerships", {"type": "string", "pattern": CODE}),
    }
    if not places_only:
        properties["organisation_types"] = codes(
            "Who they work for, as they said",
            {"type": "string", "enum": [str(o) for o in OrganisationType]},
        )
    return {
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": properties,
        "description": (
            "Only readers who said they work in one of these places (and for one of these "
            "organisation types); an empty or missing list does not narrow. Readers who gave "
            "no area are in no area segment."
        ),
    }


def stored(*, places_only: bool = False) -> dict[str, Any]:
    """A segment as answers give it: every list present."""
    schema = segment(places_only=places_only)
    return {**schema, "type": "object", "required": list(schema["properties"])}

"""Segments: the part of an audience picked by where practitioners work (nation, police force
area, CSP) and whom they work for; AND between dimensions, OR within one. Subscribers who gave
no area are in no area segment; those who gave no organisation type are in no organisation
segment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy import true

from mailer.extensions import db
from mailer.i18n import N_
from mailer.models import Csp
from mailer.models import CspStatus
from mailer.models import Nation
from mailer.models import OrganisationType
from mailer.models import PoliceForceArea
from mailer.models import Subscriber
from mailer.models import subscriber_areas

# The dimensions, in the order they are shown, with the key each has in JSON.
DIMENSIONS = ("nations", "pfas", "csps", "organisation_types")
# The places a news item can apply to: a segment without organisation types.
PLACES = DIMENSIONS[:3]
ORGANISATION_LABELS = {
    OrganisationType.POLICE: N_("Police"),
    OrganisationType.COUNCIL: N_("Council"),
    OrganisationType.FIRE: N_("Fire and rescue"),
    OrganisationType.HEALTH: N_("Health"),
    OrganisationType.PROBATION: N_("Probation"),
    OrganisationType.VOLUNTARY: N_("Voluntary sector"),
    OrganisationType.OTHER: N_("Other"),
}
NATION_LABELS = {Nation.ENGLAND: N_("England"), Nation.WALES: N_("Wales")}
MAX_CODES = 400


@dataclass(frozen=True)
class Segment:
    """Codes per dimension (sorted, no repeats); an empty dimension does not narrow."""

    nations: tuple[str, ...] = ()
    pfas: tuple[str, ...] = ()
    csps: tuple[str, ...] = ()
    organisation_types: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when it narrows nothing."""
        return not any(getattr(self, name) for name in DIMENSIONS)

    @property
    def by_area(self) -> bool:
        """True when it narrows by where people work."""
        return bool(self.nations or self.pfas or self.csps)

    def to_json(self) -> dict[str, list[str]]:
        """The stored and API form: every dimension, as a list."""
        return {name: list(getattr(self, name)) for name in DIMENSIONS}

    def condition(self) -> ColumnElement[bool]:
        """The WHERE clause on `Subscriber` that keeps those in the segment."""
        clause: ColumnElement[bool] = true()
        if self.nations:
            clause = clause & _works_in(Csp.nation.in_([Nation(n) for n in self.nations]))
        if self.pfas:
            in_pfa = select(PoliceForceArea.id).where(PoliceForceArea.code.in_(self.pfas))
            clause = clause & _works_in(Csp.pfa_id.in_(in_pfa.scalar_subquery()))
        if self.csps:
            clause = clause & _works_in(Csp.code.in_(self.csps))
        if self.organisation_types:
            clause = clause & Subscriber.organisation_type.in_(self.organisation_types)
        return clause


# The segment that narrows nothing.
EVERYWHERE = Segment()


def _works_in(where: ColumnElement[bool]) -> ColumnElement[bool]:
    """Subscribers who gave at least one area matching `where`."""
    return exists().where(
        subscriber_areas.c.subscriber_id == Subscriber.id,
        subscriber_areas.c.csp_id == Csp.id,
        where,
    )


def from_stored(value: Mapping[str, Any] | None) -> Segment:
    """The segment stored as JSON (already checked when it was saved)."""
    value = value or {}
    return Segment(*(tuple(sorted(set(value.get(name) or ()))) for name in DIMENSIONS))


def parse(
    errors: dict[str, str],
    value: Any,
    *,
    field: str = "segment",
    sep: str = ".",
    dimensions: tuple[str, ...] = DIMENSIONS,
) -> Segment:
    """Check a segment given as {"nations": [...], "pfas": [...], "csps": [...],
    "organisation_types": [...]} (all optional); record a message per bad part in `errors`
    under `field` or `field<sep>dimension`."""
    if value is None:
        return Segment()
    if not isinstance(value, Mapping) or set(value) - set(dimensions):
        errors[field] = f"{field.capitalize()} must be an object with {', '.join(dimensions)}"
        return Segment()
    parts: dict[str, tuple[str, ...]] = {}
    for name in dimensions:
        codes = value.get(name, [])
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            errors[f"{field}{sep}{name}"] = f"{name} must be a list of codes"
        elif len(codes) > MAX_CODES:
            errors[f"{field}{sep}{name}"] = f"Choose {MAX_CODES} or fewer {name}"
        else:
            parts[name] = tuple(sorted(set(codes)))
    segment = Segment(**parts)
    for name, message in _unknown(segment).items():
        errors[f"{field}{sep}{name}"] = message
    return segment


def _unknown(segment: Segment) -> dict[str, str]:
    """A message per dimension naming a code that is not known."""
    known = {
        "nations": {str(n) for n in Nation},
        "organisation_types": {str(o) for o in OrganisationType},
        "pfas": set(_codes(PoliceForceArea.code, segment.pfas)),
        "csps": set(_codes(Csp.code, segment.csps, Csp.status == CspStatus.ACTIVE)),
    }
    messages = {}
    for name in DIMENSIONS:
        unknown = [code for code in getattr(segment, name) if code not in known[name]]
        if unknown:
            messages[name] = f"There is no {_NOUNS[name]} {unknown[0][:40]!r}: choose from the list"
    return messages


_NOUNS = {
    "nations": "nation",
    "pfas": "police force area",
    "csps": "active partnership",
    "organisation_types": "organisation type",
}


def _codes(column: Any, codes: tuple[str, ...], *where: ColumnElement[bool]) -> list[str]:
    if not codes:
        return []
    return list(db.session.scalars(select(column).where(column.in_(codes), *where)))


def from_form(form: Mapping[str, Any], *, prefix: str = "segment") -> dict[str, list[str]]:
    """The segment a form gives, as lists of codes under `prefix-<dimension>`."""
    getlist = getattr(form, "getlist", None)
    return {
        name: [code for code in (getlist(f"{prefix}-{name}") if getlist else []) if code]
        for name in DIMENSIONS
    }


def form_pairs(
    stored: Mapping[str, Any] | None, *, prefix: str = "segment"
) -> list[tuple[str, str]]:
    """The form fields that show a stored segment, as (name, value) pairs."""
    segment = from_stored(stored)
    return [(f"{prefix}-{name}", code) for name in DIMENSIONS for code in getattr(segment, name)]


def describe(segment: Segment, *, dimensions: tuple[str, ...] = DIMENSIONS) -> list[str]:
    """The segment's parts in words ("Wales", "Dyfed-Powys", "Police"), in order."""
    words: list[str] = []
    if "nations" in dimensions:
        words += [NATION_LABELS[Nation(code)] for code in segment.nations]
    if "pfas" in dimensions and segment.pfas:
        words += _names(PoliceForceArea, segment.pfas)
    if "csps" in dimensions and segment.csps:
        words += _names(Csp, segment.csps)
    if "organisation_types" in dimensions:
        words += [ORGANISATION_LABELS[OrganisationType(o)] for o in segment.organisation_types]
    return words


def applies_to_stored(stored: Mapping[str, Any] | None) -> str:
    """Where an item with this stored segment applies, for templates ("" for everywhere)."""
    return applies_to(from_stored(stored))


def applies_to(segment: Segment) -> str:
    """ "Wales", "Dyfed-Powys and Gwent": where a news item applies ("" for everywhere)."""
    places = describe(segment, dimensions=PLACES)
    if len(places) < 2:
        return "".join(places)
    return ", ".join(places[:-1]) + " and " + places[-1]


def _names(model: type[Csp] | type[PoliceForceArea], codes: tuple[str, ...]) -> list[str]:
    statement = select(model.name).where(model.code.in_(codes)).order_by(model.name)
    return list(db.session.scalars(statement))


def choices() -> dict[str, Any]:
    """What forms offer: nations, police force areas, and active partnerships grouped by
    nation and police force area."""
    pfas = db.session.scalars(select(PoliceForceArea).order_by(PoliceForceArea.name)).all()
    csps = db.session.scalars(
        select(Csp).where(Csp.status == CspStatus.ACTIVE).order_by(Csp.name)
    ).all()
    groups: dict[tuple[str, str], list[Csp]] = {}
    for csp in sorted(csps, key=lambda c: (c.nation, c.pfa.name if c.pfa else "")):
        groups.setdefault((NATION_LABELS[csp.nation], csp.pfa.name if csp.pfa else ""), [])
        groups[(NATION_LABELS[csp.nation], csp.pfa.name if csp.pfa else "")].append(csp)
    return {
        "nations": list(NATION_LABELS.items()),
        "pfas": pfas,
        "csp_groups": groups,
        "organisation_types": list(ORGANISATION_LABELS.items()),
    }

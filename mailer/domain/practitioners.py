"""Who a subscriber is, if they say: the type of organisation they work for and the CSP areas
they work in. Both are optional; segments (`mailer.domain.segments`) read them."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from mailer.domain.segments import NATION_LABELS
from mailer.domain.segments import ORGANISATION_LABELS
from mailer.errors import FieldErrors
from mailer.extensions import db
from mailer.i18n import N_
from mailer.models import Csp
from mailer.models import CspStatus
from mailer.models import OrganisationType
from mailer.models import Subscriber

# More areas than anyone works in, and few enough to keep a form and a query small.
MAX_AREAS = 50


@dataclass(frozen=True)
class Profile:
    """An organisation type (None if not given) and CSP areas (none if not given)."""

    organisation_type: OrganisationType | None = None
    areas: tuple[Csp, ...] = ()


def parse_profile(organisation_type: Any, area_codes: Iterable[Any]) -> Profile:
    """Check what a form or the API gave; empty values mean not given.

    :raises FieldErrors: an unknown organisation type (`organisation_type`) or an unknown or
        ended partnership (`areas`).
    """
    errors: dict[str, str] = {}
    kind = None
    if organisation_type is not None and organisation_type != "":
        try:
            kind = OrganisationType(organisation_type)
        except (ValueError, TypeError):
            errors["organisation_type"] = N_("Select the type of organisation from the list")
    given = [code for code in area_codes if code not in (None, "")]
    areas: Sequence[Csp] = ()
    if not all(isinstance(code, str) for code in given):
        errors["areas"] = N_("Areas must be the codes of Community Safety Partnerships")
    elif len(set(given)) > MAX_AREAS:
        errors["areas"] = f"Select {MAX_AREAS} areas or fewer"
    elif given:
        areas = _active(sorted(set(given)))
        if len(areas) != len(set(given)):
            errors["areas"] = N_("Select Community Safety Partnership areas from the list")
    if errors:
        raise FieldErrors(errors)
    return Profile(kind, tuple(areas))


def _active(codes: list[str]) -> Sequence[Csp]:
    statement = select(Csp).where(Csp.code.in_(codes), Csp.status == CspStatus.ACTIVE)
    return db.session.scalars(statement.order_by(Csp.name)).all()


def apply_profile(subscriber: Subscriber, profile: Profile) -> None:
    """Make what the subscriber said about their work exactly `profile`."""
    kind = profile.organisation_type
    subscriber.organisation_type = kind.value if kind is not None else None
    subscriber.areas = list(profile.areas)


def profile_of(subscriber: Subscriber) -> Profile:
    """What the subscriber has said about their work (an unknown stored type reads as none)."""
    stored = subscriber.organisation_type
    kind = OrganisationType(stored) if stored in set(OrganisationType) else None
    return Profile(kind, tuple(subscriber.areas))


def describe_profile(profile: Profile | None) -> dict[str, Any]:
    """The parts of a profile given, for a consent record: {} when nothing was given."""
    if profile is None:
        return {}
    detail: dict[str, Any] = {}
    if profile.organisation_type is not None:
        detail["organisation_type"] = profile.organisation_type.value
    if profile.areas:
        detail["areas"] = [csp.code for csp in profile.areas]
    return detail


def profile_json(subscriber: Subscriber) -> dict[str, Any]:
    """The subscriber's answers as a copy of their data shows them."""
    return {
        "organisation_type": subscriber.organisation_type,
        "areas": [{"code": csp.code, "name": csp.name} for csp in subscriber.areas],
    }


def organisation_label(value: str | None) -> str:
    """The words for a stored organisation type ("" for none)."""
    if value is None or value not in set(OrganisationType):
        return ""
    return ORGANISATION_LABELS[OrganisationType(value)]


def area_words(subscriber: Subscriber) -> list[str]:
    """Their areas as staff read them: "Cardiff (Wales)"."""
    return [f"{csp.name} ({NATION_LABELS[csp.nation]})" for csp in subscriber.areas]

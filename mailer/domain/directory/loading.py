"""Loading an ONS vintage into the directory: what it adds, renames, merges and ends, first
as a plan (the dry run), then applied in the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from sqlalchemy import select

from mailer.domain import audit
from mailer.domain.directory.files import Vintage
from mailer.extensions import db
from mailer.models import Council
from mailer.models import Csp
from mailer.models import CspStatus
from mailer.models import Nation
from mailer.models import PoliceForceArea


@dataclass
class Changes:
    """What loading a vintage changes, partnership by partnership (code, names)."""

    added: list[tuple[str, str]] = field(default_factory=list)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)
    # (code, name, the code of its successor)
    merged: list[tuple[str, str, str]] = field(default_factory=list)
    ended: list[tuple[str, str]] = field(default_factory=list)
    # Partnerships whose councils or police force area changed.
    recovered: list[str] = field(default_factory=list)
    # Councils and police force areas added or renamed.
    places: int = 0

    @property
    def empty(self) -> bool:
        return not (
            self.added or self.renamed or self.merged or self.ended or self.recovered or self.places
        )

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "renamed": len(self.renamed),
            "merged": len(self.merged),
            "ended": len(self.ended),
            "coverage_changed": len(self.recovered),
            "places": self.places,
        }


def nation_of(code: str) -> Nation:
    """England for E22… codes, Wales for W14…."""
    return Nation.WALES if code.startswith("W") else Nation.ENGLAND


def plan_load(vintage: Vintage) -> Changes:
    """What loading `vintage` would change; reads only."""
    existing = {csp.code: csp for csp in db.session.scalars(select(Csp))}
    changes = Changes(places=_place_changes(vintage))
    covered = _councils_by_csp(vintage)
    for code, names in sorted(vintage.names.items()):
        csp = existing.get(code)
        if csp is None or csp.status is CspStatus.ENDED:
            changes.added.append((code, names.name))
        elif (csp.name, csp.name_cy) != (names.name, names.name_cy):
            changes.renamed.append((code, csp.name, names.name))
        if csp is not None and _coverage(csp) != (covered.get(code), _pfa_code(vintage, code)):
            changes.recovered.append(code)
    successors = _successors(vintage)
    for code, csp in sorted(existing.items()):
        if code in vintage.names or csp.status is CspStatus.ENDED:
            continue
        after = {successors[c.code] for c in csp.councils if c.code in successors}
        if len(after) == 1:
            changes.merged.append((code, csp.name, after.pop()))
        else:
            changes.ended.append((code, csp.name))
    return changes


def apply_load(vintage: Vintage, *, actor: str, now: datetime) -> Changes:
    """Make the directory say what `vintage` says, in the caller's transaction; return what
    changed. Partnerships that left the list end (with their successor, if they merged)."""
    changes = plan_load(vintage)
    if changes.empty:
        return changes
    first_load = db.session.scalar(select(Csp.id).limit(1)) is None
    areas = _upsert_areas(vintage)
    councils = _upsert_councils(vintage)
    existing = {csp.code: csp for csp in db.session.scalars(select(Csp))}
    covered = _councils_by_csp(vintage)
    for code, names in vintage.names.items():
        csp = existing.get(code) or _new_csp(code, now=now, first_load=first_load)
        csp.name, csp.name_cy = names.name, names.name_cy
        csp.status, csp.valid_to, csp.successor_code = CspStatus.ACTIVE, None, None
        pfa_code = _pfa_code(vintage, code)
        csp.pfa = areas[pfa_code] if pfa_code else None
        csp.councils = [councils[c] for c in sorted(covered.get(code, frozenset()))]
        csp.updated_at = now
    _end(existing, changes, now=now)
    audit.record(actor, "load_csps", "Csp", now=now, detail=_detail(changes))
    return changes


def _end(existing: dict[str, Csp], changes: Changes, *, now: datetime) -> None:
    successors = {code: successor for code, _, successor in changes.merged}
    for code in [*successors, *(code for code, _ in changes.ended)]:
        csp = existing[code]
        csp.status, csp.valid_to = CspStatus.ENDED, now.date()
        csp.successor_code = successors.get(code)
        csp.updated_at = now


def _new_csp(code: str, *, now: datetime, first_load: bool) -> Csp:
    """A partnership new to the directory; on the first load its start is unknown."""
    csp = Csp(
        code=code,
        nation=nation_of(code),
        status=CspStatus.ACTIVE,
        valid_from=None if first_load else now.date(),
        email="",
        phone="",
        web="",
        links_used=0,
        created_at=now,
    )
    db.session.add(csp)
    return csp


def _detail(changes: Changes) -> dict[str, object]:
    return {
        **changes.counts(),
        "added_codes": [code for code, _ in changes.added],
        "renamed_codes": [code for code, _, _ in changes.renamed],
        "merged": {code: successor for code, _, successor in changes.merged},
        "ended_codes": [code for code, _ in changes.ended],
    }


def _councils_by_csp(vintage: Vintage) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for cover in vintage.covers:
        found[cover.csp_code].add(cover.council_code)
    return {code: frozenset(councils) for code, councils in found.items()}


def _successors(vintage: Vintage) -> dict[str, str]:
    """Each council's partnership in the vintage, for councils that have exactly one."""
    by_council: dict[str, set[str]] = defaultdict(set)
    for cover in vintage.covers:
        by_council[cover.council_code].add(cover.csp_code)
    return {council: codes.pop() for council, codes in by_council.items() if len(codes) == 1}


def _pfa_code(vintage: Vintage, csp_code: str) -> str | None:
    return next((c.pfa_code for c in vintage.covers if c.csp_code == csp_code), None)


def _coverage(csp: Csp) -> tuple[frozenset[str] | None, str | None]:
    councils = frozenset(council.code for council in csp.councils) or None
    return councils, csp.pfa.code if csp.pfa else None


def _place_changes(vintage: Vintage) -> int:
    """How many councils and police force areas the vintage adds or renames."""
    councils = dict(db.session.execute(select(Council.code, Council.name)).all())
    areas = dict(db.session.execute(select(PoliceForceArea.code, PoliceForceArea.name)).all())
    wanted_councils = {c.council_code: c.council_name for c in vintage.covers}
    wanted_areas = {c.pfa_code: c.pfa_name for c in vintage.covers}
    return sum(councils.get(code) != name for code, name in wanted_councils.items()) + sum(
        areas.get(code) != name for code, name in wanted_areas.items()
    )


def _upsert_areas(vintage: Vintage) -> dict[str, PoliceForceArea]:
    areas = {a.code: a for a in db.session.scalars(select(PoliceForceArea))}
    for cover in vintage.covers:
        area = areas.get(cover.pfa_code)
        if area is None:
            area = areas[cover.pfa_code] = PoliceForceArea(code=cover.pfa_code)
            db.session.add(area)
        area.name = cover.pfa_name
    return areas


def _upsert_councils(vintage: Vintage) -> dict[str, Council]:
    councils = {c.code: c for c in db.session.scalars(select(Council))}
    for cover in vintage.covers:
        council = councils.get(cover.council_code)
        if council is None:
            council = councils[cover.council_code] = Council(code=cover.council_code)
            db.session.add(council)
        council.name = cover.council_name
    return councils

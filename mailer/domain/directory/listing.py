"""Finding partnerships: the A to Z, filters by nation and police force area, search by the
partnership's or a council's name, one page at a time."""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import timedelta

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from mailer.database import escape_like
from mailer.domain.paging import Page
from mailer.extensions import db
from mailer.models import Council
from mailer.models import Csp
from mailer.models import CspStatus
from mailer.models import Nation
from mailer.models import PoliceForceArea
from mailer.models import csp_councils

MAX_QUERY = 100
LETTERS = tuple(string.ascii_uppercase)
# Contact details confirmed longer ago than this are stale.
STALE_AFTER = timedelta(days=365)


@dataclass(frozen=True)
class Search:
    """What a listing asks for: all its parts are optional."""

    q: str = ""
    nation: Nation | None = None
    pfa: str | None = None
    letter: str | None = None
    # Ended partnerships are left out unless asked for.
    ended: bool = False
    # Only partnerships whose details were last confirmed before this day (or never).
    stale_before: date | None = None


def search_page(search: Search, *, page: int, per_page: int) -> Page[Csp]:
    """One page of the partnerships that match, A to Z."""
    statement = _matching(search)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    items = db.session.scalars(
        statement.order_by(Csp.name, Csp.code).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(items=items, total=total, page=page, per_page=per_page)


def _matching(search: Search) -> Select[Csp]:
    statement = select(Csp)
    if not search.ended:
        statement = statement.where(Csp.status == CspStatus.ACTIVE)
    if search.nation is not None:
        statement = statement.where(Csp.nation == search.nation)
    if search.pfa:
        area = select(PoliceForceArea.id).where(PoliceForceArea.code == search.pfa)
        statement = statement.where(Csp.pfa_id.in_(area.scalar_subquery()))
    if search.letter:
        statement = statement.where(func.upper(func.substr(Csp.name, 1, 1)) == search.letter)
    if search.stale_before is not None:
        statement = statement.where(
            or_(Csp.last_confirmed.is_(None), Csp.last_confirmed < search.stale_before)
        )
    if search.q:
        statement = statement.where(_named(search.q))
    return statement


def _named(query: str) -> ColumnElement[bool]:
    """Partnerships whose English or Welsh name, or one of whose councils' names, holds the
    words of `query` in any case."""
    pattern = f"%{escape_like(query.casefold())}%"
    councils = (
        select(csp_councils.c.csp_id)
        .join(Council, Council.id == csp_councils.c.council_id)
        .where(func.lower(Council.name).like(pattern, escape="\\"))
    )
    return or_(
        func.lower(Csp.name).like(pattern, escape="\\"),
        func.lower(Csp.name_cy).like(pattern, escape="\\"),
        Csp.id.in_(councils),
    )


def csp_by_code(code: str) -> Csp | None:
    """The partnership with this ONS code, active or ended."""
    return db.session.scalar(select(Csp).where(Csp.code == code))


def police_force_areas() -> Sequence[PoliceForceArea]:
    """Every police force area, A to Z."""
    return db.session.scalars(select(PoliceForceArea).order_by(PoliceForceArea.name)).all()


def all_csps() -> Sequence[Csp]:
    """Every partnership, active and ended, A to Z (for the downloads)."""
    return db.session.scalars(select(Csp).order_by(Csp.name, Csp.code)).all()


def stale_before(today: date) -> date:
    """The day before which a confirmation is stale."""
    return today - STALE_AFTER


def is_stale(csp: Csp, *, today: date) -> bool:
    """Whether the partnership's details were never confirmed, or not for 12 months."""
    return csp.last_confirmed is None or csp.last_confirmed < stale_before(today)

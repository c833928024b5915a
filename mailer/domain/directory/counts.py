"""How many partnerships the directory holds now, in all and in each nation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import Csp
from mailer.models import CspStatus
from mailer.models import Nation


@dataclass(frozen=True)
class CspCounts:
    """The current (not ended) partnerships: in England, in Wales and in all."""

    england: int
    wales: int

    @property
    def total(self) -> int:
        return self.england + self.wales


def current_counts() -> CspCounts:
    """Count the current partnerships by nation; zeros when the directory is not loaded."""
    rows = db.session.execute(
        select(Csp.nation, func.count()).where(Csp.status == CspStatus.ACTIVE).group_by(Csp.nation)
    ).all()
    counts: dict[Nation, int] = {nation: int(count) for nation, count in rows}
    return CspCounts(england=counts.get(Nation.ENGLAND, 0), wales=counts.get(Nation.WALES, 0))

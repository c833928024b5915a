"""One page of any listing, with what pagination needs, and the query that reads one."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Generic
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select

from mailer.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: its items, how many there are in all, and where it stands."""

    items: Sequence[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def page_of(statement: Select[Any], page: int, per_page: int) -> Page[Any]:
    """Page `page` (from 1) of the rows `statement` selects, with their total count."""
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    page = max(1, page)
    rows = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(rows, total, page, per_page)

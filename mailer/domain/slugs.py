"""Addresses made from titles: an ASCII slug, unique in its table even when two are saved at
once."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mailer.database import escape_like
from mailer.extensions import db


def slugify(title: str) -> str:
    """Make a lower-case ASCII slug from a title."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:100].strip("-")
    return slug or "news"


def insert_with_unique_slug(row: Any, base: str) -> None:
    """Insert `row` (a model with a unique `slug`) under `base`, or `base-2`, `base-3`... if
    taken, even by a transaction saving at the same moment."""
    column = type(row).slug
    pattern = f"{escape_like(base)}-%"
    taken = set(
        db.session.scalars(
            select(column).where(or_(column == base, column.like(pattern, escape="\\")))
        )
    )
    number = 1
    while True:
        candidate = base if number == 1 else f"{base}-{number}"
        number += 1
        if candidate in taken:
            continue
        row.slug = candidate
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            continue
        return

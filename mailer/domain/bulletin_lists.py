"""Lists of bulletins: the public archive and feed, and the staff's and the API's list."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select
from sqlalchemy import select

from mailer.domain.paging import Page
from mailer.domain.paging import page_of
from mailer.extensions import db
from mailer.models import Bulletin
from mailer.models import BulletinState


def published_by_slug(slug: str) -> Bulletin | None:
    """A sent public bulletin, for the archive."""
    return db.session.scalar(_archive().where(Bulletin.slug == slug))


def archive_page(*, page: int = 1, per_page: int = 20) -> Page[Bulletin]:
    """Sent public bulletins, newest first."""
    return page_of(_archive().order_by(Bulletin.sent_at.desc(), Bulletin.id.desc()), page, per_page)


def bulletins_page(*, page: int = 1, per_page: int = 20) -> Page[Bulletin]:
    """Bulletins in any state, most recently changed first: the staff's and the API's list."""
    statement = select(Bulletin).order_by(Bulletin.updated_at.desc(), Bulletin.id.desc())
    return page_of(statement, page, per_page)


def recent_published(*, limit: int) -> Sequence[Bulletin]:
    """The latest sent public bulletins, for the feed."""
    return db.session.scalars(
        _archive().order_by(Bulletin.sent_at.desc(), Bulletin.id.desc()).limit(limit)
    ).all()


def _archive() -> Select[Bulletin]:
    return select(Bulletin).where(Bulletin.state == BulletinState.SENT, Bulletin.public.is_(True))

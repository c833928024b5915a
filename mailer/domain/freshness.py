"""When what the public pages show last changed, read cheaply: the validators (ETag and
Last-Modified) of the news pages, feeds, bulletins and the CSP directory."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select

from mailer import clock
from mailer.extensions import db
from mailer.models import Bulletin
from mailer.models import Csp
from mailer.models import NewsItem
from mailer.models import Topic

# Built once: a page asks these on every request.
NEWS = select(
    select(func.max(NewsItem.updated_at)).scalar_subquery(),
    select(func.count(NewsItem.id)).scalar_subquery(),
    select(func.max(Bulletin.updated_at)).scalar_subquery(),
    select(func.count(Bulletin.id)).scalar_subquery(),
)
TOPICS = select(*Topic.__table__.columns).order_by(Topic.id)
DIRECTORY = select(func.max(Csp.updated_at), func.count(Csp.id))


@dataclass(frozen=True)
class Freshness:
    """The last change of what a group of pages shows (None: nothing yet), and a tag that
    changes whenever the pages may change, including changes that carry no time."""

    changed_at: datetime | None
    tag: str


def news_freshness() -> Freshness:
    """For the home page, news, topics, bulletins and the feeds: the latest change of any news
    item or bulletin (an edit, a publication, a withdrawal all move `updated_at`), how many
    there are (a deletion), and the topics as they are (they carry no time of change)."""
    latest_item, items, latest_bulletin, bulletins = db.session.execute(NEWS).one()
    topics = db.session.execute(TOPICS).all()
    changed = _latest(latest_item, latest_bulletin)
    return Freshness(changed, _digest(changed, items, bulletins, [tuple(t) for t in topics]))


def directory_freshness() -> Freshness:
    """For the CSP directory: the latest change of any partnership, and how many there are."""
    latest, count = db.session.execute(DIRECTORY).one()
    changed = _latest(latest)
    return Freshness(changed, _digest(changed, count))


def _latest(*stamps: datetime | None) -> datetime | None:
    known = [clock.as_utc(stamp) for stamp in stamps if stamp is not None]
    return max(known, default=None)


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]

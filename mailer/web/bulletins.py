"""The public archive of bulletins: those sent and marked public, newest first."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import render_template

from mailer.domain import bulletins
from mailer.domain.freshness import news_freshness
from mailer.extensions import limiter
from mailer.web.caching import public
from mailer.web.news import SLUG
from mailer.web.paging import requested_page

bp = Blueprint("bulletins", __name__)
# Pages the same for everyone, which a CDN may serve: no limit per client.
limiter.exempt(bp)

PAGE_SIZE = 10


@bp.get("/bulletins")
@public(news_freshness)
def archive() -> str:
    """List the sent public bulletins, newest first."""
    number = requested_page()
    if number is None:
        abort(404)
    page = bulletins.archive_page(page=number, per_page=PAGE_SIZE)
    if page.page > page.pages:
        abort(404)
    return render_template("bulletins/archive.html", page=page)


@bp.get("/bulletins/<slug>")
@public(news_freshness)
def bulletin(slug: str) -> str:
    """One sent public bulletin as a page; drafts and email-only bulletins do not exist here."""
    found = bulletins.published_by_slug(slug) if SLUG.fullmatch(slug) else None
    if found is None:
        abort(404)
    return render_template(
        "bulletins/bulletin.html", bulletin=found, items=bulletins.featured(found)
    )

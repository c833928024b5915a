"""Public news pages, Atom feeds, and the GOV.UK Frontend files the pages use."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from feedgen.feed import FeedGenerator
from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask import send_from_directory
from flask import url_for
from flask_babel import gettext

from mailer import clock
from mailer.domain import bulletins
from mailer.domain import news
from mailer.domain.directory.counts import current_counts
from mailer.domain.freshness import news_freshness
from mailer.domain.paging import Page
from mailer.domain.topics import list_topics
from mailer.domain.topics import successor_of
from mailer.domain.topics import topic_by_slug
from mailer.extensions import limiter
from mailer.formatting import as_clause
from mailer.formatting import govuk_date
from mailer.i18n import WELSH
from mailer.i18n import localised
from mailer.i18n import page_language
from mailer.models import Bulletin
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.models import Topic
from mailer.paths import FRONTEND
from mailer.web.caching import public
from mailer.web.paging import requested_page

bp = Blueprint("news", __name__)
# Pages the same for everyone, which a CDN may serve: no limit per client.
limiter.exempt(bp)

HOME_ITEMS = 5
PAGE_SIZE = 10
FEED_ITEMS = 20
# Deeper pages than this are refused before they reach the database as huge offsets.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,119}")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# Characters outside XML 1.0's Char production, which no feed can carry. Input is cleaned of
# them, but an item saved before that must not break the feeds.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# The compiled CSS asks for its fonts and images at /assets/fonts/... and /assets/images/...,
# so the compiled files and the package's assets folder share the one /assets/ address.
COMPILED = frozenset(
    {
        "govuk-frontend.min.css",
        "govuk-frontend.min.css.map",
        "govuk-frontend.min.js",
        "govuk-frontend.min.js.map",
    }
)
# Asset URLs carry the package version, so a browser may keep them until the package changes.
VERSIONED_MAX_AGE = 365 * 24 * 3600


@bp.get("/")
@public(news_freshness)
def home() -> str:
    """Show the latest news, the topics, and an invitation to subscribe."""
    latest = news.published_page(per_page=HOME_ITEMS)
    return render_template(
        "index.html", latest=latest, topics=list_topics(), counts=current_counts()
    )


@bp.get("/news")
@public(news_freshness)
def archive() -> str:
    """List every published item, newest first, optionally matching the search words."""
    query = CONTROL_CHARACTERS.sub(" ", request.args.get("q", ""))[: news.MAX_QUERY].strip()
    page = _existing_page(
        news.published_page(page=_page_number(), per_page=PAGE_SIZE, query=query or None)
    )
    return render_template("news/archive.html", page=page, query=query)


@bp.get("/news/<slug>")
@public(news_freshness)
def item(slug: str) -> str:
    """Show one published item, or one withdrawn since with a notice saying when and why;
    drafts, scheduled items and items never published do not exist here."""
    found = news.item_by_slug(slug) if SLUG.fullmatch(slug) else None
    if found is None or not _public(found):
        abort(404)
    return render_template("news/item.html", item=found)


@bp.get("/topics/<slug>")
@public(news_freshness)
def topic(slug: str) -> str:
    """List the published items of one topic."""
    chosen = _topic_or_404(slug)
    page = _existing_page(
        news.published_page(page=_page_number(), per_page=PAGE_SIZE, topic=chosen)
    )
    return render_template(
        "news/topic.html", topic=chosen, page=page, successor=successor_of(chosen)
    )


@bp.get("/feed.atom")
@public(news_freshness)
def feed() -> Response:
    """The Atom feed of the whole site: its news (and what was withdrawn) and its public
    bulletins."""
    items = news.feed_items(limit=FEED_ITEMS)
    sent = bulletins.recent_published(limit=FEED_ITEMS)
    page_url = _absolute("news.home")
    title = gettext("Community Safety Partnerships news")
    return _atom(items, title=title, page_url=page_url, self_endpoint=".feed", sent=sent)


@bp.get("/topics/<slug>/feed.atom")
@public(news_freshness)
def topic_feed(slug: str) -> Response:
    """The Atom feed of one topic."""
    chosen = _topic_or_404(slug)
    items = news.feed_items(limit=FEED_ITEMS, topic=chosen)
    return _atom(
        items,
        title=f"{_local(chosen, 'name')} – {gettext('Community Safety Partnerships news')}",
        page_url=_absolute("news.topic", slug=chosen.slug),
        self_endpoint=".topic_feed",
        slug=chosen.slug,
    )


@bp.get("/assets/<path:filename>")
def asset(filename: str) -> Response:
    """Serve GOV.UK Frontend's compiled CSS and JS, and its fonts and images."""
    folder = FRONTEND if filename in COMPILED else FRONTEND / "assets"
    versioned = request.args.get("v") == frontend_version() != ""
    return send_from_directory(folder, filename, max_age=VERSIONED_MAX_AGE if versioned else None)


@bp.app_template_global()
def asset_url(filename: str) -> str:
    """The URL of a GOV.UK Frontend file, with the package version to bust caches on upgrade."""
    return url_for("news.asset", filename=filename, v=frontend_version() or None)


@cache
def frontend_version() -> str:
    """The installed GOV.UK Frontend version, or "" when `npm ci` has not been run."""
    try:
        package = json.loads((FRONTEND.parent.parent / "package.json").read_text())
    except OSError:
        return ""
    return str(package["version"])


def _page_number() -> int:
    """The `page` query value; anything but a sensible page number is a 404."""
    number = requested_page()
    if number is None:
        abort(404)
    return number


def _existing_page(page: Page[NewsItem]) -> Page[NewsItem]:
    """Refuse a page past the last one (an empty first page is a fine answer)."""
    if page.page > page.pages:
        abort(404)
    return page


def _topic_or_404(slug: str) -> Topic:
    """The topic with this slug, retired ones included: their pages and feeds stay."""
    found = topic_by_slug(slug)
    if found is None:
        abort(404)
    return found


def _absolute(endpoint: str, **values: Any) -> str:
    """A URL on the public origin, whatever host the request came in on: feed ids must not vary."""
    return str(current_app.config["BASE_URL"]) + url_for(endpoint, **values)


def _atom(
    items: Sequence[NewsItem],
    *,
    title: str,
    page_url: str,
    self_endpoint: str,
    sent: Sequence[Bulletin] = (),
    **values: Any,
) -> Response:
    """Render items (and bulletins) as an Atom feed whose ids are their public URLs."""
    feed_url = _absolute(self_endpoint, **values)
    generator = FeedGenerator()
    generator.id(feed_url)
    generator.title(title)
    generator.subtitle(gettext("News for practitioners working in crime and community safety"))
    generator.author(name=gettext("Community Safety Partnerships news"))
    generator.link(href=feed_url, rel="self", type="application/atom+xml")
    generator.link(href=page_url, rel="alternate", type="text/html")
    generator.language("cy-GB" if page_language() == WELSH else "en-GB")
    # Newest first is the order of `items`; feedgen prepends unless told to append.
    for found in items:
        _add_entry(generator, found)
    for bulletin in sent:
        _add_bulletin_entry(generator, bulletin)
    stamps = [_updated(found) for found in items] + [clock.as_utc(b.updated_at) for b in sent]
    generator.updated(max(stamps, default=clock.now()))
    # Readers poll feeds: `public` gives them a 304 while nothing changed.
    return Response(generator.atom_str(pretty=True), mimetype="application/atom+xml")


def _public(found: NewsItem) -> bool:
    """Whether the item has a public page: published, or withdrawn after it was."""
    if found.state is NewsState.WITHDRAWN:
        return found.published_at is not None
    return found.state is NewsState.PUBLISHED


def _add_entry(generator: FeedGenerator, found: NewsItem) -> None:
    url = _absolute("news.item", slug=found.slug)
    entry = generator.add_entry(order="append")
    entry.id(url)
    entry.link(href=url, rel="alternate", type="text/html")
    entry.published(found.published_at)
    entry.updated(_updated(found))
    if found.state is NewsState.WITHDRAWN:
        # Readers who saw the item learn that it was withdrawn, and why; its text is gone.
        entry.title(_xml_text(gettext("Withdrawn: %(title)s", title=_local(found, "title"))))
        entry.summary(_xml_text(_withdrawn_notice(found)))
    else:
        entry.title(_xml_text(_local(found, "title")))
        entry.summary(_xml_text(_local(found, "summary")))
        if body := _local(found, "body_html"):
            entry.content(_xml_text(body), type="html")
    topics_url = str(current_app.config["BASE_URL"]) + "/topics/"
    for subject in found.topics:
        entry.category(
            term=subject.slug, label=_xml_text(_local(subject, "name")), scheme=topics_url
        )


def _add_bulletin_entry(generator: FeedGenerator, bulletin: Bulletin) -> None:
    url = _absolute("bulletins.bulletin", slug=bulletin.slug)
    entry = generator.add_entry(order="append")
    entry.id(url)
    entry.title(_xml_text(_local(bulletin, "subject")))
    entry.link(href=url, rel="alternate", type="text/html")
    entry.published(bulletin.sent_at)
    entry.updated(clock.as_utc(bulletin.updated_at))
    if body := _local(bulletin, "body_html"):
        entry.content(_xml_text(body), type="html")
    entry.category(term="bulletin", label=gettext("Bulletin"))


def _local(thing: object, field: str) -> str:
    """A text of an item, bulletin or topic in the feed's language (Welsh under /cy, where
    there is Welsh)."""
    return localised(thing, field, page_language())[0]


def _withdrawn_notice(found: NewsItem) -> str:
    """'This news was withdrawn on 6 March 2013 because …', in the feed's language."""
    date = govuk_date(found.withdrawn_at, _zone(), page_language())
    if found.withdrawn_reason:
        return str(
            gettext(
                "This news was withdrawn on %(date)s because %(reason)s.",
                date=date,
                reason=as_clause(found.withdrawn_reason),
            )
        )
    return str(gettext("This news was withdrawn on %(date)s.", date=date))


def _xml_text(text: str) -> str:
    """`text` without the characters XML cannot carry."""
    return NOT_XML.sub("", text)


def _zone() -> str:
    return str(current_app.config["TIMEZONE"])


def _updated(found: NewsItem) -> datetime:
    """When an item last changed in a way readers see: its publication, a later edit, or its
    withdrawal."""
    stamps = [
        stamp
        for stamp in (found.published_at, found.updated_at, found.withdrawn_at)
        if stamp is not None
    ]
    return clock.as_utc(max(stamps))

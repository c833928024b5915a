"""The public library: published case studies found by words and filters, each one's page,
and the Atom feed of the newest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedgen.feed import FeedGenerator
from flask import Response
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask import url_for
from markupsafe import Markup

from mailer import clock
from mailer.domain import practice_library
from mailer.domain import practice_terms
from mailer.domain.practice_enquiries import can_be_contacted
from mailer.i18n import localised
from mailer.i18n import page_language
from mailer.models import CaseStudy
from mailer.models import CaseStudyAttachment
from mailer.web.paging import requested_page
from mailer.web.practice import bp
from mailer.web.practice.filters import filter_values
from mailer.web.practice.filters import read_filters

PAGE_SIZE = 20
FEED_ITEMS = 20
SLUG_LENGTH = 120
FEED_TITLE = "Effective practice – Community Safety Partnerships news"


@bp.context_processor
def _terms() -> dict[str, Any]:
    return {
        "text_of": text_of,
        "themes": practice_terms.THEMES,
        "crime_types": practice_terms.CRIME_TYPES,
        "ratings": {rating.value: label for rating, label in practice_terms.RATINGS.items()},
        "sections": practice_terms.SECTIONS,
    }


def text_of(case_study: CaseStudy, field: str, limit: int = 0) -> str | Markup:
    """A case study's title or summary in the page's language, cut after `limit` characters
    (at a word) if given; English that stands in for missing Welsh is marked as English."""
    text, fell_back = localised(case_study, field, page_language())
    if limit and len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + "…"
    return Markup('<span lang="en">%s</span>') % text if fell_back else text


@bp.get("")
def library() -> str:
    """Published case studies, newest or most relevant first, with the filters in a column."""
    filters = read_filters(request.args)
    number = requested_page()
    if number is None:
        abort(404)
    page = practice_library.library_page(filters, page=number, per_page=PAGE_SIZE)
    if page.page > page.pages:
        abort(404)
    return render_template(
        "practice/library.html",
        page=page,
        filters=filters,
        values=filter_values(filters),
        partnerships=practice_library.partnerships_with_case_studies(),
    )


@bp.get("/<slug>")
def case_study(slug: str) -> str:
    """One published case study, every answered section under its heading."""
    found = _published_or_404(slug)
    return render_template(
        "practice/case_study.html",
        case_study=found,
        theme_codes=practice_library.tag_codes(found, "theme"),
        crime_type_codes=practice_library.tag_codes(found, "crime_type"),
        files=[(f, attachment_url(found, f)) for f in practice_library.attachments(found)],
        contactable=can_be_contacted(found),
    )


def attachment_url(case_study: CaseStudy, attachment: CaseStudyAttachment) -> str:
    """Where a case study's file is downloaded from."""
    if "practice.attachment" in current_app.view_functions:
        return url_for("practice.attachment", slug=case_study.slug, attachment_id=attachment.id)
    return url_for(".case_study", slug=case_study.slug) + f"/attachments/{attachment.id}"


@bp.get("/feed.atom")
def feed() -> Response:
    """The Atom feed of the newest published case studies."""
    return _atom(practice_library.latest(limit=FEED_ITEMS))


def _published_or_404(slug: str) -> CaseStudy:
    found = practice_library.published(slug) if len(slug) <= SLUG_LENGTH else None
    if found is None:
        abort(404)
    return found


def _absolute(endpoint: str, **values: Any) -> str:
    """A URL on the public origin, whatever host the request came in on: feed ids must not vary."""
    return str(current_app.config["BASE_URL"]) + url_for(endpoint, **values)


def _atom(found: Sequence[CaseStudy]) -> Response:
    feed_url = _absolute(".feed")
    generator = FeedGenerator()
    generator.id(feed_url)
    generator.title(FEED_TITLE)
    generator.subtitle("Case studies of local crime and community safety practice")
    generator.author(name="Community Safety Partnerships news")
    generator.link(href=feed_url, rel="self", type="application/atom+xml")
    generator.link(href=_absolute(".library"), rel="alternate", type="text/html")
    generator.language("en-GB")
    for case in found:
        entry = generator.add_entry(order="append")
        url = _absolute(".case_study", slug=case.slug)
        entry.id(url)
        entry.title(case.title)
        entry.link(href=url, rel="alternate", type="text/html")
        entry.summary(case.summary)
        published = clock.as_utc(case.published_at or case.updated_at)
        entry.published(published)
        entry.updated(max(published, clock.as_utc(case.updated_at)))
    stamps = [clock.as_utc(case.updated_at) for case in found]
    generator.updated(max(stamps, default=clock.now()))
    response = Response(generator.atom_str(pretty=True), mimetype="application/atom+xml")
    response.add_etag()
    response.make_conditional(request)
    return response
